"""`curate run`: the whole curation in one pipeline: M3W documents, image-text pairs and video-text
pairs from the same pages, images fetched once, decontaminated, deduplicated, written as shards."""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import replace

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from dedup.corpus import RepetitionRules
from pipelines import job, progress
from pipelines.argument_types import non_negative_int, positive_float, positive_int
from pipelines.decontamination import CONTAMINATION_DIR
from pipelines.fetch.arguments import add_fetch_arguments, fetch_config_from_args
from pipelines.images.arguments import add_dedup_arguments, add_image_arguments, image_stage_from_args
from pipelines.m3w.arguments import add_m3w_arguments, m3w_config_from_args
from pipelines.options import new_pipeline
from pipelines.outcome import FailedRun, Launch, add_run_report_arguments, launch_from_args, run_problems
from pipelines.outputs import SHARD_DIRS, check_earlier_output, new_run_id
from pipelines.pairs.captions import add_caption_arguments, caption_rules_from_args
from pipelines.provenance import Provenance
from pipelines.readers.arguments import add_input_arguments, input_config_from_args
from pipelines.readers.inputs import check_inputs_exist
from pipelines.run.dag import DATASETS, CurateAll, PairLists, RunConfig, Sharding
from pipelines.run.finish import Finish, FinishRun
from pipelines.video.arguments import (
    add_clip_arguments,
    add_download_arguments,
    clip_rules_from_args,
    download_config_from_args,
)
from pipelines.video.config import VideoJob, VideoLists

MB = 1024 * 1024


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "run",
        help="the whole curation in one pipeline: M3W, pairs and videos -> webdataset shards",
        description="Reads pages (WARC, HTML, URL lists) and optional pair/video lists, and writes under "
        "OUTPUT: m3w/, pairs/ and video/ webdataset shards, manifest.parquet (one row per sample), "
        "stats.json (counts per stage and drop reason, contamination, sizes), rejects/ and images/status-*.jsonl. "
        "A run writes beside an earlier one and switches over when it is complete (manifest.parquet last); "
        "rerunning on the same input writes byte-identical shards.",
    )
    add_input_arguments(parser, required=False)
    parser.add_argument("--pairs_list", action="append", default=[], help="CSV/TSV/parquet/JSONL of (url, caption)")
    parser.add_argument("--caption_column", default="caption", help="caption column of --pairs_list")
    parser.add_argument("--video_list", action="append", default=[], help="CSV/TSV/parquet/JSONL of (url, text)")
    parser.add_argument("--text_column", default="text", help="text column of --video_list")
    parser.add_argument("--output", required=True, help="output folder (any Beam FileSystems path)")
    parser.add_argument(
        "--datasets", default=",".join(DATASETS), help="which to build, comma-separated (default: %(default)s)"
    )
    add_sharding_arguments(parser)
    add_overwrite_argument(parser)
    add_m3w_arguments(parser)
    add_caption_arguments(parser)
    add_image_arguments(parser)
    add_dedup_arguments(parser, max_uses_per_image=10)
    parser.add_argument(
        "--max_pair_uses_per_image",
        type=non_negative_int,
        default=1000,
        help="drop images carried by more pairs than this (ALIGN: 1000; 0: off; default: %(default)s)",
    )
    add_clip_arguments(parser)
    add_download_arguments(parser)
    add_fetch_arguments(parser)
    add_run_report_arguments(parser)
    parser.set_defaults(run=run)


def add_sharding_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("shards")
    group.add_argument(
        "--shard_mb", type=positive_float, default=256, help="target shard size in MB (default: %(default)s)"
    )
    group.add_argument("--shard_samples", type=positive_int, help="target samples per shard (default: no limit)")


def add_overwrite_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier run's shards in --output even of datasets this run does not build",
    )


def sharding_from_args(args: argparse.Namespace) -> Sharding:
    return Sharding(int(args.shard_mb * MB) if args.shard_mb else None, args.shard_samples)


def run_config_from_args(args: argparse.Namespace) -> RunConfig:
    datasets = tuple(name.strip() for name in args.datasets.split(",") if name.strip())
    unknown = sorted(set(datasets) - set(DATASETS))
    if unknown or not datasets:
        raise ValueError(f"--datasets takes some of {', '.join(DATASETS)}; got {args.datasets!r}")
    if not args.input and not args.pairs_list and not args.video_list:
        raise ValueError("give --input (web pages), --pairs_list or --video_list")
    check_inputs_exist([*args.pairs_list, *args.video_list])
    images = image_stage_from_args(args)
    return RunConfig(
        inputs=input_config_from_args(args) if args.input else None,
        output=args.output,
        fetch=fetch_config_from_args(args),
        m3w=m3w_config_from_args(args),
        captions=caption_rules_from_args(args),
        images=images,
        pair_repetition=RepetitionRules(args.max_pair_uses_per_image, images.repetition.near),
        videos=VideoJob(
            download=download_config_from_args(args),
            clips=clip_rules_from_args(args),
            decontamination=images.decontamination,
            threads=args.video_threads,
        ),
        pair_lists=PairLists(tuple(args.pairs_list), args.url_column, args.caption_column),
        video_lists=VideoLists(tuple(args.video_list), args.url_column, args.text_column),
        datasets=datasets,
        sharding=sharding_from_args(args),
        overwrite=args.overwrite,
    )


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    config = run_config_from_args(args)
    return report_run(
        run_all(config, beam_args, launch_from_args(args)), config.datasets, args.output, args.max_error_rate
    )


