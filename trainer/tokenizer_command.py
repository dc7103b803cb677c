"""`trainer tokenizer`: train a sentencepiece tokenizer on the text of curated shards, for the built-in
decoder trained from scratch (a Hugging Face LM brings its own)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

from schemas.samples import InvalidSample, sample_kind, sample_to_document, sample_to_pair, sample_to_video
from schemas.tokens import EOC, IMAGE
from shards.reader import iter_samples
from trainer.data.sources import open_url, resolve_shards
from trainer.tokenizer import train_sentencepiece

_SPECIAL = re.compile(f"{re.escape(EOC)}|{re.escape(IMAGE)}")


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser("tokenizer", help="train a sentencepiece tokenizer on the text of shards")
    parser.add_argument("--data", action="append", required=True, help="a curate output folder or shard spec")
    parser.add_argument("--output", required=True, help="folder to write tokenizer.model into")
    parser.add_argument("--vocab_size", type=int, default=512)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    texts = list(shard_texts(args.data))
    if not texts:
        print(f"trainer tokenizer: no text in {', '.join(args.data)}")
        return 2
    train_sentencepiece(texts, args.output, args.vocab_size)
    print(f"trainer tokenizer: {args.vocab_size} pieces from {len(texts)} texts -> {args.output}/tokenizer.model")
    return 0


def shard_texts(paths: list[str]) -> Iterator[str]:
    """The text of every sample, without the special tokens (they are never pieces of the vocabulary)."""
    urls = []
    for dataset in ("m3w", "align", "vtp"):  # align and ltip read the same pair shards
        try:
            urls.extend(resolve_shards(dataset, paths).urls)
        except ValueError:
            continue
    for url in dict.fromkeys(urls):
        for sample in iter_samples(url, open_url):
            try:
                kind = sample_kind(sample, url)
                if kind == "m3w":
                    yield from (t for t in _SPECIAL.split(sample_to_document(sample, url)[0].text) if t.strip())
                elif kind == "pair":
                    yield sample_to_pair(sample, url)[0].caption
                else:
                    yield sample_to_video(sample, url)[0].text
            except (InvalidSample, ValueError):
                continue
