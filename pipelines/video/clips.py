"""A downloaded video -> VTP clips: frames at a fixed rate (1 FPS), at most `max_frames` per clip;
a longer video is truncated to its first clip or, as an option, split into consecutive clips."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from dedup.video_frames import FrameRules, SampledFrames, sample_frames
from pipelines.video.candidates import VideoCandidate
from schemas import VideoTextPair, stable_key

LongClips = Literal["truncate", "split"]
LONG_CLIPS: tuple[str, ...] = ("truncate", "split")


@dataclass(frozen=True)
class ClipRules:
    frames: FrameRules = field(default_factory=lambda: FrameRules(max_frames=32))  # per clip
    long_clips: LongClips = "truncate"
    max_clips_per_video: int = 8  # with "split"
    min_frames: int = 2  # a clip (or the tail of a split video) with fewer is dropped


def video_clips(path: str, source: VideoCandidate, rules: ClipRules) -> list[tuple[VideoTextPair, list[bytes]]]:
    """Clips of the video at `path`; raises FrameExtractionError when it has no usable frames."""
    per_clip = rules.frames.max_frames
    clips = rules.max_clips_per_video if rules.long_clips == "split" else 1
    sampled = sample_frames(path, replace(rules.frames, max_frames=per_clip * clips))
    pieces = [sampled.jpegs[start : start + per_clip] for start in range(0, len(sampled.jpegs), per_clip)]
    return [
        (_clip(source, sampled, number * per_clip / rules.frames.fps, len(frames), rules), frames)
        for number, frames in enumerate(pieces)
        if len(frames) >= rules.min_frames
    ]


def _clip(
    source: VideoCandidate, sampled: SampledFrames, start: float, frame_count: int, rules: ClipRules
) -> VideoTextPair:
    return VideoTextPair(
        key=stable_key(source.url, f"{start:g}\0{source.text}"),
        url=source.url,
        text=source.text,
        page_url=source.page_url,
        text_source=source.text_source,
        fps=rules.frames.fps,
        duration=sampled.duration_s or 0.0,
        start=start,
        frame_count=frame_count,
        frame_width=sampled.width,
        frame_height=sampled.height,
    )
