"""Threshold calibration: precision and recall of an index's match score on edited copies.

Positives are benchmark images from the index, each searched as it is ("original") and through every
augmentation (dedup/augment.py); negatives are distractor images known not to be in the index,
searched the same ways, since a training image is edited too. Every query is searched once. At a
threshold t:
- a positive is a true positive when its best score >= t and the match is its own item, or an item
  whose file has the same sha256 in the index rows (benchmarks share images under different ids);
- a positive matched to any other item, and any negative, scoring >= t is a false positive.
The recommended threshold is the lowest score whose precision reaches the target: the most recall
that precision allows. That is stage one alone, the score at which a match is a copy outright.

With local features in the index, the two-stage decision (dedup/verification.py) is calibrated too:
each query's best few candidates at or above a floor are verified once, and their inliers kept, so
any candidate threshold above the floor and any inlier count can be evaluated afterwards. The
candidate threshold is the score that proposes `candidate_share` of the distractor queries (what
verification costs); the inlier count is the lowest, not under MIN_INLIERS_FLOOR, whose two-stage
precision reaches the target.
"""

from __future__ import annotations

import os
import threading
import zlib
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
from PIL import Image, UnidentifiedImageError

from dedup.augment import AUGMENTATIONS, augment
from dedup.benchmarks.items import BenchmarkItem
from dedup.index import BenchmarkIndex, Match
from dedup.verification import MAX_CANDIDATES, SEARCH_ROWS, CopyDetector, Thresholds

