"""A web page as read from an archive, a file or the network, before any parsing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RawPage:
    url: str
    body: bytes
    content_type: str = ""  # the HTTP Content-Type header, charset included when the server sent one
    source: str = ""  # the WARC file, HTML file or URL list it came from
    record_id: str = ""
    crawl_time: str = ""
