"""LLaVA's evaluation question files (`llava_*.jsonl`): one question a line, naming its image file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dedup.benchmarks.examples import BenchmarkExample
from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.paths import media_file
from dedup.benchmarks.readers import expecting, read_json_lines
from dedup.benchmarks.splits import file_split

EXPECTED = 'LLaVA question JSON lines {"question_id", "image": "NAME.jpg", "text", ...}'


def is_llava(path: str) -> bool:
    return Path(path).suffix.lower() == ".jsonl"


def llava_items(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    """Item ids are the image file stems, which are the benchmark's own ids (TextVQA, GQA)."""
    return distinct(item for item, _ in llava_records(source))


def llava_examples(source: BenchmarkSource) -> Iterator[BenchmarkExample]:
    """One VQA example per line, without answers (LLaVA's files hold none).

    Its "text" is the question on the first line, then LLaVA's OCR tokens and answer instruction. LLaVA's TextVQA
    file reuses the image id as question id for every question of an image: a repeated id gets "#2", "#3", ...
    so that example ids stay distinct.
    """
    path = str(source.annotations)
    seen: dict[str, int] = {}
    for item, record in llava_records(source):
        with expecting(path, EXPECTED):
            question_id = str(record["question_id"])
            question = str(record["text"]).strip().splitlines()[0].strip()
        seen[question_id] = seen.get(question_id, 0) + 1
        example_id = question_id if seen[question_id] == 1 else f"{question_id}#{seen[question_id]}"
        yield BenchmarkExample.of(item, example_id, question=question)


def llava_records(source: BenchmarkSource) -> Iterator[tuple[BenchmarkItem, dict[str, Any]]]:
    path = str(source.annotations)
    split = file_split(source)
    with expecting(path, EXPECTED):
        for record in read_json_lines(path, EXPECTED):
            name = str(record["image"])
            yield source.item(split, Path(name).stem, media_file(source.media, name)), record
