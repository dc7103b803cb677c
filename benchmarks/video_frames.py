"""Video frames: download + decode + 1-FPS frame extraction + resize (longer side 320, never
upscaled) + JPEG encode, in seconds of video per second per core, on the real clips of
testdata/video served from 127.0.0.1, side by side in one run:

1. ours: `download_video` then `sample_frames` (PyAV in-process: decodes only what the first frame
   of each second needs, scales and encodes only those frames), on the clip's own URL (a direct media
   URL: the guarded fetcher) and on a page holding it in `<video src>` (yt-dlp's process);
2. what a user would write first: urllib to a temp file, OpenCV reading every frame and keeping the
   one nearest each whole second, `cv2.resize` (INTER_AREA), `cv2.imencode('.jpg')`;
3. ffmpeg with its fastest settings, after the same urllib download:
   a. one `ffmpeg -ss T -i FILE -frames:v 1` per second T (input seeking; one probe first for the duration);
   b. `-skip_frame nokey` (key frames only are decoded) with `fps=1:eof_action=pass`: its frames are
      key frames repeated to fill the 1-s grid, not the frames at the exact times;
4. the floor of decoding every frame: `ffmpeg -threads 1 -i FILE -f null -` (no frame kept).

Expected frames: the whole seconds in [0, duration) of each clip; "distinct" counts different JPEGs
per clip (a repeated key frame is one). CPU time is the process's own (the local server's threads
included, the same for every method) plus its finished children's (ffmpeg) plus, for ours, what
yt-dlp's process reports (its zygote forks it, so it is not our child; the zygote's one-time start,
about 0.7 s, is left out as imports are); the clips run one at a time, each by every method in turn (so a busy machine weighs on all alike),
best of `--repeat` passes per clip and method. Some frames of every method are decoded with PIL afterwards.

    .venv/bin/python benchmarks/video_frames.py [--testdata PATH] [--repeat 2] [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from common import default_testdata

from dedup.video_frames import FrameRules, ffmpeg_executable, fitted_size, sample_frames
from pipelines.fetch.address_guard import AddressPolicy
from pipelines.local_server import LocalServer
from pipelines.video.download import DownloadConfig, download_video

# OpenCV's ffmpeg would print its decoders' warnings (box.mp4's two damaged slices) to stderr
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
import cv2  # after the setting, which it reads when imported

MAX_SIDE = 320
FFMPEG_QUALITY = 3  # mjpeg q:v of the ffmpeg methods
RULES = FrameRules(fps=1.0, max_frames=10_000, max_side=MAX_SIDE)
DOWNLOADS = DownloadConfig(addresses=AddressPolicy(allow_loopback=True), per_host_delay=0.0)
SKIPPED = {"opencv/Megamind_bugy.avi"}  # a deliberately broken file: ours rejects it, the others differ
SCALE = f"scale='min({MAX_SIDE},iw)':'min({MAX_SIDE},ih)':force_original_aspect_ratio=decrease"
MJPEG_PIPE = ["-f", "image2pipe", "-c:v", "mjpeg", "-q:v", str(FFMPEG_QUALITY), "pipe:"]
_DURATION = re.compile(rb"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_VIDEO = re.compile(rb"Video: (\w+).*?, (\d+)x(\d+)")


@dataclass(frozen=True)
class Clip:
    name: str  # relative to testdata/video
    url: str
    page_url: str  # a page whose <video src> is the clip
    duration_s: float
    codec: str  # "h264 mp4", ...
    width: int
    height: int

    @property
    def expected(self) -> int:
        """Frames at t = 0, 1, ... < duration."""
        return math.ceil(self.duration_s - 1e-6)


@dataclass
class Measured:
    frames: list[bytes] = field(default_factory=list)
    wall_s: float = math.inf
    cpu_s: float = math.inf
    download_cpu_s: float = math.inf


class Run(NamedTuple):
    jpegs: list[bytes]
    download_cpu_s: float
    # CPU of processes that are not this one's children, so that RUSAGE_CHILDREN misses them
    # (ours: yt-dlp's process, forked by its zygote)
    unseen_cpu_s: float = 0.0


Method = Callable[[Clip], Run]


def cpu_seconds() -> float:
    """User + system time of this process and of its children that have finished (ffmpeg)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# --- 1. ours --------------------------------------------------------------------------------------


