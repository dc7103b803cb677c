"""Karpathy split files (`dataset_coco.json`, `dataset_flickr30k.json`): each image names its own split."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dedup.benchmarks.examples import BenchmarkExample
from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource
from dedup.benchmarks.paths import locate
from dedup.benchmarks.readers import expecting
from dedup.benchmarks.splits import normalize_split, wanted

EXPECTED = 'a Karpathy split JSON object {"images": [{"filename", "split", ...}]}'
EXPECTED_SENTENCES = 'a Karpathy split JSON object {"images": [{"filename", "split", "sentences": [{"raw"}]}]}'


def is_karpathy(data: Any) -> bool:
    images = data.get("images") if isinstance(data, dict) else None
    return bool(images) and isinstance(images[0], dict) and "filename" in images[0]


def karpathy_items(source: BenchmarkSource, data: Any) -> Iterator[BenchmarkItem]:
    return (item for item, _ in karpathy_images(source, data))


def karpathy_examples(source: BenchmarkSource, data: Any) -> Iterator[BenchmarkExample]:
    """One captioning example per image of the wanted split, its captions the `raw` sentences in file order."""
    path = str(source.annotations)
    seen: set[str] = set()
    for item, image in karpathy_images(source, data):
        if item.item_id in seen:
            continue
        seen.add(item.item_id)
        with expecting(path, EXPECTED_SENTENCES):
            captions = tuple(str(sentence["raw"]) for sentence in image["sentences"])
        yield BenchmarkExample.of(item, item.item_id, captions=captions)


def karpathy_images(source: BenchmarkSource, data: Any) -> Iterator[tuple[BenchmarkItem, dict[str, Any]]]:
    """Each image of the wanted split with its entry; COCO entries carry `cocoid` and `filepath` ("val2014"),
    Flickr30k ones only the file name."""
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
            yield source.item(split, item_id, locate(source.media, *candidates)), image
