"""Reading saved HTML files (plain or compressed, any Beam FileSystems path) into RawPages."""

from __future__ import annotations

import html
import lzma
import posixpath
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import apache_beam as beam

from pipelines.readers.capped import read_capped
from pipelines.readers.page import RawPage
from pipelines.readers.warc import DEFAULT_MAX_PAGE_BYTES
from pipelines.rejects import Rejects

STAGE = "html_files"
HEAD_BYTES = 64 << 10  # where a page names itself
_SAVED_FROM = re.compile(rb"<!--\s*saved from url=\(\d+\)(\S+?)\s*-->", re.I)
_CANONICAL = re.compile(rb"<link\b[^>]*\brel\s*=\s*[\"']?canonical\b[^>]*>", re.I)
_OG_URL = re.compile(rb"<meta\b[^>]*\bproperty\s*=\s*[\"']?og:url\b[^>]*>", re.I)
_HREF = re.compile(rb"\bhref\s*=\s*[\"']?([^\"'\s>]+)", re.I)
_CONTENT = re.compile(rb"\bcontent\s*=\s*[\"']?([^\"'\s>]+)", re.I)


def page_url_for(path: str, base_url: str | None, body: bytes = b"") -> str:
    """The URL a saved page stands for: `base_url` + its file name; else the URL the page names for
    itself (so that its relative links resolve); else the file's own URL."""
    if base_url:
        name = posixpath.basename(path)
        return urljoin(base_url, name.removesuffix(".gz"))
    return declared_url(body) or (path if "://" in path else Path(path).resolve().as_uri())


def declared_url(body: bytes) -> str | None:
    """The http(s) URL a saved page gives for itself, looked for in its head: the `<!-- saved from
    url=(NNNN)URL -->` comment browsers write, `<link rel=canonical>`, then `<meta property=og:url>`."""
    head = body[:HEAD_BYTES]
    saved = _SAVED_FROM.search(head)
    candidates = [saved.group(1)] if saved else []
    for tag, attribute in ((_CANONICAL, _HREF), (_OG_URL, _CONTENT)):
        found = tag.search(head)
        value = attribute.search(found.group(0)) if found else None
        if value:
            candidates.append(value.group(1))
    for candidate in candidates:
        url = html.unescape(candidate.decode("utf-8", "replace")).strip()
        if url.lower().startswith(("http://", "https://")):
            return url
    return None


class ReadHtmlFiles(beam.DoFn):
    def __init__(self, base_url: str | None = None, max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES) -> None:
        self.base_url = base_url
        self.max_page_bytes = max_page_bytes
        self.rejects = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.rejects.flush()

    def process(self, path: str) -> Iterator[RawPage]:
        try:
            body = read_capped(path, self.max_page_bytes)  # never more, however well it compresses
        except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as error:
            yield self.rejects.drop("unreadable_file", path, f"{type(error).__name__}: {error}")
            return
        if len(body) > self.max_page_bytes:
            yield self.rejects.drop("too_large", path, f"over {self.max_page_bytes} bytes once decompressed")
            return
        self.rejects.count("html_file")
        url = page_url_for(path, self.base_url, body)
        if not self.base_url:
            self.rejects.count("url_from_the_page" if url.startswith("http") else "url_from_the_path")
        yield RawPage(url=url, body=body, source=path)
