"""webdataset shards as a Beam sink, written from our own DoFn through FileSystems (local, gs://, s3://).

Samples go to a fixed number of shards by a stable hash of their key, each shard's samples sorted by
key, so reruns write byte-identical shards with the same names. A shard is written under a
temporary name and renamed into place: a retried bundle never leaves a partial or duplicate shard.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipelines.sinks.jsonl import shard_of
from schemas.samples import Sample
from shards.tar_writer import SampleEntry, write_samples


@dataclass(frozen=True)
class ShardWritten:
    path: str
    entries: list[SampleEntry]


class WriteShards(beam.PTransform):
    """Samples -> `{prefix}-SSSSS-of-NNNNN.tar`; outputs a ShardWritten per shard."""

    def __init__(self, prefix: str, num_shards: int) -> None:
        super().__init__()
        if num_shards < 1:
            raise ValueError(f"num_shards must be at least 1, got {num_shards}")
        self.prefix = prefix
        self.num_shards = num_shards

    def expand(self, samples):
        num_shards = self.num_shards
        return (
            samples
            | "KeyByShard" >> beam.Map(lambda sample: (shard_of(sample["__key__"], num_shards), sample))
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShard" >> beam.ParDo(_WriteShard(self.prefix, num_shards))
        )


class _WriteShard(beam.DoFn):
    def __init__(self, prefix: str, num_shards: int) -> None:
        self.prefix = prefix
        self.num_shards = num_shards

    def process(self, shard_and_samples: tuple[int, Iterable[Sample]]) -> Iterator[ShardWritten]:
        shard, samples = shard_and_samples
        path = f"{self.prefix}-{shard:05d}-of-{self.num_shards:05d}.tar"
        temporary = f"{path}.tmp-{uuid.uuid4().hex}"
        with FileSystems.create(temporary) as out:
            entries = write_samples(sorted(samples, key=lambda sample: sample["__key__"]), out)
        if FileSystems.exists(path):
            FileSystems.delete([path])
        FileSystems.rename([temporary], [path])
        yield ShardWritten(path, entries)
