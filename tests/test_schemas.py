import io
import json

import pytest
import webdataset as wds

from schemas import (
    EOC,
    IMAGE,
    ImageInfo,
    ImageSegment,
    ImageTextPair,
    InterleavedDocument,
    TextSegment,
    VideoTextPair,
    stable_key,
)
from schemas.keys import is_valid_key
from schemas.manifest import MANIFEST_SCHEMA, estimate_tokens
from schemas.samples import (
    InvalidSample,
    document_to_sample,
    pair_to_sample,
    sample_to_document,
    sample_to_pair,
    sample_to_video,
    validate_sample,
    video_to_sample,
)
from schemas.version import FORMAT_VERSION, UnsupportedFormatVersion, check_format_version

INFO = ImageInfo(sha256="ab" * 32, width=320, height=240, original_width=640, original_height=480, phash="f0f0")


def make_document() -> InterleavedDocument:
    return InterleavedDocument(
        doc_id=stable_key("http://site.test/a.html", "page body"),
        url="http://site.test/a.html",
        segments=(
            TextSegment("Intro paragraph."),
            ImageSegment(url="http://site.test/1.jpg", alt="first", caption="A caption", info=INFO),
            TextSegment("Middle paragraph."),
            ImageSegment(url="http://site.test/2.jpg", title="second", declared_width=640, info=INFO),
            TextSegment("Closing paragraph."),
        ),
        source="crawl.warc.gz",
        record_id="<urn:uuid:1>",
        crawl_time="2026-01-01T00:00:00Z",
        language="en",
        scores={"stopword_ratio": 0.4},
    )


def test_document_text_places_tokens_as_the_paper_does():
    doc = make_document()
    assert doc.text == (f"Intro paragraph.\n{EOC}{IMAGE}\nMiddle paragraph.\n{EOC}{IMAGE}\nClosing paragraph.{EOC}")


def test_removing_an_image_removes_its_tokens():
    doc = make_document().keep_images({"http://site.test/2.jpg": INFO})
    assert [s.url for s in doc.images] == ["http://site.test/2.jpg"]
    assert doc.text.count(IMAGE) == 1 and doc.text.count(EOC) == 2
    assert doc.text == f"Intro paragraph.\nMiddle paragraph.\n{EOC}{IMAGE}\nClosing paragraph.{EOC}"


def test_keep_images_attaches_fresh_info():
    bare = InterleavedDocument(doc_id="0" * 32, url="u", segments=(ImageSegment(url="x"),))
    assert bare.images[0].info is None
    assert bare.keep_images({"x": INFO}).images[0].info == INFO


def test_document_round_trips_through_a_sample():
    doc = make_document()
    jpegs = [b"\xff\xd8one", b"\xff\xd8two"]
    sample = document_to_sample(doc, jpegs)
    assert set(sample) == {"__key__", "json", "0.jpg", "1.jpg"}
    meta = json.loads(sample["json"])
    assert meta["format_version"] == FORMAT_VERSION and meta["dataset"] == "m3w"
    assert meta["text"] == doc.text
    back, images = sample_to_document(sample)
    assert back == doc
    assert images == jpegs
    assert validate_sample(sample) == []


def test_pair_and_video_round_trip():
    pair = ImageTextPair(
        key=stable_key("http://s/1.jpg", "a dog"), url="http://s/1.jpg", caption="a dog", kind="alt", info=INFO
    )
    sample = pair_to_sample(pair, b"jpeg")
    assert sample["txt"] == b"a dog"
    assert sample_to_pair(sample) == (pair, b"jpeg")

    clip = VideoTextPair(
        key=stable_key("http://s/v.mp4", "t"), url="http://s/v.mp4", text="t", duration=3.0, frame_count=3
    )
    frames = [b"f0", b"f1", b"f2"]
    sample = video_to_sample(clip, frames)
    assert {"0.jpg", "1.jpg", "2.jpg", "txt", "json"} <= set(sample)
    assert sample_to_video(sample) == (clip, frames)
    assert validate_sample(sample) == []


def test_samples_round_trip_through_real_webdataset_tars(tmp_path):
    doc = make_document()
    pair = ImageTextPair(key=stable_key("http://s/1.jpg", "cap"), url="http://s/1.jpg", caption="cap", kind="caption")
    path = tmp_path / "shard-000000.tar"
    with wds.TarWriter(str(path)) as sink:
        sink.write(document_to_sample(doc, [b"one", b"two"]))
        sink.write(pair_to_sample(pair, b"jpeg"))
    samples = list(wds.WebDataset(str(path), shardshuffle=False))
    assert sample_to_document(samples[0]) == (doc, [b"one", b"two"])
    assert sample_to_pair(samples[1]) == (pair, b"jpeg")


def test_mismatched_image_count_is_refused():
    with pytest.raises(InvalidSample, match="2 image segments but 1 images"):
        document_to_sample(make_document(), [b"one"])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.pop("1.jpg"), "expected images 0..1"),
        (lambda s: s.update(json=b"{not json"), "not valid JSON"),
        (lambda s: s.update(json=json.dumps({**json.loads(s["json"]), "format_version": 99}).encode()), "version 99"),
        (
            lambda s: s.update(json=json.dumps({**json.loads(s["json"]), "dataset": "audio"}).encode()),
            "dataset 'audio'",
        ),
        (
            lambda s: s.update(json=json.dumps({**json.loads(s["json"]), "segments": [{"type": "x"}]}).encode()),
            "segment type",
        ),
    ],
)
def test_broken_samples_are_reported_with_their_key(mutate, message):
    sample = document_to_sample(make_document(), [b"one", b"two"])
    mutate(sample)
    problems = validate_sample(sample, where="shard-0.tar")
    assert len(problems) == 1
    assert message in problems[0] and sample["__key__"] in problems[0]


def test_format_version_check():
    assert check_format_version(FORMAT_VERSION, "x") == FORMAT_VERSION
    for bad in (None, 0, 2, "1"):
        with pytest.raises(UnsupportedFormatVersion, match=r"manifest\.parquet"):
            check_format_version(bad, "manifest.parquet")


def test_keys_are_stable_hex_without_dots():
    key = stable_key("http://a/b.jpg", "caption")
    assert key == stable_key("http://a/b.jpg", "caption")
    assert key != stable_key("http://a/b.jpg", "other caption")
    assert key != stable_key("http://a/b.jpg" + "c", "aption")
    assert is_valid_key(key) and "." not in key
    with pytest.raises(InvalidSample, match="not a 32-character"):
        pair_to_sample(ImageTextPair(key="a.b", url="u", caption="c", kind="alt"), b"")


def test_pair_kind_is_checked():
    with pytest.raises(ValueError, match="kind 'title'"):
        ImageTextPair(key="0" * 32, url="u", caption="c", kind="title")


def test_manifest_schema_carries_the_version():
    assert MANIFEST_SCHEMA.metadata[b"format_version"] == str(FORMAT_VERSION).encode()
    assert {"key", "shard", "offset", "size", "image_count", "token_estimate", "dedup_checked"} <= set(
        MANIFEST_SCHEMA.names
    )
    assert estimate_tokens("") == 0 and estimate_tokens("abcd" * 10) == 10


def test_document_json_is_utf8_not_escaped():
    doc = InterleavedDocument(doc_id="0" * 32, url="u", segments=(TextSegment("café 图像"),))
    raw = document_to_sample(doc, [])["json"]
    assert "café 图像".encode() in raw
    assert json.load(io.BytesIO(raw))["text"] == f"café 图像{EOC}"
