"""Natural copies that no edit made, for calibration: consecutive 1-FPS frames of real videos.

Frame t+1 shows the scene of frame t from a moved camera or with moved subjects: what a copy of a
benchmark video frame looks like when it comes from another upload or another cut of the same
footage. Every video's frames but the last are indexed like benchmark images (same embedder, same
views, local features); every frame but the first is searched and decided. A pair is found when the
match is a frame of the same video.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from dedup.benchmarks.items import BenchmarkSource
from dedup.build import build_index
from dedup.index import BenchmarkIndex
from dedup.verification import CopyDetector, Thresholds
from dedup.video_frames import FrameExtractionError, sample_frames


@dataclass(frozen=True)
class NaturalPairs:
    source: str  # the video's file name
    pairs: int
    stage_one: int  # found by the global code alone, at its own calibrated threshold
    two_stage: int  # found by the two-stage decision

    def to_dict(self) -> dict[str, str | int]:
        return {"source": self.source, "pairs": self.pairs, "stage_one": self.stage_one, "two_stage": self.two_stage}


def video_frames(path: str) -> list[Image.Image]:
    """The 1-FPS frames of a video as RGB images; none when it cannot be decoded."""
    try:
        jpegs = sample_frames(path).jpegs
    except FrameExtractionError:
        return []
    frames = []
    for jpeg in jpegs:
        with Image.open(io.BytesIO(jpeg)) as opened:
            frames.append(opened.convert("RGB"))
    return frames


def natural_pairs(
    videos: Sequence[str], like: BenchmarkIndex, stage_one_threshold: float, thresholds: Thresholds
) -> list[NaturalPairs]:
    """Each video's consecutive-frame pairs, found by stage one alone and by the two-stage decision,
    with an index built as `like` was (its embedder and view set)."""
    clips = {Path(path).name: frames for path in videos if len(frames := video_frames(path)) >= 2}
    if not clips:
        return []
    with tempfile.TemporaryDirectory() as folder:
        for number, frames in enumerate(clips.values()):
            for second, frame in enumerate(frames[:-1]):
                frame.save(Path(folder) / f"{number:04d}-{second:04d}.jpg", quality=95)
        index, _ = build_index(
            [BenchmarkSource("folder", media=folder, label="frames")], like.embedder, like.meta["views"], workers=1
        )
    detector = CopyDetector(index, thresholds)
    results = []
    for number, (name, frames) in enumerate(clips.items()):
        decisions = detector.decide(frames[1:])
        own = f"{number:04d}-"
        stage_one = sum(d.best is not None and d.best.item_id.startswith(own) and d.best.score >= stage_one_threshold
                        for d in decisions)  # fmt: skip
        two_stage = sum(d.contaminated and d.match.item_id.startswith(own) for d in decisions)
        results.append(NaturalPairs(name, len(decisions), stage_one, two_stage))
    return results
