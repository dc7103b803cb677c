"""Threshold calibration: precision and recall of an index's match score on edited copies.

Positives are benchmark images from the index, each searched as it is ("original") and through every
augmentation (dedup/augment.py); negatives are distractor images known not to be in the index,
searched the same ways, since a training image is edited too. Every query is searched once. At a
threshold t:
- a positive is a true positive when its best score >= t and the match is its own item, or an item
  whose file has the same sha256 in the index rows (benchmarks share images under different ids);
- a positive matched to any other item, and any negative, scoring >= t is a false positive.
The recommended threshold is the lowest score whose precision reaches the target: the most recall
that precision allows.
"""

from __future__ import annotations

import os
import zlib
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
from PIL import Image, UnidentifiedImageError

from dedup.augment import AUGMENTATIONS, augment
from dedup.benchmarks.items import BenchmarkItem
from dedup.index import BenchmarkIndex, Match

ORIGINAL = "original"  # the unedited copy, always searched beside the augmentations
BATCH_IMAGES = 64
BATCH_PIXELS = 64_000_000  # a batch of huge sources and their edits stays within a few hundred MB
# Edits start from the source shrunk to this longest side: web copies are rarely larger, every embedder
# looks at 300 px or less, and editing a 20-megapixel original 15 times would dominate the run.
EDIT_MAX_SIDE = 1024
TABLE_START, TABLE_STEP = 0.70, 0.01

Key = tuple[str, str, str]  # benchmark, split, item_id


@dataclass(frozen=True)
class Point:
    threshold: float
    precision: float  # 1.0 when nothing scores >= threshold
    recall: float
    f1: float
    true_positives: int
    false_positives: int

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "precision": self.precision, "recall": self.recall, "f1": self.f1,
                "true_positives": self.true_positives, "false_positives": self.false_positives}  # fmt: skip


@dataclass(frozen=True)
class AugmentationResult:
    augmentation: str
    positives: int
    recall: float
    false_positives: int  # distractors of this edit over the threshold, plus its copies matched to another item

    def to_dict(self) -> dict[str, Any]:
        return {"augmentation": self.augmentation, "positives": self.positives, "recall": self.recall,
                "false_positives": self.false_positives}  # fmt: skip


@dataclass(frozen=True)
class Outcomes:
    """One entry per query: its best score, whether it is a positive, whether its match is right."""

    scores: np.ndarray  # float64 copies of the index's float32 scores, so thresholds compare exactly
    positive: np.ndarray
    correct: np.ndarray
    augmentation: np.ndarray

    @property
    def good(self) -> np.ndarray:
        return self.positive & self.correct

    def points(self, thresholds: np.ndarray) -> list[Point]:
        order = np.argsort(-self.scores, kind="stable")
        descending = self.scores[order]
        true_positives = np.concatenate([[0], np.cumsum(self.good[order])])
        flagged = np.searchsorted(-descending, -np.asarray(thresholds, dtype=np.float64), side="right")
        total = int(self.positive.sum())
        return [
            _point(float(t), int(true_positives[n]), int(n - true_positives[n]), total)
            for t, n in zip(thresholds, flagged, strict=True)
        ]

    def by_augmentation(self, threshold: float, names: Sequence[str]) -> list[AugmentationResult]:
        flagged = self.scores >= threshold
        results = []
        for name in names:
            mine = self.augmentation == name
            positives = int((mine & self.positive).sum())
            true_positives = int((mine & flagged & self.good).sum())
            false_positives = int((mine & flagged & ~self.good).sum())
            results.append(AugmentationResult(name, positives, true_positives / max(positives, 1), false_positives))
        return results


