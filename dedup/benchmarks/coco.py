"""COCO: the official captions / image-info JSON (`captions_val2014.json`) or Karpathy's `dataset_coco.json`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dedup.benchmarks.examples import BenchmarkExample
from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.karpathy import is_karpathy, karpathy_examples, karpathy_items
from dedup.benchmarks.paths import media_file
from dedup.benchmarks.readers import expecting, read_json
from dedup.benchmarks.splits import file_split

EXPECTED = 'a COCO JSON object {"images": [{"id", "file_name"}]} or a Karpathy split JSON'
EXPECTED_CAPTIONS = (
    'a COCO captions JSON object {"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]}'
)


def load_coco(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    data = read_json(str(source.annotations), EXPECTED)
    if is_karpathy(data):
        yield from distinct(karpathy_items(source, data))
        return
    yield from distinct(coco_images(source, data))


def read_coco_examples(source: BenchmarkSource) -> Iterator[BenchmarkExample]:
    """One captioning example per image; an image-info file (test splits) has no captions."""
    path = str(source.annotations)
    data = read_json(path, EXPECTED_CAPTIONS)
    if is_karpathy(data):
        yield from karpathy_examples(source, data)
        return
    captions: dict[str, list[str]] = {}
    with expecting(path, EXPECTED_CAPTIONS):
        for annotation in data.get("annotations", ()):
            captions.setdefault(str(annotation["image_id"]), []).append(str(annotation["caption"]))
    for item in distinct(coco_images(source, data)):
        yield BenchmarkExample.of(item, item.item_id, captions=tuple(captions.get(item.item_id, ())))


def coco_images(source: BenchmarkSource, data: Any) -> Iterator[BenchmarkItem]:
    path = str(source.annotations)
    split = file_split(source)
    with expecting(path, EXPECTED):
        for image in data["images"]:
            yield source.item(split, str(image["id"]), media_file(source.media, image["file_name"]))
