"""The M3W Beam transforms: pages -> interleaved documents (main output) and rejects (tagged)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import apache_beam as beam

from pipelines.m3w.cross_page import RemoveNearDuplicates, RemoveSiteBoilerplate
from pipelines.m3w.document import M3WConfig, build_document
from pipelines.readers.page import RawPage
from pipelines.rejects import REJECTS, Rejects, flush_all
from schemas import InterleavedDocument

STAGE = "m3w"


class ExtractDocuments(beam.DoFn):
    def __init__(self, config: M3WConfig) -> None:
        self.config = config
        self.rejects = Rejects(STAGE)
        self.images = Rejects("m3w_images")
        self.paragraphs = Rejects("m3w_paragraphs")

    def finish_bundle(self) -> Iterator:
        yield from flush_all(self.rejects, self.images, self.paragraphs)

    def process(self, page: RawPage) -> Iterator[InterleavedDocument]:
        self.rejects.count("pages_in")
        try:
            result = build_document(page, self.config)
        except Exception as error:  # a page that trips a bug is one reject, never a failed job
            logging.exception("%s: extraction failed", page.url)
            yield self.rejects.drop("extraction_error", page.url, f"{type(error).__name__}: {error}")
            return
        for reason, count in result.dropped_images.items():
            self.images.count(f"dropped_{reason}", count)
        for reason, count in result.dropped_paragraphs.items():
            self.paragraphs.count(f"dropped_{reason}", count)
        if result.document is None:
            yield self.rejects.drop(result.rejection, page.url, result.detail)
            return
        self.rejects.count("documents_out")
        self.images.count("kept", len(result.document.images))
        yield result.document


class KeepOnePerKey(beam.DoFn):
    """The same page crawled twice (same URL, same bytes) has one key: keep one copy, the same every run."""

    def __init__(self) -> None:
        self.rejects = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.rejects.flush()

    def process(self, keyed: tuple[str, list[InterleavedDocument]]) -> Iterator[InterleavedDocument]:
        _, copies = keyed
        copies = sorted(copies, key=lambda d: (d.source, d.record_id))
        for duplicate in copies[1:]:
            yield self.rejects.drop("duplicate_page", duplicate.url, f"same URL and content as {copies[0].record_id}")
        yield copies[0]


class PagesToDocuments(beam.PTransform):
    """RawPages -> {"documents": InterleavedDocument, "rejects": Reject}; one document per key."""

    def __init__(self, config: M3WConfig) -> None:
        super().__init__()
        self.config = config

    def expand(self, pages):
        extracted = pages | "ExtractDocuments" >> beam.ParDo(ExtractDocuments(self.config)).with_outputs(
            REJECTS, main="documents"
        )
        unique = (
            extracted.documents
            | "KeyById" >> beam.Map(lambda doc: (doc.doc_id, doc))
            | "GroupById" >> beam.GroupByKey()
            | "KeepOnePerKey" >> beam.ParDo(KeepOnePerKey()).with_outputs(REJECTS, main="documents")
        )
        rejects = [extracted[REJECTS], unique[REJECTS]]
        documents = unique.documents
        if self.config.max_pages_per_paragraph:
            cleaned = documents | "SiteBoilerplate" >> RemoveSiteBoilerplate(self.config.max_pages_per_paragraph)
            documents = cleaned.documents
            rejects.append(cleaned[REJECTS])
        if self.config.near_duplicates.threshold:
            distinct = documents | "NearDuplicates" >> RemoveNearDuplicates(self.config.near_duplicates)
            documents = distinct.documents
            rejects.append(distinct[REJECTS])
        kept = documents | "CountKept" >> beam.ParDo(_CountKept()).with_outputs(REJECTS, main="documents")
        rejects.append(kept[REJECTS])
        return {"documents": kept.documents, REJECTS: rejects | "M3WRejects" >> beam.Flatten()}


class _CountKept(beam.DoFn):
    """What is written: after duplicate pages, site boilerplate and near duplicates went."""

    def __init__(self) -> None:
        self.rejects = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.rejects.flush()

    def process(self, document: InterleavedDocument) -> Iterator[InterleavedDocument]:
        self.rejects.count("documents_kept")
        yield document
