"""Training throughput on real shards, ours against what a user would otherwise write, in one run.

1. Data loading (samples/s, images/s), M3W and pairs (ALIGN): `trainer.data.stream.DatasetLoader`
   (tokenised, padded batches of uint8 pixels at the tower's input side) against a plain
   `webdataset.WebDataset(urls).decode("pil")` loop that makes each image a normalised float tensor
   with torchvision (Resize + CenterCrop + ToTensor + Normalize), in a torch DataLoader, with the
   same worker counts and batch size.
2. One full training step, `Trainer.train_step` (M3W, ALIGN and LTIP batches, forward, backward,
   clipping, AdamW) of the `tiny` and `small` presets on CPU in float32, against the naive variant
   peers ship: every media slot encoded, padding included, and gradients computed for the frozen
   vision encoder and LM. Each variant runs in its own process (its own peak memory) on the same
   batches (same seed: the streams are the same).
3. Where CUDA is available, the same for the `1b` preset in bf16 (frozen weights in bf16, autocast),
   with MFU: the step's model FLOPs (`trainer/flops.py`, as the Trainer counts them) over the GPU's
   dense bf16 peak. Without CUDA this part is skipped, with a line that says so.

The shards are built first, with the project's writer, from the real images of
../shared/testdata/images (the pipeline's image step: 320 px, JPEG 90): M3W documents of 1-5 images
with real prose between them (LLaVA-Bench answers), ALIGN pairs with real alt texts (LAION), LTIP
pairs with the long LLaVA-Bench answers as captions; a sentencepiece tokenizer is trained on them.

    .venv/bin/python benchmarks/train_step.py [--quick] [--testdata PATH] [--samples 400]
        [--load-batches 40] [--batch-size 8] [--repeat 3] [--presets tiny small] [--step-batch-size 2] [--steps 2]
        [--gpu-preset 1b] [--gpu-batch-size 8] [--gpu-steps 5] [--gpu-workers 4]

`--quick` (CI): 80 samples per dataset, 5 timed batches per loader and one run of each, the tiny
preset only, one timed step (on a GPU, one step of the GPU preset too).
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import multiprocessing
import os
import random
import resource
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow.parquet as pq
import torch
import webdataset as wds
from common import default_testdata
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
from real_images import load_images
from torch.utils.data import DataLoader, default_collate
from torchvision import transforms

from pipelines.images.processing import ProcessedImage
from schemas.keys import stable_key
from schemas.records import ImageInfo, ImageSegment, ImageTextPair, InterleavedDocument, TextSegment
from schemas.samples import Sample, document_to_sample, pair_to_sample
from shards.tar_writer import write_samples
from trainer.config import DEFAULT_MAX_TOKENS, DataConfig, load_config
from trainer.data.examples import ExampleBuilder, SequenceSettings
from trainer.data.images import ImageSettings
from trainer.data.sources import resolve_shards
from trainer.data.stream import DatasetLoader, StreamSettings
from trainer.distributed import start_processes
from trainer.model.flamingo import Flamingo
from trainer.tokenizer import FlamingoTokenizer, train_sentencepiece
from trainer.train import Trainer

SHARDS = 4  # per dataset: at least the most DataLoader workers used, so webdataset can split them
VARIANTS = ("ours", "naive")
# Folders of the corpus, and the trainer dataset that reads each (pairs of one kind per folder).
FOLDERS = {"m3w": "m3w", "align": "pairs-alt", "ltip": "pairs-caption"}


# ---- the corpus: real images and texts -> shards and a tokenizer ---------------------------------


@dataclass(frozen=True)
class Corpus:
    folder: str  # shards under FOLDERS, and tokenizer/
    images: int  # distinct real images
    samples: dict[str, int]  # per dataset
    m3w_images: int

    def shards(self, dataset: str) -> list[str]:
        return sorted(str(p) for p in (Path(self.folder) / FOLDERS[dataset]).glob("*.tar"))

    @property
    def tokenizer(self) -> str:
        return str(Path(self.folder) / "tokenizer")


def load_texts(testdata: Path) -> tuple[list[str], list[str]]:
    """(prose: LLaVA-Bench GPT-4 answers, alt texts: LAION-style pairs), both real."""
    answers = testdata / "annotations/llava_bench/qa90_gpt4_answer.jsonl"
    alts = testdata / "annotations/laion_pairs/img2dataset_test_10000.parquet"
    for path in (answers, alts):
        if not path.exists():
            raise SystemExit(f"{path} is missing: the benchmark needs the real texts of ../shared/testdata")
    prose = [json.loads(line)["text"].strip() for line in answers.read_text(encoding="utf-8").splitlines() if line]
    alt_texts = pq.read_table(alts, columns=["TEXT"]).column("TEXT").to_pylist()
    return [p for p in prose if p], [t.strip() for t in alt_texts if t and t.strip()]


def _info(image: ProcessedImage) -> ImageInfo:
    return ImageInfo(image.sha256, image.width, image.height, image.original_width, image.original_height, image.phash)


def m3w_samples(count: int, images: Sequence[ProcessedImage], prose: Sequence[str], rng: random.Random) -> list[Sample]:
    """Documents as extraction leaves a page: text, then 1-5 images each followed by text."""
    samples = []
    for i in range(count):
        url = f"https://www.example.org/articles/{i:06d}.html"
        chosen = rng.sample(list(images), k=min(rng.randint(1, 5), len(images)))
        segments: list[TextSegment | ImageSegment] = [TextSegment(rng.choice(prose))]
        for j, image in enumerate(chosen):
            segments.append(ImageSegment(url=f"https://cdn.example.org/{i:06d}/{j}.jpg", info=_info(image)))
            segments.append(TextSegment(rng.choice(prose)))
        content = "\n".join(s.text if isinstance(s, TextSegment) else s.info.sha256 for s in segments)
        doc = InterleavedDocument(doc_id=stable_key(url, content), url=url, segments=tuple(segments), language="en")
        samples.append(document_to_sample(doc, [image.jpeg for image in chosen]))
    return samples


def pair_samples(
    count: int, kind: str, images: Sequence[ProcessedImage], captions: Sequence[str], rng: random.Random
) -> list[Sample]:
    samples = []
    for i in range(count):
        image, caption = rng.choice(images), captions[i % len(captions)]
        url = f"https://cdn.example.org/{kind}/{i:06d}.jpg"
        pair = ImageTextPair(
            key=stable_key(url, caption),
            url=url,
            caption=caption,
            kind=kind,
            page_url=f"https://www.example.org/{kind}/{i:06d}.html",
            info=_info(image),
        )
        samples.append(pair_to_sample(pair, image.jpeg))
    return samples


def write_shards(samples: list[Sample], folder: Path) -> None:
    folder.mkdir(parents=True)
    for shard in range(SHARDS):
        with open(folder / f"shard-{shard:05d}.tar", "wb") as out:
            write_samples(samples[shard::SHARDS], out)


def build_corpus(testdata: Path, folder: Path, count: int, seed: int) -> Corpus:
    images = load_images(testdata / "images")
    if not images:
        raise SystemExit(f"no usable images under {testdata / 'images'}")
    prose, alt_texts = load_texts(testdata)
    rng = random.Random(seed)
    samples = {
        "m3w": m3w_samples(count, images, prose, rng),
        "align": pair_samples(count, "alt", images, alt_texts, rng),
        "ltip": pair_samples(count, "caption", images, prose, rng),
    }
    for dataset, written in samples.items():
        write_shards(written, folder / FOLDERS[dataset])
    # 512 pieces, what the tiny preset's LM has (the larger presets' tables hold them too); ASCII texts
    # only, or their characters alone would need more pieces: the others are byte pieces.
    texts = [text for text in alt_texts + prose if text.isascii()]
    train_sentencepiece(texts, str(folder / "tokenizer"), vocab_size=512)
    m3w_images = sum(name.endswith(".jpg") for sample in samples["m3w"] for name in sample)
    return Corpus(str(folder), len(images), {k: len(v) for k, v in samples.items()}, m3w_images)


# ---- 1. data loading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadSettings:
    batch_size: int
    batches: int  # timed, after the first
    image_size: int
    seed: int


@dataclass
class LoadResult:
    loader: str
    dataset: str
    workers: int
    first_batch_s: float
    samples: int
    images: int
    seconds: float


def ours_loader(corpus: Corpus, dataset: str, workers: int, settings: LoadSettings) -> DatasetLoader:
    tokenizer = FlamingoTokenizer.from_pretrained(corpus.tokenizer)
    images = ImageSettings(size=settings.image_size, mean=OPENAI_DATASET_MEAN, std=OPENAI_DATASET_STD)
    builder = ExampleBuilder(dataset, tokenizer, SequenceSettings(max_tokens=DEFAULT_MAX_TOKENS[dataset]), images)
    run = DataConfig()  # what a training run reads with: resampled shards, a 1000-sample shuffle buffer
    stream = StreamSettings(
        settings.batch_size, settings.seed, resample=run.resample, shuffle_buffer=run.shuffle_buffer
    )
    source = resolve_shards(dataset, corpus.shards(dataset))
    return DatasetLoader(source, builder, stream, workers)


def count_ours(batch) -> tuple[int, int]:
    return len(batch.input_ids), int(batch.media_mask.sum())


def naive_loader(corpus: Corpus, dataset: str, workers: int, settings: LoadSettings) -> DataLoader:
    """What a user would write: decode every image to PIL, then torchvision's usual transform."""
    size = settings.image_size
    transform = transforms.Compose(
        [
            transforms.Resize(size),
            transforms.CenterCrop(size),
            transforms.ToTensor(),
            transforms.Normalize(OPENAI_DATASET_MEAN, OPENAI_DATASET_STD),
        ]
    )
    samples = wds.WebDataset(corpus.shards(dataset), shardshuffle=False).decode("pil")
    samples = samples.map(functools.partial(naive_example, transform))
    collate = default_collate if dataset != "m3w" else list_collate  # documents have 1-5 images: no stacking
    return DataLoader(samples, batch_size=settings.batch_size, num_workers=workers, collate_fn=collate)


