"""What the video dataset of a run needs: how to download and cut clips, and the lists to read."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.decontamination import DecontaminationConfig
from pipelines.video.candidates import VideoCandidate
from pipelines.video.clips import ClipRules
from pipelines.video.download import DownloadConfig
from pipelines.video.transforms import DEFAULT_THREADS


@dataclass(frozen=True)
class VideoJob:
    download: DownloadConfig
    clips: ClipRules
    decontamination: DecontaminationConfig | None = None
    threads: int = DEFAULT_THREADS


@dataclass(frozen=True)
class VideoLists:
    paths: tuple[str, ...] = ()
    url_column: str = "url"
    text_column: str = "text"

    def candidate(self, url: str, text: str | None) -> VideoCandidate:
        return VideoCandidate(url, (text or "").strip(), "list")
