"""GQA: the questions JSON (question id -> {"imageId", ...}) or LLaVA's jsonl of its questions."""

from __future__ import annotations

from collections.abc import Iterator

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.llava import is_llava, llava_items
from dedup.benchmarks.paths import media_file
from dedup.benchmarks.readers import expecting, read_json
from dedup.benchmarks.splits import file_split

EXPECTED = 'a GQA questions JSON object {"QUESTION_ID": {"imageId", ...}}'


def load_gqa(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    path = str(source.annotations)
    if is_llava(path):
        yield from llava_items(source)
        return
    data = read_json(path, EXPECTED)
    split = file_split(source)
    with expecting(path, EXPECTED):
        ids = (str(question["imageId"]) for question in data.values())
        yield from distinct(
            source.item(split, image_id, media_file(source.media, f"{image_id}.jpg")) for image_id in ids
        )