def naive_example(transform, sample: dict) -> tuple[torch.Tensor, str]:
    """Every image of the sample ([N, 3, S, S] float32) and its text, untokenised."""
    names = sorted((k for k in sample if k.endswith("jpg")), key=lambda k: int(k.split(".")[0]) if "." in k else 0)
    text = sample["txt"] if "txt" in sample else sample["json"]["text"]
    return torch.stack([transform(sample[name]) for name in names]), text


def list_collate(examples: list[tuple[torch.Tensor, str]]) -> tuple[list[torch.Tensor], list[str]]:
    return [images for images, _ in examples], [text for _, text in examples]


def count_naive(batch) -> tuple[int, int]:
    images, texts = batch
    return len(texts), sum(len(item) for item in images)


# name -> (make the loader, count a batch's samples and images)
LOADERS = {"ours": (ours_loader, count_ours), "webdataset + torchvision": (naive_loader, count_naive)}


def time_loader(batches: Iterator, count: Callable, timed: int) -> tuple[float, int, int, float]:
    """(first batch s: workers start, buffers fill; samples, images and seconds of the next `timed` batches)."""
    started = time.perf_counter()
    count(next(batches))
    first = time.perf_counter() - started
    samples = images = 0
    started = time.perf_counter()
    for _ in range(timed):
        batch_samples, batch_images = count(next(batches))
        samples, images = samples + batch_samples, images + batch_images
    return first, samples, images, time.perf_counter() - started


