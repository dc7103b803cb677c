"""Split names: the benchmarks' many spellings ("val2014", "validation", "dev_seen") to one each."""

from __future__ import annotations

import re
from pathlib import Path

from dedup.benchmarks.items import BenchmarkSource

UNKNOWN = "unknown"  # the file names no split and the source gives none

_ALIASES = {
    "training": "train",
    "validation": "val",
    "validate": "val",
    "valid": "val",
    "testing": "test",
    "test-dev": "testdev",
    "test_dev": "testdev",
}
_NAMED = {"train", "val", "test", "dev", "testdev", "trainval", "restval", "minival"}


def normalize_split(raw: str) -> str:
    """One spelling per split: "val2014" -> "val", "test-dev2015" -> "testdev", "dev_seen" -> "dev"."""
    split = re.sub(r"(?<=[a-z])\d{4}$", "", raw.strip().lower())
    split = re.sub(r"_(seen|unseen)$", "", split)
    return _ALIASES.get(split, split)


def split_from_name(path: str) -> str | None:
    """The split a file name spells, e.g. "captions_val2014.json" -> "val"; None when it names none."""
    stem = Path(path).stem.lower().replace("test-dev", "testdev").replace("test_dev", "testdev")
    for token in re.split(r"[^a-z0-9]+", stem):
        split = normalize_split(token)
        if split in _NAMED:
            return split
    return None


def file_split(source: BenchmarkSource) -> str:
    """The split of a format that holds one split per file: the override, else the file name's."""
    if source.split:
        return normalize_split(source.split)
    return split_from_name(source.annotations or "") or UNKNOWN


def wanted(source: BenchmarkSource, split: str) -> bool:
    """Whether an entry of `split` passes the source's split filter (formats naming a split per entry)."""
    return not source.split or normalize_split(source.split) == split
