"""The manifest (one row per sample) and stats contracts written beside every set of shards."""

import re

import pyarrow as pa

from schemas.version import FORMAT_VERSION

MANIFEST_FILE = "manifest.parquet"
STATS_FILE = "stats.json"
REJECTS_DIR = "rejects"

MANIFEST_SCHEMA = pa.schema(
    [
        pa.field("key", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("shard", pa.string(), nullable=False),
        pa.field("offset", pa.int64(), nullable=False),  # byte offset of the sample's first tar header
        pa.field("size", pa.int64(), nullable=False),  # bytes the sample spans in the tar
        pa.field("image_count", pa.int32(), nullable=False),  # images, or frames for video
        pa.field("text_chars", pa.int64(), nullable=False),
        pa.field("token_estimate", pa.int64(), nullable=False),
        pa.field("dedup_max_score", pa.float32()),  # best benchmark match of its images/frames; null: not searched
        pa.field("dedup_checked", pa.bool_(), nullable=False),  # were its images searched against an index
        pa.field("sha256", pa.string()),  # of the sample's members (names and bytes): `curate verify` recomputes it
    ],
    metadata={b"format_version": str(FORMAT_VERSION).encode()},
)


def empty_stats() -> dict:
    """The shape of stats.json: counts per stage, drops per reason, contamination per benchmark."""
    return {"format_version": FORMAT_VERSION, "stages": {}, "drops": {}, "contamination": {}, "sizes": {}}


MANIFEST_PARTS_DIR = "_manifest_parts"  # RUN/ holds one parquet per shard while a run writes, merged at its end
_SHARD_NAME = re.compile(r"shard-\d{5}-of-\d{5}-(?P<run>[0-9a-f]+)\.tar")


def shard_name(kind_dir: str, index: int, count: int, run_id: str) -> str:
    """A shard's path in its output folder, as the manifest's `shard` column holds it. The run's id
    keeps a new run's shards beside an earlier run's until the new manifest replaces the old."""
    return f"{kind_dir}/shard-{index:05d}-of-{count:05d}-{run_id}.tar"


def run_of_shard(name: str) -> str | None:
    """The id of the run that wrote the shard `name`; None for a name no run writes."""
    match = _SHARD_NAME.fullmatch(name.rsplit("/", 1)[-1])
    return match["run"] if match else None


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate (about 4 characters per token for English BPE vocabularies)."""
    return (len(text) + 3) // 4
