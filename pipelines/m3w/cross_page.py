"""Rules that look across pages, after each page became a document (as OBELICS runs them after its
single-page extraction):

- site boilerplate: a paragraph found on more than `max_pages` pages of one domain (a footer, a
  teaser headline, "Share this article") is removed from all of them, as OBELICS's line
  deduplication does (build_obelics/09_04 and 09_06: texts seen more than once in a domain go);
- near-duplicate documents: MinHash LSH over word shingles (`dedup/near_duplicates.py`); of two
  near duplicates the one with the larger id goes, so every run keeps the same one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import urlsplit

import apache_beam as beam

from dedup.near_duplicates import NearDuplicateRules, band_keys, paragraph_key, signature, similarity
from pipelines.rejects import REJECTS, Rejects
from schemas import InterleavedDocument, TextSegment

STAGE = "m3w_cross_page"


class RemoveSiteBoilerplate(beam.PTransform):
    """Documents -> {"documents", REJECTS}; a document left without text is rejected."""

    def __init__(self, max_pages: int) -> None:
        super().__init__()
        self.max_pages = max_pages

    def expand(self, documents):
        max_pages = self.max_pages
        repeated = (
            documents
            | "ParagraphUses" >> beam.FlatMap(_paragraph_uses)
            | "PagesPerParagraph" >> beam.GroupByKey()
            | "Repeated" >> beam.FlatMap(lambda item: _repeated(item, max_pages))
        )
        return _join_by_id(documents, "repeated", repeated, _RemoveParagraphs())


def _join_by_id(documents, name: str, found, judge: beam.DoFn):
    """Each document with what was `found` for its id (under `name`), judged by `judge`, which yields
    the document kept, changed or rejected: {"documents", REJECTS}."""
    return (
        {"document": documents | "ById" >> beam.Map(lambda doc: (doc.doc_id, doc)), name: found}
        | "JoinById" >> beam.CoGroupByKey()
        | "Judge" >> beam.ParDo(judge).with_outputs(REJECTS, main="documents")
    )


def _paragraph_uses(document: InterleavedDocument) -> Iterator[tuple[tuple[str, str], str]]:
    domain = (urlsplit(document.url).hostname or "").lower()
    keys = {paragraph_key(s.text) for s in document.segments if isinstance(s, TextSegment)}
    for key in keys:
        yield (domain, key), document.doc_id


def _repeated(item: tuple[tuple[str, str], list[str]], max_pages: int) -> Iterator[tuple[str, str]]:
    (_, key), doc_ids = item
    pages = set(doc_ids)
    if len(pages) > max_pages:
        for doc_id in pages:
            yield doc_id, key


class _RemoveParagraphs(beam.DoFn):
    def __init__(self) -> None:
        self.rejects = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.rejects.flush()

    def process(self, joined: tuple[str, dict]) -> Iterator:
        _, groups = joined
        (document,) = groups["document"]
        repeated = set(groups["repeated"])
        if not repeated:
            yield document
            return
        segments = tuple(
            s for s in document.segments if not (isinstance(s, TextSegment) and paragraph_key(s.text) in repeated)
        )
        self.rejects.count("site_boilerplate_paragraphs", len(document.segments) - len(segments))
        if not any(isinstance(s, TextSegment) for s in segments):
            yield self.rejects.drop(
                "only_site_boilerplate", document.url, "every paragraph is on other pages of the site"
            )
            return
        yield replace(document, segments=segments)


class RemoveNearDuplicates(beam.PTransform):
    """Documents -> {"documents", REJECTS}: of each near-duplicate pair, the larger id goes."""

    def __init__(self, rules: NearDuplicateRules) -> None:
        super().__init__()
        self.rules = rules

    def expand(self, documents):
        rules = self.rules
        duplicate_of = (
            documents
            | "Signatures" >> beam.Map(lambda doc: (doc.doc_id, signature(_text(doc), rules)))
            | "Bands" >> beam.FlatMap(lambda signed: ((key, signed) for key in band_keys(signed[1], rules)))
            | "Buckets" >> beam.GroupByKey()
            | "Similar" >> beam.FlatMap(lambda bucket: _duplicates(bucket[1], rules.threshold))
            | "FirstOriginal" >> beam.CombinePerKey(min)
        )
        return _join_by_id(documents, "original", duplicate_of, _DropDuplicates())


def _text(document: InterleavedDocument) -> str:
    return "\n".join(s.text for s in document.segments if isinstance(s, TextSegment))


def _duplicates(members, threshold: float) -> Iterator[tuple[str, str]]:
    """(duplicate id, original id) for each member that is similar to a member with a smaller id."""
    ordered = sorted(members, key=lambda member: member[0])
    for i, (doc_id, values) in enumerate(ordered):
        for other_id, other_values in ordered[:i]:
            if similarity(values, other_values) >= threshold:
                yield doc_id, other_id
                break


class _DropDuplicates(beam.DoFn):
    def __init__(self) -> None:
        self.rejects = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.rejects.flush()

    def process(self, joined: tuple[str, dict]) -> Iterator:
        _, groups = joined
        (document,) = groups["document"]
        originals = list(groups["original"])
        if originals:
            yield self.rejects.drop("near_duplicate", document.url, f"near duplicate of document {originals[0]}")
            return
        yield document
