"""Training throughput on real shards, ours against what a user would otherwise write, in one run.

1. Data loading per dataset kind the trainer reads (M3W, ALIGN = pairs of kind alt, LTIP = pairs of
   kind caption, VTP = clips of 1-FPS frames), with 0, 1 and 2 DataLoader workers, in samples/s (also
   per worker) and images or frames/s: `trainer.data.stream.DatasetLoader` (tokenised, padded batches
   of uint8 pixels at the tower's input side) against a plain `webdataset.WebDataset(urls,
   resampled=True).decode("pil")` loop that makes each image or frame a normalised float tensor with
   torchvision (Resize + CenterCrop + ToTensor + Normalize), in a torch DataLoader, with the same
   worker counts and batch size.
2. One full training step, `Trainer.train_step` (M3W, ALIGN and LTIP batches, forward, backward,
   clipping, AdamW) of the `tiny` and `small` presets on CPU in float32, against the naive variant
   peers ship: every media slot encoded, padding included, and gradients computed for the frozen
   vision encoder and LM. Each variant runs in its own process (its own peak memory) on the same
   batches (same seed: the streams are the same).
3. Where CUDA is available, the same for the `1b` preset in bf16 (frozen weights in bf16, autocast),
   with MFU: the step's model FLOPs (`trainer/flops.py`, as the Trainer counts them) over the GPU's
   dense bf16 peak. Without CUDA this part is skipped, with a line that says so.
4. Does one worker per dataset keep a GPU fed? The samples/s a step of the GPU preset consumes of each
   dataset (batches of the README's run.yaml: M3W 8, ALIGN 16, LTIP 16, VTP 4 clips of 8 frames),
   at a step time from the step's FLOPs (`trainer/flops.py`) at the MFU measured in 3., or, without
   a GPU, at an assumed MFU (`--assumed-mfu`) of an H100/H200's dense bf16 peak; against what one
   worker of ours gives in 1.: one free core's rate, ours' samples per CPU second without workers.

The shards are built first, from real data, as the project builds them: the M3W, ALIGN and LTIP
samples with the project's writer, from the real images of ../shared/testdata/images (the pipeline's
image step: 320 px, JPEG 90): M3W documents of 1-5 images with real prose between them (LLaVA-Bench
answers), ALIGN pairs with real alt texts (LAION), LTIP pairs with the long LLaVA-Bench answers as
captions; the VTP clips by the `curate video` job itself (direct downloads from 127.0.0.1, frames
at 1 FPS, 320 px, at most 32 a clip, longer videos split) on the real clips of
../shared/testdata/video, with real MSR-VTT captions as their texts; a sentencepiece tokenizer is
trained on the texts.

    .venv/bin/python benchmarks/train_step.py [--quick] [--testdata PATH] [--samples 400]
        [--load-batches 40] [--batch-size 8] [--repeat 3] [--presets tiny small] [--step-batch-size 2] [--steps 2]
        [--gpu-preset 1b] [--gpu-batch-size 8] [--gpu-steps 5] [--gpu-workers 4] [--assumed-mfu 0.4]

`--quick` (CI): 80 samples per image dataset and the 3 smallest videos, 5 timed batches per loader
and one run of each, the tiny preset only, one timed step (on a GPU, one step of the GPU preset too).
"""

from __future__ import annotations

import argparse
import csv
import functools
import gc
import json
import math
import multiprocessing
import os
import random
import resource
import subprocess
import sys
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
from pipelines.local_server import LocalServer
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
from trainer.flops import PEAK_FLOPS, ModelSizes, StepShape, step_flops
from trainer.model.build import PRESETS, build_flamingo
from trainer.model.flamingo import Flamingo
from trainer.tokenizer import FlamingoTokenizer, train_sentencepiece
from trainer.train import Trainer

SHARDS = 4  # per image dataset: at least the most DataLoader workers used, so each worker reads its own
VARIANTS = ("ours", "naive")
# Folders of the corpus, and the trainer dataset that reads each (pairs of one kind per folder).
FOLDERS = {"m3w": "m3w", "align": "pairs-alt", "ltip": "pairs-caption", "vtp": "video"}
NAMES = {"m3w": "M3W", "align": "ALIGN (pairs, alt)", "ltip": "LTIP (pairs, caption)", "vtp": "VTP (clips)"}
STEP_DATASETS = ("m3w", "align", "ltip")  # the CPU presets' resamplers take at most 4 frames: no VTP
LOAD_WORKERS = (0, 1, 2)
BROKEN_VIDEOS = {"Megamind_bugy.avi"}  # deliberately corrupt: the video job rejects it
QUICK_VIDEOS = 3  # the shortest
CLIPS_PER_SHARD = 3  # the video job's --shard_samples: several shards from a dozen clips
# The video job as the tests run it: loopback allowed, no politeness delay, Beam in this machine's memory.
VIDEO_JOB_FLAGS = [
    "--allow_loopback",
    "--per_host_delay=0",
    "--direct_running_mode=in_memory",
    "--direct_num_workers=1",
]


