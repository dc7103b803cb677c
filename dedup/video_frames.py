"""Frames of a video at a fixed rate, as JPEG, decoded in-process with PyAV (FFmpeg's libraries).

One sampler serves the benchmark videos of the index and the training clips of the video DAG:
decontamination compares frames, so both sides must sample them the same way.

The frame of tick t = k / fps is the first frame of the interval [t, t + 1/fps): the frame that
`ffmpeg -ss t` shows, the last partial interval included. Only what those frames need is decoded
(`_planned_frames`): decoding restarts at the last key frame before each wanted frame instead of
running through the gap, frames no other frame refers to are skipped unless wanted, and only the
wanted frames are converted and scaled. A stream whose timestamps come out of the decoder out of
order (B-frames muxed without reordered timestamps) gets every frame decoded in order and times
FFmpeg's way (`_sequential_frames`), since there a frame's time depends on what was decoded before it.
"""

from __future__ import annotations

import bisect
import functools
import math
import shutil
import time
from dataclasses import dataclass, field
from fractions import Fraction

import av
import av.logging
import numpy
import simplejpeg
from av.video.reformatter import VideoReformatter

MIN_TOLERATED_ERRORS = 3
MCU_SIDE = 16  # of a 4:2:0 JPEG, in pixels
# Frames decoded against the container's duration: a stream that lost more than this share is
# damaged (a container's audio may outlast its video by a little, hence the slack).
MIN_FRAME_SHARE = 0.8


@functools.cache
def ffmpeg_executable() -> str:
    """The system's ffmpeg if it has one, else the static binary of the imageio-ffmpeg wheel (for yt-dlp)."""
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
    jpeg_quality: int = 90  # 1 to 100
    timeout_s: float = 120.0  # of decoding, checked between packets
    # A frame larger than this is refused before any decoding: one decoder call cannot be interrupted,
    # so the size of a frame is what bounds it (8K UHD is 33 Mpx).
    max_pixels: int = 40_000_000
    # Decoder errors per second of video before it counts as corrupt. FFmpeg conceals damage: a few
    # errors leave clean frames (opencv's box.mp4 has 1 in 15 s), but the frames it invents over a
    # broken stream (hundreds of errors) are garbage to train on.
    max_decode_errors_per_s: float = 1.0


@dataclass(frozen=True)
class SampledFrames:
    jpegs: list[bytes]
    duration_s: float | None  # of the whole input, as its container declares it
    width: int
    height: int
    decode_errors: int  # error messages the demuxer and decoder logged


class FrameExtractionError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def sample_frames(path: str, rules: FrameRules = FrameRules()) -> SampledFrames:
    """Frames at `rules.fps` from `path` -> JPEGs; FrameExtractionError with a reason if it has none."""
    av.logging.set_level(av.logging.ERROR)  # errors reach Python, where each thread counts its own
    with av.logging.Capture(local=True) as logs:
        try:
            with av.open(path, metadata_errors="ignore") as container:
                duration, frames = frames_at_ticks(container, rules)
        except (av.FFmpegError, UnicodeDecodeError) as error:
            raise FrameExtractionError("undecodable", f"{path}: {error}") from None
        scaler = VideoReformatter()  # one per video: making a scaler costs more than using it
        jpegs = [_jpeg(frame, scaler, rules) for frame in frames]
    errors = [message.strip() for level, _, message in logs if level <= av.logging.ERROR]
    if not jpegs:
        raise FrameExtractionError("no_frames", f"{path}: no video frame could be decoded")
    if len(errors) > max(MIN_TOLERATED_ERRORS, rules.max_decode_errors_per_s * (duration or len(jpegs) / rules.fps)):
        raise FrameExtractionError("corrupt", f"{path}: {len(errors)} decoding errors, e.g. {errors[0]}")
    expected = min(rules.max_frames, int((duration or 0) * rules.fps))
    if len(jpegs) < MIN_FRAME_SHARE * expected - 1:
        raise FrameExtractionError("missing_frames", f"{path}: {len(jpegs)} frames decoded of {expected} expected")
    width, height = fitted_size(frames[0].width, frames[0].height, rules.max_side)
    return SampledFrames(jpegs, duration, width, height, len(errors))