def run_loader(name: str, corpus: Corpus, dataset: str, workers: int, settings: LoadSettings) -> LoadResult:
    make, count = LOADERS[name]
    loader = make(corpus, dataset, workers, settings)
    try:
        first, samples, images, seconds = time_loader(iter(loader), count, settings.batches)
    except StopIteration:
        raise SystemExit(f"{name}: {dataset} ran out of samples; build more (--samples)") from None
    finally:
        del loader  # DatasetLoader has no close(): its workers stop when it is collected
        gc.collect()
    return LoadResult(name, dataset, workers, first, samples, images, seconds)


def measure_loading(corpus: Corpus, settings: LoadSettings, workers: Sequence[int], repeat: int) -> list[LoadResult]:
    """Each loader for each dataset and worker count, `repeat` times afresh: the fastest run counts."""
    results = []
    threads = torch.get_num_threads()
    # torch ops of a loader without workers on one thread, as DataLoader workers run them: on a small,
    # busy machine several OpenMP threads on image-sized tensors can be many times slower than one.
    torch.set_num_threads(1)
    try:
        for dataset in ("m3w", "align"):
            for worker_count in workers:
                for name in LOADERS:
                    runs = [run_loader(name, corpus, dataset, worker_count, settings) for _ in range(repeat)]
                    results.append(max(runs, key=lambda r: r.samples / r.seconds))
    finally:
        torch.set_num_threads(threads)
    return results


