"""webdataset shards as a Beam sink, written from our own DoFn through FileSystems (local, gs://, s3://).

The number of shards follows from the data: enough that none holds more than `target_bytes` or
`target_samples` on average (or exactly `num_shards` when given). Samples go to a shard by a stable
hash of their key, each shard's samples sorted by key, so a rerun on the same input writes
byte-identical shards. Their names carry the run's id, so a run writes beside an earlier run's
shards and never over them (the earlier manifest stays true until the new one replaces it). Each
shard, and the manifest part that lists its samples, is written under a temporary name and renamed
into place: a retried bundle never leaves a partial or duplicate shard.

    OUTPUT/KIND/shard-SSSSS-of-NNNNN-RUN.tar
    OUTPUT/_manifest_parts/RUN/SSSSS-KIND.parquet   (merged into manifest.parquet at the end)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipelines.rejects import REJECTS, Rejects
from pipelines.sinks.atomic import atomic_file
from pipelines.sinks.jsonl import shard_of
from schemas.manifest import MANIFEST_PARTS_DIR, shard_name
from schemas.samples import Sample
from shards.manifest import manifest_row, rows_to_parquet
from shards.tar_writer import write_samples

DEFAULT_TARGET_BYTES = 256 * 1024 * 1024  # webdataset's usual shard size is a few hundred MB
TAR_OVERHEAD = 1024  # a header block per member and padding, roughly, per sample


@dataclass(frozen=True)
class ShardWritten:
    kind_dir: str
    name: str  # relative to the output folder
    samples: int
    bytes: int


def sample_bytes(sample: Sample) -> int:
    return TAR_OVERHEAD + sum(len(value) for name, value in sample.items() if not name.startswith("__"))


def shard_count(samples: int, total_bytes: int, target_bytes: int | None, target_samples: int | None) -> int:
    wanted = [1]
    if target_bytes:
        wanted.append(math.ceil(total_bytes / target_bytes))
    if target_samples:
        wanted.append(math.ceil(samples / target_samples))
    return max(wanted)


class WriteShards(beam.PTransform):
    """Samples -> `OUTPUT/KIND_DIR/shard-SSSSS-of-NNNNN.tar` + their manifest parts; outputs
    {"written": ShardWritten, REJECTS: counts}."""

    def __init__(
        self,
        output: str,
        kind_dir: str,
        run_id: str,
        target_bytes: int | None = DEFAULT_TARGET_BYTES,
        target_samples: int | None = None,
        num_shards: int | None = None,
    ) -> None:
        super().__init__()
        if num_shards is not None and num_shards < 1:
            raise ValueError(f"num_shards must be at least 1, got {num_shards}")
        self.output = output
        self.kind_dir = kind_dir
        self.run_id = run_id
        self.target_bytes = target_bytes
        self.target_samples = target_samples
        self.num_shards = num_shards

    def expand(self, samples):
        if self.num_shards is not None:
            count = samples.pipeline | "ShardCount" >> beam.Create([self.num_shards])
        else:
            targets = (self.target_bytes, self.target_samples)
            count = (
                samples
                | "CountAndSize" >> beam.Map(lambda s: (1, sample_bytes(s)))
                | "Totals" >> beam.CombineGlobally(_sum_pairs)
                | "ShardCount" >> beam.Map(lambda totals: shard_count(*totals, *targets))
            )
        return (
            samples
            | "AssignShard" >> beam.Map(_assign, beam.pvalue.AsSingleton(count))
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShard"
            >> beam.ParDo(_WriteShard(self.output, self.kind_dir, self.run_id)).with_outputs(REJECTS, main="written")
        )


def _sum_pairs(pairs: Iterable[tuple[int, int]]) -> tuple[int, int]:
    count = size = 0
    for n, b in pairs:
        count, size = count + n, size + b
    return count, size


def _assign(sample: Sample, num_shards: int) -> tuple[tuple[int, int], Sample]:
    return (shard_of(sample["__key__"], num_shards), num_shards), sample


def _one_per_key(ordered: list[Sample], counts: Rejects) -> list[Sample]:
    """webdataset merges consecutive members of one key into one sample: a key must appear once."""
    kept = [sample for i, sample in enumerate(ordered) if i == 0 or sample["__key__"] != ordered[i - 1]["__key__"]]
    if len(kept) < len(ordered):
        counts.count("dropped_duplicate_key", len(ordered) - len(kept))
    return kept


class _WriteShard(beam.DoFn):
    def __init__(self, output: str, kind_dir: str, run_id: str) -> None:
        self.output = output
        self.kind_dir = kind_dir
        self.run_id = run_id
        self.counts = Rejects(f"{kind_dir}_shards")

    def finish_bundle(self) -> Iterator:
        yield from self.counts.flush()

    def process(self, shard_and_samples: tuple[tuple[int, int], Iterable[Sample]]) -> Iterator[ShardWritten]:
        (shard, num_shards), samples = shard_and_samples
        name = shard_name(self.kind_dir, shard, num_shards, self.run_id)
        ordered = _one_per_key(sorted(samples, key=lambda sample: sample["__key__"]), self.counts)
        with atomic_file(FileSystems.join(self.output, name)) as out:
            entries = write_samples(ordered, out)
        rows = [manifest_row(sample, name, entry) for sample, entry in zip(ordered, entries, strict=True)]
        part = FileSystems.join(self.output, MANIFEST_PARTS_DIR, self.run_id, f"{shard:05d}-{self.kind_dir}.parquet")
        with atomic_file(part) as out:
            out.write(rows_to_parquet(rows))
        self.counts.count("samples_written", len(rows))
        yield ShardWritten(self.kind_dir, name, len(rows), sum(entry.size for entry in entries))
