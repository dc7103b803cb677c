"""Decontamination and the repetition rule in Beam: images served from 127.0.0.1 (copies of real
benchmark images among real photos), searched against a real FAISS index of those benchmarks."""

from __future__ import annotations

import io
import json
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that
from http_helpers import ScriptedServer
from PIL import Image

from dedup.benchmarks.items import BenchmarkSource
from dedup.build import build_index
from dedup.corpus import RepetitionRules
from dedup.embedders import PerceptualHashEmbedder
from dedup.index import check_index_files
from pipelines import job
from pipelines.cli import main
from pipelines.decontamination import DecontaminationConfig
from pipelines.fetch.address_guard import AddressPolicy
from pipelines.fetch.http_client import FetchConfig
from pipelines.images.processing import ImageRules
from pipelines.images.stage import FetchDocumentImages, ImageStage
from schemas import ImageSegment, InterleavedDocument, TextSegment, stable_key

FETCH = FetchConfig(addresses=AddressPolicy(allow_loopback=True), per_host_delay=0, max_retries=0)
LOGO_USERS = 11  # documents that show the logo, as /logo.jpg or as a re-encoded /logo-copy.jpg


def jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.fixture(scope="module")
def index_dir(testdata: Path, tmp_path_factory) -> str:
    bench = testdata / "images" / "allennlp_benchmarks"
    sources = [
        BenchmarkSource("folder", media=str(bench / "gqa"), label="gqa_images"),
        BenchmarkSource(
            "nlvr2",
            media=str(bench / "nlvr2"),
            annotations=str(testdata / "annotations" / "allennlp_benchmarks" / "nlvr2" / "tiny-dev.json"),
        ),
    ]
    index, _ = build_index(sources, PerceptualHashEmbedder(), view_set="crops", workers=1)
    path = str(tmp_path_factory.mktemp("index"))
    index.save(path)
    return path


@pytest.fixture(scope="module")
def site(testdata: Path):
    images = testdata / "images"
    benchmark_photo = Image.open(images / "allennlp_benchmarks" / "gqa" / "2354786.jpg")
    w, h = benchmark_photo.size
    copy = benchmark_photo.crop((int(w * 0.1), int(h * 0.1), int(w * 0.9), int(h * 0.9))).resize((320, 240))
    logo = Image.open(images / "darknet" / "kite.jpg")
    others = sorted((images / "coco_cc3m_clipcap").glob("*.jpg"))
    routes = {
        "/robots.txt": lambda _: (404, {}, b""),
        "/copy.jpg": lambda _: (200, {}, jpeg(copy, 60)),  # a cropped, resized, re-encoded benchmark image
        "/wide-copy.jpg": lambda _: (200, {}, jpeg(benchmark_photo, 85)),  # re-encoded only; 500x270
        "/nlvr2.png": lambda _: (200, {}, (images / "allennlp_benchmarks" / "nlvr2" / "dev-850-0-img0.png").read_bytes()),
        "/clean.jpg": lambda _: (200, {}, (images / "darknet" / "dog.jpg").read_bytes()),
        "/logo.jpg": lambda _: (200, {}, (images / "darknet" / "kite.jpg").read_bytes()),
        "/logo-copy.jpg": lambda _: (200, {}, jpeg(logo, 50)),
        **{f"/photo{i}.jpg": (lambda _, p=p: (200, {}, p.read_bytes())) for i, p in enumerate(others)},
    }  # fmt: skip
    server = ScriptedServer(routes)
    yield server
    server.close()


def document(name: str, urls: list[str]) -> InterleavedDocument:
    segments = [TextSegment(f"About {name}.")]
    for url in urls:
        segments += [ImageSegment(url=url), TextSegment(f"After {url.rsplit('/', 1)[-1]}.")]
    return InterleavedDocument(doc_id=stable_key(name, name), url=f"http://site.test/{name}", segments=tuple(segments))


def documents(base: str) -> list[InterleavedDocument]:
    docs = [document("contaminated", [base + "/copy.jpg", base + "/clean.jpg", base + "/nlvr2.png"])]
    for i in range(LOGO_USERS):
        logo = "/logo.jpg" if i < 6 else "/logo-copy.jpg"
        docs.append(document(f"page{i}", [base + logo, base + f"/photo{i}.jpg"]))
    return docs