def ours_direct(clip: Clip) -> Run:
    return _ours(clip.url)


def ours_page(clip: Clip) -> Run:
    return _ours(clip.page_url)


def _ours(url: str) -> Run:
    started = cpu_seconds()
    with download_video(url, DOWNLOADS) as video:
        downloaded = cpu_seconds() - started + video.cpu_s
        return Run(sample_frames(video.path, RULES).jpegs, downloaded, video.cpu_s)


# --- the plain download of the other methods ------------------------------------------------------


@contextmanager
def urllib_download(url: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="bench-video-") as folder:
        path = Path(folder) / url.rsplit("/", 1)[-1]
        with urllib.request.urlopen(url, timeout=30) as response, path.open("wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
        yield str(path)


# --- 2. OpenCV, every frame decoded ---------------------------------------------------------------


def opencv_every_frame(clip: Clip) -> Run:
    """Every frame read; the frame at index round(T * fps) kept for each whole second T. (Neither
    simple rule is right everywhere: frame index / fps runs short on an AVI whose skipped frames
    are empty index entries, such as tree.avi; CAP_PROP_POS_MSEC is the packet's time, so it goes
    back and forth on h264 with B-frames, such as box.mp4.)"""
    started = cpu_seconds()
    with urllib_download(clip.url) as path:
        downloaded = cpu_seconds() - started
        capture = cv2.VideoCapture(path)
        fps = capture.get(cv2.CAP_PROP_FPS)
        assert fps > 0, f"{clip.name}: OpenCV reads no frame rate"
        jpegs, index, second = [], 0, 0
        try:
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                if index == round(second * fps):  # the frame nearest the whole second
                    height, width = frame.shape[:2]
                    size = fitted_size(width, height, MAX_SIDE)
                    if size != (width, height):
                        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
                    ok, encoded = cv2.imencode(".jpg", frame)
                    assert ok
                    jpegs.append(encoded.tobytes())
                    second += 1
                index += 1
        finally:
            capture.release()
    return Run(jpegs, downloaded)


# --- 3. ffmpeg, fastest settings ------------------------------------------------------------------


def ffmpeg_seek(clip: Clip) -> Run:
    """One input-seeking ffmpeg per whole second; the duration comes from one probe (`ffmpeg -i`)."""
    started = cpu_seconds()
    with urllib_download(clip.url) as path:
        downloaded = cpu_seconds() - started
        duration = probe(path)[0]
        jpegs = []
        for second in range(math.ceil(duration - 1e-6)):
            command = [*_ffmpeg(), "-ss", str(second), "-i", path, "-frames:v", "1", "-vf", SCALE, *MJPEG_PIPE]
            jpegs += split_jpegs(subprocess.run(command, capture_output=True, check=True, timeout=60).stdout)
    return Run(jpegs, downloaded)


def ffmpeg_keyframes(clip: Clip) -> Run:
    started = cpu_seconds()
    with urllib_download(clip.url) as path:
        downloaded = cpu_seconds() - started
        # eof_action=pass: with the default the fps filter ends the grid at the last key frame's own
        # duration, so a clip with one key frame (an IDR at t=0 only) gives no frame and ffmpeg fails.
        vf = f"fps=1:eof_action=pass,{SCALE}"
        command = [*_ffmpeg(), "-skip_frame", "nokey", "-i", path, "-vf", vf, *MJPEG_PIPE]
        jpegs = split_jpegs(subprocess.run(command, capture_output=True, check=True, timeout=120).stdout)
    return Run(jpegs, downloaded)


def ffmpeg_decode_only(clip: Clip) -> Run:
    started = cpu_seconds()
    with urllib_download(clip.url) as path:
        downloaded = cpu_seconds() - started
        command = [*_ffmpeg(), "-threads", "1", "-i", path, "-map", "0:v:0", "-f", "null", "-"]
        subprocess.run(command, capture_output=True, check=True, timeout=120)
    return Run([], downloaded)


def _ffmpeg() -> list[str]:
    return [ffmpeg_executable(), "-nostdin", "-hide_banner", "-loglevel", "error"]


def probe(path: str) -> tuple[float, str, int, int]:
    """Duration, codec and size from `ffmpeg -i`'s banner (the imageio-ffmpeg wheel ships no ffprobe)."""
    stderr = subprocess.run([ffmpeg_executable(), "-nostdin", "-hide_banner", "-i", path], capture_output=True).stderr
    hours, minutes, seconds = _DURATION.search(stderr).groups()
    codec, width, height = _VIDEO.search(stderr).groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds), codec.decode(), int(width), int(height)


