"""VizWiz VQA: a JSON list of questions, each naming its image (`VizWiz_val_00000000.jpg`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.paths import media_file
from dedup.benchmarks.readers import expecting, read_json
from dedup.benchmarks.splits import normalize_split, wanted

EXPECTED = 'a VizWiz JSON list [{"image": "VizWiz_val_00000000.jpg", "question", ...}]'


def load_vizwiz(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    path = str(source.annotations)
    data = read_json(path, EXPECTED)
    with expecting(path, EXPECTED):
        if not isinstance(data, list):
            raise TypeError(f"got a JSON {type(data).__name__}")
        names = (str(entry["image"]) for entry in data)
        # the image name says the split: VizWiz_<split>_<number>.jpg
        entries = ((name, normalize_split(name.split("_")[1])) for name in names)
        yield from distinct(
            source.item(split, Path(name).stem, media_file(source.media, name))
            for name, split in entries
            if wanted(source, split)
        )
