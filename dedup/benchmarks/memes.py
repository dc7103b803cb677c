"""Hateful Memes: JSON lines {"id", "img": "img/42953.png", "label", "text"}, one file per split."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.paths import locate
from dedup.benchmarks.readers import expecting, read_json_lines
from dedup.benchmarks.splits import file_split

EXPECTED = 'Hateful Memes JSON lines {"id", "img": "img/42953.png", "text", ...}'


def load_hatefulmemes(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    """`img` is relative to the dataset folder; a media folder that is `img/` itself works too."""
    path = str(source.annotations)
    split = file_split(source)
    with expecting(path, EXPECTED):
        memes = ((str(meme["id"]), str(meme["img"])) for meme in read_json_lines(path, EXPECTED))
        yield from distinct(
            source.item(split, meme_id, locate(source.media, img, Path(img).name)) for meme_id, img in memes
        )
