"""Hateful Memes: JSON lines {"id", "img": "img/42953.png", "label", "text"}, one file per split."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dedup.benchmarks.examples import BenchmarkExample
from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.paths import locate
from dedup.benchmarks.readers import expecting, read_json_lines
from dedup.benchmarks.splits import file_split

EXPECTED = 'Hateful Memes JSON lines {"id", "img": "img/42953.png", "text", ...}'
EXPECTED_LABELS = 'Hateful Memes JSON lines {"id", "img", "text", "label": 0 or 1}'
CLASSES = ("no", "yes")  # label 1 is hateful: "is this meme hateful?" -> "yes"


def load_hatefulmemes(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    yield from distinct(item for item, _ in memes(source))


def read_hatefulmemes_examples(source: BenchmarkSource) -> Iterator[BenchmarkExample]:
    """One classification example per meme; the test files carry no label."""
    path = str(source.annotations)
    for item, meme in memes(source):
        with expecting(path, EXPECTED_LABELS):
            text = str(meme["text"])
            label = None if meme.get("label") is None else int(meme["label"])
            if label not in (None, *range(len(CLASSES))):
                raise ValueError(f"label {meme['label']!r} of meme {item.item_id}")
        yield BenchmarkExample.of(item, item.item_id, text=text, classes=CLASSES, label=label)


def memes(source: BenchmarkSource) -> Iterator[tuple[BenchmarkItem, dict[str, Any]]]:
    """`img` is relative to the dataset folder; a media folder that is `img/` itself works too."""
    path = str(source.annotations)
    split = file_split(source)
    with expecting(path, EXPECTED):
        for meme in read_json_lines(path, EXPECTED):
            meme_id, img = str(meme["id"]), str(meme["img"])
            yield source.item(split, meme_id, locate(source.media, img, Path(img).name)), meme
