"""Pages -> candidate pairs: each kept `<img>` with its alt text (ALIGN) and its figure caption (LTIP)."""

from __future__ import annotations

from collections.abc import Iterator

from pipelines.filters.image_urls import ImageUrlRules, image_url_rejection
from pipelines.html.decode import decode_html
from pipelines.html.extract import extract_page
from pipelines.readers.page import RawPage
from schemas import ImageSegment, ImageTextPair, stable_key


def pair(url: str, caption: str, kind: str, page_url: str = "") -> ImageTextPair:
    return ImageTextPair(
        key=stable_key(url, f"{kind}\0{caption}"), url=url, caption=caption, kind=kind, page_url=page_url
    )


def page_pairs(page: RawPage, image_rules: ImageUrlRules) -> Iterator[ImageTextPair | str]:
    """Candidate pairs of one page; a string instead of a pair is the reason an image was skipped."""
    segments = extract_page(decode_html(page.body, page.content_type).text, page.url).segments
    for image in (s for s in segments if isinstance(s, ImageSegment)):
        reason = image_url_rejection(image, image_rules)
        if reason:
            yield reason
            continue
        if image.alt:
            yield pair(image.url, image.alt, "alt", page.url)
        if image.caption:
            yield pair(image.url, image.caption, "caption", page.url)
