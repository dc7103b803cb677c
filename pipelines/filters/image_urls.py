"""Image rules that need only the page: the URL and the declared size, before anything is fetched."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipelines.argument_types import non_negative_int
from schemas import ImageSegment

# Words in an image's path that mark decoration, not content (OBELICS and mmc4 drop the same kinds).
DEFAULT_BANNED_SUBSTRINGS = (
    "logo", "icon", "sprite", "pixel", "avatar", "badge", "button", "spacer", "blank.gif", "placeholder",
    "emoji", "favicon", "gravatar", "loader", "spinner", "doubleclick", "/ads/", "/ad/", "tracking", "beacon",
)  # fmt: skip
# Formats that are icons or vector drawings, never photographs.
DEFAULT_BANNED_EXTENSIONS = (".svg", ".ico")


@dataclass(frozen=True)
class ImageUrlRules:
    banned_substrings: tuple[str, ...] = DEFAULT_BANNED_SUBSTRINGS
    banned_extensions: tuple[str, ...] = DEFAULT_BANNED_EXTENSIONS
    # Flamingo drops images with a side under 64 px; a page that displays one smaller than that
    # (width/height attributes) shows an icon or a tracking pixel.
    min_declared_side: int = 64


def image_url_rejection(image: ImageSegment, rules: ImageUrlRules) -> str | None:
    """Why this image is dropped before fetching (a short reason), or None to keep it."""
    url = image.url
    if url.startswith("data:"):
        return "data_uri"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "not_http_url"
    path = parts.path.lower()
    if path.endswith(rules.banned_extensions):
        return "banned_extension"
    where = f"{path}?{parts.query.lower()}"
    if any(word in where for word in rules.banned_substrings):
        return "banned_url_substring"
    sides = [s for s in (image.declared_width, image.declared_height) if s is not None]
    if sides and min(sides) < rules.min_declared_side:
        return "declared_too_small"
    return None


def add_image_url_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("image URL rules (before fetching)")
    defaults = ImageUrlRules()
    group.add_argument(
        "--banned_image_substrings",
        default=",".join(defaults.banned_substrings),
        help="comma-separated words; an image whose URL path contains one is dropped (default: %(default)s)",
    )
    group.add_argument(
        "--banned_image_extensions",
        default=",".join(defaults.banned_extensions),
        help="comma-separated file extensions that are dropped (default: %(default)s)",
    )
    group.add_argument(
        "--min_declared_image_side",
        type=non_negative_int,
        default=defaults.min_declared_side,
        help="drop images whose width/height attribute is below this, in px (Flamingo's 64 px rule; default: %(default)s)",
    )


def image_url_rules_from_args(args: argparse.Namespace) -> ImageUrlRules:
    return ImageUrlRules(
        banned_substrings=_split(args.banned_image_substrings),
        banned_extensions=_split(args.banned_image_extensions),
        min_declared_side=args.min_declared_image_side,
    )


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip().lower() for v in value.split(",") if v.strip())
