"""The VTP DAG as Beam transforms.

candidates (page videos, list rows) -> one per URL, with its best text
  -> download (yt-dlp) + frames (ffmpeg, 1 FPS) on a thread pool per worker -> clips
  -> decontamination of every frame (given an index) -> (VideoTextPair, [JPEG frames])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import apache_beam as beam

from dedup.video_frames import FrameExtractionError
from pipelines.decontamination import DecontaminateClips, DecontaminationConfig
from pipelines.rejects import REJECTS, Rejects
from pipelines.video.candidates import TEXT_SOURCES, VideoCandidate
from pipelines.video.clips import ClipRules, video_clips
from pipelines.video.download import DownloadConfig, VideoRejected, download_video
from schemas import VideoTextPair

STAGE = "video"
# Each download waits on the network and then on an ffmpeg child process: a few per worker process.
DEFAULT_THREADS = 4
MAX_TEXT_CHARS = 2000

Clip = tuple[VideoTextPair, list[bytes]]


def best_candidate(url_and_candidates: tuple[str, Iterable[VideoCandidate]]) -> VideoCandidate:
    """The candidate whose text comes from the best source (a caption beats a page title), then the
    first page URL, so the choice does not depend on the order Beam delivers them in."""
    _, candidates = url_and_candidates
    return min(candidates, key=lambda c: (_source_rank(c.text_source), c.text == "", c.page_url, c.text))


def _source_rank(source: str) -> int:
    return TEXT_SOURCES.index(source) if source in TEXT_SOURCES else len(TEXT_SOURCES)


def download_clips(candidate: VideoCandidate, download: DownloadConfig, rules: ClipRules) -> list[Clip]:
    """Raises VideoRejected or FrameExtractionError with the reason the video gives no clip."""
    with download_video(candidate.url, download) as video:
        if not candidate.text:
            text, source = (video.title, "video_title") if video.title else (video.description, "video_description")
            candidate = replace(candidate, text=text, text_source=source)
        candidate = replace(candidate, text=candidate.text[:MAX_TEXT_CHARS])
        if not candidate.text.strip():
            raise VideoRejected("no_text", f"{candidate.url}: no caption, title or description")
        return video_clips(video.path, candidate, rules)


class DownloadClips(beam.DoFn):
    """A batch of candidates -> clips, downloaded and decoded on a thread pool shared per worker."""

    def __init__(self, download: DownloadConfig, rules: ClipRules, threads: int = DEFAULT_THREADS) -> None:
        self.download = download
        self.rules = rules
        self.threads = threads
        self.rejects = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.rejects.flush()

    def setup(self) -> None:
        self.pool = ThreadPoolExecutor(self.threads, thread_name_prefix="video")

    def teardown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def process(self, candidates: list[VideoCandidate]) -> Iterator:
        for candidate, outcome in zip(candidates, self.pool.map(self._attempt, candidates), strict=True):
            if isinstance(outcome, Exception):
                yield self.rejects.drop(outcome.reason, candidate.url, outcome.detail)
                continue
            if not outcome:
                yield self.rejects.drop("too_few_frames", candidate.url, f"under {self.rules.min_frames} frames")
                continue
            self.rejects.count("videos_ok")
            self.rejects.count("clips", len(outcome))
            yield from outcome

    def _attempt(self, candidate: VideoCandidate) -> list[Clip] | VideoRejected | FrameExtractionError:
        try:
            return download_clips(candidate, self.download, self.rules)
        except (VideoRejected, FrameExtractionError) as error:
            return error
        except Exception as error:  # a video that trips a bug in yt-dlp or here is one reject, not a failed job
            return VideoRejected("error", f"{candidate.url}: {type(error).__name__}: {error}")


class BuildVideoPairs(beam.PTransform):
    """VideoCandidates -> {"clips": (VideoTextPair, [JPEG frames]), "rejects": Reject}."""

    def __init__(
        self,
        download: DownloadConfig,
        rules: ClipRules,
        decontamination: DecontaminationConfig | None = None,
        threads: int = DEFAULT_THREADS,
    ) -> None:
        super().__init__()
        self.download = download
        self.rules = rules
        self.decontamination = decontamination
        self.threads = threads

    def expand(self, candidates):
        downloaded = (
            candidates
            | "ByUrl" >> beam.Map(lambda c: (c.url, c))
            | "GroupByUrl" >> beam.GroupByKey()
            | "BestText" >> beam.Map(best_candidate)
            | "Spread" >> beam.Reshuffle()
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self.threads)
            | "DownloadAndSample"
            >> beam.ParDo(DownloadClips(self.download, self.rules, self.threads)).with_outputs(REJECTS, main="clips")
        )
        clips, rejects = downloaded.clips, [downloaded[REJECTS]]
        if self.decontamination is not None:
            checked = clips | "Decontaminate" >> DecontaminateClips(self.decontamination)
            clips = checked["clips"]
            rejects.append(checked[REJECTS])
        return {"clips": clips, REJECTS: rejects | "VideoRejects" >> beam.Flatten()}