ORIGINAL = "original"  # the unedited copy, always searched beside the augmentations
BATCH_IMAGES = 64
BATCH_PIXELS = 64_000_000  # a batch of huge sources and their edits stays within a few hundred MB
# Edits start from the source shrunk to this longest side: web copies are rarely larger, every embedder
# looks at 300 px or less, and editing a 20-megapixel original 15 times would dominate the run.
EDIT_MAX_SIDE = 1024
TABLE_START, TABLE_STEP = 0.70, 0.01
CANDIDATE_SHARE = 0.15  # of the distractor queries proposed for verification: its cost
CANDIDATE_FLOOR = 0.70  # verified in calibration: the lowest candidate threshold it can recommend
OUTRIGHT_PRECISION = 0.999  # of stage one alone, where it decides without verification
MIN_INLIERS_FLOOR = 8  # fewer inliers are what RANSAC fits to noise, whatever the calibration data says

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
    # the best MAX_CANDIDATES distinct candidates >= CANDIDATE_FLOOR, in score order (score 0: none)
    candidate_scores: np.ndarray | None = None  # float64 [n, MAX_CANDIDATES]
    candidate_inliers: np.ndarray | None = None  # int [n, MAX_CANDIDATES]
    candidate_correct: np.ndarray | None = None  # bool [n, MAX_CANDIDATES]

    def verified(self, thresholds: Thresholds) -> tuple[np.ndarray, np.ndarray]:
        """(flagged, flagged and right) per query under the two-stage decision."""
        outright = self.scores >= thresholds.threshold
        proposed = self.candidate_scores >= thresholds.candidate_threshold
        confirmed = proposed & (self.candidate_inliers >= thresholds.min_inliers)
        any_confirmed = confirmed.any(axis=1)
        first = confirmed.argmax(axis=1)  # the decision takes the first verified candidate
        verified_right = self.candidate_correct[np.arange(len(first)), first]
        flagged = outright | any_confirmed
        right = np.where(outright, self.correct, verified_right) & flagged & self.positive
        return flagged, right

    def verified_point(self, thresholds: Thresholds) -> Point:
        flagged, right = self.verified(thresholds)
        true_positives = int(right.sum())
        return _point(
            thresholds.threshold, true_positives, int(flagged.sum()) - true_positives, int(self.positive.sum())
        )

    def verified_by_augmentation(self, thresholds: Thresholds, names: Sequence[str]) -> list[AugmentationResult]:
        return self._per_augmentation(*self.verified(thresholds), names)

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
        return self._per_augmentation(flagged, flagged & self.good, names)

    def _per_augmentation(
        self, flagged: np.ndarray, right: np.ndarray, names: Sequence[str]
    ) -> list[AugmentationResult]:
        """Recall and false positives per edit, given which queries were flagged and which rightly."""
        results = []
        for name in names:
            mine = self.augmentation == name
            positives = int((mine & self.positive).sum())
            true_positives, false_positives = int((mine & right).sum()), int((mine & flagged & ~right).sum())
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
    two_stage: Thresholds | None = None  # recommended with verification; None without local features
    distractor_max_inliers: int = 0  # the most inliers any distractor query reached with a candidate

    @property
    def verified_point(self) -> Point | None:
        return None if self.two_stage is None else self.outcomes.verified_point(self.two_stage)

    @property
    def verified_augmentations(self) -> list[AugmentationResult]:
        if self.two_stage is None:
            return []
        return self.outcomes.verified_by_augmentation(self.two_stage, self.augmentation_names)

    @property
    def candidate_share(self) -> float:
        """Share of the distractor queries proposed for verification (under the outright threshold)."""
        if self.two_stage is None:
            return 0.0
        negative = ~self.outcomes.positive
        proposed = (self.outcomes.candidate_scores[:, 0] >= self.two_stage.candidate_threshold) & (
            self.outcomes.scores < self.two_stage.threshold
        )
        return float((proposed & negative).sum() / max(negative.sum(), 1))

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
            "two_stage": None if self.two_stage is None else {
                **asdict(self.two_stage),
                "candidate_share": self.candidate_share,
                "distractor_max_inliers": self.distractor_max_inliers,
                **{f"verified_{k}": v for k, v in self.verified_point.to_dict().items() if k != "threshold"},
                "augmentations": [result.to_dict() for result in self.verified_augmentations],
            },
        }  # fmt: skip

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
        if self.augmentations and self.two_stage is None:
            lines += [
                "",
                "| augmentation   | positives | recall |   FP |",
                "|:---------------|----------:|-------:|-----:|",
            ]
            lines += [
                f"| {r.augmentation:<14} | {r.positives:9d} | {r.recall:6.3f} | {r.false_positives:4d} |"
                for r in self.augmentations
            ]
        if self.two_stage is not None:
            lines += ["", self.format_two_stage()]
        if self.skipped:
            lines += ["", f"{len(self.skipped)} unreadable images skipped, e.g. {self.skipped[0]}"]
        return "\n".join(lines)

    def format_two_stage(self) -> str:
        """Per augmentation: stage one alone (at the recommended threshold) against the two-stage decision."""
        stages, point = self.two_stage, self.verified_point
        one = {r.augmentation: r for r in self.augmentations}
        lines = [
            f"two stages: a copy at score >= {stages.threshold:.4f}, else verified from score >= "
            f"{stages.candidate_threshold:.4f} ({self.candidate_share:.1%} of distractor queries) with >= "
            f"{stages.min_inliers} inliers (distractors reach {self.distractor_max_inliers} at most): precision "
            f"{point.precision:.4f}, recall {point.recall:.4f} ({point.false_positives} false positives)",
            "",
            "| augmentation   | positives | recall, stage one | FP | recall, verified | FP |",
            "|:---------------|----------:|------------------:|---:|-----------------:|---:|",
        ]
        for r in self.verified_augmentations:
            first = one.get(r.augmentation)
            alone = f"{first.recall:17.3f} | {first.false_positives:2d}" if first else f"{'-':>17} | {'-':>2}"
            lines.append(
                f"| {r.augmentation:<14} | {r.positives:9d} | {alone} | {r.recall:16.3f} | {r.false_positives:2d} |"
            )
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
    candidate_share: float = CANDIDATE_SHARE,
    verify: bool = True,
) -> Calibration:
    unknown = sorted(set(augmentations) - set(AUGMENTATIONS))
    if unknown:
        raise ValueError(f"unknown augmentations {', '.join(unknown)}: choose among {', '.join(AUGMENTATIONS)}")
    names = (ORIGINAL, *augmentations)
    sources: list[BenchmarkItem | str] = [*positives, *(str(path) for path in distractors)]
    skipped: list[str] = []
    outcomes = _search_all(index, sources, names, seed, skipped, verify and index.features is not None)
    for wanted, kind in ((True, "positives"), (False, "distractors")):
        if not (outcomes.positive == wanted).any():
            raise ValueError(f"calibration needs readable {kind}; skipped: {'; '.join(skipped[:3]) or 'none given'}")
    threshold, message = _recommend(outcomes.points(np.unique(outcomes.scores)), target_precision)
    result = Calibration(index.embedder.spec(), target_precision, threshold, message, outcomes, names, skipped)
    if outcomes.candidate_scores is not None:
        negative = ~outcomes.positive
        result.distractor_max_inliers = int(outcomes.candidate_inliers[negative].max(initial=0))
        result.two_stage = _recommend_two_stage(outcomes, target_precision, candidate_share)
    return result


