"""TextVQA: the official JSON (`TextVQA_0.5.1_val.json`) or LLaVA's jsonl of its questions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dedup.benchmarks.examples import BenchmarkExample
from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.llava import is_llava, llava_examples, llava_items
from dedup.benchmarks.paths import media_file
from dedup.benchmarks.readers import expecting, read_json
from dedup.benchmarks.splits import normalize_split, wanted

EXPECTED = 'a TextVQA JSON object {"data": [{"image_id", "set_name", ...}]}'
EXPECTED_QUESTIONS = 'a TextVQA JSON object {"data": [{"question_id", "question", "image_id", "answers", "set_name"}]}'


def load_textvqa(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    if is_llava(str(source.annotations)):
        yield from llava_items(source)
        return
    yield from distinct(item for item, _ in textvqa_entries(source))


def read_textvqa_examples(source: BenchmarkSource) -> Iterator[BenchmarkExample]:
    """One example per question of the wanted sets; the test set's entries carry no answers."""
    path = str(source.annotations)
    if is_llava(path):
        yield from llava_examples(source)
        return
    for item, entry in textvqa_entries(source):
        with expecting(path, EXPECTED_QUESTIONS):
            question_id = str(entry["question_id"])
            question = str(entry["question"])
            answers = tuple(str(answer) for answer in entry.get("answers") or ())
        yield BenchmarkExample.of(item, question_id, question=question, answers=answers)


def textvqa_entries(source: BenchmarkSource) -> Iterator[tuple[BenchmarkItem, dict[str, Any]]]:
    path = str(source.annotations)
    data = read_json(path, EXPECTED)
    with expecting(path, EXPECTED):
        for entry in data["data"]:
            image_id, split = str(entry["image_id"]), normalize_split(entry["set_name"])
            if wanted(source, split):
                yield source.item(split, image_id, media_file(source.media, f"{image_id}.jpg")), entry
