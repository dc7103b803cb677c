"""Decontamination as Beam transforms: every image and every video frame searched against the
benchmark index, its best match recorded, and matches at or above the threshold dropped and reported.

The index is loaded once per worker process (shared by every DoFn instance and thread there) from
any Beam FileSystems path, so a Dataflow job can read it from gs://.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.utils.shared import Shared
from PIL import Image

from dedup.index import BenchmarkIndex, Match, check_index_files
from pipelines.images.results import ImageResult
from pipelines.rejects import REJECTS, Rejects
from schemas import VideoTextPair

STAGE = "contamination"
CONTAMINATED = "contaminated"
MATCHES = "matches"


@dataclass(frozen=True)
class DecontaminationConfig:
    index: str  # folder of a BenchmarkIndex (`curate index build`), local or any FileSystems path
    threshold: float | None = None  # None: the index's calibrated threshold, else its embedder's default
    batch_size: int = 64


class _SharedIndex:
    """A weak-referenceable holder, as beam.utils.shared requires."""

    def __init__(self, index: BenchmarkIndex) -> None:
        self.index = index


def load_index(path: str) -> BenchmarkIndex:
    return BenchmarkIndex.load(path, open_file=FileSystems.open)


def check_index(path: str) -> None:
    """Fail at launch, not on a worker: the index's files, format version, embedder (its weights) and
    their agreement are checked here, without reading the index itself, which only the workers need."""
    check_index_files(path, FileSystems.open)


def match_jpegs(index: BenchmarkIndex, jpegs: Sequence[bytes]) -> list[Match | None]:
    images = []
    for jpeg in jpegs:
        with Image.open(io.BytesIO(jpeg)) as image:
            images.append(image.convert("RGB"))
    return index.match_images(images)


class _IndexDoFn(beam.DoFn):
    def __init__(self, config: DecontaminationConfig, shared: Shared) -> None:
        self.config = config
        self.shared = shared
        self.counts = Rejects(STAGE)

    def setup(self) -> None:
        self.index = self.shared.acquire(
            lambda: _SharedIndex(load_index(self.config.index)), tag=self.config.index
        ).index
        self.threshold = self.config.threshold if self.config.threshold is not None else self.index.threshold

    def contaminated(self, match: Match | None) -> bool:
        return match is not None and match.score >= self.threshold


class MarkImageResults(_IndexDoFn):
    """A batch of ImageResults -> the same results with their best match; contaminated ones change
    status to "contaminated", and their match goes to the MATCHES output for the per-item report."""

    def process(self, results: list[ImageResult]) -> Iterator:
        by_url = {r.url: self.index.match_exact(r.image.sha256) for r in results if r.status == "ok"}
        to_search = [r for r in results if r.status == "ok" and by_url[r.url] is None]
        if to_search:
            by_url.update(
                zip(
                    (r.url for r in to_search),
                    match_jpegs(self.index, [r.image.search_jpeg for r in to_search]),
                    strict=True,
                )
            )
        for result in results:
            if result.status != "ok":
                yield result
                continue
            match = by_url[result.url]
            marked = replace(
                result,
                image=replace(result.image, whole_jpeg=None),  # searched: only the training image goes on
                dedup_score=round(match.score, 4) if match else None,
                dedup_match=match.label if match else None,
            )
            if self.contaminated(match):
                self.counts.count(f"{match.benchmark}_training_images")
                self.counts.count("dropped_images")
                yield beam.pvalue.TaggedOutput(MATCHES, (match.benchmark, match.label))
                yield replace(
                    marked, status=CONTAMINATED, detail=f"{result.url}: {match.label} score {match.score:.3f}"
                )
            else:
                self.counts.count("clean_images")
                yield marked


class MarkClips(_IndexDoFn):
    """(VideoTextPair, frames) -> the same with the best match over its frames; a contaminated clip
    is a reject, and its match goes to the MATCHES output."""

    def process(self, clip_and_frames: tuple[VideoTextPair, list[bytes]]) -> Iterator:
        clip, frames = clip_and_frames
        matches = [m for m in match_jpegs(self.index, frames) if m is not None]
        best = max(matches, key=lambda m: m.score, default=None)
        marked = replace(
            clip, dedup_score=round(best.score, 4) if best else None, dedup_match=best.label if best else None
        )
        if self.contaminated(best):
            self.counts.count(f"{best.benchmark}_training_clips")
            yield beam.pvalue.TaggedOutput(MATCHES, (best.benchmark, best.label))
            yield self.counts.drop(
                CONTAMINATED, clip.url, f"{best.label} score {best.score:.3f} (clip at {clip.start:g} s)"
            )
        else:
            self.counts.count("clean_clips")
            yield marked, frames


class _CountBenchmarkItems(beam.DoFn):
    def __init__(self) -> None:
        self.counts = Rejects(STAGE)

    def process(self, found: tuple[str, str]) -> None:
        self.counts.count(f"{found[0]}_benchmark_items")


class DecontaminateImages(beam.PTransform):
    """ImageResults -> ImageResults, marked; contaminated ones get status "contaminated".

    Counters (stage "contamination"): BENCHMARK_training_images (training images dropped for it),
    BENCHMARK_benchmark_items (distinct benchmark items found in the training data), clean_images.
    """

    def __init__(self, config: DecontaminationConfig) -> None:
        super().__init__()
        self.config = config

    def expand(self, results):
        marked = (
            results
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self.config.batch_size)
            | "Search" >> beam.ParDo(MarkImageResults(self.config, Shared())).with_outputs(MATCHES, main="results")
        )
        _ = marked[MATCHES] | "DistinctItems" >> beam.Distinct() | "CountItems" >> beam.ParDo(_CountBenchmarkItems())
        return marked.results


class DecontaminateClips(beam.PTransform):
    """(VideoTextPair, frames) -> {"clips": the clean ones, marked, "rejects": the contaminated ones}.

    Counters as for images: BENCHMARK_training_clips and BENCHMARK_benchmark_items.
    """

    def __init__(self, config: DecontaminationConfig) -> None:
        super().__init__()
        self.config = config

    def expand(self, clips):
        marked = clips | "SearchFrames" >> beam.ParDo(MarkClips(self.config, Shared())).with_outputs(
            MATCHES, REJECTS, main="clips"
        )
        _ = marked[MATCHES] | "DistinctItems" >> beam.Distinct() | "CountItems" >> beam.ParDo(_CountBenchmarkItems())
        return {"clips": marked.clips, REJECTS: marked[REJECTS]}


def contamination_report(stage_counters: dict[str, int]) -> dict[str, dict[str, int]]:
    """The "contamination" section of stats.json from the stage's counters, per benchmark."""
    report: dict[str, dict[str, int]] = {}
    for name, value in stage_counters.items():
        for suffix in ("_training_images", "_training_clips", "_benchmark_items"):
            if name.endswith(suffix):
                found = report.setdefault(name.removesuffix(suffix), {"training_images": 0, "benchmark_items": 0})
                found[suffix.removeprefix("_")] = value
    return dict(sorted(report.items()))