def _recommend_two_stage(outcomes: Outcomes, target: float, candidate_share: float) -> Thresholds:
    """The outright threshold: the lowest score at which stage one alone is near-certain
    (OUTRIGHT_PRECISION; verification covers the scores below). The candidate threshold: the score
    proposing `candidate_share` of the distractor queries (not under the floor the calibration verified
    from). The fewest inliers, not under MIN_INLIERS_FLOOR, whose two-stage precision reaches the target."""
    curve = outcomes.points(np.unique(outcomes.scores))
    threshold = next((p.threshold for p in curve if p.precision >= OUTRIGHT_PRECISION), 1.0)
    distractor_best = outcomes.candidate_scores[~outcomes.positive, 0]
    share = float(np.quantile(distractor_best, 1.0 - candidate_share)) if len(distractor_best) else CANDIDATE_FLOOR
    candidate = float(min(max(share, CANDIDATE_FLOOR), threshold))
    ceiling = int(outcomes.candidate_inliers.max(initial=MIN_INLIERS_FLOOR)) + 1
    for inliers in range(MIN_INLIERS_FLOOR, ceiling + 1):
        thresholds = Thresholds(threshold, candidate, inliers)
        if outcomes.verified_point(thresholds).precision >= target:
            return thresholds
    return Thresholds(threshold, candidate, ceiling)


def _search_all(
    index: BenchmarkIndex,
    sources: list[BenchmarkItem | str],
    names: Sequence[str],
    seed: int,
    skipped: list[str],
    verify: bool,
) -> Outcomes:
    judge = _Judge(index)
    scores, positive, correct, augmentation, candidates = [], [], [], [], []
    detectors = threading.local()  # a SIFT extractor per thread

    def verified(query: Query, top_scores: np.ndarray, top_rows: np.ndarray) -> list[tuple[float, int, bool]]:
        if not hasattr(detectors, "detector"):
            detectors.detector = CopyDetector(index, Thresholds(1.0, CANDIDATE_FLOOR, MIN_INLIERS_FLOOR))
        found = detectors.detector.candidates(top_scores, top_rows, CANDIDATE_FLOOR)
        counts = detectors.detector.inliers(query[2], found) if found else []
        source = query[0]
        return [
            (c.match.score, count, isinstance(source, BenchmarkItem) and judge.same(source, c.match))
            for c, count in zip(found, counts, strict=True)
        ]

    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        for batch in _batches(_queries(sources, names, seed, skipped)):
            top_scores, top_rows = index.search(index.embedder.embed([image for _, _, image in batch]), SEARCH_ROWS)
            if verify:
                candidates += pool.map(verified, batch, top_scores, top_rows)
            for (source, name, _), score, row in zip(batch, top_scores[:, 0], top_rows[:, 0], strict=True):
                match = index.match_row(float(score), int(row))
                scores.append(0.0 if match is None else match.score)
                positive.append(isinstance(source, BenchmarkItem))
                correct.append(isinstance(source, BenchmarkItem) and match is not None and judge.same(source, match))
                augmentation.append(name)
    outcomes = Outcomes(
        scores=np.asarray(scores, dtype=np.float64),
        positive=np.asarray(positive, dtype=bool),
        correct=np.asarray(correct, dtype=bool),
        augmentation=np.asarray(augmentation, dtype=object),
    )
    if not verify:
        return outcomes
    shape = (len(candidates), MAX_CANDIDATES)
    candidate_scores, inliers, right = np.zeros(shape), np.full(shape, -1), np.zeros(shape, dtype=bool)
    for number, found in enumerate(candidates):
        for column, (score, count, same) in enumerate(found):
            candidate_scores[number, column], inliers[number, column], right[number, column] = score, count, same
    return replace(outcomes, candidate_scores=candidate_scores, candidate_inliers=inliers, candidate_correct=right)


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
