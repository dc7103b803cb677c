"""One Flamingo training step (forward, backward, AdamW update): time, peak memory and, on a GPU,
tokens/s and MFU, for this model against the naive variant peers ship (every media slot encoded,
padding included, and gradients computed for the frozen vision encoder and LM), side by side.

    .venv/bin/python benchmarks/model_step.py [--preset small] [--steps 3] [--gpu-preset 1b]

Each variant runs in its own process, so the peak memory of one does not hide the other's. On CPU
the weights are float32; on a GPU the frozen weights are bf16 and the step runs under bf16 autocast.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.nn.functional as F

from trainer.flops import PEAK_FLOPS, StepShape, mfu, step_flops
from trainer.model.build import PRESETS, build_flamingo
from trainer.model.flamingo import Flamingo

VARIANTS = ("ours", "naive")


def make_batch(model: Flamingo, sequences: int, tokens: int, slots: int, device: str):
    """Sequences with 1..slots images each (the rest of the slots is padding), <image> tokens spread out."""
    generator = torch.Generator().manual_seed(0)
    size = model.vision.image_size
    images = torch.randn(sequences, slots, 1, 3, size, size, generator=generator)
    counts = [max(1, slots - i) if i < slots else 1 for i in range(sequences)]
    media_mask = torch.tensor([[m < count for m in range(slots)] for count in counts])
    input_ids = torch.randint(0, model.lm.vocab_size, (sequences, tokens), generator=generator)
    for row, count in enumerate(counts):
        for m in range(count):
            input_ids[row, 1 + m * (tokens // slots)] = model.image_id
    return input_ids.to(device), images.to(device), media_mask.to(device)


def naive_visual(model: Flamingo, images: torch.Tensor) -> torch.Tensor:
    """Every slot encoded, padding too, with a graph through the encoder (its weights require grad)."""
    batch, slots, frames = images.shape[:3]
    patches = model.vision(images.flatten(0, 2).to(next(model.vision.parameters()).dtype))
    tokens = model.resampler(patches.view(batch * slots, frames, *patches.shape[1:]).float())
    return tokens.view(batch, slots, *tokens.shape[1:])


def run_child(args: argparse.Namespace) -> dict:
    device = "cuda" if args.gpu else "cpu"
    torch.manual_seed(0)
    config = PRESETS[args.preset]
    dtype = "bfloat16" if args.gpu else "float32"
    model = build_flamingo(replace(config, language=replace(config.language, frozen_dtype=dtype))).to(device)
    if args.variant == "naive":
        model.vision.requires_grad_(True)
        model.lm.requires_grad_(True)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [p for name, p in model.named_parameters() if p.requires_grad and not name.startswith(("vision", "lm"))],
        lr=1e-4,
    )
    input_ids, images, media_mask = make_batch(model, args.sequences, args.tokens, args.slots, device)

    def step() -> None:
        with torch.autocast(device, dtype=torch.bfloat16, enabled=args.gpu):
            if args.variant == "naive":
                out = model(input_ids, visual=naive_visual(model, images), media_mask=media_mask)
            else:
                out = model(input_ids, images=images, media_mask=media_mask)
            loss = F.cross_entropy(out.logits[:, :-1].flatten(0, 1).float(), input_ids[:, 1:].flatten())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        for p in trainable:
            p.grad = None

    step()  # warm-up: allocations, autotuning
    if args.gpu:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    best = float("inf")
    for _ in range(args.steps):
        started = time.perf_counter()
        step()
        if args.gpu:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - started)
    real_media = int(media_mask.sum())
    shape = StepShape(args.sequences, args.tokens, real_media, 1)
    peak = (
        torch.cuda.max_memory_allocated() / 2**20
        if args.gpu
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    return {
        "variant": args.variant,
        "preset": args.preset,
        "seconds": best,
        "peak_mb": peak,
        "tokens_per_s": args.sequences * args.tokens / best,
        "flops": step_flops(model, shape),
        "media": f"{real_media} of {media_mask.numel()}",
        "encoded": media_mask.numel() if args.variant == "naive" else real_media,
        "trainable_with_grads": sum(p.numel() for p in trainable),
        "device": torch.cuda.get_device_name() if args.gpu else "cpu",
    }


def run_variant(args: argparse.Namespace, variant: str, preset: str, gpu: bool) -> dict:
    command = [sys.executable, __file__, "--child", variant, "--preset", preset, "--steps", str(args.steps),
               "--sequences", str(args.sequences), "--tokens", str(args.tokens), "--slots", str(args.slots)]  # fmt: skip
    if gpu:
        command.append("--gpu")
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(rows: list[dict], gpu: bool) -> None:
    header = "| variant | preset | media encoded | params with gradients | step s | tokens/s | peak MB |"
    if gpu:
        header += " MFU |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for row in rows:
        name = "ours" if row["variant"] == "ours" else "naive (padding encoded, grads on frozen)"
        cells = [name, row["preset"], f"{row['encoded']} ({row['media']} real)", f"{row['trainable_with_grads'] / 1e6:.1f}M",
                 f"{row['seconds']:.2f}", f"{row['tokens_per_s']:.0f}", f"{row['peak_mb']:.0f}"]  # fmt: skip
        if gpu:
            peak = next((v for k, v in PEAK_FLOPS.items() if k in row["device"]), None)
            cells.append(f"{mfu(row['flops'], row['seconds'], peak):.1%}" if peak else "n/a")
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="small", help="CPU preset (default: %(default)s)")
    parser.add_argument("--gpu-preset", default="1b", help="preset on a GPU, when there is one (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps, best taken (default: %(default)s)")
    parser.add_argument("--sequences", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--slots", type=int, default=4, help="media slots per sequence; the first has them all")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--gpu", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.variant = args.child
        print(json.dumps(run_child(args)))
        return
    print(f"one training step: {args.sequences} sequences x {args.tokens} tokens, {args.slots} media slots each\n")
    rows = [run_variant(args, variant, args.preset, gpu=False) for variant in VARIANTS]
    print(f"CPU ({torch.get_num_threads()} threads), float32:\n")
    print_table(rows, gpu=False)
    if torch.cuda.is_available():
        rows = [run_variant(args, variant, args.gpu_preset, gpu=True) for variant in VARIANTS]
        print(f"\n{rows[0]['device']}, bf16 autocast, frozen weights in bf16:\n")
        print_table(rows, gpu=True)
    else:
        print("\nno GPU here: tokens/s and MFU of the GPU preset are measured only where CUDA is available")


if __name__ == "__main__":
    main()