def run_stage(site, index_dir: str, repetition: RepetitionRules, check_documents, check_results) -> dict:
    stage = ImageStage(decontamination=DecontaminationConfig(index_dir), repetition=repetition)
    pipeline = beam.Pipeline(runner=FnApiRunner())
    out = pipeline | beam.Create(documents(site.url)) | FetchDocumentImages(FETCH, stage)
    assert_that(out["documents"], check_documents, label="documents")
    assert_that(out["results"], check_results, label="results")
    return job.stats_from_counters(job.run(pipeline))


def test_benchmark_copies_are_dropped_and_reported(site, index_dir):
    base = site.url

    def check_documents(kept):
        by_name = {doc.url.rsplit("/", 1)[-1]: doc for doc, _ in kept}
        (clean,) = by_name["contaminated"].images  # the benchmark copies left with their tokens
        assert clean.url == base + "/clean.jpg"
        assert clean.info.dedup_score < PerceptualHashEmbedder.default_threshold and clean.info.dedup_match
        assert all(
            len(doc.images) == 1 and "/photo" in doc.images[0].url
            for name, doc in by_name.items()
            if name != "contaminated"
        )

    def check_results(results):
        status = {r.url.removeprefix(base): r for r in results}
        assert status["/copy.jpg"].status == "contaminated"
        assert status["/copy.jpg"].dedup_match == "gqa_images/unknown/2354786.jpg"
        assert status["/nlvr2.png"].status == "contaminated" and status["/nlvr2.png"].dedup_score == 1.0
        assert status["/clean.jpg"].status == "ok"
        # /logo.jpg in 6 documents and its re-encoded copy in 5: one image in 11 documents
        assert status["/logo.jpg"].status == status["/logo-copy.jpg"].status == "repeated_image"

    stats = run_stage(site, index_dir, RepetitionRules(max_uses_per_image=10), check_documents, check_results)
    assert stats["contamination"] == {
        "gqa_images": {"training_images": 1, "benchmark_items": 1},
        "nlvr2": {"training_images": 1, "benchmark_items": 1},
    }
    assert stats["drops"]["corpus_dedup.images"] == 2
    assert stats["stages"]["corpus_dedup"]["urls_with_copies"] == 2


def test_exact_copies_only_keeps_the_reencoded_logo_apart(site, index_dir):
    def check_documents(kept):
        logos = sum(1 for doc, _ in kept for image in doc.images if "logo" in image.url)
        assert logos == LOGO_USERS  # 6 and 5 uses: both under the limit of 10

    def check_results(results):
        assert {r.status for r in results if "logo" in r.url} == {"ok"}

    run_stage(site, index_dir, RepetitionRules(max_uses_per_image=10, near=False), check_documents, check_results)


@pytest.mark.parametrize(
    ("candidate_threshold", "contaminated"),
    [
        (1.0, {"nlvr2.png"}),  # both stages at 1.0: only the byte-identical NLVR2 image
        (
            None,
            {"nlvr2.png", "copy.jpg"},
        ),  # the re-encoded GQA image is still verified from the index's candidate threshold
    ],
)
def test_explicit_thresholds_override_the_index(site, index_dir, candidate_threshold, contaminated):
    def check_results(results):
        assert {r.url.rsplit("/", 1)[-1] for r in results if r.status == "contaminated"} == contaminated

    config = DecontaminationConfig(index_dir, threshold=1.0, candidate_threshold=candidate_threshold)
    stage = ImageStage(decontamination=config)
    pipeline = beam.Pipeline(runner=FnApiRunner())
    out = pipeline | beam.Create(documents(site.url)[:1]) | FetchDocumentImages(FETCH, stage)
    assert_that(out["results"], check_results)
    job.run(pipeline)


