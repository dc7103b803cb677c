"""What the image stage knows about one URL after fetching, processing and decontamination."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.images.processing import ProcessedImage
from schemas import ImageInfo


@dataclass(frozen=True)
class ImageResult:
    url: str
    status: str  # "ok", or the fetch error class / the processing rejection reason
    detail: str = ""
    image: ProcessedImage | None = None
    http_status: int | None = None  # of a failed fetch that got an answer
    dedup_score: float | None = None  # best benchmark match, once decontamination has run
    dedup_match: str | None = None  # "benchmark/split/item" of that match

    def info(self) -> ImageInfo:
        assert self.image is not None
        return ImageInfo(
            sha256=self.image.sha256,
            width=self.image.width,
            height=self.image.height,
            original_width=self.image.original_width,
            original_height=self.image.original_height,
            phash=self.image.phash,
            dedup_score=self.dedup_score,
            dedup_match=self.dedup_match,
        )
