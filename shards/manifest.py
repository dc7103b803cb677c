"""The manifest: one row per written sample (where it is, what it holds), built beside each shard and
merged into `manifest.parquet` when the job ends."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterable
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.manifest import MANIFEST_SCHEMA, estimate_tokens
from schemas.samples import Sample
from schemas.version import check_format_version
from shards.tar_writer import SampleEntry

Opener = Callable[[str], IO[bytes]]


def manifest_row(sample: Sample, shard: str, entry: SampleEntry) -> dict[str, Any]:
    meta = json.loads(sample["json"])
    kind = meta["dataset"]
    text = meta.get("text") if kind != "pair" else meta.get("caption")
    scores = _dedup_scores(meta, kind)
    return {
        "key": entry.key,
        "kind": kind,
        "shard": shard,
        "offset": entry.offset,
        "size": entry.size,
        "image_count": len(image_names(sample)),
        "text_chars": len(text or ""),
        "token_estimate": estimate_tokens(text or ""),
        "dedup_max_score": max((s for s in scores if s is not None), default=None),
        "dedup_checked": any(s is not None for s in scores),
        "sha256": sample_digest(sample),
    }


def sample_digest(sample: Sample) -> str:
    """sha256 over the sample's members in name order (each name, its length, its bytes)."""
    digest = hashlib.sha256()
    for name in sorted(k for k in sample if not k.startswith("__")):
        digest.update(f"{name}\0{len(sample[name])}\0".encode())
        digest.update(sample[name])
    return digest.hexdigest()


def image_names(sample: Sample) -> list[str]:
    """The members that are images: `jpg` for a pair, `{i}.jpg` for a document's images or a clip's frames."""
    return sorted(name for name in sample if name == "jpg" or name.endswith(".jpg"))


def _dedup_scores(meta: dict[str, Any], kind: str) -> list[float | None]:
    if kind == "m3w":
        return [(s.get("info") or {}).get("dedup_score") for s in meta["segments"] if s["type"] == "image"]
    if kind == "pair":
        return [(meta.get("info") or {}).get("dedup_score")]
    return [meta.get("dedup_score")]


def rows_to_parquet(rows: Iterable[dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(list(rows), schema=MANIFEST_SCHEMA), buffer)
    return buffer.getvalue()


def merge_parts(parts: Iterable[bytes]) -> pa.Table:
    """Manifest parts -> one table, sorted by (shard, offset) so the same shards give the same file."""
    tables = [pq.read_table(io.BytesIO(part)) for part in parts]
    table = pa.concat_tables(tables) if tables else MANIFEST_SCHEMA.empty_table()
    return table.sort_by([("shard", "ascending"), ("offset", "ascending")]).replace_schema_metadata(
        MANIFEST_SCHEMA.metadata
    )


def read_manifest(path: str, open_file: Opener | None = None) -> pa.Table:
    read = open_file or (lambda p: open(p, "rb"))  # noqa: SIM115 - closed by the with-block below
    with read(path) as handle:
        table = pq.read_table(io.BytesIO(handle.read()))
    version = (table.schema.metadata or {}).get(b"format_version", b"").decode() or None
    check_format_version(int(version) if version and version.isdigit() else version, f"manifest {path}")
    return table
