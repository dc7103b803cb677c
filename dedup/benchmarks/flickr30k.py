"""Flickr30k: a Flickr30k Entities split file (one image id a line) or Karpathy's `dataset_flickr30k.json`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.karpathy import EXPECTED as KARPATHY_EXPECTED
from dedup.benchmarks.karpathy import karpathy_items
from dedup.benchmarks.paths import media_file
from dedup.benchmarks.readers import AnnotationError, read_json, read_lines
from dedup.benchmarks.splits import file_split


def load_flickr30k(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    path = str(source.annotations)
    if Path(path).suffix.lower() == ".json":
        yield from distinct(karpathy_items(source, read_json(path, KARPATHY_EXPECTED)))
        return
    split = file_split(source)
    for image_id in distinct_ids(path):
        yield source.item(split, image_id, media_file(source.media, f"{image_id}.jpg"))


def distinct_ids(path: str) -> Iterator[str]:
    seen: set[str] = set()
    for line in read_lines(path):
        if len(line.split()) != 1:
            raise AnnotationError(f"{path}: expected one Flickr30k image id a line, got {line[:80]!r}")
        if line not in seen:
            seen.add(line)
            yield line
