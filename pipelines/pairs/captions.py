"""Caption rules for image-text pairs: length, boilerplate, file names. Each returns a reason or None.

ALIGN (Jia et al. 2021, section 3) keeps alt texts of 3 to 20 unigrams and drops alt texts shared
by more than 10 images (that rule needs the whole corpus: see transforms.py); LTIP-style captions
are longer descriptions, so they get their own, wider word range.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass

from pipelines.argument_types import non_negative_int

BOILERPLATE_CAPTIONS = frozenset(
    {
        "image", "photo", "picture", "img", "untitled", "thumbnail", "placeholder", "click here", "click to enlarge",
        "logo", "icon", "banner", "advertisement", "loading", "null", "undefined", "none", "alt", "figure",
    }
)  # fmt: skip
_FILE_NAME = re.compile(r"^[\w\-. ]+\.(jpe?g|png|gif|webp|bmp|tiff?|svg)$|^(img|dsc|dscn|pxl|image)[_\- ]?\d+", re.I)
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class CaptionRules:
    alt_min_words: int = 3  # ALIGN
    alt_max_words: int = 20  # ALIGN
    caption_min_words: int = 5
    caption_max_words: int = 256
    max_images_per_caption: int = 10  # ALIGN: alt texts shared by more images are dropped


def caption_rejection(text: str, kind: str, rules: CaptionRules) -> str | None:
    normalised = " ".join(text.split()).strip(" .:-").lower()
    if not normalised:
        return "empty_caption"
    if normalised in BOILERPLATE_CAPTIONS:
        return "boilerplate_caption"
    if _FILE_NAME.search(normalised):
        return "file_name_caption"
    words = _WORD.findall(normalised)
    if not any(ch.isalpha() for ch in normalised):
        return "no_letters"
    low, high = (
        (rules.alt_min_words, rules.alt_max_words)
        if kind == "alt"
        else (rules.caption_min_words, rules.caption_max_words)
    )
    if len(words) < low:
        return "caption_too_short"
    if len(words) > high:
        return "caption_too_long"
    return None


def caption_group_key(text: str) -> str:
    """Captions that count as the same for the shared-caption rule: case and spacing ignored."""
    return " ".join(text.lower().split())


def add_caption_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("caption rules")
    defaults = CaptionRules()
    for name, help_text in [
        ("alt_min_words", "alt texts with fewer words are dropped (ALIGN: 3)"),
        ("alt_max_words", "alt texts with more words are dropped (ALIGN: 20)"),
        ("caption_min_words", "long captions with fewer words are dropped"),
        ("caption_max_words", "long captions with more words are dropped"),
        ("max_images_per_caption", "a caption shared by more images is boilerplate (ALIGN: 10)"),
    ]:
        group.add_argument(
            f"--{name}",
            type=non_negative_int,
            default=getattr(defaults, name),
            help=f"{help_text}; default: %(default)s",
        )


def caption_rules_from_args(args: argparse.Namespace) -> CaptionRules:
    return CaptionRules(
        alt_min_words=args.alt_min_words,
        alt_max_words=args.alt_max_words,
        caption_min_words=args.caption_min_words,
        caption_max_words=args.caption_max_words,
        max_images_per_caption=args.max_images_per_caption,
    )
