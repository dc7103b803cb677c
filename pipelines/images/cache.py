"""A content cache of fetched images keyed by URL, so that a rerun (`--resume`) fetches only what it
has to: `OUTPUT/images/cache/part-*.parquet`, one row per URL fetched, with its status and, when it
came out usable, the processed JPEG and its hashes.

Parts are written while the run goes (every `FLUSH_EVERY` results, and at the end of each bundle),
so a run that is killed keeps what it fetched. A row is reused only when it was made under the same
settings (the image rules and the fetch settings that change an outcome: a row made with a larger
byte cap is not an answer for a smaller one) and when fetching again could not change it: an image
that came out usable or was rejected for its pixels, a 4xx other than 408 and 429, a malformed URL,
an opt-out. Timeouts, connection and DNS errors, 5xx, 408, 429 and anything the address or robots
rules refused are fetched again. Decontamination and the repetition rule run on reused images as on
fetched ones, so a resumed run writes what a fresh run would.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from pipelines.fetch.http_client import FetchConfig
from pipelines.images.processing import PROCESSING_VERSION, ImageRules, ProcessedImage
from pipelines.images.results import ImageResult
from pipelines.rejects import REJECTS, Rejects
from pipelines.sinks.atomic import atomic_file

IMAGE_CACHE_DIR = "images/cache"
FLUSH_EVERY = 256
STAGE = "image_cache"
_REUSED_FAILURES = frozenset(
    {"http_4xx", "bad_url", "opted_out",  # the server's or the URL's own answer
     "too_small", "aspect_ratio", "single_colour", "decompression_bomb", "truncated_or_corrupt"}  # the pixels'
)  # fmt: skip
_RETRIED_HTTP = frozenset({408, 429})  # 4xx that say "later", not "no"

SCHEMA = pa.schema(
    [
        ("url", pa.string()),
        ("settings", pa.string()),
        ("status", pa.string()),
        ("detail", pa.string()),
        ("http_status", pa.int32()),
        ("jpeg", pa.binary()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("original_width", pa.int32()),
        ("original_height", pa.int32()),
        ("sha256", pa.string()),
        ("phash", pa.string()),
        ("whole_jpeg", pa.binary()),
    ]
)


@dataclass(frozen=True)
class ImageCache:
    folder: str  # OUTPUT/images/cache
    write: bool = True  # add what this run fetches
    resume: bool = False  # reuse what earlier runs fetched


def cache_settings(fetch: FetchConfig, rules: ImageRules) -> str:
    """A digest of everything that decides a cached row's outcome besides the URL."""
    decisive = (PROCESSING_VERSION, rules, fetch.max_bytes, fetch.honour_x_robots_tag, fetch.mirror)
    return hashlib.sha256(repr(decisive).encode()).hexdigest()[:16]


def reusable(result: ImageResult) -> bool:
    if result.status == "ok":
        return True
    return result.status in _REUSED_FAILURES and result.http_status not in _RETRIED_HTTP


class WriteImageCache(beam.DoFn):
    """ImageResults as fetched -> cache parts; outputs only its counts."""

    def __init__(self, folder: str, settings: str) -> None:
        self.folder = folder
        self.settings = settings
        self.counts = Rejects(STAGE)

    def start_bundle(self) -> None:
        self.rows: list[dict] = []

    def process(self, result: ImageResult) -> None:
        self.rows.append(_row(result, self.settings))
        if len(self.rows) >= FLUSH_EVERY:
            self._flush()

    def finish_bundle(self) -> Iterator:
        self._flush()
        yield from self.counts.flush()

    def _flush(self) -> None:
        if not self.rows:
            return
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(self.rows, schema=SCHEMA), buffer)
        with atomic_file(FileSystems.join(self.folder, f"part-{uuid.uuid4().hex}.parquet")) as out:
            out.write(buffer.getvalue())
        self.counts.count("written", len(self.rows))
        self.rows = []


class ReuseCachedImages(beam.PTransform):
    """Distinct URLs -> {"fetch": URLs to fetch, "reused": ImageResults from the cache, REJECTS: counts}."""

    def __init__(self, folder: str, settings: str) -> None:
        super().__init__()
        self.folder = folder
        self.settings = settings

    def expand(self, urls):
        cached = (
            urls.pipeline
            | "CachePattern" >> beam.Create([FileSystems.join(self.folder, "part-*.parquet")])
            | "CacheParts" >> beam.FlatMap(_matching_paths)
            | "SpreadParts" >> beam.Reshuffle()
            | "CachedRows" >> beam.FlatMap(_reusable_results, self.settings)
        )
        return (
            {"wanted": urls | "Wanted" >> beam.Map(lambda url: (url, None)), "cached": cached}
            | "JoinCache" >> beam.CoGroupByKey()
            | "FetchOrReuse" >> beam.ParDo(_FetchOrReuse()).with_outputs("reused", REJECTS, main="fetch")
        )


class _FetchOrReuse(beam.DoFn):
    def __init__(self) -> None:
        self.counts = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.counts.flush()

    def process(self, joined: tuple[str, dict]) -> Iterator:
        url, groups = joined
        if not list(groups["wanted"]):
            return
        cached = sorted(groups["cached"], key=_preference)
        if cached:
            self.counts.count("reused")
            yield beam.pvalue.TaggedOutput("reused", cached[0])
        else:
            yield url


def _preference(result: ImageResult) -> tuple:
    """Among rows of one URL (one per run that fetched it): a usable image first, then any, stably."""
    return (result.status != "ok", result.status, result.image.sha256 if result.image else "", result.detail)


def _matching_paths(pattern: str) -> list[str]:
    return [metadata.path for metadata in FileSystems.match([pattern])[0].metadata_list]


def _reusable_results(path: str, settings: str) -> Iterator[tuple[str, ImageResult]]:
    with FileSystems.open(path) as handle:
        table = pq.read_table(io.BytesIO(handle.read()))
    for row in table.to_pylist():
        if row["settings"] == settings:
            result = _result(row)
            if reusable(result):
                yield result.url, result


def _row(result: ImageResult, settings: str) -> dict:
    image = result.image
    row = {
        "url": result.url,
        "settings": settings,
        "status": result.status,
        "detail": result.detail,
        "http_status": result.http_status,
    }
    if image is not None:
        row |= {
            "jpeg": image.jpeg,
            "width": image.width,
            "height": image.height,
            "original_width": image.original_width,
            "original_height": image.original_height,
            "sha256": image.sha256,
            "phash": image.phash,
            "whole_jpeg": image.whole_jpeg,
        }
    return row


def _result(row: dict) -> ImageResult:
    image = None
    if row["jpeg"] is not None:
        image = ProcessedImage(
            jpeg=row["jpeg"],
            width=row["width"],
            height=row["height"],
            original_width=row["original_width"],
            original_height=row["original_height"],
            sha256=row["sha256"],
            phash=row["phash"],
            whole_jpeg=row.get("whole_jpeg"),  # absent from parts written before it existed
        )
    return ImageResult(row["url"], row["status"], row["detail"] or "", image=image, http_status=row["http_status"])
