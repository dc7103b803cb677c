"""VizWiz VQA: a JSON list of questions, each naming its image (`VizWiz_val_00000000.jpg`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dedup.benchmarks.examples import BenchmarkExample
from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.paths import media_file
from dedup.benchmarks.readers import expecting, read_json
from dedup.benchmarks.splits import normalize_split, wanted

EXPECTED = 'a VizWiz JSON list [{"image": "VizWiz_val_00000000.jpg", "question", ...}]'
EXPECTED_QUESTIONS = 'a VizWiz JSON list [{"image": "VizWiz_val_00000000.jpg", "question", "answers": [{"answer"}]}]'


def load_vizwiz(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    yield from distinct(item for item, _ in vizwiz_entries(source))


def read_vizwiz_examples(source: BenchmarkSource) -> Iterator[BenchmarkExample]:
    """One example per question, named by its image (VizWiz asks one question per image); test has no answers."""
    path = str(source.annotations)
    for item, entry in vizwiz_entries(source):
        with expecting(path, EXPECTED_QUESTIONS):
            question = str(entry["question"])
            answers = tuple(str(answer["answer"]) for answer in entry.get("answers") or ())
        yield BenchmarkExample.of(item, item.item_id, question=question, answers=answers)


def vizwiz_entries(source: BenchmarkSource) -> Iterator[tuple[BenchmarkItem, dict[str, Any]]]:
    path = str(source.annotations)
    data = read_json(path, EXPECTED)
    with expecting(path, EXPECTED):
        if not isinstance(data, list):
            raise TypeError(f"got a JSON {type(data).__name__}")
        for entry in data:
            name = str(entry["image"])
            # the image name says the split: VizWiz_<split>_<number>.jpg
            split = normalize_split(name.split("_")[1])
            if wanted(source, split):
                yield source.item(split, Path(name).stem, media_file(source.media, name)), entry
