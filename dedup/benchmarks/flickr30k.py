"""Flickr30k: a Flickr30k Entities split file (one image id a line) or Karpathy's `dataset_flickr30k.json`.

The Entities captions lie in `Sentences/ID.txt` beside the split file, one caption a line, in Entities markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from dedup.benchmarks.examples import BenchmarkExample
from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.karpathy import EXPECTED as KARPATHY_EXPECTED
from dedup.benchmarks.karpathy import karpathy_examples, karpathy_items
from dedup.benchmarks.paths import media_file
from dedup.benchmarks.readers import AnnotationError, read_json, read_lines
from dedup.benchmarks.splits import file_split

SENTENCE_FOLDERS = ("Sentences", "sentences")
# "[/EN#221796/people A girl]" -> "A girl"; a phrase may have several types ("/EN#12/people/other").
_PHRASE = re.compile(r"\[/EN#\d+(?:/[^\s\]]+)*\s+([^\]]*)\]")
# The captions are tokenised ("a sunny , dry day ."): punctuation goes back against its word.
_INNER_PUNCTUATION = re.compile(r"\s+([,;:])(?=\s)")
_FINAL_PUNCTUATION = re.compile(r"\s+([.!?]+)$")


def load_flickr30k(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    path = str(source.annotations)
    if is_json(path):
        yield from distinct(karpathy_items(source, read_json(path, KARPATHY_EXPECTED)))
        return
    yield from entities_items(source)


def read_flickr30k_examples(source: BenchmarkSource) -> Iterator[BenchmarkExample]:
    """One captioning example per image; an Entities image without a sentences file has no captions."""
    path = str(source.annotations)
    if is_json(path):
        yield from karpathy_examples(source, read_json(path, KARPATHY_EXPECTED))
        return
    sentences = sentences_folder(path)
    for item in entities_items(source):
        captions = entities_captions(sentences / f"{item.item_id}.txt") if sentences else ()
        yield BenchmarkExample.of(item, item.item_id, captions=captions)


def is_json(path: str) -> bool:
    return Path(path).suffix.lower() == ".json"


def entities_items(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    split = file_split(source)
    for image_id in distinct_ids(str(source.annotations)):
        yield source.item(split, image_id, media_file(source.media, f"{image_id}.jpg"))


def distinct_ids(path: str) -> Iterator[str]:
    seen: set[str] = set()
    for line in read_lines(path):
        if len(line.split()) != 1:
            raise AnnotationError(f"{path}: expected one Flickr30k image id a line, got {line[:80]!r}")
        if line not in seen:
            seen.add(line)
            yield line


def sentences_folder(split_file: str) -> Path | None:
    folders = (Path(split_file).parent / name for name in SENTENCE_FOLDERS)
    return next((folder for folder in folders if folder.is_dir()), None)


def entities_captions(path: Path) -> tuple[str, ...]:
    """The captions of one image, markup stripped; () when the image has no sentences file."""
    if not path.is_file():
        return ()
    return tuple(plain_caption(line) for line in read_lines(str(path)))


def plain_caption(marked: str) -> str:
    """ "[/EN#221796/people A girl] , alone , sits [/EN#221798/scene by water] ." -> "A girl, alone, sits by water." """
    words = " ".join(_PHRASE.sub(r"\1", marked).split())
    return _FINAL_PUNCTUATION.sub(r"\1", _INNER_PUNCTUATION.sub(r"\1", words))