def print_loading(results: list[LoadResult], settings: LoadSettings, repeat: int) -> None:
    print(
        f"\n### 1. Data loading: {settings.batches} batches of {settings.batch_size} after the first, "
        f"{settings.image_size} px, best of {repeat}\n"
    )
    print("| loader | dataset | workers | first batch s | samples/s | images/s | images/sample |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r.loader} | {'M3W' if r.dataset == 'm3w' else 'pairs (ALIGN)'} | {r.workers} "
            f"| {r.first_batch_s:.2f} | {r.samples / r.seconds:.0f} | {r.images / r.seconds:.0f} "
            f"| {r.images / r.samples:.2f} |"
        )
    print(
        "\nours: token ids (padded, <image> checked against the media), uint8 pixels [B, N, 1, 3, S, S] "
        "(aspect kept, padded to a square; normalised on the device by the trainer), at most "
        f"{SequenceSettings().max_images} images of a {DEFAULT_MAX_TOKENS['m3w']}-token window of each document "
        "(only those are decoded); resampled shards and a shuffle buffer, as in training. "
        "Without workers, the loop runs in this process, torch on one thread (as in a worker). "
        "webdataset + torchvision: every image of every sample as normalised float32 (4x the bytes), centre-cropped; "
        "text left as text (no tokenising, no padding)."
    )


# ---- 2./3. one training step ----------------------------------------------------------------------


@dataclass(frozen=True)
class StepSpec:
    variant: str
    preset: str
    device: str
    batch_size: int  # M3W sequences; ALIGN and LTIP get twice as many (as in the paper)
    workers: int  # DataLoader workers per dataset
    warmup: int
    steps: int
    seed: int


def run_config(corpus: Corpus, spec: StepSpec) -> dict:
    datasets = {
        dataset: {"paths": [str(Path(corpus.folder) / folder)], "batch_size": spec.batch_size * (1 if i == 0 else 2)}
        for i, (dataset, folder) in enumerate(FOLDERS.items())
    }
    return {
        "tokenizer": corpus.tokenizer,
        "datasets": datasets,
        "data": {"workers": spec.workers},
        "train": {"seed": spec.seed, "steps": spec.warmup + spec.steps},
        "log": {"dir": str(Path(corpus.folder) / "logs"), "tensorboard": False, "progress": False},
    }


def encode_every_slot(model: Flamingo, images: torch.Tensor, media_mask: torch.Tensor | None = None) -> torch.Tensor:
    """The naive encoder: every slot, padding too, with a graph through the encoder."""
    batch, slots, frames = images.shape[:3]
    patches = model.vision(images.flatten(0, 2).to(next(model.vision.parameters()).dtype))
    tokens = model.resampler(patches.view(batch * slots, frames, *patches.shape[1:]).float())
    return tokens.view(batch, slots, *tokens.shape[1:])


def make_naive(model: Flamingo) -> None:
    """Gradients for the frozen encoder and LM (the optimiser, built before, still never updates them),
    and every media slot encoded."""
    model.vision.requires_grad_(True)
    model.lm.requires_grad_(True)
    model.encode_media = functools.partial(encode_every_slot, model)


class MediaCounter:
    """Images the vision encoder ran on, and the real media among the batches' slots (forward pre-hooks)."""

    def __init__(self, model: Flamingo) -> None:
        self.encoded = self.real = self.slots = 0
        model.vision.register_forward_pre_hook(self._encoder)
        model.register_forward_pre_hook(self._batch, with_kwargs=True)

    def _encoder(self, module, args) -> None:
        self.encoded += args[0].shape[0]

    def _batch(self, module, args, kwargs) -> None:
        mask = kwargs.get("media_mask")
        if mask is not None:
            self.real += int(mask.sum())
            self.slots += mask.numel()


class TimedLoader:
    """A dataset's loader that adds up the time the step waits for its batches."""

    def __init__(self, loader: DatasetLoader) -> None:
        self.loader, self.seconds = loader, 0.0

    def __next__(self):
        started = time.perf_counter()
        batch = next(self.loader)
        self.seconds += time.perf_counter() - started
        return batch

    def __getattr__(self, name: str):
        return getattr(self.loader, name)


