"""SNLI-VE: JSON lines of premise image / hypothesis pairs, the image a Flickr30k one ("Flickr30K_ID")."""

from __future__ import annotations

from collections.abc import Iterator

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.paths import media_file
from dedup.benchmarks.readers import expecting, read_json_lines
from dedup.benchmarks.splits import file_split

EXPECTED = 'SNLI-VE JSON lines {"Flickr30K_ID", "sentence2", "gold_label", ...}'


def load_snli_ve(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    path = str(source.annotations)
    split = file_split(source)
    with expecting(path, EXPECTED):
        ids = (str(pair["Flickr30K_ID"]) for pair in read_json_lines(path, EXPECTED))
        yield from distinct(
            source.item(split, image_id, media_file(source.media, f"{image_id}.jpg")) for image_id in ids
        )
