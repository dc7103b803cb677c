"""The whole curation as one Beam DAG:

    pages ─┬─ M3W documents ──────────────┐
           ├─ pair candidates ─ caption rules ─┤─ image URLs ─ fetched once ─ decontamination ─┬─ documents + images ─ m3w/ shards
           │                                 │                                              └─ pairs + images ───── pairs/ shards
           └─ videos ─ yt-dlp ─ 1-FPS frames ─ decontamination ─────────────────────────────────────────────────── video/ shards

with the within-corpus repetition rule applied per use (documents, pairs), image status per URL,
rejects with their reasons, and the manifest parts written beside the shards. Every stage reports its
rejects and counts on one output (`REJECTS`), which `FinishRun` totals into stats.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import apache_beam as beam

from dedup.corpus import RepetitionRules
from pipelines import job
from pipelines.fetch.http_client import FetchConfig
from pipelines.filters.image_urls import ImageUrlRules
from pipelines.images.stage import AttachDocumentImages, FetchCleanImages, ImageStage, document_image_urls
from pipelines.m3w.document import M3WConfig
from pipelines.m3w.transforms import PagesToDocuments
from pipelines.pairs.candidates import pair
from pipelines.pairs.captions import CaptionRules
from pipelines.pairs.transforms import AttachPairImages, ExtractPairs, SelectPairs
from pipelines.readers.inputs import InputConfig, ReadPages
from pipelines.readers.url_list import ReadUrlList
from pipelines.rejects import REJECTS
from pipelines.sinks.shards import DEFAULT_TARGET_BYTES, WriteShards
from pipelines.video.candidates import page_videos
from pipelines.video.config import VideoJob, VideoLists
from pipelines.video.transforms import BuildVideoPairs
from schemas.samples import document_to_sample, pair_to_sample, video_to_sample

DATASETS: tuple[str, ...] = ("m3w", "pairs", "video")


@dataclass(frozen=True)
class PairLists:
    paths: tuple[str, ...] = ()
    url_column: str = "url"
    caption_column: str = "caption"

    def candidate(self, url: str, caption: str | None):
        return pair(url, caption or "", "alt")


@dataclass(frozen=True)
class Sharding:
    target_bytes: int | None = DEFAULT_TARGET_BYTES
    target_samples: int | None = None


@dataclass(frozen=True)
class RunConfig:
    inputs: InputConfig | None  # None: only lists of pairs and videos
    output: str
    fetch: FetchConfig  # for images
    m3w: M3WConfig = field(default_factory=M3WConfig)
    captions: CaptionRules = field(default_factory=CaptionRules)
    images: ImageStage = field(default_factory=ImageStage)
    pair_repetition: RepetitionRules = field(default_factory=lambda: RepetitionRules(max_uses_per_image=1000))
    videos: VideoJob | None = None  # None: no video dataset
    pair_lists: PairLists = field(default_factory=PairLists)
    video_lists: VideoLists = field(default_factory=VideoLists)
    datasets: tuple[str, ...] = DATASETS
    overwrite: bool = False  # replace an earlier run's shards of datasets this run does not build
    sharding: Sharding = field(default_factory=Sharding)


class CurateAll(beam.PTransform):
    """pipeline root -> shards of every dataset kind under config.output; outputs {"accounts": every
    stage's rejects and counts, "written": the paths of the image status files}."""

    def __init__(self, config: RunConfig, run_id: str) -> None:
        super().__init__()
        self.config = config
        self.run_id = run_id  # in the names of its shards

    def expand(self, root):
        config, rejects, written = self.config, [], []
        pages = None
        if config.inputs is not None:
            read = root | "ReadPages" >> ReadPages(config.inputs)
            pages, rejects = read["pages"], [read[REJECTS]]
        documents = pairs = None
        if "m3w" in config.datasets and pages is not None:
            extracted = pages | "M3W" >> PagesToDocuments(config.m3w)
            documents = extracted["documents"]
            rejects.append(extracted[REJECTS])
        if "pairs" in config.datasets and (pages is not None or config.pair_lists.paths):
            selected = self._pair_candidates(root, pages, config.m3w.images, rejects) | "SelectPairs" >> SelectPairs(
                config.captions
            )
            pairs = selected["pairs"]
            rejects.append(selected[REJECTS])
        if documents is not None or pairs is not None:
            rejects += self._images(documents, pairs, written)
        if "video" in config.datasets and config.videos is not None and (pages is not None or config.video_lists.paths):
            rejects.extend(self._videos(root, pages))
        return {
            "accounts": rejects | "AllRejects" >> beam.Flatten(),
            "written": written | "AllWritten" >> beam.Flatten(pipeline=root.pipeline),
        }

    def _pair_candidates(self, root, pages, url_rules: ImageUrlRules, rejects: list):
        sources = []
        if pages is not None:
            extracted = pages | "ExtractPairs" >> beam.ParDo(ExtractPairs(url_rules)).with_outputs(
                REJECTS, main="pairs"
            )
            sources.append(extracted.pairs)
            rejects.append(extracted[REJECTS])
        lists = self.config.pair_lists
        if lists.paths:
            rows = _read_lists(root, "Pair", lists.paths, lists.url_column, lists.caption_column, rejects)
            sources.append(rows | "PairListCandidates" >> beam.MapTuple(lists.candidate))
        return sources | "PairCandidates" >> beam.Flatten()

    def _images(self, documents, pairs, written: list) -> list:
        """Every image URL of documents and pairs fetched once; each dataset then takes its own. The
        image status files go to `written`; returns the accounts."""
        config, urls, rejects = self.config, [], []
        if documents is not None:
            urls.append(documents | "DocumentImageUrls" >> beam.FlatMap(document_image_urls))
        if pairs is not None:
            urls.append(pairs | "PairImageUrls" >> beam.Map(lambda p: p.url))
        fetched = (urls | "AllImageUrls" >> beam.Flatten()) | "Images" >> FetchCleanImages(config.fetch, config.images)
        results = fetched["results"]
        rejects.append(fetched[REJECTS])
        written.append(job.write_image_status(results, config.output, num_shards=1))
        if documents is not None:
            attached = {"documents": documents, "results": results} | "DocumentImages" >> AttachDocumentImages(
                config.images.repetition, config.m3w.keep_documents_without_images
            )
            rejects.append(attached[REJECTS])
            samples = attached["documents"] | "DocumentSamples" >> beam.MapTuple(document_to_sample)
            rejects.append(self._write(samples, "m3w"))
        if pairs is not None:
            attached = {"pairs": pairs, "results": results} | "PairImages" >> AttachPairImages(config.pair_repetition)
            rejects.append(attached[REJECTS])
            rejects.append(self._write(attached["pairs"] | "PairSamples" >> beam.MapTuple(pair_to_sample), "pairs"))
        return rejects

    def _videos(self, root, pages) -> list:
        config, sources, list_rejects = self.config, [], []
        if pages is not None:
            sources.append(pages | "PageVideos" >> beam.FlatMap(page_videos))
        lists = config.video_lists
        if lists.paths:
            rows = _read_lists(root, "Video", lists.paths, lists.url_column, lists.text_column, list_rejects)
            sources.append(rows | "VideoListCandidates" >> beam.MapTuple(lists.candidate))
        videos = config.videos
        built = (sources | "VideoCandidates" >> beam.Flatten()) | "Videos" >> BuildVideoPairs(
            videos.download, videos.clips, videos.decontamination, videos.threads
        )
        shard_counts = self._write(built["clips"] | "VideoSamples" >> beam.MapTuple(video_to_sample), "video")
        return [built[REJECTS], shard_counts, *list_rejects]

    def _write(self, samples, kind_dir: str):
        """The shards written; outputs their counts."""
        sharding = self.config.sharding
        written = samples | f"Write{kind_dir.title()}Shards" >> WriteShards(
            self.config.output, kind_dir, self.run_id, sharding.target_bytes, sharding.target_samples
        )
        return written[REJECTS]


def _read_lists(root, name: str, paths: tuple[str, ...], url_column: str, text_column: str, rejects: list):
    """(url, text) rows of the lists at `paths`; their rejects (bad lines, unreadable lists) join `rejects`."""
    listed = (
        root
        | f"{name}Lists" >> beam.Create(paths)
        | f"Read{name}Lists" >> beam.ParDo(ReadUrlList(url_column, text_column)).with_outputs(REJECTS, main="rows")
    )
    rejects.append(listed[REJECTS])
    return listed.rows
