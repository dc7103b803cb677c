"""The image stage as Beam transforms: each distinct URL fetched once, concurrently inside a worker,
processed, and joined back into the documents that use it.

    documents -> distinct image URLs -> batches -> fetch+process on a thread pool -> ImageResult
    documents + results -> documents keeping only their good images (with the JPEG bytes, in order)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import apache_beam as beam

from pipelines.fetch.http_client import FetchConfig, PoliteFetcher
from pipelines.images.processing import ImageRejected, ImageRules, ProcessedImage, process_image
from pipelines.rejects import REJECTS, Rejects
from schemas import ImageInfo, InterleavedDocument

STAGE = "images"
# Image downloads wait on the network, not the CPU: many per worker process.
DEFAULT_THREADS = 32


@dataclass(frozen=True)
class ImageResult:
    url: str
    status: str  # "ok", or the fetch error class / the processing rejection reason
    detail: str = ""
    image: ProcessedImage | None = None

    def info(self) -> ImageInfo:
        assert self.image is not None
        return ImageInfo(
            sha256=self.image.sha256,
            width=self.image.width,
            height=self.image.height,
            original_width=self.image.original_width,
            original_height=self.image.original_height,
            phash=self.image.phash,
        )


def fetch_and_process(url: str, fetcher: PoliteFetcher, rules: ImageRules) -> ImageResult:
    fetched = fetcher.fetch(url)
    if not fetched.ok:
        return ImageResult(url, fetched.status, fetched.error)
    try:
        return ImageResult(url, "ok", image=process_image(fetched.body, rules))
    except ImageRejected as rejected:
        return ImageResult(url, rejected.reason, f"{url}: {rejected.detail}")


class FetchImages(beam.DoFn):
    """A batch of URLs -> one ImageResult per URL, fetched on a thread pool shared per worker."""

    def __init__(self, fetch: FetchConfig, rules: ImageRules, threads: int = DEFAULT_THREADS) -> None:
        self.fetch = fetch
        self.rules = rules
        self.threads = threads
        self.counts = Rejects(STAGE)

    def setup(self) -> None:
        self.fetcher = PoliteFetcher(self.fetch)
        self.pool = ThreadPoolExecutor(self.threads, thread_name_prefix="fetch-images")

    def teardown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def process(self, urls: list[str]) -> Iterator[ImageResult]:
        for result in self.pool.map(lambda url: fetch_and_process(url, self.fetcher, self.rules), urls):
            self.counts.count("ok" if result.status == "ok" else f"dropped_{result.status}")
            yield result


class FetchDocumentImages(beam.PTransform):
    """Documents -> {"documents": (InterleavedDocument, [JPEG bytes]), "results": ImageResult, "rejects"}.

    Each distinct URL is fetched once however many documents use it. Images that fail vanish from
    their documents with their tokens; a document left with no image is rejected unless allowed.
    """

    def __init__(
        self, fetch: FetchConfig, rules: ImageRules, keep_documents_without_images: bool = False, batch_size: int = 64
    ) -> None:
        super().__init__()
        self.fetch = fetch
        self.rules = rules
        self.keep_documents_without_images = keep_documents_without_images
        self.batch_size = batch_size

    def expand(self, documents):
        results = (
            documents
            | "ImageUrls" >> beam.FlatMap(lambda doc: {image.url for image in doc.images})
            | "DistinctUrls" >> beam.Distinct()
            | "Spread" >> beam.Reshuffle()
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self.batch_size)
            | "FetchAndProcess" >> beam.ParDo(FetchImages(self.fetch, self.rules))
        )
        uses = documents | "UsesByUrl" >> beam.FlatMap(lambda doc: ((image.url, doc.doc_id) for image in doc.images))
        per_document = (
            {"uses": uses, "result": results | "ResultByUrl" >> beam.Map(lambda r: (r.url, r))}
            | "JoinByUrl" >> beam.CoGroupByKey()
            | "ResultsToDocuments" >> beam.FlatMap(_results_per_document)
        )
        joined = (
            {"document": documents | "DocById" >> beam.Map(lambda d: (d.doc_id, d)), "image": per_document}
            | "JoinById" >> beam.CoGroupByKey()
            | "KeepGoodImages"
            >> beam.ParDo(_KeepGoodImages(self.keep_documents_without_images)).with_outputs(REJECTS, main="documents")
        )
        return {"documents": joined.documents, "results": results, REJECTS: joined[REJECTS]}


def _results_per_document(joined: tuple[str, dict]) -> Iterator[tuple[str, ImageResult]]:
    _, groups = joined
    for result in groups["result"]:
        for doc_id in set(groups["uses"]):
            yield doc_id, result


class _KeepGoodImages(beam.DoFn):
    def __init__(self, keep_documents_without_images: bool) -> None:
        self.keep_documents_without_images = keep_documents_without_images
        self.rejects = Rejects(STAGE)

    def process(self, joined: tuple[str, dict]) -> Iterator[tuple[InterleavedDocument, list[bytes]]]:
        _, groups = joined
        (document,) = groups["document"]
        good = {r.url: r for r in _ok(groups["image"])}
        kept = document.keep_images({url: result.info() for url, result in good.items()})
        if not kept.images and not self.keep_documents_without_images:
            yield self.rejects.drop("no_images_after_fetch", document.url, "every image failed or was filtered")
            return
        self.rejects.count("documents_with_images")
        yield kept, [good[image.url].image.jpeg for image in kept.images]


def _ok(results: Iterable[ImageResult]) -> Iterator[ImageResult]:
    return (r for r in results if r.status == "ok")
