"""JSON-lines output in a fixed number of shards, each written atomically and sorted by key.

Records are routed to shards by a stable hash of their key, so reruns write byte-identical files.
Each shard is written to a temporary name and renamed into place: a retried bundle never leaves a
partial file behind. Works on every runner, since the files are written from our own DoFn.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import apache_beam as beam

from pipelines.sinks.atomic import atomic_file

ToRecord = Callable[[Any], tuple[str, dict]]


class WriteJsonLines(beam.PTransform):
    """Elements -> `{prefix}-SSSSS-of-NNNNN.jsonl`; outputs the paths written."""

    def __init__(self, prefix: str, to_record: ToRecord, num_shards: int = 4) -> None:
        super().__init__()
        self.prefix = prefix
        self.to_record = to_record
        self.num_shards = num_shards

    def expand(self, elements):
        num_shards, to_record = self.num_shards, self.to_record
        return (
            elements
            | "KeyByShard" >> beam.Map(lambda e: _keyed(to_record(e), num_shards))
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShard" >> beam.ParDo(_WriteShard(self.prefix, num_shards))
        )


def shard_of(key: str, num_shards: int) -> int:
    return zlib.crc32(key.encode("utf-8")) % num_shards


def _keyed(keyed_record: tuple[str, dict], num_shards: int) -> tuple[int, tuple[str, str]]:
    key, record = keyed_record
    line = json.dumps(record, ensure_ascii=False, sort_keys=True)
    return shard_of(key, num_shards), (key, line)


class _WriteShard(beam.DoFn):
    def __init__(self, prefix: str, num_shards: int) -> None:
        self.prefix = prefix
        self.num_shards = num_shards

    def process(self, shard_and_lines: tuple[int, Iterable[tuple[str, str]]]) -> Iterator[str]:
        shard, lines = shard_and_lines
        path = f"{self.prefix}-{shard:05d}-of-{self.num_shards:05d}.jsonl"
        with atomic_file(path) as out:
            for _, line in sorted(lines):
                out.write(line.encode("utf-8") + b"\n")
        yield path
