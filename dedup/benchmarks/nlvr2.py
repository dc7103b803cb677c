"""NLVR2: JSON lines, each statement about an image pair ("identifier": "dev-850-0-0")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.paths import locate
from dedup.benchmarks.readers import expecting, read_json_lines
from dedup.benchmarks.splits import normalize_split, wanted

EXPECTED = 'NLVR2 JSON lines {"identifier": "dev-850-0-0", "sentence", ...}'


def load_nlvr2(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    path = str(source.annotations)
    with expecting(path, EXPECTED):
        yield from distinct(
            item
            for record in read_json_lines(path, EXPECTED)
            for item in pair_items(source, record)
            if wanted(source, item.split)
        )


def pair_items(source: BenchmarkSource, record: dict[str, Any]) -> Iterator[BenchmarkItem]:
    """The two images of a statement's pair: "dev-850-0-0" is about dev-850-0-img0.png and dev-850-0-img1.png.

    Train images sit in numbered sub-folders that the record's "directory" names.
    """
    pair = str(record["identifier"]).rsplit("-", 1)[0]
    split = normalize_split(pair.split("-")[0])
    folder = record.get("directory")
    for side in ("img0", "img1"):
        name = f"{pair}-{side}.png"
        candidates = (f"{folder}/{name}", name) if folder is not None else (name,)
        yield source.item(split, f"{pair}-{side}", locate(source.media, *candidates))