@dataclass
class Calibration:
    embedder: dict[str, Any]
    target_precision: float
    threshold: float | None
    message: str
    outcomes: Outcomes = field(repr=False)
    augmentation_names: tuple[str, ...]  # ORIGINAL first
    skipped: list[str] = field(default_factory=list)  # "path: why" for images that could not be read

    @property
    def positives(self) -> int:
        """Positive queries, not images: each image once as it is and once per augmentation."""
        return int(self.outcomes.positive.sum())

    @property
    def negatives(self) -> int:
        return int((~self.outcomes.positive).sum())

    @property
    def curve(self) -> list[Point]:
        """The metrics at every distinct score, ascending."""
        return self.outcomes.points(np.unique(self.outcomes.scores))

    @property
    def recommended(self) -> Point | None:
        return None if self.threshold is None else self.outcomes.points(np.array([self.threshold]))[0]

    @property
    def augmentations(self) -> list[AugmentationResult]:
        """Recall per augmentation at the recommended threshold; empty when there is none."""
        if self.threshold is None:
            return []
        return self.outcomes.by_augmentation(self.threshold, self.augmentation_names)

    def table(self, start: float = TABLE_START, step: float = TABLE_STEP) -> list[Point]:
        """The metrics at start, start + step, ..., 1.0, and at the recommended threshold."""
        grid = np.round(np.arange(start, 1.0 + step / 2, step), 6)
        if self.threshold is not None:
            grid = np.union1d(grid, [self.threshold])
        return self.outcomes.points(grid)

    def to_dict(self) -> dict[str, Any]:
        return {
            "embedder": self.embedder,
            "target_precision": self.target_precision,
            "threshold": self.threshold,
            "message": self.message,
            "positives": self.positives,
            "negatives": self.negatives,
            "table": [point.to_dict() for point in self.table()],
            "augmentations": [result.to_dict() for result in self.augmentations],
            "skipped": self.skipped,
        }

    def format_table(self) -> str:
        lines = [
            f"{self.positives} positive and {self.negatives} negative queries; target precision {self.target_precision:g}",
            "",
            "| threshold | precision | recall |    F1 |    TP |    FP |",
            "|----------:|----------:|-------:|------:|------:|------:|",
        ]
        for point in self.table():
            mark = " *" if point.threshold == self.threshold else "  "
            lines.append(
                f"| {point.threshold:7.4f}{mark} | {point.precision:9.4f} | {point.recall:6.4f} | {point.f1:5.3f} "
                f"| {point.true_positives:5d} | {point.false_positives:5d} |"
            )
        lines += ["", self.message]
        if self.augmentations:
            lines += [
                "",
                "| augmentation   | positives | recall |   FP |",
                "|:---------------|----------:|-------:|-----:|",
            ]
            lines += [
                f"| {r.augmentation:<14} | {r.positives:9d} | {r.recall:6.3f} | {r.false_positives:4d} |"
                for r in self.augmentations
            ]
        if self.skipped:
            lines += ["", f"{len(self.skipped)} unreadable images skipped, e.g. {self.skipped[0]}"]
        return "\n".join(lines)


def index_images(index: BenchmarkIndex, limit: int | None = None, seed: int = 0) -> list[BenchmarkItem]:
    """The image items of an index (one per item, from its "full" rows); a random `limit` of them if given."""
    rows = index.rows.filter(pc.equal(index.rows.column("view"), "full"))
    columns = [rows.column(name).to_pylist() for name in ("benchmark", "split", "item_id", "path")]
    items = list({(b, s, i): BenchmarkItem(b, s, i, p) for b, s, i, p in zip(*columns, strict=True)}.values())
    if limit is not None and limit < len(items):
        chosen = np.random.default_rng(seed).choice(len(items), limit, replace=False)
        items = [items[i] for i in sorted(chosen)]
    return items


def calibrate(
    index: BenchmarkIndex,
    positives: Sequence[BenchmarkItem],
    distractors: Sequence[str | Path],
    augmentations: Sequence[str] = tuple(AUGMENTATIONS),
    target_precision: float = 0.99,
    seed: int = 0,
) -> Calibration:
    unknown = sorted(set(augmentations) - set(AUGMENTATIONS))
    if unknown:
        raise ValueError(f"unknown augmentations {', '.join(unknown)}: choose among {', '.join(AUGMENTATIONS)}")
    names = (ORIGINAL, *augmentations)
    sources: list[BenchmarkItem | str] = [*positives, *(str(path) for path in distractors)]
    skipped: list[str] = []
    outcomes = _search_all(index, sources, names, seed, skipped)
    for wanted, kind in ((True, "positives"), (False, "distractors")):
        if not (outcomes.positive == wanted).any():
            raise ValueError(f"calibration needs readable {kind}; skipped: {'; '.join(skipped[:3]) or 'none given'}")
    threshold, message = _recommend(outcomes.points(np.unique(outcomes.scores)), target_precision)
    return Calibration(index.embedder.spec(), target_precision, threshold, message, outcomes, names, skipped)