def test_index_commands_build_describe_and_feed_the_m3w_job(testdata, tmp_path, capsys):
    bench = testdata / "images" / "allennlp_benchmarks"
    index = tmp_path / "index"
    assert main(["index", "build", "--benchmark", f"folder:media={bench / 'gqa'},label=gqa_images", "--output", str(index), "--workers", "1"]) == 0  # fmt: skip
    assert "gqa_images" in capsys.readouterr().out
    assert main(["index", "info", str(index)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["rows"] == 9 * 330 and info["benchmarks"]["gqa_images"]["indexed"] == 9  # the "regional" views
    distractors = ["--distractors", str(testdata / "images" / "darknet"), "--distractors", str(testdata / "images" / "coco_cc3m_clipcap")]  # fmt: skip
    assert main(["index", "calibrate", str(index), *distractors, "--write"]) == 0
    printed = capsys.readouterr().out
    assert "| augmentation" in printed and "saved in" in printed
    assert main(["index", "info", str(index)]) == 0
    info = json.loads(capsys.readouterr().out)
    two_stage = info["calibration"]["two_stage"]
    assert info["threshold"] == info["threshold_in_use"] == two_stage["threshold"]
    assert info["candidate_threshold"] == info["candidate_threshold_in_use"] == two_stage["candidate_threshold"]
    assert info["min_inliers"] == info["min_inliers_in_use"] == two_stage["min_inliers"] >= 8
    assert 0.6 < info["candidate_threshold"] <= info["threshold"] <= 1.0
    # decontamination needs the pixels
    assert main(["m3w", "--input", str(tmp_path / "none.warc"), "--output", str(tmp_path / "o"), "--dedup_index", str(index)]) == 2  # fmt: skip
    assert main(["m3w", "--input", str(index / "index.json"), "--input_format", "html", "--output", str(tmp_path / "o"),
                 "--fetch_images", "--dedup_index", str(tmp_path / "no-index")]) == 2  # fmt: skip
    assert "is not a benchmark index" in capsys.readouterr().err


def test_index_build_needs_a_benchmark(tmp_path, capsys):
    assert main(["index", "build", "--output", str(tmp_path)]) == 2
    assert "give at least one --benchmark" in capsys.readouterr().err
    assert main(["index", "build", "--benchmark", "imagenet:media=/x", "--output", str(tmp_path)]) == 2
    assert "unknown benchmark 'imagenet'" in capsys.readouterr().err


def test_an_index_whose_files_disagree_is_refused_at_launch(testdata, tmp_path, capsys):
    bench = testdata / "images" / "allennlp_benchmarks"
    small, large = tmp_path / "small", tmp_path / "large"
    assert main(["index", "build", "--benchmark", f"folder:media={bench / 'gqa'},label=g", "--output", str(small), "--workers", "1", "--views", "full"]) == 0  # fmt: skip
    assert main(["index", "build", "--benchmark", f"folder:media={bench / 'nlvr2'},label=n", "--output", str(large), "--workers", "1", "--views", "full"]) == 0  # fmt: skip
    assert check_index_files(str(small))["embedder"]
    (small / "index.faiss").write_bytes((large / "index.faiss").read_bytes())  # another index's vectors
    with pytest.raises(ValueError, match=r"index\.faiss holds \d+ rows but rows\.parquet"):
        check_index_files(str(small))
    capsys.readouterr()
    args = ["m3w", "--input", str(small / "index.json"), "--input_format", "html", "--fetch_images"]
    assert main([*args, "--output", str(tmp_path / "o"), "--dedup_index", str(small)]) == 2
    assert "does not hang together" in capsys.readouterr().err
    (small / "index.faiss").write_bytes(b"not an index at all, and long enough")
    with pytest.raises(ValueError, match="not a FAISS index"):
        check_index_files(str(small))


@pytest.mark.parametrize("resize_mode", ["center_crop", "pad"])
def test_a_cropped_or_padded_training_image_is_searched_as_it_was_fetched(site, index_dir, resize_mode):
    # The benchmark photo is 500x270: its centre square keeps 54% of the width, which no view of the
    # index matches, so a plain re-encode passed when the search looked at the training crop.
    stage = ImageStage(rules=ImageRules(resize_mode=resize_mode), decontamination=DecontaminationConfig(index_dir))
    base = site.url
    pipeline = beam.Pipeline(runner=FnApiRunner())
    docs = [document("wide", [base + "/wide-copy.jpg", base + "/clean.jpg"])]
    out = pipeline | beam.Create(docs) | FetchDocumentImages(FETCH, stage)

    def check_results(results):
        status = {r.url.removeprefix(base): r for r in results}
        assert status["/wide-copy.jpg"].status == "contaminated"
        clean = status["/clean.jpg"]
        assert clean.status == "ok" and clean.image.width == clean.image.height == 320  # trained on the crop/pad
        assert clean.image.whole_jpeg is None  # the whole picture is searched, then not carried on

    assert_that(out["results"], check_results)
    job.run(pipeline)
