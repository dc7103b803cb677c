"""Reading saved HTML files (plain or compressed, any Beam FileSystems path) into RawPages."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipelines.readers.page import RawPage
from pipelines.rejects import Rejects

STAGE = "html_files"


def page_url_for(path: str, base_url: str | None) -> str:
    """The URL a saved page stands for: `base_url` + its file name, else the file's own URL."""
    if base_url:
        name = posixpath.basename(path)
        return urljoin(base_url, name.removesuffix(".gz"))
    return path if "://" in path else Path(path).resolve().as_uri()


class ReadHtmlFiles(beam.DoFn):
    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = base_url
        self.rejects = Rejects(STAGE)

    def process(self, path: str) -> Iterator[RawPage]:
        try:
            with FileSystems.open(path) as stream:  # compression from the extension (.gz, .bz2, ...)
                body = stream.read()
        except (OSError, EOFError) as error:
            yield self.rejects.drop("unreadable_file", path, f"{type(error).__name__}: {error}")
            return
        self.rejects.count("html_file")
        yield RawPage(url=page_url_for(path, self.base_url), body=body, source=path)
