"""Visual Genome QA: `question_answers.json`, a list of {"id": IMAGE_ID, "qas": [...]}."""

from __future__ import annotations

from collections.abc import Iterator

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.paths import media_file
from dedup.benchmarks.readers import expecting, read_json
from dedup.benchmarks.splits import file_split

EXPECTED = 'a Visual Genome JSON list [{"id": IMAGE_ID, "qas": [...]}]'


def load_vgqa(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    path = str(source.annotations)
    data = read_json(path, EXPECTED)
    split = file_split(source)
    with expecting(path, EXPECTED):
        if not isinstance(data, list):
            raise TypeError(f"got a JSON {type(data).__name__}")
        # Visual Genome lists every image; only those with questions are in the benchmark.
        ids = (str(image["id"]) for image in data if image["qas"])
        yield from distinct(
            source.item(split, image_id, media_file(source.media, f"{image_id}.jpg")) for image_id in ids
        )
