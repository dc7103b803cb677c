"""Which URL an `<img>` stands for: src, lazy-loading attributes, srcset, and `<picture>` sources."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from lxml import etree

# Attributes that lazy-loading scripts copy into `src`, most specific first.
LAZY_SRC_ATTRIBUTES = ("data-src", "data-lazy-src", "data-original", "data-lazy", "data-url", "data-hi-res-src")
LAZY_SRCSET_ATTRIBUTES = ("data-srcset", "data-lazy-srcset")
# A srcset candidate at least this wide is enough for training at 320 px; smaller ones are thumbnails.
PREFERRED_MIN_WIDTH = 320

_PLACEHOLDER = re.compile(
    r"(^data:)|placeholder|lazy[-_]?load|(^|[/_.-])1x1([/_.-]|$)|"
    r"(blank|spacer|transparent|trans|empty|clear|grey|gray|loading|loader|pixel)\.(gif|png|jpe?g|webp)",
    re.I,
)
# What every match of _PLACEHOLDER contains, lower-cased: most URLs contain none, and `in` is cheaper
# than the case-insensitive alternation.
_PLACEHOLDER_HINTS = (
    "data:", "placeholder", "lazy", "1x1", "blank.", "spacer.", "trans", "empty.", "clear.", "grey.", "gray.",
    "loading.", "loader.", "pixel.",
)  # fmt: skip
_DESCRIPTOR = re.compile(r"^(\d+(?:\.\d+)?)([wx])$")


def image_url(img: etree._Element, base_url: str) -> str | None:
    """The absolute URL of the image an `<img>` shows once scripts have run, or None: a lazy-loading
    attribute wins over `src` (which then holds a placeholder or a blurred thumbnail)."""
    for name in LAZY_SRC_ATTRIBUTES:
        value = (img.get(name) or "").strip()
        if value and not value.startswith("data:"):
            return urljoin(base_url, value)
    src = (img.get("src") or "").strip()
    if src and not _is_placeholder(src):
        return urljoin(base_url, src)
    for srcset in _srcsets(img):
        chosen = choose_from_srcset(srcset)
        if chosen:
            return urljoin(base_url, chosen)
    return urljoin(base_url, src) if src else None


def _is_placeholder(src: str) -> bool:
    if src.isascii():
        lowered = src.lower()
        if not any(hint in lowered for hint in _PLACEHOLDER_HINTS):
            return False
    return bool(_PLACEHOLDER.search(src))


def _srcsets(img: etree._Element):
    for name in ("srcset", *LAZY_SRCSET_ATTRIBUTES):
        if img.get(name):
            yield img.get(name)
    picture = _enclosing_picture(img)
    if picture is not None:
        for source in picture.iter("source"):
            for name in ("srcset", *LAZY_SRCSET_ATTRIBUTES):
                if source.get(name):
                    yield source.get(name)


def _enclosing_picture(img: etree._Element) -> etree._Element | None:
    # libxml2 predates <picture>: it does not know <source> is void and nests the <img> inside it.
    for level, ancestor in enumerate(img.iterancestors()):
        if ancestor.tag == "picture":
            return ancestor
        if level >= 2 or ancestor.tag != "source":
            return None
    return None


def choose_from_srcset(srcset: str) -> str | None:
    """The narrowest candidate at least PREFERRED_MIN_WIDTH wide, else the widest; `1x` for density lists."""
    candidates: list[tuple[float, str]] = []
    for url, descriptor in parse_srcset(srcset):
        if url.startswith("data:"):
            continue
        match = _DESCRIPTOR.match(descriptor)
        size, unit = (float(match.group(1)), match.group(2)) if match else (1.0, "x")
        # a density descriptor (or none, meaning 1x) is scaled so that 1x sorts as "wide enough"
        candidates.append((size if unit == "w" else size * PREFERRED_MIN_WIDTH, url))
    if not candidates:
        return None
    wide_enough = [c for c in candidates if c[0] >= PREFERRED_MIN_WIDTH]
    return min(wide_enough)[1] if wide_enough else max(candidates)[1]


def parse_srcset(srcset: str) -> list[tuple[str, str]]:
    """(url, descriptor) pairs, split as the HTML spec does: a URL runs to whitespace, so data: URIs
    with commas survive, and a comma ends a candidate only after its URL."""
    candidates = []
    position, length = 0, len(srcset)
    while position < length:
        while position < length and (srcset[position].isspace() or srcset[position] == ","):
            position += 1
        start = position
        while position < length and not srcset[position].isspace():
            position += 1
        url = srcset[start:position]
        if url.endswith(","):
            candidates.append((url.rstrip(","), ""))
            continue
        end = srcset.find(",", position)
        end = length if end == -1 else end
        if url:
            candidates.append((url, srcset[position:end].strip().lower()))
        position = end + 1
    return candidates


def declared_size(img: etree._Element, attribute: str) -> int | None:
    """The integer width/height attribute in pixels (`width="640"`, `"640px"`), None if absent or relative."""
    value = (img.get(attribute) or "").strip().lower().removesuffix("px")
    return int(value) if value.isdigit() else None
