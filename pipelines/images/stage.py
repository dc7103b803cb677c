"""The image stage as Beam transforms: each distinct URL fetched once, concurrently inside a worker,
processed, and joined back into the documents that use it.

    documents -> distinct image URLs -> (those the cache cannot answer, with --resume) -> batches
             -> fetch+process on a thread pool -> ImageResult (and into the cache)
             -> decontamination (given an index) -> repetition rule across documents
    documents + results -> documents keeping only their good images (with the JPEG bytes, in order)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import apache_beam as beam

from dedup.corpus import RepetitionRules
from pipelines.decontamination import DecontaminateImages, DecontaminationConfig
from pipelines.fetch.http_client import FetchConfig, PoliteFetcher
from pipelines.images.cache import ImageCache, ReuseCachedImages, WriteImageCache, cache_settings
from pipelines.images.processing import ImageRejected, ImageRules, process_image
from pipelines.images.repetition import MarkRepeatedImages
from pipelines.images.results import ImageResult
from pipelines.rejects import REJECTS, Rejects
from schemas import InterleavedDocument

STAGE = "images"
# Image downloads wait on the network, not the CPU: many per worker process.
DEFAULT_THREADS = 32


def fetch_and_process(url: str, fetcher: PoliteFetcher, rules: ImageRules) -> ImageResult:
    fetched = fetcher.fetch(url)
    if not fetched.ok:
        return ImageResult(url, fetched.status, fetched.error, http_status=fetched.http_status)
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

    def finish_bundle(self) -> Iterator:
        yield from self.counts.flush()

    def setup(self) -> None:
        self.fetcher = PoliteFetcher(self.fetch)
        self.pool = ThreadPoolExecutor(self.threads, thread_name_prefix="fetch-images")

    def teardown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def process(self, urls: list[str]) -> Iterator[ImageResult]:
        for result in self.pool.map(lambda url: fetch_and_process(url, self.fetcher, self.rules), urls):
            self.counts.count("ok" if result.status == "ok" else f"dropped_{result.status}")
            yield result


@dataclass(frozen=True)
class ImageStage:
    """Everything the image stage does after a URL is fetched."""

    rules: ImageRules = ImageRules()
    decontamination: DecontaminationConfig | None = None  # None: no benchmark index given
    repetition: RepetitionRules = RepetitionRules()
    cache: ImageCache | None = None  # None: neither read nor written

    @property
    def processing_rules(self) -> ImageRules:
        """The rules images are processed by: with a benchmark index, the whole picture is kept too,
        for the search (a cropped or padded training image is not what a benchmark copy looks like)."""
        return replace(self.rules, keep_whole_for_search=self.decontamination is not None)


class FetchDocumentImages(beam.PTransform):
    """Documents -> {"documents": (InterleavedDocument, [JPEG bytes]), "results": ImageResult, "rejects"}.

    Each distinct URL is fetched once however many documents use it. Images that fail vanish from
    their documents with their tokens; a document left with no image is rejected unless allowed.
    """

    def __init__(
        self, fetch: FetchConfig, stage: ImageStage, keep_documents_without_images: bool = False, batch_size: int = 64
    ) -> None:
        super().__init__()
        self.fetch = fetch
        self.stage = stage
        self.keep_documents_without_images = keep_documents_without_images
        self.batch_size = batch_size

    def expand(self, documents):
        urls = documents | "ImageUrls" >> beam.FlatMap(document_image_urls)
        fetched = urls | "Fetch" >> FetchCleanImages(self.fetch, self.stage, self.batch_size)
        attached = {"documents": documents, "results": fetched["results"]} | "Attach" >> AttachDocumentImages(
            self.stage.repetition, self.keep_documents_without_images
        )
        rejects = (fetched[REJECTS], attached[REJECTS]) | "Rejects" >> beam.Flatten()
        return {**attached, REJECTS: rejects}


def document_image_urls(document: InterleavedDocument) -> set[str]:
    return {image.url for image in document.images}


class AttachDocumentImages(beam.PTransform):
    """{"documents", "results": ImageResult for (at least) their image URLs} -> the documents with
    their good images, as FetchDocumentImages returns them; results may be shared with other users
    (the pairs of `curate run`), the repetition rule counts documents only."""

    def __init__(self, repetition: RepetitionRules, keep_documents_without_images: bool = False) -> None:
        super().__init__()
        self.repetition = repetition
        self.keep_documents_without_images = keep_documents_without_images

    def expand(self, inputs):
        documents = inputs["documents"]
        uses = documents | "UsesByUrl" >> beam.FlatMap(lambda doc: ((image.url, doc.doc_id) for image in doc.images))
        marked = {"uses": uses, "results": inputs["results"]} | "RepetitionRule" >> MarkRepeatedImages(self.repetition)
        results = marked["results"]
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
        rejects = (marked[REJECTS], joined[REJECTS]) | "Rejects" >> beam.Flatten()
        return {"documents": joined.documents, "results": results, REJECTS: rejects}


class FetchCleanImages(beam.PTransform):
    """Image URLs -> {"results": one ImageResult per distinct URL, REJECTS}: fetched, processed and,
    given an index, searched against the benchmarks (contaminated ones get status "contaminated")."""

    def __init__(self, fetch: FetchConfig, stage: ImageStage, batch_size: int = 64) -> None:
        super().__init__()
        self.fetch = fetch
        self.stage = stage
        self.batch_size = batch_size

    def expand(self, urls):
        rules = self.stage.processing_rules
        cache, settings = self.stage.cache, cache_settings(self.fetch, rules)
        to_fetch, reused, accounts = urls | "DistinctUrls" >> beam.Distinct(), [], []
        if cache is not None and cache.resume:
            split = to_fetch | "Cache" >> ReuseCachedImages(cache.folder, settings)
            to_fetch, reused, accounts = split.fetch, [split.reused], [split[REJECTS]]
        fetched = (
            to_fetch
            | "Spread" >> beam.Reshuffle()
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self.batch_size)
            | "FetchAndProcess" >> beam.ParDo(FetchImages(self.fetch, rules)).with_outputs(REJECTS, main="results")
        )
        accounts.append(fetched[REJECTS])
        if cache is not None and cache.write:
            cached = fetched.results | "IntoCache" >> beam.ParDo(WriteImageCache(cache.folder, settings)).with_outputs(
                REJECTS, main="nothing"
            )
            accounts.append(cached[REJECTS])
        results = [fetched.results, *reused] | "FetchedAndReused" >> beam.Flatten()
        if self.stage.decontamination is not None:
            checked = results | "Decontaminate" >> DecontaminateImages(self.stage.decontamination)
            results = checked["results"]
            accounts.append(checked[REJECTS])
        return {"results": results, REJECTS: accounts | "Accounts" >> beam.Flatten()}


def _results_per_document(joined: tuple[str, dict]) -> Iterator[tuple[str, ImageResult]]:
    _, groups = joined
    for result in groups["result"]:
        for doc_id in set(groups["uses"]):
            yield doc_id, result


class _KeepGoodImages(beam.DoFn):
    def __init__(self, keep_documents_without_images: bool) -> None:
        self.keep_documents_without_images = keep_documents_without_images
        self.rejects = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.rejects.flush()

    def process(self, joined: tuple[str, dict]) -> Iterator[tuple[InterleavedDocument, list[bytes]]]:
        _, groups = joined
        (document,) = groups["document"]
        good = _first_copy_per_document(document, _ok(groups["image"]))
        kept = document.keep_images({url: result.info() for url, result in good.items()})
        if not kept.images and not self.keep_documents_without_images:
            yield self.rejects.drop("no_images_after_fetch", document.url, "every image failed or was filtered")
            return
        self.rejects.count("documents_with_images")
        yield kept, [good[image.url].image.jpeg for image in kept.images]


def _ok(results: Iterable[ImageResult]) -> Iterator[ImageResult]:
    return (r for r in results if r.status == "ok")


def _first_copy_per_document(document: InterleavedDocument, results: Iterable[ImageResult]) -> dict[str, ImageResult]:
    """URL -> result for the document's good images, keeping only the first of byte-identical copies."""
    by_url = {result.url: result for result in results}
    good, seen = {}, set()
    for image in document.images:
        result = by_url.get(image.url)
        if result is not None and result.image.sha256 not in seen:
            seen.add(result.image.sha256)
            good[image.url] = result
    return good
