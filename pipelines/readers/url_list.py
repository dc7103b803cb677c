"""URL lists, read through Beam's FileSystems (so gs:// and s3:// work; .gz is decompressed by name).

Formats, told apart by the file name:
- `.txt`: one URL per line; blank lines and lines starting with `#` are skipped.
- `.csv` / `.tsv`: a header row naming a `url` column (and optionally a text column); csv quoting.
- `.jsonl`: one JSON object per line with a `url` key (and optionally a text key).
- `.parquet`: a `url` column (and optionally a text column).

A column or key not found under its exact name is matched case-insensitively ("url" finds LAION's
"URL"). Spaces inside a URL are percent-encoded. A row without an http(s) URL, or one that cannot be parsed, is a bad line: it is skipped and
handed to `on_bad_line`, so callers can count "bad_url_line". An empty file is a list without
rows; a file that cannot be read as its format, or lacks the column asked for, is a bad list
(`ReadUrlList` rejects it, named, and goes on with the other lists).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlsplit

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from pipelines.readers.fetch_pages import FetchPages
from pipelines.rejects import Rejects

__all__ = ["BAD_URL_LINE", "BAD_URL_LIST", "BadLine", "FetchPages", "ReadUrlList", "fetchable_url", "read_url_list"]

STAGE = "url_list"
BAD_URL_LINE = "bad_url_line"
BAD_URL_LIST = "bad_url_list"
_PARQUET_BATCH_ROWS = 8192
_SHOWN_CHARS = 200  # of a bad line, in reports


@dataclass(frozen=True)
class BadLine:
    path: str
    line: int  # 1-based: the line of a text file, the row of a parquet file
    reason: str
    content: str  # the start of the line

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}: {self.content!r}"


OnBadLine = Callable[[BadLine], None]
_Row = tuple[int, object, object]  # (line number, url as found, text as found)


def read_url_list(
    path: str, url_column: str = "url", text_column: str | None = None, on_bad_line: OnBadLine | None = None
) -> Iterator[tuple[str, str | None]]:
    """(url, text) for every good row of the list at `path`; text is None without `text_column`.

    Raises ValueError, naming the file and its columns, when a csv/tsv/parquet column is missing.
    """
    name = path.lower().removesuffix(".gz")
    report = on_bad_line or (lambda bad: None)
    with FileSystems.open(path) as stream:
        rows: Iterator[_Row]
        if name.endswith(".parquet"):
            rows = _parquet_rows(path, stream, url_column, text_column)
        elif name.endswith((".csv", ".tsv")):
            rows = _csv_rows(
                path, _text(stream, newline=""), "\t" if name.endswith(".tsv") else ",", url_column, text_column, report
            )
        elif name.endswith(".jsonl"):
            rows = _jsonl_rows(path, _text(stream), url_column, text_column, report)
        else:
            rows = _txt_rows(_text(stream))
        for line, found, caption in rows:
            url = fetchable_url(found) if isinstance(found, str) else None
            if url is None:
                report(BadLine(path, line, "not an http(s) URL", str(found)[:_SHOWN_CHARS]))
            else:
                yield url, None if caption is None else str(caption)


def _text(stream: IO[bytes], newline: str | None = None) -> io.TextIOWrapper:
    """UTF-8 text (a BOM dropped, bad bytes replaced) from any FileSystems stream, compressed ones too."""
    return io.TextIOWrapper(
        io.BufferedReader(_RawReader(stream)), encoding="utf-8-sig", errors="replace", newline=newline
    )


class _RawReader(io.RawIOBase):
    """The io interface TextIOWrapper needs, over a stream that only has read() (Beam's CompressedFile)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def fetchable_url(text: str) -> str | None:
    """`text` as an http(s) URL that can be sent (inner spaces percent-encoded), or None if it is not one."""
    url = text.strip().replace(" ", "%20")  # real lists (LAION's too) hold URLs with raw spaces
    if not url or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def _txt_rows(lines: Iterable[str]) -> Iterator[_Row]:
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if line and not line.startswith("#"):
            yield number, line, None


def _jsonl_rows(
    path: str, lines: Iterable[str], url_key: str, text_key: str | None, report: OnBadLine
) -> Iterator[_Row]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            report(BadLine(path, number, f"not JSON ({error.msg})", line.strip()[:_SHOWN_CHARS]))
            continue
        if not isinstance(row, dict):
            report(BadLine(path, number, "not a JSON object", line.strip()[:_SHOWN_CHARS]))
            continue
        found_url_key = _find_key(row, url_key)
        if found_url_key is None:
            report(BadLine(path, number, f"no {url_key!r} key", line.strip()[:_SHOWN_CHARS]))
            continue
        found_text_key = _find_key(row, text_key) if text_key else None
        yield number, row[found_url_key], row.get(found_text_key) if found_text_key else None


def _csv_rows(
    path: str, lines: IO[str], delimiter: str, url_column: str, text_column: str | None, report: OnBadLine
) -> Iterator[_Row]:
    reader = csv.reader(lines, delimiter=delimiter)
    header = next(reader, None)
    if header is None:  # an empty file: no rows
        return
    url_index = _column_index(path, header, url_column)
    text_index = _column_index(path, header, text_column) if text_column else None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # e.g. a field over csv's size limit: one bad row, not a failed file
            report(BadLine(path, reader.line_num, f"unreadable row ({error})", ""))
            continue
        if not row or row == [""]:
            continue
        if url_index >= len(row):
            report(BadLine(path, reader.line_num, "too few columns", delimiter.join(row)[:_SHOWN_CHARS]))
            continue
        text = row[text_index] if text_index is not None and text_index < len(row) else None
        yield reader.line_num, row[url_index], text


def _parquet_rows(path: str, stream: IO[bytes], url_column: str, text_column: str | None) -> Iterator[_Row]:
    try:
        parquet = pq.ParquetFile(stream)
    except pa.ArrowException as error:
        if stream.seek(0, io.SEEK_END) == 0:  # an empty file: no rows
            return
        raise ValueError(f"{path}: not a parquet file ({error})") from error
    names = parquet.schema_arrow.names
    columns = [names[_column_index(path, names, url_column)]]
    if text_column:
        columns.append(names[_column_index(path, names, text_column)])
    number = 0
    for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH_ROWS, columns=columns):
        urls = batch.column(0).to_pylist()
        texts = batch.column(1).to_pylist() if text_column else [None] * len(urls)
        for url, text in zip(urls, texts, strict=True):
            number += 1
            yield number, url, text


