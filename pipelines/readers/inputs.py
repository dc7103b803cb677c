"""Every input kind -> RawPages: WARC files, saved HTML files and URL lists, told apart by name."""

from __future__ import annotations

from dataclasses import dataclass, field

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystems import FileSystems

from pipelines.fetch.http_client import FetchConfig
from pipelines.readers.html_files import ReadHtmlFiles
from pipelines.readers.url_list import FetchPages, ReadUrlList
from pipelines.readers.warc import DEFAULT_SPLIT_BYTES, ReadWarcPages
from pipelines.rejects import REJECTS

INPUT_FORMATS = ("warc", "html", "urls")
_SUFFIXES = {
    "warc": (".warc", ".warc.gz", ".arc", ".arc.gz"),
    "html": (".html", ".htm", ".xhtml", ".html.gz", ".htm.gz"),
    "urls": (".txt", ".tsv", ".csv", ".parquet", ".jsonl", ".txt.gz", ".tsv.gz", ".csv.gz", ".jsonl.gz"),
}


def input_format(pattern: str) -> str:
    name = pattern.lower()
    for kind, suffixes in _SUFFIXES.items():
        if name.endswith(suffixes):
            return kind
    raise ValueError(
        f"input {pattern!r}: cannot tell its format from the name; name it .warc[.gz], .html or a URL list "
        "(.txt/.tsv/.csv/.parquet/.jsonl), or pass --input_format"
    )


def check_inputs_exist(patterns: list[str]) -> None:
    """Fail fast, naming the pattern, before a job starts on inputs that are not there."""
    for pattern, result in zip(patterns, FileSystems.match(patterns), strict=True):
        if not result.metadata_list:
            raise FileNotFoundError(f"input {pattern!r} matches no file")


@dataclass(frozen=True)
class InputConfig:
    patterns: tuple[str, ...]
    input_format: str | None = None  # None: from each pattern's name
    html_base_url: str | None = None
    warc_split_bytes: int = DEFAULT_SPLIT_BYTES
    url_column: str = "url"
    fetch: FetchConfig = field(default_factory=FetchConfig)


class ReadPages(beam.PTransform):
    """PBegin -> {"pages": RawPage, "rejects": Reject} for every input pattern."""

    def __init__(self, config: InputConfig) -> None:
        super().__init__()
        self.config = config

    def expand(self, pbegin):
        by_format: dict[str, list[str]] = {}
        for pattern in self.config.patterns:
            by_format.setdefault(self.config.input_format or input_format(pattern), []).append(pattern)
        pages, rejects = [], []
        for kind, patterns in sorted(by_format.items()):
            paths = (
                pbegin
                | f"{kind}:Patterns" >> beam.Create(patterns)
                | f"{kind}:Match" >> fileio.MatchAll()
                | f"{kind}:Paths" >> beam.Map(lambda metadata: metadata.path)
            )
            kind_pages, kind_rejects = self._read(kind, paths)
            pages.append(kind_pages)
            rejects.extend(kind_rejects)
        return {
            "pages": pages | "FlattenPages" >> beam.Flatten(),
            REJECTS: rejects | "FlattenReadRejects" >> beam.Flatten(),
        }

    def _read(self, kind: str, paths):
        """-> (pages, [rejects])"""
        config, rejects = self.config, []
        if kind == "warc":
            reader = ReadWarcPages(config.warc_split_bytes, config.fetch.max_bytes)  # splits files itself
        elif kind == "html":
            paths = paths | "html:Spread" >> beam.Reshuffle()
            reader = ReadHtmlFiles(config.html_base_url, config.fetch.max_bytes)
        else:
            listed = paths | "urls:Read" >> beam.ParDo(ReadUrlList(config.url_column)).with_outputs(
                REJECTS, main="rows"
            )
            rejects.append(listed[REJECTS])
            paths = listed.rows | "urls:Urls" >> beam.Map(lambda row: row[0]) | "urls:Spread" >> beam.Reshuffle()
            reader = FetchPages(config.fetch)
        read = paths | f"{kind}:Pages" >> beam.ParDo(reader).with_outputs(REJECTS, main="pages")
        return read.pages, [read[REJECTS], *rejects]
