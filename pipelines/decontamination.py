"""Decontamination as Beam transforms: every image and every video frame searched against the
benchmark index and decided in two stages (dedup/verification.py: a near-exact score is a copy,
a candidate is verified with local features), its best match recorded, and copies dropped and
reported, each with a thumbnail pair for stats.json and `curate report`.

The index is loaded once per worker process (shared by every DoFn instance and thread there) from
any Beam FileSystems path, so a Dataflow job can read it from gs://.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.utils.shared import Shared
from PIL import Image
from threadpoolctl import threadpool_limits

from dedup.feature_store import thumbnail_jpeg
from dedup.index import BenchmarkIndex, Match, check_index_files
from dedup.verification import CopyDetector, Decision, Thresholds
from pipelines.images.results import ImageResult
from pipelines.rejects import REJECTS, Rejects, StageCounts
from pipelines.sinks.jsonl import WriteJsonLines
from schemas import VideoTextPair

STAGE = "contamination"
CONTAMINATED = "contaminated"
MATCHES = "matches"
CONTAMINATION_DIR = "contamination"  # OUTPUT/contamination/RUN-images-*.jsonl: each run's match records
STATS_EXAMPLES = 200  # contaminated items shown in stats.json, each with its thumbnail pair (about 8 KB)


@dataclass(frozen=True)
class DecontaminationConfig:
    index: str  # folder of a BenchmarkIndex (`curate index build`), local or any FileSystems path
    threshold: float | None = None  # a copy outright; None: the index's calibrated one, else its embedder's default
    candidate_threshold: float | None = None  # verified with local features; None: as for threshold
    min_inliers: int | None = None  # a verified copy; None: as for threshold
    batch_size: int = 64
    matches_prefix: str | None = None  # each match -> PREFIX-images-*.jsonl / PREFIX-clips-*.jsonl, for stats.json

    def thresholds(self, index: BenchmarkIndex) -> Thresholds:
        saved = Thresholds.of(index)
        threshold = self.threshold if self.threshold is not None else saved.threshold
        candidate = self.candidate_threshold if self.candidate_threshold is not None else saved.candidate_threshold
        return Thresholds(
            threshold,
            min(candidate, threshold),
            self.min_inliers if self.min_inliers is not None else saved.min_inliers,
        )


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


def decode_jpegs(jpegs: Sequence[bytes]) -> list[Image.Image]:
    images = []
    for jpeg in jpegs:
        with Image.open(io.BytesIO(jpeg)) as image:
            images.append(image.convert("RGB"))
    return images


def match_jpegs(index: BenchmarkIndex, jpegs: Sequence[bytes]) -> list[Match | None]:
    """Stage one alone: the best match of each image."""
    return index.match_images(decode_jpegs(jpegs))


def match_record(kind: str, item: str, decision: Decision, image: Image.Image, index: BenchmarkIndex) -> dict:
    """One contaminated image or clip for stats.json: the match, both scores and a thumbnail pair."""
    match = decision.match
    benchmark_thumbnail = index.features.thumbnail(decision.feature_set) if decision.feature_set is not None else b""
    return {
        "kind": kind,
        "item": item,
        "benchmark": match.benchmark,
        "match": match.label,
        "view": match.view,
        "score": round(match.score, 4),
        "inliers": decision.inliers,
        "decided_by": decision.decided_by,
        "thumbnail": base64.b64encode(thumbnail_jpeg(image)).decode("ascii"),
        "benchmark_thumbnail": base64.b64encode(benchmark_thumbnail).decode("ascii"),
    }


class _IndexDoFn(beam.DoFn):
    def __init__(self, config: DecontaminationConfig, shared: Shared) -> None:
        self.config = config
        self.shared = shared
        self.counts = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.counts.flush()

    def setup(self) -> None:
        # Workers run one process per core: BLAS threads would only spin between the hash's small
        # matrix products and cost as much CPU time again (measured: 58 ms per verified image with
        # one thread, 111 ms with two).
        threadpool_limits(1)
        self.index = self.shared.acquire(
            lambda: _SharedIndex(load_index(self.config.index)), tag=self.config.index
        ).index
        self.detector = CopyDetector(self.index, self.config.thresholds(self.index))  # one per DoFn: SIFT is per thread

    def count_decision(self, decision: Decision) -> None:
        if decision.contaminated:
            self.counts.count(f"decided_by_{decision.decided_by}")
        elif decision.inliers is not None:
            self.counts.count("cleared_by_verification")


class MarkImageResults(_IndexDoFn):
    """A batch of ImageResults -> the same results with their best match; contaminated ones change
    status to "contaminated", and their match goes to the MATCHES output for the per-item report."""

    def process(self, results: list[ImageResult]) -> Iterator:
        exact = {r.url: self.index.match_exact(r.image.sha256) for r in results if r.status == "ok"}
        to_search = [r for r in results if r.status == "ok" and exact[r.url] is None]
        images = dict(
            zip((r.url for r in to_search), decode_jpegs([r.image.search_jpeg for r in to_search]), strict=True)
        )
        decisions = dict(zip(images, self.detector.decide(list(images.values())), strict=True))
        for url, match in exact.items():
            if match is not None:
                decisions[url] = Decision(match, True, match, feature_set=self.index.feature_set_of(match))
        for result in results:
            if result.status != "ok":
                yield result
                continue
            decision = decisions[result.url]
            self.count_decision(decision)
            match = decision.match
            marked = replace(
                result,
                image=replace(result.image, whole_jpeg=None),  # searched: only the training image goes on
                dedup_score=round(match.score, 4) if match else None,
                dedup_match=match.label if match else None,
            )
            if decision.contaminated:
                self.counts.count(f"{match.benchmark}_training_images")
                self.counts.count("dropped_images")
                image = images.get(result.url) or decode_jpegs([result.image.search_jpeg])[0]
                yield beam.pvalue.TaggedOutput(MATCHES, match_record("image", result.url, decision, image, self.index))
                yield replace(marked, status=CONTAMINATED, detail=f"{result.url}: {_why(decision)}")
            else:
                self.counts.count("clean_images")
                yield marked


class MarkClips(_IndexDoFn):
    """(VideoTextPair, frames) -> the same with the best match over its frames; a contaminated clip
    is a reject, and its match goes to the MATCHES output."""

    def process(self, clip_and_frames: tuple[VideoTextPair, list[bytes]]) -> Iterator:
        clip, frames = clip_and_frames
        images = decode_jpegs(frames)
        decisions = self.detector.decide(images)
        for decision in decisions:
            self.count_decision(decision)
        copied = [(d, image) for d, image in zip(decisions, images, strict=True) if d.contaminated]
        best = max((d.best for d in decisions if d.best is not None), key=lambda m: m.score, default=None)
        shown = copied[0][0].match if copied else best
        marked = replace(
            clip, dedup_score=round(shown.score, 4) if shown else None, dedup_match=shown.label if shown else None
        )
        if copied:
            decision, image = copied[0]
            self.counts.count(f"{shown.benchmark}_training_clips")
            yield beam.pvalue.TaggedOutput(MATCHES, match_record("clip", clip.url, decision, image, self.index))
            yield self.counts.drop(CONTAMINATED, clip.url, f"{_why(decision)} (clip at {clip.start:g} s)")
        else:
            self.counts.count("clean_clips")
            yield marked, frames


def _why(decision: Decision) -> str:
    match = decision.match
    verified = f", {decision.inliers} inliers" if decision.decided_by == "verified" else ""
    return f"{match.label} score {match.score:.3f}{verified}"


class _CountBenchmarkItems(beam.DoFn):
    def __init__(self) -> None:
        self.counts = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.counts.flush()

    def process(self, found: tuple[str, str]) -> None:
        self.counts.count(f"{found[0]}_benchmark_items")


class _ReportMatches(beam.PTransform):
    """Match records -> distinct benchmark items counted, and the records written when asked; outputs
    the counts (StageCounts)."""

    def __init__(self, config: DecontaminationConfig, kind: str) -> None:
        super().__init__()
        self.config = config
        self.kind = kind

    def expand(self, records):
        counted = (
            records
            | "ItemFound" >> beam.Map(lambda r: (r["benchmark"], r["match"]))
            | "DistinctItems" >> beam.Distinct()
            | "CountItems" >> beam.ParDo(_CountBenchmarkItems()).with_outputs(REJECTS, main="nothing")
        )
        accounts = [counted[REJECTS]]
        if self.config.matches_prefix is not None:
            written = records | "WriteMatches" >> WriteJsonLines(
                f"{self.config.matches_prefix}-{self.kind}", to_record=lambda r: (r["item"], r), num_shards=1
            )
            # the job's last step reads the records back: their files must be written before it runs
            accounts.append(written | "CountFiles" >> beam.Map(lambda _: StageCounts(STAGE, {"report_files": 1})))
        return accounts | "Accounts" >> beam.Flatten()


class DecontaminateImages(beam.PTransform):
    """ImageResults -> {"results": ImageResults, marked, REJECTS: counts}; contaminated ones get status "contaminated".

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
            | "Search"
            >> beam.ParDo(MarkImageResults(self.config, Shared())).with_outputs(MATCHES, REJECTS, main="results")
        )
        reported = marked[MATCHES] | "Matches" >> _ReportMatches(self.config, "images")
        return {"results": marked.results, REJECTS: (marked[REJECTS], reported) | "Accounts" >> beam.Flatten()}


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
        reported = marked[MATCHES] | "Matches" >> _ReportMatches(self.config, "clips")
        return {"clips": marked.clips, REJECTS: (marked[REJECTS], reported) | "Accounts" >> beam.Flatten()}


def contamination_report(stage_counters: dict[str, int]) -> dict[str, dict[str, int]]:
    """The "contamination" section of stats.json from the stage's counters, per benchmark."""
    report: dict[str, dict[str, int]] = {}
    for name, value in stage_counters.items():
        for suffix in ("_training_images", "_training_clips", "_benchmark_items"):
            if name.endswith(suffix):
                found = report.setdefault(name.removesuffix(suffix), {"training_images": 0, "benchmark_items": 0})
                found[suffix.removeprefix("_")] = value
    return dict(sorted(report.items()))


def read_match_records(prefix: str, limit: int = STATS_EXAMPLES) -> tuple[list[dict], int]:
    """The match records a run wrote under `prefix` (by kind, then item), the first `limit`, and how many in all."""
    found = FileSystems.match([f"{prefix}-*.jsonl"])[0].metadata_list
    records = []
    for path in sorted(metadata.path for metadata in found):
        with FileSystems.open(path) as handle:
            records += [json.loads(line) for line in handle.read().decode("utf-8").splitlines() if line.strip()]
    records.sort(key=lambda record: (record["kind"], record["item"]))
    return records[:limit], len(records)