def report_run(stats: dict | None, datasets: tuple[str, ...], output: str, max_error_rate: float) -> int:
    """Print the summary; raise FailedRun when a dataset asked for is empty or errors are over budget.
    No stats: the job was only translated, or runs detached, and `run_all` said so."""
    if stats is None:
        return 0
    print_run_summary(stats, output)
    problems = run_problems(stats, datasets, max_error_rate)
    if problems:
        raise FailedRun(problems)
    return 0


def run_all(config: RunConfig, beam_args: list[str], launch: Launch = Launch()) -> dict | None:
    """Runs the job and returns its stats, which the job's own last step wrote to stats.json; None
    for a dry run (the pipeline translated for its runner) or a detached job."""
    if not launch.dry_run:
        check_earlier_output(config.output, config.datasets, config.overwrite)
    pipeline = build_pipeline(config, job.dry_run_flags(beam_args) if launch.dry_run else beam_args)
    runner = type(pipeline.runner).__name__
    if launch.dry_run:
        print(f"curate: translated for {runner}, nothing run: {job.describe_translation(job.translate(pipeline))}")
        return None
    if launch.detached:
        job_id = job.submit(pipeline)
        print(
            f"curate: job {job_id or '(no id)'} submitted to {runner}; {config.output} gets manifest.parquet and "
            "stats.json when it finishes (curate verify checks it then)"
        )
        return None
    with progress.watching(describe_progress, launch.progress_every):
        job.run(pipeline)
    return job.read_stats(config.output)


def build_pipeline(config: RunConfig, beam_args: list[str]) -> beam.Pipeline:
    """The whole job, its last step included (stats.json, then manifest.parquet), on the runner the
    flags name; nothing is read or written until it runs."""
    patterns = [*(config.inputs.patterns if config.inputs else ()), *config.pair_lists.paths, *config.video_lists.paths]
    provenance = Provenance(config, beam_args, patterns)
    run_id = new_run_id()
    matches = FileSystems.join(config.output, CONTAMINATION_DIR, run_id)
    config = with_match_reports(config, matches)
    pipeline = new_pipeline(beam_args)
    curated = pipeline | "Curate" >> CurateAll(config, run_id)
    rejects_written = job.write_rejects(curated["accounts"], config.output, "run")
    finish = Finish(
        config.output,
        run_id,
        SHARD_DIRS if config.overwrite else config.datasets,
        provenance,
        matches if config.images.decontamination is not None else None,
    )
    written = (curated["written"], rejects_written) | "Written" >> beam.Flatten()
    _ = {"accounts": curated["accounts"], "written": written} | "Finish" >> FinishRun(finish)
    return pipeline


def with_match_reports(config: RunConfig, prefix: str) -> RunConfig:
    """The config with decontamination writing each match under `prefix` (for stats.json)."""
    found = config.images.decontamination
    if found is None:
        return config
    reporting = replace(found, matches_prefix=prefix)
    videos = config.videos
    if videos is not None and videos.decontamination is not None:
        videos = replace(videos, decontamination=replace(videos.decontamination, matches_prefix=prefix))
    return replace(config, images=replace(config.images, decontamination=reporting), videos=videos)


def describe_progress(totals: Counter[str], seconds: float) -> str:
    """One progress line: pages read and their rate, list rows, documents kept, images, videos, samples written."""
    pages = totals["m3w.pages_in"] or totals["pairs.pages_in"]
    failed = sum(count for name, count in totals.items() if name.startswith("images.dropped_"))
    minutes, rest = divmod(int(seconds), 60)
    parts = [f"pages {pages} ({pages / max(seconds, 1e-9):.1f}/s)"] if pages else []
    if totals["url_list.urls_read"]:
        parts.append(f"list rows {totals['url_list.urls_read']}")
    if totals["m3w.documents_kept"]:
        parts.append(f"documents kept {totals['m3w.documents_kept']}")
    if totals["images.ok"] or failed or totals["image_cache.reused"]:
        parts.append(f"images {totals['images.ok']} usable, {failed} failed, {totals['image_cache.reused']} reused")
    if totals["video.videos_ok"] or totals["video.clips"]:
        parts.append(f"videos {totals['video.videos_ok']} ({totals['video.clips']} clips)")
    written = sum(count for name, count in totals.items() if name.endswith("_shards.samples_written"))
    parts.append(f"samples written {written}")
    return f"curate [{minutes}:{rest:02d}] " + " · ".join(parts)


def print_run_summary(stats: dict, output: str) -> None:
    """What the run did: time, pages, images, samples written (after every filter and duplicate
    removal), contamination, and every drop reason."""
    seconds = stats.get("provenance", {}).get("seconds")
    print(f"curate run: output in {output}" + (f" after {seconds:.0f} s" if seconds is not None else ""))
    stages = stats["stages"]
    pages = stages.get("m3w", {}).get("pages_in") or stages.get("pairs", {}).get("pages_in")
    if pages:
        print(f"  pages  {pages:>8} read")
    images = stages.get("images", {})
    usable = images.get("ok", 0)
    tried = usable + sum(count for name, count in images.items() if name.startswith("dropped_"))
    if tried:
        print(f"  images {usable:>8} usable of {tried} fetched ({usable / tried:.0%})")
    reused = stages.get("image_cache", {}).get("reused")
    if reused:
        print(f"  images {reused:>8} reused from the cache of earlier runs (--resume)")
    for kind, size in stats["sizes"].items():
        print(
            f"  {kind:<6} {size['samples']:>8} samples {size['images']:>8} images/frames "
            f"{size['bytes'] / MB:>9.1f} MB in {size['shards']} shard(s)"
        )
    for benchmark, found in stats["contamination"].items():
        print(f"  contamination {benchmark}: {found}")
    for reason, count in sorted(stats["drops"].items(), key=lambda item: (-item[1], item[0])):
        print(f"    dropped {reason:<44} {count}")
