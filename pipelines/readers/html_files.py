"""Reading saved HTML files (plain or compressed, any Beam FileSystems path) into RawPages."""

from __future__ import annotations

import lzma
import posixpath
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


def page_url_for(path: str, base_url: str | None) -> str:
    """The URL a saved page stands for: `base_url` + its file name, else the file's own URL."""
    if base_url:
        name = posixpath.basename(path)
        return urljoin(base_url, name.removesuffix(".gz"))
    return path if "://" in path else Path(path).resolve().as_uri()


class ReadHtmlFiles(beam.DoFn):
    def __init__(self, base_url: str | None = None, max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES) -> None:
        self.base_url = base_url
        self.max_page_bytes = max_page_bytes
        self.rejects = Rejects(STAGE)

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
        yield RawPage(url=page_url_for(path, self.base_url), body=body, source=path)
