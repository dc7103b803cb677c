"""The manifest (one row per sample) and stats contracts written beside every set of shards."""

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


MANIFEST_PARTS_DIR = "_manifest_parts"  # one parquet per shard while a job runs, merged at its end


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate (about 4 characters per token for English BPE vocabularies)."""
    return (len(text) + 3) // 4