def fitted_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The longer side brought down to `max_side`, never up, the aspect ratio kept."""
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def frames_at_ticks(
    container: av.container.InputContainer, rules: FrameRules
) -> tuple[float | None, list[av.VideoFrame]]:
    """The container's duration (s) and its decoded frames at the ticks of `rules.fps`, before scaling."""
    if not container.streams.video:
        raise FrameExtractionError("undecodable", f"{container.name}: no video stream")
    stream = container.streams.video[0]
    pixels = stream.codec_context.width * stream.codec_context.height
    if pixels > rules.max_pixels:
        raise FrameExtractionError("too_large", f"{container.name}: frames of {pixels} pixels, over {rules.max_pixels}")
    stream.codec_context.thread_count = 1  # one core per video: the workers run videos side by side
    duration = container.duration / av.time_base if container.duration else None
    start = Fraction(container.start_time or 0, av.time_base)
    packets = _demuxed(container, stream)
    if not packets:
        return duration, []
    decoder = _Decoder(stream.codec_context, container.name, time.monotonic() + rules.timeout_s, rules.timeout_s)
    frames = _planned_frames(stream, decoder, packets, start, rules)
    if frames is None:
        frames = _sequential_frames(stream, decoder, packets, start, rules)
    return duration, frames


@dataclass(frozen=True)
class _Packet:
    packet: av.Packet
    pts: int | None  # its dts where the container gives no pts
    key: bool


def _demuxed(container: av.container.InputContainer, stream: av.VideoStream) -> list[_Packet]:
    """The stream's packets in decode order, up to the first the demuxer cannot read (it logs why)."""
    packets = []
    try:
        for packet in container.demux(stream):
            if packet.size:
                pts = packet.pts if packet.pts is not None else packet.dts
                packets.append(_Packet(packet, pts, packet.is_keyframe))
    except av.FFmpegError:
        pass
    return packets


class _Ticks:
    """Which timestamps open a new interval of 1/fps seconds: the first frame, and then each frame in
    a later interval than the frame before it (FFmpeg's `select='eq(n,0)+gt(floor(t*fps),floor(prev_t*fps))'`)."""

    def __init__(self, time_base: Fraction, start: Fraction, fps: float) -> None:
        self.seconds_per_unit = float(time_base)
        self.start_s = float(start)
        self.fps = fps
        self.previous: int | None = None

    def opens_interval(self, pts: int) -> bool:
        interval = math.floor((pts * self.seconds_per_unit - self.start_s) * self.fps)
        opens = self.previous is None or interval > self.previous
        self.previous = interval
        return opens


def _planned_frames(
    stream: av.VideoStream, decoder: _Decoder, packets: list[_Packet], start: Fraction, rules: FrameRules
) -> list[av.VideoFrame] | None:
    """The wanted frames, found from the packets' timestamps and decoded alone with what they need;
    None when the packets or the decoder's output show the timestamps cannot be trusted for that."""
    if any(packet.pts is None for packet in packets):
        return None
    order = sorted(range(len(packets)), key=lambda i: packets[i].pts)
    if len({packets[i].pts for i in order}) != len(order):
        return None
    ticks = _Ticks(stream.time_base, start, rules.fps)
    wanted = [i for i in order if ticks.opens_interval(packets[i].pts)][: rules.max_frames]
    wanted_pts = {packets[i].pts for i in wanted}
    context = stream.codec_context
    found: list[av.VideoFrame] = []
    for segment in _segments(packets, wanted):
        # frames come out in time order, so a wanted frame not out before a later one never will be:
        # its packet's timestamp is not its frame's (an AVI's B-frames), and the rest would be wasted
        pending = sorted(packets[index].pts for index in segment if packets[index].pts in wanted_pts)
        last_pts = None
        for index in [*segment, None]:  # None drains the decoder at the segment's end
            if index is not None:  # a frame no other frame refers to is skipped unless wanted
                context.skip_frame = "DEFAULT" if packets[index].pts in wanted_pts else "NONREF"
            for frame in decoder.frames(None if index is None else packets[index].packet):
                if frame.pts is None or (last_pts is not None and frame.pts <= last_pts):
                    return None
                last_pts = frame.pts
                if pending and frame.pts > pending[0]:
                    return None
                if pending and frame.pts == pending[0]:
                    found.append(frame)
                    pending.pop(0)
        if pending:
            return None
        context.flush_buffers()
    context.skip_frame = "DEFAULT"
    return found


