"""Threshold calibration on a real index of the allennlp benchmark images, with real distractors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dedup.augment import AUGMENTATIONS, augment
from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource
from dedup.build import build_index
from dedup.calibration import ORIGINAL, Calibration, calibrate, index_images
from dedup.embedders import PerceptualHashEmbedder
from dedup.index import BenchmarkIndex

DISTRACTOR_FOLDERS = ("darknet", "img2dataset", "coco_cc3m_clipcap", "llava")
# byte-identical files under four flickr30k ids (files.tsv gives them one sha1)
DUPLICATES = ("flickr30k/1.jpg", "flickr30k/2.jpg", "flickr30k/3.jpg", "flickr30k/4945942737.jpg")


@pytest.fixture(scope="module")
def index(testdata: Path) -> BenchmarkIndex:
    source = BenchmarkSource("folder", media=str(testdata / "images/allennlp_benchmarks"), label="bench")
    built, _ = build_index([source], PerceptualHashEmbedder(), view_set="crops", workers=1)
    return built


@pytest.fixture(scope="module")
def distractors(testdata: Path) -> list[Path]:
    return sorted(path for folder in DISTRACTOR_FOLDERS for path in (testdata / "images" / folder).iterdir())


@pytest.fixture(scope="module")
def calibration(index: BenchmarkIndex, distractors: list[Path]) -> Calibration:
    # stage one alone: the two stages are calibrated in test_verification.py
    return calibrate(index, index_images(index), distractors, target_precision=0.99, seed=0, verify=False)


def load(path: str | Path) -> Image.Image:
    with Image.open(path) as opened:
        return opened.convert("RGB")


def recall(calibration: Calibration, name: str) -> float:
    return next(result.recall for result in calibration.augmentations if result.augmentation == name)


@pytest.mark.parametrize("name", list(AUGMENTATIONS))
def test_each_augmentation_is_deterministic_for_a_seed_and_changes_the_pixels(testdata: Path, name: str) -> None:
    image = load(testdata / "images/darknet/dog.jpg")
    first = augment(image, name, np.random.default_rng(7))
    again = augment(image, name, np.random.default_rng(7))
    assert first.mode == "RGB"
    assert first.size == again.size and np.array_equal(np.asarray(first), np.asarray(again))
    assert first.size != image.size or not np.array_equal(np.asarray(first), np.asarray(image))


def test_seeds_give_different_random_edits(testdata: Path) -> None:
    image = load(testdata / "images/darknet/dog.jpg")
    for name in ("crop75", "colour", "text", "border", "combined"):
        one, other = (np.asarray(augment(image, name, np.random.default_rng(seed))) for seed in (1, 2))
        assert one.shape != other.shape or not np.array_equal(one, other), name


def test_augmentations_are_in_a_stable_order() -> None:
    assert list(AUGMENTATIONS)[:4] == ["crop90", "crop75", "crop60", "crop50"]
    assert list(AUGMENTATIONS)[-1] == "combined"
    with pytest.raises(ValueError, match="unknown augmentation"):
        augment(Image.new("RGB", (8, 8)), "rotate", np.random.default_rng(0))


def test_every_item_and_edit_is_searched(index: BenchmarkIndex, distractors: list[Path], calibration) -> None:
    edits = 1 + len(AUGMENTATIONS)
    assert calibration.positives == len(index_images(index)) * edits == 57 * edits
    assert calibration.negatives == len(distractors) * edits
    assert [result.augmentation for result in calibration.augmentations] == [ORIGINAL, *AUGMENTATIONS]


def test_recommended_threshold_meets_the_target_with_the_most_recall(calibration: Calibration) -> None:
    recommended = calibration.recommended
    assert calibration.threshold is not None and recommended is not None
    assert recommended.precision >= 0.99
    lower = [point for point in calibration.curve if point.threshold < calibration.threshold]
    assert lower and all(point.precision < 0.99 for point in lower)
    assert all(
        point.recall <= recommended.recall for point in calibration.curve if point.threshold > recommended.threshold
    )


def test_precision_rises_with_the_threshold_at_the_extremes(calibration: Calibration) -> None:
    curve = calibration.curve
    assert [point.threshold for point in curve] == sorted(point.threshold for point in curve)
    assert curve[0].precision < 0.9 < curve[-1].precision == 1.0
    recalls = [point.recall for point in curve]
    assert recalls == sorted(recalls, reverse=True)  # a higher threshold only ever drops matches
    assert curve[0].precision <= calibration.recommended.precision <= curve[-1].precision


def test_unmodified_and_mirrored_copies_are_all_found(calibration: Calibration) -> None:
    assert recall(calibration, ORIGINAL) == 1.0
    assert recall(calibration, "flip") == 1.0


def test_heavy_crops_are_harder_than_re_encoding(calibration: Calibration) -> None:
    assert recall(calibration, "crop50") < recall(calibration, "jpeg30")
    assert recall(calibration, "crop50") < recall(calibration, "jpeg60")
    assert recall(calibration, "crop50") <= recall(calibration, "crop90")


def test_distractors_never_match_exactly(calibration: Calibration) -> None:
    outcomes = calibration.outcomes
    assert outcomes.scores[~outcomes.positive].max() < 1.0
    assert outcomes.scores[outcomes.positive & (outcomes.augmentation == ORIGINAL)].min() == 1.0


def test_byte_identical_images_under_other_ids_count_as_correct(index: BenchmarkIndex, distractors: list[Path]) -> None:
    duplicates = [item for item in index_images(index) if item.item_id in DUPLICATES]
    assert len(duplicates) == len(DUPLICATES)
    matches = index.match_images([load(item.path) for item in duplicates])
    assert {match.item_id for match in matches} != set(DUPLICATES)  # ties go to one id: the others match it
    result = calibrate(index, duplicates, distractors[:3], augmentations=("jpeg60",))
    originals = result.outcomes.augmentation == ORIGINAL
    assert result.outcomes.correct[result.outcomes.positive & originals].all()
    assert recall(result, ORIGINAL) == 1.0


def test_no_threshold_reaches_the_target_when_a_distractor_is_a_benchmark_image(
    index: BenchmarkIndex, testdata: Path
) -> None:
    positives = index_images(index)[:5]
    copy = testdata / "images/allennlp_benchmarks/gqa/1339.jpg"  # a "distractor" that is in the index
    result = calibrate(index, positives, [copy], augmentations=("jpeg60",), target_precision=1.0)
    assert result.threshold is None and result.recommended is None and result.augmentations == []
    assert "no threshold reaches precision 1" in result.message
    assert "no threshold reaches" in result.format_table()


def test_unreadable_images_are_skipped_and_reported(index: BenchmarkIndex, distractors: list[Path], tmp_path) -> None:
    missing = BenchmarkItem("bench", "test", "gone.jpg", str(tmp_path / "gone.jpg"))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    result = calibrate(index, [*index_images(index)[:2], missing], [*distractors[:2], broken], augmentations=())
    assert result.positives == 2 and result.negatives == 2
    assert [entry.split(":")[0] for entry in result.skipped] == [missing.path, str(broken)]
    with pytest.raises(ValueError, match="readable distractors"):
        calibrate(index, index_images(index)[:1], [broken], augmentations=())
    with pytest.raises(ValueError, match="unknown augmentations"):
        calibrate(index, index_images(index)[:1], distractors[:1], augmentations=("rotate",))


def test_report_is_json_and_a_readable_table(calibration: Calibration) -> None:
    report = json.loads(json.dumps(calibration.to_dict()))
    assert report["threshold"] == calibration.threshold
    thresholds = [row["threshold"] for row in report["table"]]
    assert thresholds == sorted(thresholds) and calibration.threshold in thresholds
    assert {0.7, 0.85, 1.0} <= set(thresholds)
    assert report["embedder"] == {"kind": "phash", "hashes": ["phash", "dhash", "dhash_v", "ahash"]}
    assert [row["augmentation"] for row in report["augmentations"]] == [ORIGINAL, *AUGMENTATIONS]
    text = calibration.format_table()
    assert f"{calibration.threshold:7.4f} *" in text and "recommended threshold" in text
    assert "| crop50" in text
