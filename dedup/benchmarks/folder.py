"""A custom benchmark: every image or video under a folder, named by its relative path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource
from dedup.benchmarks.paths import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
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
