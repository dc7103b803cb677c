"""Reading WARC files (gzip or not, any Beam FileSystems path) into RawPages, split by byte ranges.

A splittable DoFn: each file's byte range is cut into pieces of `split_bytes`; a piece starts at
the first record that begins inside it (the next gzip member that inflates to "WARC/", or the next
"WARC/1.x" header line in an uncompressed file) and reads every record that begins before its end.
So one large WARC is read by many workers, and every record exactly once.

Damage never costs more than the damaged bytes: where a record cannot be read (garbage, a broken
gzip member, a `Content-Length` of -5 or "abc"), reading starts again at the next record that can
be found, and the skipped byte range is a reject. Bodies are read up to `max_page_bytes` after
decompression (gzip members, HTTP content encodings): a larger one is `too_large`, and reading
goes on at the next record, so a decompression bomb costs neither memory nor time.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.transforms.core import RestrictionProvider
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from pipelines.readers.page import RawPage
from pipelines.rejects import Rejects

STAGE = "warc"
HTML_TYPES = ("text/html", "application/xhtml+xml")
DEFAULT_SPLIT_BYTES = 64 << 20
DEFAULT_MAX_PAGE_BYTES = 10 << 20
_UNREADABLE = (ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError)
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_HEADER = re.compile(rb"(?:^|\r?\n)(WARC/1\.[01]\r?\n)")
_SCAN_CHUNK = 1 << 20


def is_html(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in HTML_TYPES


class ReadWarcPages(beam.DoFn, RestrictionProvider):
    """WARC path -> RawPage for every HTML response; other records are counted by type and skipped.

    The DoFn is its own restriction provider, so the split size is an ordinary constructor argument.
    """

    def __init__(self, split_bytes: int = DEFAULT_SPLIT_BYTES, max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES) -> None:
        self.split_bytes = split_bytes
        self.max_page_bytes = max_page_bytes
        self.rejects = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.rejects.flush()

    def initial_restriction(self, path: str) -> OffsetRange:
        return OffsetRange(0, FileSystems.match([path])[0].metadata_list[0].size_in_bytes)

    def split(self, path: str, restriction: OffsetRange):
        yield from restriction.split(self.split_bytes, 1)

    def create_tracker(self, restriction: OffsetRange) -> OffsetRestrictionTracker:
        return OffsetRestrictionTracker(restriction)

    def restriction_size(self, path: str, restriction: OffsetRange) -> int:
        return restriction.size()

    def process(self, path: str, tracker=beam.DoFn.RestrictionParam()) -> Iterator[RawPage]:
        restriction = tracker.current_restriction()
        try:
            with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
                if restriction.start == 0 and not _looks_like_an_archive(stream):
                    tracker.try_claim(restriction.stop)
                    yield self.rejects.drop("not_a_warc", path, "does not start with a WARC or ARC record")
                    return
                position = _first_record_at_or_after(stream, restriction.start)
                searched_past = restriction.start
                while position is not None and position < restriction.stop:
                    reading = _Reading(position)
                    try:
                        stream.seek(position)
                        yield from self._read_records(stream, path, tracker, reading)  # claims its range to the end
                        return
                    except (*_UNREADABLE, _TooLarge, _Truncated) as error:
                        # Start again at the next record after both the damage and the last search.
                        searched_past = max(searched_past, reading.record) + 1
                        position = _first_record_at_or_after(stream, searched_past)
                        if isinstance(error, _Truncated) and position is None:
                            yield self.rejects.drop("truncated_record", path, str(error))
                        else:
                            yield self._damage(path, reading.record, position, error)
        except _UNREADABLE as error:  # the file itself cannot be opened or scanned
            logging.warning("%s: unreadable WARC data after byte %d (%s)", path, restriction.start, error)
            yield self.rejects.drop("unreadable_warc", path, f"{type(error).__name__}: {error}")
        tracker.try_claim(restriction.stop)  # nothing (more) starts in this range: mark it done

    def _damage(self, path: str, start: int, resume: int | None, error: Exception) -> beam.pvalue.TaggedOutput:
        end = "the end of the file" if resume is None else f"byte {resume}"
        if isinstance(error, _TooLarge):
            return self.rejects.drop("too_large", f"{path}@{start}", f"{error}; skipped to {end}")
        logging.warning("%s: unreadable WARC data from byte %d to %s (%s)", path, start, end, error)
        return self.rejects.drop(
            "unreadable_warc", f"{path}@{start}", f"bytes {start} to {end}: {type(error).__name__}: {error}"
        )

    def _read_records(self, stream: BinaryIO, path: str, tracker, reading: _Reading) -> Iterator[RawPage]:
        """A page is held back until warcio has read past its record: only then is it known that the
        record ended where its Content-Length says (warcio counts a record that did not in `err_count`)."""
        records = ArchiveIterator(stream, arc2warc=True)
        records.INC_RECORD = ""  # warcio would print the bad length to stderr; the reject says it instead
        last_claimed = -1
        pending: RawPage | None = None
        try:
            for record in records:
                if records.err_count:
                    raise _WrongLength(f"the record at byte {reading.record} does not end where its length says")
                if pending is not None:
                    yield pending
                    pending = None
                reading.record = max(reading.record, records.offset)  # where this record starts, before its body
                # The body is read first: warcio's offset call would skip it.
                kind, page = _classify(record, path, self.max_page_bytes)
                offset = records.get_record_offset()  # absolute: warcio counts from the stream's position
                if offset > last_claimed:
                    # Records of one whole-file gzip member share its offset: claim it once.
                    if not tracker.try_claim(offset):
                        return
                    last_claimed = offset
                if kind == "truncated_record":
                    if not records.reader.decompressor:  # in a plain WARC, later records may be inside it
                        raise _Truncated(f"record {page.record_id} ({page.url}) ends before its length")
                    yield self.rejects.drop(kind, path, f"record {page.record_id} ({page.url}) ends before its length")
                    continue
                self.rejects.count(kind)
                pending = page
        except _UNREADABLE as error:
            if records.err_count:  # the damage is the pending record's length
                raise _WrongLength(f"the record at byte {reading.record} does not end where its length says") from error
            if pending is not None:  # the damage starts after the pending record
                yield pending
            raise
        if records.err_count:
            raise _WrongLength(f"the record at byte {reading.record} does not end where its length says")
        if pending is not None:
            yield pending
        tracker.try_claim(tracker.current_restriction().stop)


class _TooLarge(Exception):
    pass


class _WrongLength(ValueError):
    pass


class _Truncated(Exception):
    """A record of a plain WARC runs past the end of the file: the last record cut short, or a wrong
    Content-Length that swallowed the records after it."""


class _Reading:
    """Where reading has got to: the offset of the last record begun (the damage starts after it)."""

    def __init__(self, record: int) -> None:
        self.record = record


def _classify(record, path: str, max_bytes: int) -> tuple[str, RawPage | None]:
    """The record's counter name, and the page if it is an HTML response; a body over `max_bytes`
    (after decompression) raises _TooLarge once that many bytes are read."""
    if record.rec_type != "response":
        return f"skipped_{record.rec_type}", None
    content_type = record.http_headers.get_header("Content-Type", "") if record.http_headers else ""
    if not is_html(content_type):
        return "skipped_non_html_response", None
    page = RawPage(
        url=record.rec_headers.get_header("WARC-Target-URI", ""),
        body=_capped_body(record, max_bytes),
        content_type=content_type,
        source=path,
        record_id=record.rec_headers.get_header("WARC-Record-ID", ""),
        crawl_time=record.rec_headers.get_header("WARC-Date", ""),
    )
    # warcio stops quietly at the end of a truncated file: the record's bytes fall short of its length.
    truncated = getattr(record.raw_stream, "limit", 0) > 0
    return ("truncated_record" if truncated else "html_response"), page


def _capped_body(record, max_bytes: int) -> bytes:
    body = record.content_stream().read(max_bytes + 1)
    if len(body) > max_bytes:
        url = record.rec_headers.get_header("WARC-Target-URI", "")
        raise _TooLarge(f"the body of {url} is over {max_bytes} bytes once decompressed")
    return body


def _looks_like_an_archive(stream: BinaryIO) -> bool:
    """warcio reads almost anything as ARC records; a real archive starts with a WARC or ARC header."""
    stream.seek(0)
    head = stream.read(4096)
    if head.startswith(_GZIP_MAGIC):
        try:
            head = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(head, 16)
        except zlib.error:
            return False
    return head.startswith((b"WARC/", b"filedesc://"))


def _first_record_at_or_after(stream: BinaryIO, position: int) -> int | None:
    stream.seek(0)
    gzipped = stream.read(2) == _GZIP_MAGIC[:2]
    if position == 0:
        return 0
    return _next_gzip_record(stream, position) if gzipped else _next_plain_record(stream, position)


def _next_gzip_record(stream: BinaryIO, position: int) -> int | None:
    """The offset of the next gzip member at or after `position` whose content starts with "WARC/"."""
    while True:
        stream.seek(position)
        chunk = stream.read(_SCAN_CHUNK + len(_GZIP_MAGIC))
        if len(chunk) < len(_GZIP_MAGIC):
            return None
        found = chunk.find(_GZIP_MAGIC)
        while found != -1 and found < _SCAN_CHUNK:
            candidate = position + found
            if _inflates_to_warc(stream, candidate):
                return candidate
            found = chunk.find(_GZIP_MAGIC, found + 1)
        position += _SCAN_CHUNK


def _inflates_to_warc(stream: BinaryIO, offset: int) -> bool:
    stream.seek(offset)
    try:
        head = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(stream.read(4096), 16)
    except zlib.error:
        return False
    return head.startswith(b"WARC/")


def _next_plain_record(stream: BinaryIO, position: int) -> int | None:
    """The offset of the next "WARC/1.x" version line at or after `position` (records are separated by blank lines)."""
    start = max(position - 2, 0)  # include a preceding newline so a header exactly at `position` is found
    while True:
        stream.seek(start)
        chunk = stream.read(_SCAN_CHUNK + 16)
        if not chunk:
            return None
        for match in _WARC_HEADER.finditer(chunk):
            offset = start + match.start(1)
            if offset >= position:
                return offset
        if len(chunk) <= 16:
            return None
        start += _SCAN_CHUNK
