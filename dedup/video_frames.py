"""Frames of a video at a fixed rate, as JPEG, with ffmpeg.

One sampler serves the benchmark videos of the index and the training clips of the video DAG:
decontamination compares frames, so both sides must sample them the same way.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass

import ffmpeg

JPEG_START, JPEG_END = b"\xff\xd8", b"\xff\xd9"
MIN_TOLERATED_ERRORS = 3
# Frames decoded against the container's duration: a stream that lost more than this share is
# damaged (a container's audio may outlast its video by a little, hence the slack).
MIN_FRAME_SHARE = 0.8
_DURATION = re.compile(rb"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


@functools.cache
def ffmpeg_executable() -> str:
    """The system's ffmpeg if it has one, else the static binary of the imageio-ffmpeg wheel."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError as error:
        raise RuntimeError(
            "ffmpeg not found: install it (apt-get install ffmpeg) or `pip install imageio-ffmpeg`"
        ) from error
    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class FrameRules:
    fps: float = 1.0  # Flamingo's VTP: frames at 1 FPS
    max_frames: int = 64
    max_side: int = 320  # longer side, never upscaled
    jpeg_quality: int = 3  # ffmpeg's mjpeg q:v scale, 2 (best) to 31
    timeout_s: float = 120.0
    # Decoder errors per second of video before it counts as corrupt. ffmpeg conceals damage: a few
    # errors leave clean frames (opencv's box.mp4 has 2 in 15 s), but the frames it invents over a
    # broken stream (hundreds of errors) are garbage to train on.
    max_decode_errors_per_s: float = 1.0


@dataclass(frozen=True)
class SampledFrames:
    jpegs: list[bytes]
    duration_s: float | None  # of the whole input, as its container declares it
    width: int
    height: int
    decode_errors: int  # error lines ffmpeg printed while decoding


class FrameExtractionError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def one_frame_per_interval(fps: float) -> str:
    """ffmpeg's `select` expression for frames at t = 0, 1/fps, 2/fps, ...: the first frame of each
    interval [k/fps, (k+1)/fps), which is the frame that seeking to the tick shows, its last partial
    interval included: a clip of constant frame rate whose last frame is at t gets floor(t * fps) + 1
    frames. An interval without a frame of its own (a variable-rate clip sparser than `fps`) gets
    none rather than a repeat of the one before. ffmpeg's `fps` filter instead drops the last
    partial interval and takes the frame nearest each tick, often the one before it."""
    return f"eq(n,0)+gt(floor(t*{fps!r}),floor(prev_t*{fps!r}))"


def sample_frames(path: str, rules: FrameRules = FrameRules()) -> SampledFrames:
    """Frames at `rules.fps` from `path` -> JPEGs; FrameExtractionError with a reason if it has none."""
    side = rules.max_side
    command = (
        ffmpeg.input(path)
        .video.filter("select", one_frame_per_interval(rules.fps))
        .filter("scale", f"min({side},iw)", f"min({side},ih)", force_original_aspect_ratio="decrease")
        .output(
            "pipe:",
            format="image2pipe",
            vcodec="mjpeg",
            vframes=rules.max_frames,
            fps_mode="vfr",  # one output frame per selected frame, none repeated to fill a rate
            **{"q:v": rules.jpeg_quality},
        )
        # "level+" tags every line with its severity, so decoder errors can be counted
        .global_args("-nostdin", "-hide_banner", "-loglevel", "level+info")
        .compile(cmd=ffmpeg_executable())
    )
    try:
        done = subprocess.run(command, capture_output=True, timeout=rules.timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise FrameExtractionError("timeout", f"{path}: ffmpeg took over {rules.timeout_s:g} s") from None
    jpegs = split_jpegs(done.stdout)
    if done.returncode != 0 and not jpegs:
        raise FrameExtractionError("undecodable", f"{path}: {_last_error(done.stderr)}")
    if not jpegs:
        raise FrameExtractionError("no_frames", f"{path}: no video frame could be decoded")
    errors, duration = _error_lines(done.stderr), _duration(done.stderr)
    if len(errors) > max(MIN_TOLERATED_ERRORS, rules.max_decode_errors_per_s * (duration or len(jpegs) / rules.fps)):
        raise FrameExtractionError("corrupt", f"{path}: {len(errors)} decoding errors, e.g. {errors[0]}")
    expected = min(rules.max_frames, int((duration or 0) * rules.fps))
    if len(jpegs) < MIN_FRAME_SHARE * expected - 1:
        raise FrameExtractionError("missing_frames", f"{path}: {len(jpegs)} frames decoded of {expected} expected")
    width, height = _jpeg_size(jpegs[0])
    return SampledFrames(jpegs, duration, width, height, len(errors))


def split_jpegs(stream: bytes) -> list[bytes]:
    """A concatenation of baseline JPEGs -> each one. Inside entropy-coded data ffmpeg stuffs every
    0xFF with 0x00, so the end marker 0xFFD9 only ever appears at the end of an image."""
    frames, start = [], stream.find(JPEG_START)
    while start >= 0:
        end = stream.find(JPEG_END, start + 2)
        if end < 0:
            break
        frames.append(stream[start : end + 2])
        start = stream.find(JPEG_START, end + 2)
    return frames


def _duration(stderr: bytes) -> float | None:
    found = _DURATION.search(stderr)
    if not found:
        return None
    hours, minutes, seconds = found.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _error_lines(stderr: bytes) -> list[str]:
    lines = stderr.decode("utf-8", "replace").splitlines()
    return [line.replace("[error] ", "").strip() for line in lines if "[error]" in line or "[fatal]" in line]


def _last_error(stderr: bytes) -> str:
    errors = _error_lines(stderr)
    return errors[-1] if errors else "ffmpeg failed with no message"


def _jpeg_size(jpeg: bytes) -> tuple[int, int]:
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(jpeg)) as image:
        return image.size