def _search_all(
    index: BenchmarkIndex, sources: list[BenchmarkItem | str], names: Sequence[str], seed: int, skipped: list[str]
) -> Outcomes:
    judge = _Judge(index)
    scores, positive, correct, augmentation = [], [], [], []
    for batch in _batches(_queries(sources, names, seed, skipped)):
        matches = index.match_images([image for _, _, image in batch])
        for (source, name, _), match in zip(batch, matches, strict=True):
            scores.append(0.0 if match is None else match.score)
            positive.append(isinstance(source, BenchmarkItem))
            correct.append(isinstance(source, BenchmarkItem) and match is not None and judge.same(source, match))
            augmentation.append(name)
    return Outcomes(
        scores=np.asarray(scores, dtype=np.float64),
        positive=np.asarray(positive, dtype=bool),
        correct=np.asarray(correct, dtype=bool),
        augmentation=np.asarray(augmentation, dtype=object),
    )


Query = tuple[BenchmarkItem | str, str, Image.Image]


def _queries(
    sources: list[BenchmarkItem | str], names: Sequence[str], seed: int, skipped: list[str]
) -> Iterator[Query]:
    """Every source's edits, in order, made on threads (Pillow releases the GIL) while the caller searches."""
    workers = os.cpu_count() or 1
    pending: deque[Future[list[Query] | str]] = deque()
    with ThreadPoolExecutor(workers) as pool:
        for source in sources:
            pending.append(pool.submit(_edits, source, names, seed))
            if len(pending) > 4 * workers:  # a few sources ahead, not all of them in memory
                yield from _collect(pending.popleft().result(), skipped)
        while pending:
            yield from _collect(pending.popleft().result(), skipped)


def _collect(edits: list[Query] | str, skipped: list[str]) -> list[Query]:
    if isinstance(edits, str):
        skipped.append(edits)
        return []
    return edits


def _edits(source: BenchmarkItem | str, names: Sequence[str], seed: int) -> list[Query] | str:
    """The queries made from one source, or "path: why" when it cannot be read."""
    path = source.path if isinstance(source, BenchmarkItem) else source
    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as error:
        return f"{path}: {error}"
    editable = _shrunk(image)
    queries = []
    for kind, name in enumerate(names):
        # one generator per (source file, edit): the same query whatever else is calibrated with it
        rng = np.random.default_rng([seed, zlib.crc32(path.encode()), kind])
        queries.append((source, name, image if name == ORIGINAL else augment(editable, name, rng)))
    return queries


def _shrunk(image: Image.Image) -> Image.Image:
    if max(image.size) <= EDIT_MAX_SIDE:
        return image
    shrunk = image.copy()
    shrunk.thumbnail((EDIT_MAX_SIDE, EDIT_MAX_SIDE), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return shrunk


def _batches(queries: Iterator[Query]) -> Iterator[list[Query]]:
    batch: list[Query] = []
    pixels = 0
    for query in queries:
        batch.append(query)
        pixels += query[2].width * query[2].height
        if len(batch) >= BATCH_IMAGES or pixels >= BATCH_PIXELS:
            yield batch
            batch, pixels = [], 0
    if batch:
        yield batch


class _Judge:
    """Whether a match is the query's own item or an item whose file has the same sha256 (from the index rows)."""

    def __init__(self, index: BenchmarkIndex) -> None:
        columns = [index.rows.column(name).to_pylist() for name in ("benchmark", "split", "item_id", "sha256")]
        self._sha256: dict[Key, str] = {(b, s, i): sha for b, s, i, sha in zip(*columns, strict=True)}

    def same(self, item: BenchmarkItem, match: Match) -> bool:
        mine, theirs = (item.benchmark, item.split, item.item_id), (match.benchmark, match.split, match.item_id)
        if mine == theirs:
            return True
        sha256 = self._sha256.get(mine)
        return sha256 is not None and sha256 == self._sha256.get(theirs)


def _point(threshold: float, true_positives: int, false_positives: int, positives: int) -> Point:
    flagged = true_positives + false_positives
    precision = true_positives / flagged if flagged else 1.0
    recall = true_positives / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Point(threshold, precision, recall, f1, true_positives, false_positives)


def _recommend(curve: list[Point], target: float) -> tuple[float | None, str]:
    reaching = [point for point in curve if point.precision >= target]
    if not reaching:
        best = max(curve, key=lambda point: (point.precision, point.recall))
        return None, (
            f"no threshold reaches precision {target:g}: the best is {best.precision:.4f} "
            f"(recall {best.recall:.4f}) at {best.threshold:.4f}; use a stronger embedder or the 'crops' view set"
        )
    point = reaching[0]
    return point.threshold, (
        f"recommended threshold {point.threshold:.4f}: precision {point.precision:.4f} >= {target:g}, "
        f"recall {point.recall:.4f} ({point.false_positives} false positives)"
    )
