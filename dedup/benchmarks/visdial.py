"""VisDial v1.0: {"split": "val2018", "data": {"dialogs": [{"image_id", ...}]}}."""

from __future__ import annotations

from collections.abc import Iterator

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.paths import locate, media_file
from dedup.benchmarks.readers import expecting, read_json
from dedup.benchmarks.splits import normalize_split

EXPECTED = 'a VisDial JSON object {"split": "val2018", "data": {"dialogs": [{"image_id", ...}]}}'


def load_visdial(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    path = str(source.annotations)
    data = read_json(path, EXPECTED)
    with expecting(path, EXPECTED):
        file_split = str(data["split"])
        split = normalize_split(source.split or file_split)
        ids = (int(dialog["image_id"]) for dialog in data["data"]["dialogs"])
        yield from distinct(
            source.item(split, str(image_id), image_path(source.media, file_split, image_id)) for image_id in ids
        )


def image_path(media: str, file_split: str, image_id: int) -> str:
    """val2018/test2018 images are VisDial's own; train images are COCO train2014 and val2014 ones."""
    if normalize_split(file_split) != "train":
        return media_file(media, f"VisualDialog_{file_split}_{image_id:012d}.jpg")
    folders = ("train2014", "val2014")
    names = [f"COCO_{folder}_{image_id:012d}.jpg" for folder in folders]
    return locate(media, *names, *(f"{folder}/{name}" for folder, name in zip(folders, names, strict=True)))