# name in the main table -> (short name for the codec table, method)
METHODS: dict[str, tuple[str, Method]] = {
    "1a. ours, direct URL: guarded fetcher + sample_frames (PyAV, decodes what the 1-s frames need)": (
        "ours direct",
        ours_direct,
    ),
    "1b. ours, page with <video src>: yt-dlp (own process) + sample_frames": ("ours page", ours_page),
    "2. urllib + OpenCV, decode every frame": ("OpenCV", opencv_every_frame),
    "3a. urllib + ffmpeg -ss T per second (1 process/frame)": ("ffmpeg -ss", ffmpeg_seek),
    "3b. urllib + ffmpeg -skip_frame nokey + fps: key frames, not 1-s times": ("ffmpeg nokey", ffmpeg_keyframes),
    "4. floor: urllib + ffmpeg -threads 1 -f null, every frame decoded, none kept": ("decode only", ffmpeg_decode_only),
}
NO_FRAMES = {"decode only"}  # methods that keep no frame: nothing to count or check


# --- running and checking -------------------------------------------------------------------------


def measure(methods: dict[str, Method], clips: list[Clip], repeat: int) -> dict[str, dict[str, Measured]]:
    """Each clip by every method in turn, so that a busy machine weighs on all of them alike."""
    results = {name: {clip.name: Measured() for clip in clips} for name in methods}
    for _ in range(repeat):
        for clip in clips:
            for name, method in methods.items():
                wall, cpu = time.perf_counter(), cpu_seconds()
                frames, downloaded, unseen = method(clip)
                wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu + unseen
                best = results[name][clip.name]
                best.frames = frames
                best.wall_s, best.cpu_s = min(best.wall_s, wall), min(best.cpu_s, cpu)
                best.download_cpu_s = min(best.download_cpu_s, downloaded)
    return results


