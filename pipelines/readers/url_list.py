"""URL lists (.txt, .csv/.tsv, .parquet, .jsonl; any Beam FileSystems path) and fetching their pages."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from pipelines.fetch.http_client import FetchConfig, PoliteFetcher
from pipelines.readers.page import RawPage
from pipelines.readers.warc import is_html
from pipelines.rejects import Rejects

STAGE = "url_list"


def read_url_list(
    path: str, url_column: str = "url", text_column: str | None = None
) -> Iterator[tuple[str, str | None]]:
    """(url, text) for every row with an http(s) URL; other rows are skipped."""
    name = path.lower().removesuffix(".gz")
    with FileSystems.open(path) as stream:
        if name.endswith(".parquet"):
            table = pq.read_table(io.BytesIO(stream.read()))
            if url_column not in table.column_names:
                raise ValueError(f"{path}: no column {url_column!r} (columns: {table.column_names})")
            urls = table.column(url_column).to_pylist()
            texts = table.column(text_column).to_pylist() if text_column else [None] * len(urls)
            rows = zip(urls, texts, strict=True)
        else:
            lines = io.TextIOWrapper(stream, encoding="utf-8", errors="replace")
            rows = _text_rows(path, name, lines, url_column, text_column)
        for url, text in rows:
            url = (url or "").strip()
            if url.startswith(("http://", "https://")):
                yield url, text


def _text_rows(path, name, lines, url_column, text_column):
    if name.endswith(".jsonl"):
        for line in lines:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict):
                yield row.get(url_column), row.get(text_column) if text_column else None
    elif name.endswith((".csv", ".tsv")):
        reader = csv.DictReader(lines, delimiter="\t" if name.endswith(".tsv") else ",")
        if url_column not in (reader.fieldnames or []):
            raise ValueError(f"{path}: no column {url_column!r} (columns: {reader.fieldnames})")
        for row in reader:
            yield row.get(url_column), row.get(text_column) if text_column else None
    else:
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#"):
                yield line, None


class FetchPages(beam.DoFn):
    """URL -> RawPage for HTML answers; every failure is a reject with its error class."""

    def __init__(self, config: FetchConfig) -> None:
        self.config = config
        self.rejects = Rejects(STAGE)

    def setup(self) -> None:
        self.fetcher = PoliteFetcher(self.config)

    def process(self, url: str) -> Iterator[RawPage]:
        result = self.fetcher.fetch(url)
        if not result.ok:
            yield self.rejects.drop(result.status, url, result.error)
            return
        content_type = result.headers.get("content-type", "")
        if not (is_html(content_type) or result.body[:512].lstrip().lower().startswith((b"<!doctype html", b"<html"))):
            yield self.rejects.drop("not_html", url, f"{url}: Content-Type {content_type or 'missing'}")
            return
        self.rejects.count("fetched")
        yield RawPage(url=result.final_url, body=result.body, content_type=content_type, source=url)