def measure_step(corpus: Corpus, spec: StepSpec) -> dict:
    cuda = spec.device == "cuda"
    start_rss = _max_rss_mb()  # a new process: its resident set so far, libraries and all
    overrides = [f"model.preset={spec.preset}", f"train.device={spec.device}"]
    config = load_config(None, overrides, base=run_config(corpus, spec))
    trainer = Trainer(config, start_processes(spec.device))
    if spec.variant == "naive":
        make_naive(trainer.model)
    loaders = {name: TimedLoader(loader) for name, loader in trainer.loaders.items()}
    trainer.loaders.update(loaders)
    for _ in range(spec.warmup):  # allocations, worker start-up, shuffle buffers, autotuning
        trainer.train_step()
    media = MediaCounter(trainer.model)
    for loader in loaders.values():
        loader.seconds = 0.0
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    seconds = tokens = flops = skipped = 0
    for _ in range(spec.steps):
        started = time.perf_counter()
        result = trainer.train_step()
        if cuda:
            torch.cuda.synchronize()
        seconds += time.perf_counter() - started
        tokens, flops, skipped = tokens + result.tokens, flops + result.flops, skipped + result.skipped
    peak_mb = torch.cuda.max_memory_allocated() / 2**20 if cuda else _max_rss_mb() - start_rss
    return {
        "spec": asdict(spec),
        "seconds": seconds / spec.steps,
        "data_wait": sum(loader.seconds for loader in loaders.values()) / spec.steps,
        "tokens": tokens,
        "tokens_per_s": tokens / seconds,
        "flops_per_s": flops / seconds,
        "peak_flops": trainer.peak_flops,
        "encoded": media.encoded,
        "real": media.real,
        "slots": media.slots,
        "with_grads": sum(p.numel() for p in trainer.model.parameters() if p.grad is not None),
        "parameters": sum(p.numel() for p in trainer.model.parameters()),
        "skipped": skipped,
        "peak_mb": peak_mb,
        "device": torch.cuda.get_device_name() if cuda else f"CPU, {torch.get_num_threads()} threads",
    }


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _child(corpus: Corpus, spec: StepSpec, connection) -> None:
    connection.send(measure_step(corpus, spec))


