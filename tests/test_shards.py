"""The shard writer and readers on their own: deterministic bytes, offsets that match tarfile's,
random access by manifest offset, the Beam sink's shard count from target sizes, and duplicate keys."""

from __future__ import annotations

import io
import json
import tarfile

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
import webdataset as wds
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from pipelines.outputs import manifest_sizes, run_manifest, switch_over
from pipelines.sinks.shards import WriteShards, sample_bytes, shard_count
from schemas import ImageInfo, ImageSegment, InterleavedDocument, TextSegment, stable_key
from schemas.samples import document_to_sample, sample_to_document
from shards.manifest import manifest_row
from shards.reader import BrokenShard, iter_entries, read_sample_at
from shards.tar_writer import write_samples


def document_sample(number: int, images: int = 2) -> dict:
    segments = [TextSegment(f"Document {number} starts here.")]
    for i in range(images):
        info = ImageInfo(
            sha256=f"{i:064x}", width=64, height=48, original_width=640, original_height=480, dedup_score=0.1 * i
        )
        segments += [
            ImageSegment(url=f"http://site.test/{number}/{i}.jpg", info=info),
            TextSegment(f"After image {i}."),
        ]
    doc = InterleavedDocument(doc_id=stable_key(f"http://site.test/{number}", str(number)), url=f"http://site.test/{number}", segments=tuple(segments))  # fmt: skip
    return document_to_sample(doc, [bytes([number % 256]) * (700 + 300 * i) for i in range(images)])


def test_the_tar_is_deterministic_and_its_offsets_are_tarfiles():
    samples = [document_sample(n, images=n % 4) for n in range(12)]
    first, second = io.BytesIO(), io.BytesIO()
    entries = write_samples(samples, first)
    write_samples(samples, second)
    assert first.getvalue() == second.getvalue()
    with tarfile.open(fileobj=io.BytesIO(first.getvalue())) as tar:
        members = tar.getmembers()
    starts = {}
    for member in members:
        starts.setdefault(member.name.split(".")[0], member.offset)
    assert [(e.key, e.offset) for e in entries] == [(s["__key__"], starts[s["__key__"]]) for s in samples]
    assert all(m.mtime == 0 and m.uname == "" and m.mode == 0o444 for m in members)
    names = [m.name.split(".", 1)[1] for m in members if m.name.startswith(samples[3]["__key__"])]
    assert names == ["0.jpg", "1.jpg", "2.jpg", "json"]  # natural order, one sample's members together


def test_each_sample_can_be_read_alone_by_its_offset(tmp_path):
    samples = [document_sample(n) for n in range(5)]
    path = tmp_path / "shard.tar"
    with open(path, "wb") as out:
        entries = write_samples(samples, out)
    for sample, entry in zip(samples, entries, strict=True):
        again = read_sample_at(str(path), entry.offset, entry.size)
        assert again == sample
        doc, jpegs = sample_to_document(again)
        assert len(jpegs) == 2 and doc.images[1].info.dedup_score == pytest.approx(0.1)
    assert [(o, s) for _, o, s in iter_entries(str(path))] == [(e.offset, e.size) for e in entries]
    row = manifest_row(samples[0], "m3w/shard.tar", entries[0])
    assert (row["image_count"], row["dedup_checked"], row["dedup_max_score"]) == (2, True, pytest.approx(0.1))
    with pytest.raises(BrokenShard, match=r"shard\.tar: not a readable tar"):  # not at a header
        read_sample_at(str(path), entries[1].offset + 512, 512)


def test_a_truncated_shard_is_a_clear_error(tmp_path):
    path = tmp_path / "shard.tar"
    with open(path, "wb") as out:
        write_samples([document_sample(n) for n in range(3)], out)
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(BrokenShard, match=r"shard\.tar: not a readable tar"):
        list(iter_entries(str(path)))


@pytest.mark.parametrize(
    ("samples", "size", "target_bytes", "target_samples", "expected"),
    [(10, 10_000, None, None, 1), (10, 10_000, 1000, None, 10), (10, 10_000, None, 3, 4), (10, 100, 1000, 5, 2), (0, 0, 10, 10, 1)],
)  # fmt: skip
def test_the_shard_count_follows_the_targets(samples, size, target_bytes, target_samples, expected):
    assert shard_count(samples, size, target_bytes, target_samples) == expected


def test_the_beam_sink_writes_sized_shards_and_their_manifest(tmp_path):
    samples = [document_sample(n) for n in range(40)]
    total = sum(sample_bytes(s) for s in samples)
    duplicate = dict(samples[0])
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        _ = (
            pipeline
            | beam.Create([*samples, duplicate])
            | WriteShards(str(tmp_path), "m3w", "r1", target_bytes=total // 3)
        )
    manifest = run_manifest(str(tmp_path), "r1")
    sizes = manifest_sizes(manifest)
    switch_over(str(tmp_path), manifest, ("m3w",))
    shards = sorted(tmp_path.glob("m3w/shard-*.tar"))
    assert [p.name for p in shards] == [f"shard-0000{i}-of-00004-r1.tar" for i in range(4)]  # 3 and a bit
    read = list(wds.WebDataset([str(p) for p in shards], shardshuffle=False))
    assert sorted(s["__key__"] for s in read) == sorted(s["__key__"] for s in samples)  # the duplicate key once
    manifest = pq.read_table(tmp_path / "manifest.parquet")
    assert manifest.num_rows == 40 and sizes["m3w"]["samples"] == 40 and sizes["m3w"]["images"] == 80
    for shard in shards:
        keys = [json.loads(s["json"])["doc_id"] for s in wds.WebDataset(str(shard), shardshuffle=False)]
        assert keys == sorted(keys)  # each shard sorted by key
