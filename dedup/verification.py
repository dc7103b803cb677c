"""Two-stage copy detection: the global code proposes, local features decide.

Stage one searches the image in the FAISS index. A best score at or above the index's `threshold` is a
copy outright (a near-exact one; some copies, such as flat graphics, have too few keypoints to
verify). Below it, every distinct benchmark image or frame among the rows scoring at least the
`candidate_threshold` (a permissive score, the best few) is verified: the query's SIFT features, and
their mirror image, against the benchmark side's kept features (dedup/local_features.py); enough
RANSAC inliers make a copy. So a lookalike layout that scores high globally is cleared by its
geometry, and a real copy that scores low (a strong crop, a splice, a viewpoint change) is caught.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from dedup.index import BenchmarkIndex, Match
from dedup.local_features import LocalFeatureExtractor, LocalFeatureRules, best_inliers

SEARCH_ROWS = 64  # rows fetched per query: the views of a few distinct images, at most
MAX_CANDIDATES = 3  # distinct benchmark images or frames verified per query


@dataclass(frozen=True)
class Thresholds:
    threshold: float  # a copy without verification
    candidate_threshold: float  # verified
    min_inliers: int  # a verified copy

    @classmethod
    def of(cls, index: BenchmarkIndex) -> Thresholds:
        return cls(index.threshold, index.candidate_threshold, index.min_inliers)


@dataclass(frozen=True)
class Decision:
    match: Match | None  # the copied benchmark item, else the best stage-one match
    contaminated: bool
    best: Match | None  # the best stage-one match
    inliers: int | None = None  # of the verified match (the most found when none verified); None: not verified
    feature_set: int | None = None  # the benchmark image or frame matched, in the index's features

    @property
    def decided_by(self) -> str:
        if not self.contaminated:
            return "clean"
        return "score" if self.inliers is None else "verified"


@dataclass(frozen=True)
class Candidate:
    match: Match
    feature_set: int


class CopyDetector:
    """Decisions for batches of images against one index. Not thread-safe (one SIFT extractor)."""

    def __init__(self, index: BenchmarkIndex, thresholds: Thresholds | None = None) -> None:
        self.index = index
        self.thresholds = thresholds or Thresholds.of(index)
        self.rules = LocalFeatureRules(**index.meta["local_features"]) if index.features is not None else None
        self._extract = LocalFeatureExtractor(self.rules) if self.rules is not None else None

    @property
    def verifies(self) -> bool:
        return self.index.features is not None and self.thresholds.candidate_threshold < self.thresholds.threshold

    def decide(self, images: Sequence[Image.Image]) -> list[Decision]:
        scores, rows = self.index.search(self.index.embedder.embed(images), k=SEARCH_ROWS)
        return [
            self._decide(image, score_row, row_row)
            for image, score_row, row_row in zip(images, scores, rows, strict=True)
        ]

    def candidates(self, scores: np.ndarray, rows: np.ndarray, floor: float) -> list[Candidate]:
        """The distinct benchmark images or frames among the rows scoring >= floor, best first."""
        found: dict[int, Candidate] = {}
        for score, row in zip(scores, rows, strict=True):
            if score < floor or len(found) == MAX_CANDIDATES:
                break
            number = self.index.feature_set(int(row))
            if number is not None and number not in found:
                found[number] = Candidate(self.index.match_row(float(score), int(row)), number)
        return list(found.values())

    def inliers(self, image: Image.Image, candidates: Sequence[Candidate]) -> list[int]:
        """Each candidate's inliers with the image (its features extracted once)."""
        query = self._extract(image)
        features = self.index.features
        return [best_inliers(query, features.features(c.feature_set), self.rules) for c in candidates]

    def _decide(self, image: Image.Image, scores: np.ndarray, rows: np.ndarray) -> Decision:
        best = self.index.match_row(float(scores[0]), int(rows[0]))
        limits = self.thresholds
        if best is None:
            return Decision(None, False, None)
        if best.score >= limits.threshold:
            return Decision(best, True, best, feature_set=self.index.feature_set(int(rows[0])))
        if not self.verifies:
            return Decision(best, False, best)
        candidates = self.candidates(scores, rows, limits.candidate_threshold)
        if not candidates:
            return Decision(best, False, best)
        query, most, chosen = self._extract(image), -1, candidates[0]
        for candidate in candidates:
            found = best_inliers(query, self.index.features.features(candidate.feature_set), self.rules)
            if found > most:
                most, chosen = found, candidate
            if found >= limits.min_inliers:
                return Decision(candidate.match, True, best, found, candidate.feature_set)
        return Decision(best, False, best, most, chosen.feature_set)