def _segments(packets: list[_Packet], wanted: list[int]) -> list[range]:
    """Runs of packets (decode order) to decode: for each wanted packet, from the last key frame at
    or before it, in decode order and in time, to itself; overlapping or touching runs merged. A key
    frame starts afresh, so what came before it matters to nothing after it."""
    keys = [i for i, packet in enumerate(packets) if packet.key]
    runs = []
    for index in wanted:
        position = bisect.bisect_right(keys, index) - 1
        while position >= 0 and packets[keys[position]].pts > packets[index].pts:
            position -= 1
        runs.append((keys[position] if position >= 0 else 0, index))
    merged: list[list[int]] = []
    for begin, end in sorted(runs):
        if merged and begin <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([begin, end])
    return [range(begin, end + 1) for begin, end in merged]


def _sequential_frames(
    stream: av.VideoStream, decoder: _Decoder, packets: list[_Packet], start: Fraction, rules: FrameRules
) -> list[av.VideoFrame]:
    """Every frame decoded in order, each timed as FFmpeg times it (`_BestEffortTime`)."""
    context = stream.codec_context
    context.flush_buffers()  # whatever a planned decode left behind
    context.skip_frame = "DEFAULT"
    ticks = _Ticks(stream.time_base, start, rules.fps)
    timing = _BestEffortTime()
    selected = []
    for packet in [*(p.packet for p in packets), None]:
        for frame in decoder.frames(packet):
            pts = timing.of(frame)
            if pts is not None and ticks.opens_interval(pts):
                selected.append(frame)
                if len(selected) == rules.max_frames:
                    return selected
    return selected


@dataclass
class _BestEffortTime:
    """How FFmpeg's command line times decoded frames: a frame's own timestamp while those come out in
    order at least as often as the decode timestamps (libavcodec's `guess_correct_pts`), else the decode
    timestamp of the packet that released it; a frame the final flush releases, which has none, one
    step after the frame before (as `ffmpeg` does: Megamind_bugy.avi's last frame is at 9.0 s)."""

    faulty_pts: int = 0
    faulty_dts: int = 0
    last_pts: int = field(default=-(2**63))
    last_dts: int = field(default=-(2**63))
    step: int = 0

    def of(self, frame: av.VideoFrame) -> int | None:
        pts, dts = frame.pts, frame.dts
        if dts is not None:
            self.faulty_dts += dts <= self.last_dts
            self.step, self.last_dts = dts - self.last_dts, dts
        if pts is not None:
            self.faulty_pts += pts <= self.last_pts
            self.last_pts = pts
        if self.faulty_pts <= self.faulty_dts and pts is not None:
            return pts
        if dts is None:
            self.last_dts += self.step
            return self.last_dts
        return dts


@dataclass(frozen=True)
class _Decoder:
    context: av.VideoCodecContext
    name: str
    deadline: float  # time.monotonic()
    timeout_s: float

    def frames(self, packet: av.Packet | None) -> list[av.VideoFrame]:
        """The frames a packet releases; a packet the decoder rejects releases none (it logs why)."""
        if time.monotonic() > self.deadline:
            raise FrameExtractionError("timeout", f"{self.name}: decoding took over {self.timeout_s:g} s")
        try:
            return self.context.decode(packet)
        except av.FFmpegError:
            return []


def _jpeg(frame: av.VideoFrame, scaler: VideoReformatter, rules: FrameRules) -> bytes:
    """Scaled straight to JPEG's full-range 4:2:0 planes, so nothing converts to RGB and back."""
    width, height = fitted_size(frame.width, frame.height, rules.max_side)
    scaled = scaler.reformat(frame, width=width, height=height, format="yuvj420p", interpolation="BICUBIC")
    planes = [
        numpy.frombuffer(plane, numpy.uint8).reshape(-1, plane.line_size)[: plane.height, : plane.width]
        for plane in scaled.planes
    ]
    return simplejpeg.encode_jpeg_yuv_planes(*(_edge_padded(plane) for plane in planes), quality=rules.jpeg_quality)


def _edge_padded(plane: numpy.ndarray) -> numpy.ndarray:
    """`plane`, in memory whose next MCU (16 px) of columns and rows repeats its edges: libjpeg-turbo
    reads that far past a plane's last row and column, and without the copies it reads whatever memory
    follows, so the same frame would give different JPEG bytes. (numpy.pad does the same, 5x slower.)"""
    height, width = plane.shape
    padded = numpy.empty((height + MCU_SIDE, width + MCU_SIDE), numpy.uint8)
    padded[:height, :width] = plane
    padded[:height, width:] = plane[:, -1:]
    padded[height:] = padded[height - 1]
    return padded[:height, :width]
