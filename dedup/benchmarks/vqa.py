"""VQAv2 and OK-VQA: the VQA questions JSON, whose images keep their COCO file names, and the annotations JSON
that holds the human answers (`v2_OpenEnded_mscoco_val2014_questions.json` beside `v2_mscoco_val2014_annotations.json`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dedup.benchmarks.examples import BenchmarkExample
from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.paths import media_file
from dedup.benchmarks.readers import expecting, read_json
from dedup.benchmarks.splits import normalize_split

EXPECTED = 'a VQA questions JSON object {"data_subtype": "val2014", "questions": [{"image_id", ...}]}'
EXPECTED_QUESTIONS = 'a VQA questions JSON object {"questions": [{"question_id", "image_id", "question"}]}'
EXPECTED_ANSWERS = 'a VQA annotations JSON object {"annotations": [{"question_id", "answers": [{"answer"}]}]}'


def load_vqa(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    yield from distinct(item for item, _ in questions(source))


def read_vqa_examples(source: BenchmarkSource) -> Iterator[BenchmarkExample]:
    """One example per question; its answers from the answers file, () when there is none (test splits)."""
    path = str(source.annotations)
    answers_path = answers_file(source)
    answers = read_answers(answers_path) if answers_path else {}
    for item, question in questions(source):
        with expecting(path, EXPECTED_QUESTIONS):
            question_id = str(question["question_id"])
            text = str(question["question"])
        yield BenchmarkExample.of(item, question_id, question=text, answers=answers.get(question_id, ()))


def questions(source: BenchmarkSource) -> Iterator[tuple[BenchmarkItem, dict[str, Any]]]:
    """Each question with the item of its image."""
    path = str(source.annotations)
    data = read_json(path, EXPECTED)
    with expecting(path, EXPECTED):
        subtype = str(data["data_subtype"])
        split = normalize_split(source.split or subtype)
        # test-dev is a subset of test2015: its images are COCO_test2015_*.jpg
        prefix = "test2015" if normalize_split(subtype) == "testdev" else subtype
        for question in data["questions"]:
            image_id = int(question["image_id"])
            image = media_file(source.media, f"COCO_{prefix}_{image_id:012d}.jpg")
            yield source.item(split, str(image_id), image), question


def answers_file(source: BenchmarkSource) -> str | None:
    """The source's answers file, else the official sibling of the questions file when it exists.

    `v2_OpenEnded_mscoco_val2014_questions.json` -> `v2_mscoco_val2014_annotations.json` (VQAv2),
    `OpenEnded_mscoco_val2014_questions.json` -> `mscoco_val2014_annotations.json` (OK-VQA).
    """
    if source.answers:
        return source.answers
    questions_file = Path(str(source.annotations))
    name = questions_file.name.replace("OpenEnded_", "").replace("questions", "annotations")
    sibling = questions_file.with_name(name)
    return str(sibling) if name != questions_file.name and sibling.is_file() else None


def read_answers(path: str) -> dict[str, tuple[str, ...]]:
    """Question id -> its human answers as written, in file order."""
    data = read_json(path, EXPECTED_ANSWERS)
    with expecting(path, EXPECTED_ANSWERS):
        return {
            str(annotation["question_id"]): tuple(str(answer["answer"]) for answer in annotation["answers"])
            for annotation in data["annotations"]
        }
