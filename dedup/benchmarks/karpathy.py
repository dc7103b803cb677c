"""Karpathy split files (`dataset_coco.json`, `dataset_flickr30k.json`): each image names its own split."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource
from dedup.benchmarks.paths import locate
from dedup.benchmarks.readers import expecting
from dedup.benchmarks.splits import normalize_split, wanted

EXPECTED = 'a Karpathy split JSON object {"images": [{"filename", "split", ...}]}'


def is_karpathy(data: Any) -> bool:
    images = data.get("images") if isinstance(data, dict) else None
    return bool(images) and isinstance(images[0], dict) and "filename" in images[0]


def karpathy_items(source: BenchmarkSource, data: Any) -> Iterator[BenchmarkItem]:
    """COCO entries carry `cocoid` and `filepath` ("val2014"); Flickr30k ones only the file name."""
    path = str(source.annotations)
    with expecting(path, EXPECTED):
        for image in data["images"]:
            split = normalize_split(image["split"])
            if not wanted(source, split):
                continue
            filename = image["filename"]
            item_id = str(image["cocoid"]) if "cocoid" in image else Path(filename).stem
            folder = image.get("filepath")
            candidates = (f"{folder}/{filename}", filename) if folder else (filename,)
            yield source.item(split, item_id, locate(source.media, *candidates))
