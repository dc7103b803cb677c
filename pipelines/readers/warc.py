"""Reading WARC files (gzip or not, any Beam FileSystems path) into RawPages."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from pipelines.readers.page import RawPage

NAMESPACE = "warc"
HTML_TYPES = ("text/html", "application/xhtml+xml")


def is_html(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in HTML_TYPES


class ReadWarcPages(beam.DoFn):
    """WARC path -> RawPage for every HTML response; other records are counted by type and skipped."""

    def __init__(self) -> None:
        self._records = {}

    def _count(self, name: str) -> None:
        if name not in self._records:
            self._records[name] = Metrics.counter(NAMESPACE, name)
        self._records[name].inc()

    def process(self, path: str) -> Iterator[RawPage]:
        try:
            with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
                yield from self._pages(stream, path)
        except ArchiveLoadFailed as error:
            self._count("unreadable_file")
            logging.error("%s: not a readable WARC file (%s); skipped", path, error)

    def _pages(self, stream, path: str) -> Iterator[RawPage]:
        for record in ArchiveIterator(stream, arc2warc=True):
            kind = record.rec_type
            if kind != "response":
                self._count(f"skipped_{kind}")
                continue
            content_type = record.http_headers.get_header("Content-Type", "") if record.http_headers else ""
            if not is_html(content_type):
                self._count("skipped_non_html_response")
                continue
            self._count("html_response")
            yield RawPage(
                url=record.rec_headers.get_header("WARC-Target-URI", ""),
                body=record.content_stream().read(),
                content_type=content_type,
                source=path,
                record_id=record.rec_headers.get_header("WARC-Record-ID", ""),
                crawl_time=record.rec_headers.get_header("WARC-Date", ""),
            )