def check_jpegs(method: str, clips: list[Clip], results: dict[str, Measured]) -> tuple[int, list[str]]:
    """Decode the first, middle and last frame of each clip with PIL; their size must be the fitted one."""
    from PIL import Image

    checked, problems = 0, []
    for clip in clips:
        frames = results[clip.name].frames
        if not frames:
            problems.append(f"{method}: {clip.name}: no frame")
            continue
        for index in sorted({0, len(frames) // 2, len(frames) - 1}):
            with Image.open(io.BytesIO(frames[index])) as image:
                image.load()
                fmt, size = image.format, image.size
            checked += 1
            want = fitted_size(clip.width, clip.height, MAX_SIDE)
            if fmt != "JPEG" or max(abs(a - b) for a, b in zip(size, want, strict=True)) > 1:
                problems.append(f"{method}: {clip.name}: {fmt} {size}, expected JPEG {want}")
    return checked, problems


def load_clips(folder: Path, served: Path, base_url: str) -> list[Clip]:
    clips = []
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if not path.is_file() or name in SKIPPED:
            continue
        link = name.replace("/", "-")
        (served / link).symlink_to(path.resolve())
        (served / f"{link}.html").write_text(f"<html><head><title>{name}</title></head><video src='{link}'></video>")
        duration, codec, width, height = probe(str(path))
        clips.append(
            Clip(
                name,
                base_url + link,
                f"{base_url}{link}.html",
                duration,
                f"{codec} {path.suffix.lstrip('.')}",
                width,
                height,
            )
        )
    return clips


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--testdata", type=Path, default=default_testdata())
    parser.add_argument("--repeat", type=int, default=2, help="passes over the clips; the best per clip counts")
    parser.add_argument("--quick", action="store_true", help="the two shortest clips, one pass (CI)")
    args = parser.parse_args()
    if args.quick:
        args.repeat = 1

    with tempfile.TemporaryDirectory(prefix="bench-video-served-") as served, LocalServer(served) as server:
        clips = load_clips(args.testdata / "video", Path(served), server.url)
        if args.quick:
            clips = sorted(clips, key=lambda clip: clip.duration_s)[:2]
        total_s = sum(clip.duration_s for clip in clips)
        expected = sum(clip.expected for clip in clips)
        print(f"{len(clips)} real clips, {total_s:.1f} s of video, {expected} frames expected at 1 FPS")
        print(f"one clip at a time, best of {args.repeat} per clip; CPU = process + ffmpeg children + yt-dlp's\n")
        results = measure({name: method for name, (_, method) in METHODS.items()}, clips, args.repeat)

    rows, problems, checked = [], [], 0
    for name, measured in results.items():
        frames = [f for m in measured.values() for f in m.frames]
        distinct = sum(len({hashlib.sha1(f).digest() for f in m.frames}) for m in measured.values())
        cpu = sum(m.cpu_s for m in measured.values())
        rows.append(
            [
                name,
                str(len(clips)),
                f"{total_s:.1f}",
                f"{len(frames)} / {expected}",
                str(distinct),
                f"{sum(m.wall_s for m in measured.values()):.2f}",
                f"{sum(m.download_cpu_s for m in measured.values()):.2f}",
                f"{cpu:.2f}",
                f"{total_s / cpu:.1f}",
            ]
        )
        if METHODS[name][0] not in NO_FRAMES:
            n, found = check_jpegs(name, clips, measured)
            checked, problems = checked + n, problems + found
    header = ["method", "clips", "video s", "frames / expected", "distinct", "wall s", "CPU s download", "CPU s"]
    print(table([*header, "video s / s / core"], rows))

    codecs = sorted({clip.codec for clip in clips})
    codec_rows = []
    for codec in codecs:
        group = [clip for clip in clips if clip.codec == codec]
        seconds = sum(clip.duration_s for clip in group)
        cells = [f"{seconds / sum(results[m][c.name].cpu_s for c in group):.1f}" for m in METHODS]
        codec_rows.append([codec, str(len(group)), f"{seconds:.1f}", *cells])
    print("\nvideo s / s / core by codec")
    print(table(["codec", "clips", "video s", *(short for short, _ in METHODS.values())], codec_rows))

    print("\nclips whose frame count is not the expected one (frames/expected)")
    for name, measured in results.items():
        if METHODS[name][0] in NO_FRAMES:
            continue
        counts = {clip.name: (len(measured[clip.name].frames), clip.expected) for clip in clips}
        odd = [f"{clip} {got}/{want}" for clip, (got, want) in counts.items() if got != want]
        print(f"- {METHODS[name][0]}: {', '.join(odd) or 'none'}")

    print(f"\nPIL decoded {checked} JPEGs (first, middle, last of each clip and method)", end="")
    print(": all JPEG at the expected size" if not problems else ":\n  " + "\n  ".join(problems))


def split_jpegs(stream: bytes) -> list[bytes]:
    """A concatenation of baseline JPEGs -> each one. Inside entropy-coded data ffmpeg stuffs every
    0xFF with 0x00, so the end marker 0xFFD9 only ever appears at the end of an image."""
    frames, start = [], stream.find(b"\xff\xd8")
    while start >= 0:
        end = stream.find(b"\xff\xd9", start + 2)
        if end < 0:
            break
        frames.append(stream[start : end + 2])
        start = stream.find(b"\xff\xd8", end + 2)
    return frames


if __name__ == "__main__":
    main()
