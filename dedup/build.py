"""Benchmark sources -> a BenchmarkIndex: every image (and sampled video frame) in each of its views,
embedded on all cores, with the local features and a thumbnail of each image and frame (for geometric
verification and reports), plus a per-benchmark report of what was indexed, missing or unreadable."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa
from PIL import Image, UnidentifiedImageError

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource
from dedup.benchmarks.registry import load_benchmark
from dedup.embedders import Embedder, embedder_from_spec
from dedup.feature_store import BenchmarkFeatures, FeatureSet, frame_of_view, thumbnail_jpeg
from dedup.index import ROWS_SCHEMA, BenchmarkIndex, new_meta
from dedup.local_features import LocalFeatureExtractor, LocalFeatureRules
from dedup.video_frames import FrameExtractionError, FrameRules, sample_frames
from dedup.views import benchmark_views, view_names

# Benchmark videos: frames at the training rate (1 FPS), capped so long videos do not dominate.
# A benchmark video is indexed even when damaged: its frames are what a copy would show.
BENCHMARK_FRAMES = FrameRules(fps=1.0, max_frames=32, max_side=512, max_decode_errors_per_s=float("inf"))


@dataclass
class BenchmarkCounts:
    items: int = 0
    indexed: int = 0
    missing: int = 0
    unreadable: int = 0
    rows: int = 0
    problems: list[str] = field(default_factory=list)  # the first few paths that failed, with why

    def to_dict(self) -> dict[str, Any]:
        return {"items": self.items, "indexed": self.indexed, "missing": self.missing,
                "unreadable": self.unreadable, "rows": self.rows, "problems": self.problems}  # fmt: skip


@dataclass(frozen=True)
class _Embedded:
    item: BenchmarkItem
    views: list[str]
    vectors: np.ndarray | None
    sha256: str = ""
    problem: str = ""  # "missing" or "unreadable: why"
    feature_sets: list[FeatureSet] = field(default_factory=list)


def build_index(
    sources: Sequence[BenchmarkSource],
    embedder: Embedder,
    view_set: str = "regional",
    index_type: str = "auto",
    frames: FrameRules = BENCHMARK_FRAMES,
    workers: int | None = None,
) -> tuple[BenchmarkIndex, dict[str, BenchmarkCounts]]:
    views = view_names(view_set)
    items = [item for source in sources for item in load_benchmark(source)]
    counts: dict[str, BenchmarkCounts] = {}
    vectors, rows, feature_sets = [], {name: [] for name in ROWS_SCHEMA.names}, []
    for done in _embed_all(items, embedder, views, frames, workers):
        tally = counts.setdefault(done.item.benchmark, BenchmarkCounts())
        tally.items += 1
        if done.vectors is None:
            kind = "missing" if done.problem == "missing" else "unreadable"
            setattr(tally, kind, getattr(tally, kind) + 1)
            if len(tally.problems) < 5:
                tally.problems.append(f"{done.item.path}: {done.problem}")
            continue
        tally.indexed += 1
        tally.rows += len(done.views)
        vectors.append(done.vectors)
        feature_sets += done.feature_sets
        for view in done.views:
            for name, value in (("benchmark", done.item.benchmark), ("split", done.item.split),
                                ("item_id", done.item.item_id), ("view", view), ("path", done.item.path),
                                ("sha256", done.sha256)):  # fmt: skip
                rows[name].append(value)
    width = embedder.dim // 8 if embedder.binary else embedder.dim
    matrix = np.concatenate(vectors) if vectors else np.zeros((0, width), np.uint8 if embedder.binary else np.float32)
    meta = new_meta(
        views=view_set,
        benchmarks={name: tally.to_dict() for name, tally in sorted(counts.items())},
        local_features=asdict(LocalFeatureRules()),
    )
    table = pa.table(rows, schema=ROWS_SCHEMA)
    index = BenchmarkIndex.build(embedder, matrix, table, index_type, meta, BenchmarkFeatures.from_sets(feature_sets))
    return index, counts


def item_views(item: BenchmarkItem, views: Sequence[str], frames: FrameRules) -> Iterator[tuple[str, Image.Image]]:
    """(view name, image) for an image item, or for every sampled frame of a video ("t3/centre75")."""
    if item.media == "image":
        with Image.open(item.path) as opened:
            yield from benchmark_views(opened.convert("RGB"), views)
        return
    for second, jpeg in enumerate(sample_frames(item.path, frames).jpegs):
        frame = _decode(jpeg)
        for view, image in benchmark_views(frame, views):
            yield (f"t{second}" if view == "full" else f"t{second}/{view}"), image


def _embed_all(
    items: list[BenchmarkItem], embedder: Embedder, views: Sequence[str], frames: FrameRules, workers: int | None
) -> Iterable[_Embedded]:
    workers = workers or os.cpu_count() or 1
    if not embedder.binary or workers == 1 or len(items) < 64:
        # Model embedders batch on their own (and use every core through torch); hashes are cheap to fan out.
        return (_embed_one(item, embedder, views, frames) for item in items)
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(embedder.spec(), views, frames),
    )
    return _closing(pool, pool.map(_embed_in_worker, items, chunksize=32))


def _closing(pool: ProcessPoolExecutor, results: Iterable[_Embedded]) -> Iterator[_Embedded]:
    with pool:
        yield from results


def _embed_one(item: BenchmarkItem, embedder: Embedder, views: Sequence[str], frames: FrameRules) -> _Embedded:
    if not os.path.exists(item.path):
        return _Embedded(item, [], None, problem="missing")
    try:
        named = list(item_views(item, views, frames))
        sha256 = file_sha256(item.path)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, FrameExtractionError) as error:
        return _Embedded(item, [], None, problem=f"unreadable: {error}")
    vectors = embedder.embed([image for _, image in named])
    wholes = [(name, image) for name, image in named if name == "full" or name == frame_of_view(name)]  # or "t3"
    feature_sets = [
        FeatureSet(
            (item.benchmark, item.split, item.item_id, frame_of_view(name)),
            _extractor()(image),
            thumbnail_jpeg(image),
        )
        for name, image in wholes
    ]
    return _Embedded(item, [name for name, _ in named], vectors, sha256, feature_sets=feature_sets)


@cache
def _extractor() -> LocalFeatureExtractor:
    return LocalFeatureExtractor()  # one per process: the index build runs items one at a time in each


_worker: dict[str, Any] = {}


def _init_worker(spec: dict[str, Any], views: Sequence[str], frames: FrameRules) -> None:
    _worker.update(embedder=embedder_from_spec(spec), views=views, frames=frames)


def _embed_in_worker(item: BenchmarkItem) -> _Embedded:
    return _embed_one(item, _worker["embedder"], _worker["views"], _worker["frames"])


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _decode(jpeg: bytes) -> Image.Image:
    from io import BytesIO

    with Image.open(BytesIO(jpeg)) as image:
        return image.convert("RGB")
