"""Command-line flags for frames, clips and video downloads."""

from __future__ import annotations

import argparse

from dedup.video_frames import FrameRules
from pipelines.argument_types import non_negative_float, positive_float, positive_int
from pipelines.fetch.arguments import fetch_config_from_args
from pipelines.video.clips import LONG_CLIPS, ClipRules
from pipelines.video.download import DownloadConfig
from pipelines.video.transforms import DEFAULT_THREADS


def add_clip_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("frames and clips")
    defaults = ClipRules()
    group.add_argument(
        "--fps", type=positive_float, default=defaults.frames.fps, help="Flamingo: 1; default: %(default)s"
    )
    group.add_argument(
        "--max_frames", type=positive_int, default=defaults.frames.max_frames, help="per clip (default: %(default)s)"
    )
    group.add_argument(
        "--frame_size",
        type=positive_int,
        default=defaults.frames.max_side,
        help="longer side, px (default: %(default)s)",
    )
    group.add_argument(
        "--long_clips",
        choices=LONG_CLIPS,
        default=defaults.long_clips,
        help="a video longer than --max_frames: keep its first clip, or split it into clips (default: %(default)s)",
    )
    group.add_argument(
        "--max_clips_per_video", type=positive_int, default=defaults.max_clips_per_video, help="with split"
    )
    group.add_argument(
        "--max_decode_errors_per_s",
        type=non_negative_float,
        default=defaults.frames.max_decode_errors_per_s,
        help="decoder errors per second of video before it is rejected as corrupt (default: %(default)s)",
    )


def add_download_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("downloads (yt-dlp)")
    defaults = DownloadConfig()
    group.add_argument("--max_video_bytes", type=positive_int, default=defaults.max_bytes, help="default: %(default)s")
    group.add_argument(
        "--max_video_duration",
        type=positive_float,
        default=defaults.max_duration_s,
        help="seconds (default: %(default)s)",
    )
    group.add_argument(
        "--video_deadline",
        type=positive_float,
        default=defaults.deadline_s,
        help="per download, s (default: %(default)s)",
    )
    group.add_argument(
        "--max_video_height",
        type=positive_int,
        default=defaults.max_height,
        help="format choice (default: %(default)s)",
    )
    group.add_argument(
        "--video_threads", type=positive_int, default=DEFAULT_THREADS, help="downloads at once per worker"
    )


def clip_rules_from_args(args: argparse.Namespace) -> ClipRules:
    frames = FrameRules(
        fps=args.fps,
        max_frames=args.max_frames,
        max_side=args.frame_size,
        max_decode_errors_per_s=args.max_decode_errors_per_s,
    )
    return ClipRules(frames=frames, long_clips=args.long_clips, max_clips_per_video=args.max_clips_per_video)


def download_config_from_args(args: argparse.Namespace) -> DownloadConfig:
    fetch = fetch_config_from_args(args)
    return DownloadConfig(
        max_bytes=args.max_video_bytes,
        max_duration_s=args.max_video_duration,
        deadline_s=args.video_deadline,
        socket_timeout_s=max(fetch.read_timeout, 5.0),
        retries=fetch.max_retries,
        max_height=args.max_video_height,
        addresses=fetch.addresses,
        user_agent=fetch.user_agent,
        per_host_delay=fetch.per_host_delay,
        respect_robots=fetch.respect_robots,
    )
