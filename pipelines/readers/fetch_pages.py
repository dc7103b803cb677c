"""Fetching web pages politely in Beam: URL -> RawPage for HTML answers, a reject for everything else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import apache_beam as beam

from pipelines.fetch.http_client import FetchConfig, FetchResult, PoliteFetcher
from pipelines.readers.page import RawPage
from pipelines.readers.warc import is_html
from pipelines.rejects import Rejects

STAGE = "url_list"
_SNIFF_BYTES = 1024


def looks_like_html(result: FetchResult) -> bool:
    """Content-Type says HTML, or the body starts like an HTML document (servers often mislabel pages)."""
    if is_html(result.headers.get("content-type", "")):
        return True
    start = result.body[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html"))


class FetchPages(beam.DoFn):
    """URL -> RawPage for HTML answers; every failure is a reject named by the fetch status
    ("http_4xx", "blocked_address", "robots_disallowed", ...) or "not_html".

    The fetcher (connection pools, robots.txt cache, per-host politeness) is made in `setup`, so one
    serves every bundle a DoFn instance processes.
    """

    def __init__(self, config: FetchConfig) -> None:
        self.config = config
        self.rejects = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.rejects.flush()

    def setup(self) -> None:
        self.fetcher = PoliteFetcher(self.config)

    def teardown(self) -> None:
        self.fetcher.close()

    def process(self, url: str) -> Iterator[RawPage]:
        result = self.fetcher.fetch(url)
        if not result.ok:
            yield self.rejects.drop(result.status, url, result.error)
            return
        content_type = result.headers.get("content-type", "")
        if not looks_like_html(result):
            yield self.rejects.drop("not_html", url, f"{url}: Content-Type {content_type or 'missing'}, not HTML")
            return
        self.rejects.count("fetched")
        yield RawPage(
            url=result.final_url,
            body=result.body,
            content_type=content_type,
            source=url,
            crawl_time=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),  # as WARC-Date writes it
        )
