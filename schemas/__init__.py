"""Data contracts shared by every part of flamingo-curate; imports nothing else of the project."""

from schemas.keys import stable_key
from schemas.records import (
    ImageInfo,
    ImageSegment,
    ImageTextPair,
    InterleavedDocument,
    TextSegment,
    VideoTextPair,
)
from schemas.tokens import EOC, IMAGE, neutralise_special_tokens
from schemas.version import FORMAT_VERSION

__all__ = [
    "EOC",
    "FORMAT_VERSION",
    "IMAGE",
    "ImageInfo",
    "ImageSegment",
    "ImageTextPair",
    "InterleavedDocument",
    "TextSegment",
    "VideoTextPair",
    "neutralise_special_tokens",
    "stable_key",
]
