"""`curate video`: video-text pairs (Flamingo's VTP) from the videos of web pages or from a list:
the whole-run DAG with only its video dataset."""

from __future__ import annotations

import argparse

from pipelines.fetch.arguments import add_fetch_arguments, fetch_config_from_args
from pipelines.images.arguments import add_dedup_arguments, decontamination_from_args
from pipelines.outcome import add_run_report_arguments, launch_from_args
from pipelines.readers.arguments import add_input_arguments, input_config_from_args
from pipelines.readers.inputs import check_inputs_exist
from pipelines.run.command import (
    add_overwrite_argument,
    add_sharding_arguments,
    report_run,
    run_all,
    sharding_from_args,
)
from pipelines.run.dag import RunConfig
from pipelines.video.arguments import (
    add_clip_arguments,
    add_download_arguments,
    clip_rules_from_args,
    download_config_from_args,
)
from pipelines.video.config import VideoJob, VideoLists


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "video",
        help="video-text pairs (VTP): videos fetched with yt-dlp, frames at 1 FPS with ffmpeg",
        description="Find the videos of web pages (<video>, <source>, YouTube/Vimeo/Dailymotion players, "
        "og:video) with their caption, title or description, or read a (url, text) list; download each with "
        "yt-dlp, sample frames at --fps with ffmpeg, and write webdataset shards OUTPUT/video/shard-*.tar "
        "(KEY.{t}.jpg frames + KEY.txt + KEY.json), manifest.parquet, OUTPUT/rejects/ and OUTPUT/stats.json.",
    )
    add_input_arguments(parser, required=False)
    parser.add_argument("--video_list", action="append", default=[], help="CSV/TSV/parquet/JSONL of (url, text)")
    parser.add_argument("--text_column", default="text", help="text column of --video_list (default: %(default)s)")
    parser.add_argument("--output", required=True, help="output folder (any Beam FileSystems path)")
    add_sharding_arguments(parser)
    add_overwrite_argument(parser)
    add_clip_arguments(parser)
    add_download_arguments(parser)
    add_dedup_arguments(parser, max_uses_per_image=None)
    add_fetch_arguments(parser)
    add_run_report_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    if not args.input and not args.video_list:
        raise ValueError("give --input (web pages) or --video_list (url, text table), or both")
    if args.fps <= 0 or args.max_frames < 1:
        raise ValueError("--fps must be positive and --max_frames at least 1")
    check_inputs_exist(args.video_list)
    videos = VideoJob(
        download=download_config_from_args(args),
        clips=clip_rules_from_args(args),
        decontamination=decontamination_from_args(args),
        threads=args.video_threads,
    )
    config = RunConfig(
        inputs=input_config_from_args(args) if args.input else None,
        output=args.output,
        fetch=fetch_config_from_args(args),
        videos=videos,
        video_lists=VideoLists(tuple(args.video_list), args.url_column, args.text_column),
        datasets=("video",),
        sharding=sharding_from_args(args),
        overwrite=args.overwrite,
    )
    return report_run(
        run_all(config, beam_args, launch_from_args(args)), config.datasets, args.output, args.max_error_rate
    )
