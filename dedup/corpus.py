"""Within-corpus duplicates: which images count as the same, and when repetition means boilerplate.

Exact copies share the sha256 of their bytes; near copies (re-encodes, resizes, small edits) share
the 64-bit pHash of the processed image. An image used by many documents is a logo, a button or an
ad rather than content: OBELICS and mmc4 drop images seen more than 10 times across their corpus.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RepetitionRules:
    max_uses_per_image: int = 10  # documents (or pairs) one image may appear in; 0 disables the rule
    near: bool = True  # count near copies (same pHash) as the same image, not only exact ones


def content_key(sha256: str, phash: str, near: bool) -> str:
    """The key under which copies of one image meet: pHash for near copies, else the bytes' sha256."""
    return f"p:{phash}" if near and phash else f"s:{sha256}"