# ---- the corpus: real images, videos and texts -> shards and a tokenizer ---------------------------


@dataclass(frozen=True)
class Corpus:
    folder: str  # shards under FOLDERS, and tokenizer/
    images: int  # distinct real images
    videos: int  # real videos the clips come from
    samples: dict[str, int]  # per dataset
    m3w_images: int
    vtp_frames: int

    def shards(self, dataset: str) -> list[str]:
        return sorted(str(p) for p in (Path(self.folder) / FOLDERS[dataset]).rglob("*.tar"))

    @property
    def tokenizer(self) -> str:
        return str(Path(self.folder) / "tokenizer")


def load_texts(testdata: Path) -> tuple[list[str], list[str], list[str]]:
    """(prose: LLaVA-Bench GPT-4 answers, alt texts: LAION-style pairs, video captions: MSR-VTT), all real."""
    answers = testdata / "annotations/llava_bench/qa90_gpt4_answer.jsonl"
    alts = testdata / "annotations/laion_pairs/img2dataset_test_10000.parquet"
    video_captions = testdata / "annotations/msrvtt/MSRVTT_JSFUSION_test.csv"
    for path in (answers, alts, video_captions):
        if not path.exists():
            raise SystemExit(f"{path} is missing: the benchmark needs the real texts of ../shared/testdata")
    prose = [json.loads(line)["text"].strip() for line in answers.read_text(encoding="utf-8").splitlines() if line]
    alt_texts = pq.read_table(alts, columns=["TEXT"]).column("TEXT").to_pylist()
    with open(video_captions, newline="", encoding="utf-8") as rows:
        captions = [row["sentence"].strip() for row in csv.DictReader(rows, delimiter=";")]
    return [p for p in prose if p], [t.strip() for t in alt_texts if t and t.strip()], [c for c in captions if c]


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


def real_videos(testdata: Path, quick: bool) -> list[Path]:
    videos = [p for p in (testdata / "video").rglob("*") if p.is_file() and p.name not in BROKEN_VIDEOS]
    if not videos:
        raise SystemExit(f"no videos under {testdata / 'video'}")
    return sorted(videos, key=lambda p: p.stat().st_size)[:QUICK_VIDEOS] if quick else sorted(videos)


