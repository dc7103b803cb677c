"""TextVQA: the official JSON (`TextVQA_0.5.1_val.json`) or LLaVA's jsonl of its questions."""

from __future__ import annotations

from collections.abc import Iterator

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.llava import is_llava, llava_items
from dedup.benchmarks.paths import media_file
from dedup.benchmarks.readers import expecting, read_json
from dedup.benchmarks.splits import normalize_split, wanted

EXPECTED = 'a TextVQA JSON object {"data": [{"image_id", "set_name", ...}]}'


def load_textvqa(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    path = str(source.annotations)
    if is_llava(path):
        yield from llava_items(source)
        return
    data = read_json(path, EXPECTED)
    with expecting(path, EXPECTED):
        entries = ((str(entry["image_id"]), normalize_split(entry["set_name"])) for entry in data["data"])
        yield from distinct(
            source.item(split, image_id, media_file(source.media, f"{image_id}.jpg"))
            for image_id, split in entries
            if wanted(source, split)
        )
