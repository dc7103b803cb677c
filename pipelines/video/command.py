"""`curate video`: video-text pairs (Flamingo's VTP) from the videos of web pages or from a list."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass

import apache_beam as beam

from dedup.video_frames import FrameRules
from pipelines import job
from pipelines.decontamination import DecontaminationConfig
from pipelines.fetch.arguments import add_fetch_arguments, fetch_config_from_args
from pipelines.images.arguments import add_dedup_arguments, decontamination_from_args
from pipelines.m3w.command import add_input_arguments, input_config_from_args
from pipelines.options import new_pipeline
from pipelines.outputs import finish_output, prepare_output
from pipelines.readers.inputs import InputConfig, ReadPages, check_inputs_exist
from pipelines.readers.url_list import read_url_list
from pipelines.rejects import REJECTS
from pipelines.sinks.shards import WriteShards
from pipelines.video.candidates import VideoCandidate, page_videos
from pipelines.video.clips import LONG_CLIPS, ClipRules
from pipelines.video.download import DownloadConfig
from pipelines.video.transforms import DEFAULT_THREADS, STAGE, BuildVideoPairs
from schemas.samples import video_to_sample

VIDEO_DIR = "video"


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "video",
        help="video-text pairs (VTP): videos fetched with yt-dlp, frames at 1 FPS with ffmpeg",
        description="Find the videos of web pages (<video>, <source>, YouTube/Vimeo/Dailymotion players, "
        "og:video) with their caption, title or description, or read a (url, text) list; download each with "
        "yt-dlp, sample frames at --fps with ffmpeg, and write webdataset shards OUTPUT/video/shard-*.tar "
        "(KEY.{t}.jpg frames + KEY.txt + KEY.json), OUTPUT/rejects/ and OUTPUT/stats.json.",
    )
    add_input_arguments(parser, required=False)
    parser.add_argument("--video_list", action="append", default=[], help="CSV/TSV/parquet/JSONL of (url, text)")
    parser.add_argument("--text_column", default="text", help="text column of --video_list (default: %(default)s)")
    parser.add_argument("--output", required=True, help="output folder (any Beam FileSystems path)")
    parser.add_argument("--num_shards", type=int, default=4, help="tar shards to write (default: %(default)s)")
    add_clip_arguments(parser)
    add_download_arguments(parser)
    add_dedup_arguments(parser, max_uses_per_image=None)
    add_fetch_arguments(parser)
    parser.set_defaults(run=run)


def add_clip_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("frames and clips")
    defaults = ClipRules()
    group.add_argument("--fps", type=float, default=defaults.frames.fps, help="Flamingo: 1; default: %(default)s")
    group.add_argument(
        "--max_frames", type=int, default=defaults.frames.max_frames, help="per clip (default: %(default)s)"
    )
    group.add_argument(
        "--frame_size", type=int, default=defaults.frames.max_side, help="longer side, px (default: %(default)s)"
    )
    group.add_argument(
        "--long_clips",
        choices=LONG_CLIPS,
        default=defaults.long_clips,
        help="a video longer than --max_frames: keep its first clip, or split it into clips (default: %(default)s)",
    )
    group.add_argument("--max_clips_per_video", type=int, default=defaults.max_clips_per_video, help="with split")
    group.add_argument(
        "--max_decode_errors_per_s",
        type=float,
        default=defaults.frames.max_decode_errors_per_s,
        help="decoder errors per second of video before it is rejected as corrupt (default: %(default)s)",
    )


def add_download_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("downloads (yt-dlp)")
    defaults = DownloadConfig()
    group.add_argument("--max_video_bytes", type=int, default=defaults.max_bytes, help="default: %(default)s")
    group.add_argument(
        "--max_video_duration", type=float, default=defaults.max_duration_s, help="seconds (default: %(default)s)"
    )
    group.add_argument(
        "--video_deadline", type=float, default=defaults.deadline_s, help="per download, s (default: %(default)s)"
    )
    group.add_argument(
        "--max_video_height", type=int, default=defaults.max_height, help="format choice (default: %(default)s)"
    )
    group.add_argument("--video_threads", type=int, default=DEFAULT_THREADS, help="downloads at once per worker")


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
    )


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    if not args.input and not args.video_list:
        raise ValueError("give --input (web pages) or --video_list (url, text table), or both")
    if args.fps <= 0 or args.max_frames < 1:
        raise ValueError("--fps must be positive and --max_frames at least 1")
    if args.video_list:
        check_inputs_exist(args.video_list)
    videos = VideoJob(
        download=download_config_from_args(args),
        clips=clip_rules_from_args(args),
        decontamination=decontamination_from_args(args),
        threads=args.video_threads,
    )
    inputs = input_config_from_args(args) if args.input else None
    lists = VideoLists(tuple(args.video_list), args.url_column, args.text_column)
    stats = run_video(inputs, lists, videos, args.output, args.num_shards, beam_args)
    print_video_summary(stats, args.output)
    return 0


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

    def candidates(self, path: str) -> Iterator[VideoCandidate]:
        for url, text in read_url_list(path, url_column=self.url_column, text_column=self.text_column):
            yield VideoCandidate(url, (text or "").strip(), "list")


def run_video(
    inputs: InputConfig | None,
    lists: VideoLists,
    job_config: VideoJob,
    output: str,
    num_shards: int,
    beam_args: list[str],
) -> dict:
    """The VTP job: videos of the pages in `inputs` and of the lists -> OUTPUT/video/shard-*.tar."""
    prepare_output(output)
    pipeline = new_pipeline(beam_args)
    sources, rejects = [], []
    if inputs is not None:
        read = pipeline | "ReadPages" >> ReadPages(inputs)
        sources.append(read["pages"] | "PageVideos" >> beam.FlatMap(page_videos))
        rejects.append(read[REJECTS])
    if lists.paths:
        sources.append(
            pipeline | "VideoLists" >> beam.Create(lists.paths) | "ReadVideoLists" >> beam.FlatMap(lists.candidates)
        )
    built = (sources | "AllCandidates" >> beam.Flatten()) | "Videos" >> BuildVideoPairs(
        job_config.download, job_config.clips, job_config.decontamination, job_config.threads
    )
    _ = (
        built["clips"]
        | "ToSamples" >> beam.MapTuple(video_to_sample)
        | "WriteShards" >> WriteShards(output, VIDEO_DIR, num_shards=num_shards)
    )
    job.write_rejects([*rejects, built[REJECTS]] | "AllRejects" >> beam.Flatten(), output, "video")
    stats = job.stats_from_counters(job.run(pipeline))
    stats["sizes"] = finish_output(output)
    job.write_stats(output, stats)
    return stats


def print_video_summary(stats: dict, output: str) -> None:
    video = stats["stages"].get(STAGE, {})
    print(f"curate video: {video.get('clips', 0)} clips from {video.get('videos_ok', 0)} videos; output in {output}")
    for benchmark, found in stats["contamination"].items():
        print(f"    contaminated: {found.get('training_clips', 0)} clip(s) matching {benchmark}")
    for reason, count in sorted(stats["drops"].items(), key=lambda item: -item[1]):
        print(f"    dropped {reason:<40} {count}")