def curate_clips(videos: Sequence[Path], captions: Sequence[str], output: Path) -> None:
    """`curate video` on the videos served from 127.0.0.1, each listed with a caption; in a process of its
    own, so that this one has started no Beam threads when the step measurements fork it."""
    with tempfile.TemporaryDirectory(prefix="videos-") as served, LocalServer(served) as server:
        listing = Path(served) / "clips.csv"
        with open(listing, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["url", "text"])
            for video, caption in zip(videos, captions, strict=False):
                (Path(served) / video.name).symlink_to(video)
                writer.writerow([server.url + video.name, caption])
        job = [sys.executable, "-m", "pipelines.cli", "video", "--video_list", str(listing), "--output", str(output)]
        job += ["--long_clips", "split", "--shard_samples", str(CLIPS_PER_SHARD), *VIDEO_JOB_FLAGS]
        done = subprocess.run(job, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the video job failed (exit {done.returncode}):\n{done.stderr[-3000:]}")


def clip_counts(output: Path) -> tuple[int, int]:
    """(clips, frames) that the video job's manifest lists."""
    rows = pq.read_table(output / "manifest.parquet").to_pylist()
    clips = [row for row in rows if row["kind"] == "video"]
    return len(clips), sum(row["image_count"] for row in clips)


def build_corpus(testdata: Path, folder: Path, count: int, seed: int, quick: bool) -> Corpus:
    images = load_images(testdata / "images")
    if not images:
        raise SystemExit(f"no usable images under {testdata / 'images'}")
    prose, alt_texts, video_captions = load_texts(testdata)
    rng = random.Random(seed)
    samples = {
        "m3w": m3w_samples(count, images, prose, rng),
        "align": pair_samples(count, "alt", images, alt_texts, rng),
        "ltip": pair_samples(count, "caption", images, prose, rng),
    }
    for dataset, written in samples.items():
        write_shards(written, folder / FOLDERS[dataset])
    videos = real_videos(testdata, quick)
    curate_clips(videos, video_captions, folder / FOLDERS["vtp"])
    clips, frames = clip_counts(folder / FOLDERS["vtp"])
    # 512 pieces, what the tiny preset's LM has (the larger presets' tables hold them too); ASCII texts
    # only, or their characters alone would need more pieces: the others are byte pieces.
    texts = [text for text in alt_texts + prose + video_captions if text.isascii()]
    train_sentencepiece(texts, str(folder / "tokenizer"), vocab_size=512)
    m3w_images = sum(name.endswith(".jpg") for sample in samples["m3w"] for name in sample)
    counts = {**{k: len(v) for k, v in samples.items()}, "vtp": clips}
    return Corpus(str(folder), len(images), len(videos), counts, m3w_images, frames)


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
    images: int  # images, or video frames
    seconds: float
    cpu_seconds: float  # of this process: all the loading without workers, only the hand-over with them

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.seconds

    @property
    def samples_per_s_per_worker(self) -> float:
        """Without workers the main process is the one worker."""
        return self.samples_per_s / max(self.workers, 1)

    @property
    def samples_per_cpu_s(self) -> float | None:
        """What one free core gives, whatever else the machine runs: known without workers only."""
        return self.samples / self.cpu_seconds if self.workers == 0 else None


def ours_loader(corpus: Corpus, dataset: str, workers: int, settings: LoadSettings) -> DatasetLoader:
    tokenizer = FlamingoTokenizer.from_pretrained(corpus.tokenizer)
    images = ImageSettings(size=settings.image_size, mean=OPENAI_DATASET_MEAN, std=OPENAI_DATASET_STD)
    run = DataConfig()  # what a training run reads with: resampled shards, a 1000-sample shuffle buffer
    sequence = SequenceSettings(max_tokens=DEFAULT_MAX_TOKENS[dataset])  # VTP: 8 frames a clip, as a run's default
    builder = ExampleBuilder(dataset, tokenizer, sequence, images)
    stream = StreamSettings(
        settings.batch_size, settings.seed, resample=run.resample, shuffle_buffer=run.shuffle_buffer
    )
    source = resolve_shards(dataset, corpus.shards(dataset))
    return DatasetLoader(source, builder, stream, workers)


def count_ours(batch) -> tuple[int, int]:
    """(samples, images or frames)."""
    return len(batch.input_ids), int(batch.media_mask.sum()) * batch.images.shape[2]


def naive_loader(corpus: Corpus, dataset: str, workers: int, settings: LoadSettings) -> DataLoader:
    """What a user would write: decode every image (every frame of a clip) to PIL, then torchvision's
    usual transform; resampled shards, endless as a training stream (the clips are few)."""
    size = settings.image_size
    transform = transforms.Compose(
        [
            transforms.Resize(size),
            transforms.CenterCrop(size),
            transforms.ToTensor(),
            transforms.Normalize(OPENAI_DATASET_MEAN, OPENAI_DATASET_STD),
        ]
    )
    samples = wds.WebDataset(corpus.shards(dataset), resampled=True, shardshuffle=False).decode("pil")
    samples = samples.map(functools.partial(naive_example, transform))
    # documents have 1-5 images and clips 4-32 frames: no stacking
    collate = list_collate if dataset in ("m3w", "vtp") else default_collate
    return DataLoader(samples, batch_size=settings.batch_size, num_workers=workers, collate_fn=collate)


def naive_example(transform, sample: dict) -> tuple[torch.Tensor, str]:
    """Every image or frame of the sample ([N, 3, S, S] float32) and its text, untokenised."""
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


def time_loader(batches: Iterator, count: Callable, timed: int) -> tuple[float, int, int, float, float]:
    """(first batch s: workers start, buffers fill; samples, images, seconds and this process's CPU
    seconds of the next `timed` batches)."""
    started = time.perf_counter()
    count(next(batches))
    first = time.perf_counter() - started
    samples = images = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(timed):
        batch_samples, batch_images = count(next(batches))
        samples, images = samples + batch_samples, images + batch_images
    return first, samples, images, time.perf_counter() - started, time.process_time() - cpu_started


def run_loader(name: str, corpus: Corpus, dataset: str, workers: int, settings: LoadSettings) -> LoadResult:
    make, count = LOADERS[name]
    loader = make(corpus, dataset, workers, settings)
    try:
        timed = time_loader(iter(loader), count, settings.batches)
    finally:
        del loader  # its workers stop when it is collected
        gc.collect()
    return LoadResult(name, dataset, workers, *timed)


def measure_loading(corpus: Corpus, settings: LoadSettings, workers: Sequence[int], repeat: int) -> list[LoadResult]:
    """Each loader for each dataset and worker count, `repeat` times afresh: the fastest run counts."""
    results = []
    threads = torch.get_num_threads()
    # torch ops of a loader without workers on one thread, as DataLoader workers run them: on a small,
    # busy machine several OpenMP threads on image-sized tensors can be many times slower than one.
    torch.set_num_threads(1)
    try:
        for dataset in FOLDERS:
            for worker_count in workers:
                for name in LOADERS:
                    runs = [run_loader(name, corpus, dataset, worker_count, settings) for _ in range(repeat)]
                    results.append(max(runs, key=lambda r: r.samples_per_s))
    finally:
        torch.set_num_threads(threads)
    return results


def print_loading(results: list[LoadResult], settings: LoadSettings, repeat: int) -> None:
    print(
        f"\n### 1. Data loading: {settings.batches} batches of {settings.batch_size} after the first, "
        f"{settings.image_size} px, best of {repeat}\n"
    )
    print(
        "| loader | dataset | workers | first batch s | samples/s | samples/s per worker | samples per CPU s "
        "| images or frames/s | images or frames/sample |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        per_cpu = "" if r.samples_per_cpu_s is None else f"{r.samples_per_cpu_s:.0f}"
        print(
            f"| {r.loader} | {NAMES[r.dataset]} | {r.workers} | {r.first_batch_s:.2f} | {r.samples_per_s:.0f} "
            f"| {r.samples_per_s_per_worker:.0f} | {per_cpu} | {r.images / r.seconds:.0f} | {r.images / r.samples:.2f} |"
        )
    print(
        "\nours: token ids (padded, <image> checked against the media), uint8 pixels [B, N, T, 3, S, S] "
        "(aspect kept, padded to a square; normalised on the device by the trainer), at most "
        f"{SequenceSettings().max_images} images of a {DEFAULT_MAX_TOKENS['m3w']}-token window of each document, "
        f"{SequenceSettings().frames} consecutive frames of each clip (only those are decoded); resampled shards "
        "and a shuffle buffer, as in training. Without workers, the loop runs in this process, torch on one "
        "thread (as in a worker), and counts as one worker; its samples per CPU second are what one free core gives, "
        "however busy the machine. webdataset + torchvision: every image of every "
        "sample and every frame of every clip as normalised float32 (4x the bytes), centre-cropped; text left "
        "as text (no tokenising, no padding)."
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
        dataset: {
            "paths": [str(Path(corpus.folder) / FOLDERS[dataset])],
            "batch_size": spec.batch_size * (1 if dataset == "m3w" else 2),
        }
        for dataset in STEP_DATASETS
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


# ---- 4. does a worker keep a GPU fed? ---------------------------------------------------------------


def gpu_batches(m3w_batch: int) -> dict[str, int]:
    """Samples of each dataset in one step: M3W's batch, pairs twice (as in section 3 and the README's
    run.yaml: 8, 16, 16), clips half (the run.yaml's 4)."""
    return {"m3w": m3w_batch, "align": 2 * m3w_batch, "ltip": 2 * m3w_batch, "vtp": max(1, m3w_batch // 2)}


def step_shapes(batches: dict[str, int], m3w_images_per_sample: float) -> dict[str, StepShape]:
    """Each dataset's part of a step, every sequence at its full max_tokens (padded batches)."""
    media = {"m3w": round(batches["m3w"] * m3w_images_per_sample), "align": batches["align"]}
    media |= {"ltip": batches["ltip"], "vtp": batches["vtp"]}
    frames = {"vtp": SequenceSettings().frames}
    return {
        dataset: StepShape(batches[dataset], DEFAULT_MAX_TOKENS[dataset], media[dataset], frames.get(dataset, 1))
        for dataset in batches
    }


def preset_step_flops(preset: str, shapes: dict[str, StepShape]) -> float:
    with torch.device("meta"):  # sizes only: no memory, no weights
        sizes = ModelSizes.of(build_flamingo(PRESETS[preset]))
    return sum(step_flops(sizes, shape) for shape in shapes.values())


@dataclass(frozen=True)
class GpuPace:
    mfu: float
    peak_flops: float  # dense bf16, per second
    source: str  # where the MFU comes from, and the GPU


def print_gpu_demand(results: list[LoadResult], preset: str, m3w_batch: int, pace: GpuPace) -> None:
    one_worker = {r.dataset: r for r in results if r.loader == "ours" and r.workers == 1}
    one_core = {r.dataset: r for r in results if r.loader == "ours" and r.workers == 0}
    batches = gpu_batches(m3w_batch)
    shapes = step_shapes(batches, one_core["m3w"].images / one_core["m3w"].samples)
    flops = preset_step_flops(preset, shapes)
    step_s = flops / (pace.mfu * pace.peak_flops)
    print(
        f"\n### 4. Does one worker per dataset keep a GPU fed? {preset}: {flops / 1e12:.1f} TFLOPs a step at "
        f"{pace.mfu:.0%} MFU ({pace.source}): {step_s * 1000:.0f} ms a step\n"
    )
    print(
        "| dataset | samples a step | samples/s the step consumes | ours: samples/s of 1 worker here "
        "| ours: samples per CPU s | free cores needed | one free core keeps up while a step takes at least |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for dataset, batch in batches.items():
        consumed, per_core = batch / step_s, one_core[dataset].samples_per_cpu_s
        print(
            f"| {NAMES[dataset]} | {batch} | {consumed:.0f} | {one_worker[dataset].samples_per_s:.0f} "
            f"| {per_core:.0f} | {math.ceil(consumed / per_core)} | {batch / per_core * 1000:.0f} ms |"
        )
    print(
        "\nFLOPs: trainer/flops.py for the step's shapes, every sequence at its full max_tokens, M3W with the "
        "images per document ours gave above, VTP clips of 8 frames. A worker is one process: what it gives is "
        "what one free core gives (ours without workers, samples per CPU second), which the wall-clock rate of "
        "one worker on this machine reaches only when the machine is idle. Cores needed: per dataset; a GPU "
        "host's cores may be faster than these, and the datasets' workers together need that many."
    )


# ---- the run --------------------------------------------------------------------------------------


def gpu_pace(gpu_rows: list[dict] | None, assumed_mfu: float) -> GpuPace:
    """The MFU section 3 measured for ours, or else an assumed one on an H100/H200."""
    measured = [row for row in gpu_rows or [] if row["spec"]["variant"] == "ours" and row["peak_flops"]]
    if measured:
        row = measured[0]
        return GpuPace(row["flops_per_s"] / row["peak_flops"], row["peak_flops"], f"measured in 3., {row['device']}")
    peak = PEAK_FLOPS["H100"]
    return GpuPace(assumed_mfu, peak, f"assumed; no GPU measured: an H100/H200's {peak / 1e12:.0f} TFLOP/s bf16")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--testdata", type=Path, default=default_testdata())
    parser.add_argument("--quick", action="store_true", help="a tiny run (CI): few samples, the tiny preset only")
    parser.add_argument("--samples", type=int, help="samples per image dataset in the shards (default: 400; quick 80)")
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
    parser.add_argument("--assumed-mfu", type=float, default=0.4, help="section 4 without a GPU (default: %(default)s)")
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
        corpus = build_corpus(args.testdata, Path(scratch), samples, args.seed, args.quick)
        print(
            f"shards: {corpus.samples['m3w']} M3W documents ({corpus.m3w_images} images), {corpus.samples['align']} "
            f"ALIGN and {corpus.samples['ltip']} LTIP pairs, from {corpus.images} distinct real images at 320 px, "
            f"{SHARDS} shards each; {corpus.samples['vtp']} VTP clips ({corpus.vtp_frames} frames) that `curate video` "
            f"made of {corpus.videos} real videos in {len(corpus.shards('vtp'))} shard(s); a 512-piece sentencepiece "
            f"tokenizer ({time.perf_counter() - started:.1f} s)",
            flush=True,
        )
        # The steps first: each is forked from this process before it has run any torch work.
        cpu_rows = [
            run_step(corpus, StepSpec(v, p, "cpu", args.step_batch_size, args.step_workers, 1, steps, args.seed))
            for p in presets
            for v in VARIANTS
        ]
        loading = LoadSettings(args.batch_size, load_batches, args.image_size, args.seed)
        load_results = measure_loading(corpus, loading, LOAD_WORKERS, repeat)
        print_loading(load_results, loading, repeat)
        print_steps(cpu_rows, "2. One training step on CPU, float32", mfu=False)
        gpu_rows = None
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
        pace = gpu_pace(gpu_rows, args.assumed_mfu)
        print_gpu_demand(load_results, args.gpu_preset, args.gpu_batch_size, pace)
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
