"""One page -> one interleaved document, or the reason it was rejected. No Beam here: the DoFn wraps it.

The steps, in order: decode the bytes, extract text and images in DOM order, drop images by URL
rules, repetition and the cap, and require an image (before any text work: a quarter of the real test
pages have none left, and the text rules and language id are most of a document's time), identify
the language, drop paragraphs by the node-level text rules, and reject the document by the
document-level rules.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from dedup.near_duplicates import NearDuplicateRules
from pipelines.filters.image_urls import ImageUrlRules, image_url_rejection
from pipelines.filters.language import identify_language
from pipelines.filters.text_quality import TextFilterConfig, judge_document, paragraph_rejections
from pipelines.html.decode import decode_html
from pipelines.html.extract import HtmlParseError, extract_page
from pipelines.readers.page import RawPage
from schemas import ImageSegment, InterleavedDocument, TextSegment, stable_key
from schemas.records import Segment

# Language identification reads the start of the text: enough for a confident answer, and bounded.
LANGUAGE_SAMPLE_CHARS = 1500


@dataclass(frozen=True)
class M3WConfig:
    text: TextFilterConfig = field(default_factory=TextFilterConfig)
    images: ImageUrlRules = field(default_factory=ImageUrlRules)
    max_images_per_document: int = 30  # OBELICS's cap
    keep_documents_without_images: bool = False
    prose_outside_article: bool = True  # False: the article's text alone
    languages: tuple[str, ...] = ()  # empty: every language
    min_language_score: float = 0.0
    # across pages: a paragraph on more pages of one domain than this is site boilerplate (OBELICS: 1; 0: off)
    max_pages_per_paragraph: int = 1
    near_duplicates: NearDuplicateRules = field(default_factory=NearDuplicateRules)


@dataclass
class DocumentResult:
    document: InterleavedDocument | None = None
    rejection: str | None = None  # why the whole page was dropped
    detail: str = ""
    dropped_images: Counter = field(default_factory=Counter)
    dropped_paragraphs: Counter = field(default_factory=Counter)


def build_document(page: RawPage, config: M3WConfig) -> DocumentResult:
    result = DocumentResult()
    decoded = decode_html(page.body, page.content_type)
    try:
        extracted = extract_page(decoded.text, page.url, config.prose_outside_article)
    except HtmlParseError as error:
        return _rejected(result, "unparseable_html", str(error))

    texts = [s.text for s in extracted.segments if isinstance(s, TextSegment)]
    if not texts:
        return _rejected(result, "no_text", "no text left after removing boilerplate")
    result.dropped_images.update(extracted.skipped_images)
    kept_images = _kept_images(extracted.segments, config, result.dropped_images)
    if not kept_images and not config.keep_documents_without_images:
        return _rejected(result, "no_images", "no image left after the image rules")
    language, language_score = identify_language(" ".join(texts)[:LANGUAGE_SAMPLE_CHARS])
    if config.languages and language not in config.languages:
        return _rejected(result, "language_not_wanted", f"identified as {language}")
    if language_score < config.min_language_score:
        return _rejected(result, "language_uncertain", f"{language} with score {language_score:.2f}")

    result.dropped_paragraphs.update(extracted.skipped_paragraphs)
    # Each distinct paragraph (and whether it is a heading or list item) is judged once, all together.
    judged = dict.fromkeys(
        (segment.text, index in extracted.headings_and_items)
        for index, segment in enumerate(extracted.segments)
        if isinstance(segment, TextSegment)
    )
    verdicts = dict(zip(judged, paragraph_rejections(list(judged), language, config.text), strict=True))
    segments = []
    seen_paragraphs: set[str] = set()
    for index, segment in enumerate(extracted.segments):
        if isinstance(segment, ImageSegment):
            if index in kept_images:
                segments.append(segment)
            continue
        reason = "repeated_in_document" if segment.text in seen_paragraphs else None
        reason = reason or verdicts[segment.text, index in extracted.headings_and_items]
        if reason:
            result.dropped_paragraphs[reason] += 1
            continue
        seen_paragraphs.add(segment.text)
        segments.append(segment)

    paragraphs = [s.text for s in segments if isinstance(s, TextSegment)]
    reason, scores = judge_document(paragraphs, language, config.text)
    if reason:
        return _rejected(result, reason, "document-level text rule")

    result.document = InterleavedDocument(
        doc_id=stable_key(page.url, page.body),
        url=page.url,
        segments=tuple(segments),
        source=page.source,
        record_id=page.record_id,
        crawl_time=page.crawl_time,
        language=language,
        scores={"language": round(language_score, 4), **scores},
    )
    return result


def _kept_images(segments: list[Segment], config: M3WConfig, dropped: Counter) -> set[int]:
    """The indices of the images that pass the URL rules, are not repeats, and fit under the cap;
    each other image counted in `dropped` under its reason."""
    kept: dict[str, int] = {}
    for index, segment in enumerate(segments):
        if not isinstance(segment, ImageSegment):
            continue
        reason = image_url_rejection(segment, config.images)
        if reason is None and segment.url in kept:
            reason = "repeated_in_document"
        if reason is None and len(kept) >= config.max_images_per_document:
            reason = "over_image_cap"
        if reason:
            dropped[reason] += 1
        else:
            kept[segment.url] = index
    return set(kept.values())


def _rejected(result: DocumentResult, reason: str, detail: str) -> DocumentResult:
    result.rejection = reason
    result.detail = detail
    return result
