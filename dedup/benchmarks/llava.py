"""LLaVA's evaluation question files (`llava_*.jsonl`): one question a line, naming its image file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.paths import media_file
from dedup.benchmarks.readers import expecting, read_json_lines
from dedup.benchmarks.splits import file_split

EXPECTED = 'LLaVA question JSON lines {"question_id", "image": "NAME.jpg", "text", ...}'


def is_llava(path: str) -> bool:
    return Path(path).suffix.lower() == ".jsonl"


def llava_items(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    """Item ids are the image file stems, which are the benchmark's own ids (TextVQA, GQA)."""
    path = str(source.annotations)
    split = file_split(source)
    with expecting(path, EXPECTED):
        names = (str(record["image"]) for record in read_json_lines(path, EXPECTED))
        yield from distinct(source.item(split, Path(name).stem, media_file(source.media, name)) for name in names)
