"""A custom benchmark: every image or video under a folder, named by its relative path.

For evaluation, the folder is a classification set in the ImageNet / torchvision ImageFolder layout:
`media/CLASS/x.jpg`, the class text the folder name with "_" as a space.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dedup.benchmarks.examples import BenchmarkExample
from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource
from dedup.benchmarks.paths import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
from dedup.benchmarks.readers import AnnotationError
from dedup.benchmarks.splits import file_split


def load_folder(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    root = Path(source.media)
    split = file_split(source)
    for path in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).as_posix()):
        suffix = path.suffix.lower()
        if suffix not in IMAGE_EXTENSIONS + VIDEO_EXTENSIONS or not path.is_file():
            continue
        media = "image" if suffix in IMAGE_EXTENSIONS else "video"
        yield source.item(split, path.relative_to(root).as_posix(), str(path), media=media)


def read_folder_examples(source: BenchmarkSource) -> Iterator[BenchmarkExample]:
    """One classification example per file, its label the index of its class folder among the sorted folders.

    The example id is the item id, the path relative to the media folder ("tench/n01440764_10026.JPEG").
    """
    items = list(load_folder(source))
    for item in items:
        if "/" not in item.item_id:
            raise AnnotationError(
                f"{item.path}: expected every file of a folder benchmark in a class folder, media/CLASS/NAME"
            )
    folders = sorted({class_folder(item) for item in items})
    classes = tuple(folder.replace("_", " ") for folder in folders)
    index = {folder: number for number, folder in enumerate(folders)}
    for item in items:
        yield BenchmarkExample.of(item, item.item_id, classes=classes, label=index[class_folder(item)])


def class_folder(item: BenchmarkItem) -> str:
    return item.item_id.split("/", 1)[0]
