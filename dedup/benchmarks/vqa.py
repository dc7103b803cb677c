"""VQAv2 and OK-VQA: the VQA questions JSON, whose images keep their COCO file names."""

from __future__ import annotations

from collections.abc import Iterator

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.paths import media_file
from dedup.benchmarks.readers import expecting, read_json
from dedup.benchmarks.splits import normalize_split

EXPECTED = 'a VQA questions JSON object {"data_subtype": "val2014", "questions": [{"image_id", ...}]}'


def load_vqa(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    path = str(source.annotations)
    data = read_json(path, EXPECTED)
    with expecting(path, EXPECTED):
        subtype = str(data["data_subtype"])
        split = normalize_split(source.split or subtype)
        # test-dev is a subset of test2015: its images are COCO_test2015_*.jpg
        prefix = "test2015" if normalize_split(subtype) == "testdev" else subtype
        ids = (int(question["image_id"]) for question in data["questions"])
        yield from distinct(
            source.item(split, str(image_id), media_file(source.media, f"COCO_{prefix}_{image_id:012d}.jpg"))
            for image_id in ids
        )