def run_step(corpus: Corpus, spec: StepSpec) -> dict:
    """One variant in its own process: forked on CPU (no second import of torch), spawned for CUDA,
    which cannot be forked once initialised."""
    context = multiprocessing.get_context("spawn" if spec.device == "cuda" else "fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(corpus, spec, send))
    process.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError:
        result = None
    process.join()
    if process.exitcode != 0 or result is None:
        raise SystemExit(f"the {spec.variant} step of {spec.preset} on {spec.device} failed (exit {process.exitcode})")
    return result


def print_steps(rows: list[dict], title: str, mfu: bool) -> None:
    spec = rows[0]["spec"]
    print(
        f"\n### {title}\n\n{rows[0]['device']}; per step M3W {spec['batch_size']} x {DEFAULT_MAX_TOKENS['m3w']} "
        f"tokens, ALIGN {2 * spec['batch_size']} x {DEFAULT_MAX_TOKENS['align']}, LTIP {2 * spec['batch_size']} x "
        f"{DEFAULT_MAX_TOKENS['ltip']}; {spec['workers']} data workers per dataset; mean of {spec['steps']} steps "
        f"after {spec['warmup']} warm-up\n"
    )
    header = "| variant | preset | media encoded (real of slots) | params with gradients | step s | data wait s | tokens/s | peak MB |"
    print(header + (" MFU |" if mfu else ""))
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |" + (" ---: |" if mfu else ""))
    for row in rows:
        name = "ours" if row["spec"]["variant"] == "ours" else "naive (padding encoded, grads on frozen)"
        cells = [
            name,
            row["spec"]["preset"],
            f"{row['encoded']} ({row['real']} of {row['slots']})",
            f"{_millions(row['with_grads'])} of {_millions(row['parameters'])}",
            f"{row['seconds']:.3f}" if row["seconds"] < 1 else f"{row['seconds']:.2f}",
            f"{row['data_wait']:.3f}",
            f"{row['tokens_per_s']:.0f}",
            f"{row['peak_mb']:.0f}",
        ]
        if mfu:
            cells.append(f"{row['flops_per_s'] / row['peak_flops']:.1%}" if row["peak_flops"] else "n/a (GPU unknown)")
        print("| " + " | ".join(cells) + " |")
    if any(row["skipped"] for row in rows):
        print("\nsome steps had a non-finite loss and were skipped (their time still counts)")
    ours = {row["spec"]["preset"]: row for row in rows if row["spec"]["variant"] == "ours"}
    for row in rows:  # the same seed gives both variants the same batches
        same = ours[row["spec"]["preset"]]
        if (row["tokens"], row["real"]) != (same["tokens"], same["real"]):
            raise SystemExit(f"{row['spec']['preset']}: the variants saw different batches; the comparison is void")


def _millions(count: int) -> str:
    return f"{count / 1e9:.2f}B" if count >= 1e9 else f"{count / 1e6:.1f}M"


# ---- the run --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--testdata", type=Path, default=default_testdata())
    parser.add_argument("--quick", action="store_true", help="a tiny run (CI): few samples, the tiny preset only")
    parser.add_argument("--samples", type=int, help="samples per dataset in the shards (default: 400; quick 80)")
    parser.add_argument("--load-batches", type=int, help="batches timed per loader (default: 40; quick 5)")
    parser.add_argument("--batch-size", type=int, default=8, help="loading benchmark (default: %(default)s)")
    parser.add_argument("--repeat", type=int, help="runs per loader, the fastest counts (default: 3; quick 1)")
    parser.add_argument("--image-size", type=int, default=224, help="loading benchmark (default: %(default)s)")
    parser.add_argument("--presets", nargs="+", help="CPU step presets (default: tiny small; quick tiny)")
    parser.add_argument("--step-batch-size", type=int, default=2, help="M3W sequences per CPU step; pairs twice")
    parser.add_argument("--steps", type=int, help="timed steps per variant (default: 2; quick 1)")
    parser.add_argument("--step-workers", type=int, default=0, help="data workers per dataset in the CPU steps")
    parser.add_argument("--gpu-preset", default="1b")
    parser.add_argument("--gpu-batch-size", type=int, default=8, help="M3W sequences per GPU step; pairs twice")
    parser.add_argument("--gpu-steps", type=int, default=5)
    parser.add_argument("--gpu-workers", type=int, default=4, help="data workers per dataset on the GPU")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    samples = args.samples or (80 if args.quick else 400)
    load_batches = args.load_batches or (5 if args.quick else 40)
    presets = args.presets or (["tiny"] if args.quick else ["tiny", "small"])
    steps = args.steps or (1 if args.quick else 2)
    repeat = args.repeat or (1 if args.quick else 3)
    torch.manual_seed(args.seed)

    started, load = time.perf_counter(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="train-step-") as scratch:
        corpus = build_corpus(args.testdata, Path(scratch), samples, args.seed)
        print(
            f"shards: {corpus.samples['m3w']} M3W documents ({corpus.m3w_images} images), {corpus.samples['align']} "
            f"ALIGN and {corpus.samples['ltip']} LTIP pairs, from {corpus.images} distinct real images at 320 px; "
            f"{SHARDS} shards each; a 512-piece sentencepiece tokenizer ({time.perf_counter() - started:.1f} s)",
            flush=True,
        )
        # The steps first: each is forked from this process before it has run any torch work.
        cpu_rows = [
            run_step(corpus, StepSpec(v, p, "cpu", args.step_batch_size, args.step_workers, 1, steps, args.seed))
            for p in presets
            for v in VARIANTS
        ]
        loading = LoadSettings(args.batch_size, load_batches, args.image_size, args.seed)
        print_loading(measure_loading(corpus, loading, (0, 2), repeat), loading, repeat)
        print_steps(cpu_rows, "2. One training step on CPU, float32", mfu=False)
        if torch.cuda.is_available():
            warmup = 1 if args.quick else 2
            gpu_steps = 1 if args.quick else args.gpu_steps
            gpu_rows = [
                run_step(
                    corpus,
                    StepSpec(
                        v, args.gpu_preset, "cuda", args.gpu_batch_size, args.gpu_workers, warmup, gpu_steps, args.seed
                    ),
                )
                for v in VARIANTS
            ]
            print_steps(gpu_rows, f"3. One training step on the GPU, {args.gpu_preset}, bf16 autocast", mfu=True)
        else:
            print(
                f"\n### 3. GPU\n\nno CUDA device here: the {args.gpu_preset} preset in bf16 (tokens/s, MFU) is skipped"
            )
    print(
        "\nmedia encoded: images through the vision encoder in the timed steps. params with gradients: parameters "
        "that got a .grad. data wait: time train_step spent waiting for batches. tokens/s: non-padding tokens. "
        "peak MB: what the step needs (model, optimiser state, activations): on CPU how far the maximum resident "
        "set of the variant's process grew from its start (data workers not counted), on a GPU "
        "torch.cuda.max_memory_allocated. MFU: the model FLOPs of trainer/flops.py (real media "
        "only, frozen parts' costs as the trainer runs them) per second over the GPU's dense bf16 peak, the same "
        f"FLOPs for both variants. {os.cpu_count()} CPUs, 1-minute load average {load:.1f} at the start and "
        f"{os.getloadavg()[0]:.1f} at the end (other work on the machine skews every figure); "
        f"{time.perf_counter() - started:.0f} s."
    )


if __name__ == "__main__":
    main()