def _column_index(path: str, names: list[str], wanted: str) -> int:
    if wanted in names:
        return names.index(wanted)
    folded = [i for i, name in enumerate(names) if name.strip().lower() == wanted.lower()]
    if len(folded) == 1:
        return folded[0]
    raise ValueError(f"{path}: no column {wanted!r} (columns: {names})")


def _find_key(row: dict, wanted: str) -> str | None:
    if wanted in row:
        return wanted
    matches = [key for key in row if isinstance(key, str) and key.lower() == wanted.lower()]
    return matches[0] if len(matches) == 1 else None


class ReadUrlList(beam.DoFn):
    """URL-list path -> (url, text); each bad line goes to the rejects output as "bad_url_line"."""

    def __init__(self, url_column: str = "url", text_column: str | None = None) -> None:
        self.url_column = url_column
        self.text_column = text_column
        self.rejects = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.rejects.flush()

    def process(self, path: str) -> Iterator[tuple[str, str | None]]:
        bad_lines: list[BadLine] = []
        rows = 0
        try:
            for row in read_url_list(path, self.url_column, self.text_column, on_bad_line=bad_lines.append):
                rows += 1
                self.rejects.count("urls_read")
                yield row
                yield from self._drop(bad_lines)
        except (ValueError, OSError, UnicodeDecodeError, pa.ArrowException) as error:
            yield from self._drop(bad_lines)
            yield self.rejects.drop(BAD_URL_LIST, path, f"{error} (after {rows} rows)")
            return
        yield from self._drop(bad_lines)
        self.rejects.count("lists_read")
        if rows == 0:
            self.rejects.count("empty_lists")

    def _drop(self, bad_lines: list[BadLine]) -> Iterator[beam.pvalue.TaggedOutput]:
        for bad in bad_lines:
            yield self.rejects.drop(BAD_URL_LINE, f"{bad.path}:{bad.line}", str(bad))
        bad_lines.clear()
