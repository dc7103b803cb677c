"""COCO: the official captions / image-info JSON (`captions_val2014.json`) or Karpathy's `dataset_coco.json`."""

from __future__ import annotations

from collections.abc import Iterator

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.karpathy import is_karpathy, karpathy_items
from dedup.benchmarks.paths import media_file
from dedup.benchmarks.readers import expecting, read_json
from dedup.benchmarks.splits import file_split

EXPECTED = 'a COCO JSON object {"images": [{"id", "file_name"}]} or a Karpathy split JSON'


def load_coco(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    path = str(source.annotations)
    data = read_json(path, EXPECTED)
    if is_karpathy(data):
        yield from distinct(karpathy_items(source, data))
        return
    split = file_split(source)
    with expecting(path, EXPECTED):
        images = ((str(image["id"]), image["file_name"]) for image in data["images"])
        yield from distinct(source.item(split, image_id, media_file(source.media, name)) for image_id, name in images)
