"""`curate m3w`: web pages -> interleaved documents: JSON lines of the text (and image facts), or with
--fetch_images the whole-run DAG with only its M3W dataset, writing shards with the images."""

from __future__ import annotations

import argparse

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipelines import job, progress
from pipelines.argument_types import positive_int
from pipelines.fetch.arguments import add_fetch_arguments, fetch_config_from_args
from pipelines.images.arguments import add_dedup_arguments, add_image_arguments, image_stage_from_args
from pipelines.m3w.arguments import add_m3w_arguments, m3w_config_from_args
from pipelines.m3w.document import M3WConfig
from pipelines.m3w.transforms import PagesToDocuments
from pipelines.options import new_pipeline
from pipelines.outcome import (
    DEFAULT_PROGRESS_EVERY_S,
    FailedRun,
    add_run_report_arguments,
    documents_problems,
    launch_from_args,
)
from pipelines.readers.arguments import add_input_arguments, input_config_from_args
from pipelines.readers.inputs import InputConfig, ReadPages
from pipelines.rejects import REJECTS
from pipelines.run.command import (
    add_overwrite_argument,
    add_sharding_arguments,
    describe_progress,
    report_run,
    run_all,
    sharding_from_args,
)
from pipelines.run.dag import RunConfig
from pipelines.sinks.jsonl import WriteJsonLines

DOCUMENTS_DIR = "m3w"


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "m3w",
        help="web pages -> M3W interleaved documents with <image> and <EOC>",
        description="Parse WARC files, saved HTML files or URL lists into interleaved text+image documents "
        "(Flamingo's M3W), with OBELICS/MassiveWeb text filters and image URL rules. Writes OUTPUT/m3w/*.jsonl "
        "(or, with --fetch_images, webdataset shards OUTPUT/m3w/shard-*.tar and manifest.parquet), "
        "OUTPUT/rejects/ and OUTPUT/stats.json.",
    )
    add_input_arguments(parser)
    parser.add_argument("--output", required=True, help="output folder (any Beam FileSystems path)")
    parser.add_argument(
        "--num_shards", type=positive_int, default=4, help="JSON-lines files to write (default: %(default)s)"
    )
    parser.add_argument(
        "--fetch_images",
        action="store_true",
        help="fetch, validate and resize every image (failed ones leave their documents with their tokens) "
        "and write shards with the images",
    )
    add_sharding_arguments(parser)
    add_overwrite_argument(parser)
    add_m3w_arguments(parser)
    add_image_arguments(parser)
    add_dedup_arguments(parser, max_uses_per_image=10)
    add_fetch_arguments(parser)
    add_run_report_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    inputs = input_config_from_args(args)
    if not args.fetch_images:
        if args.dedup_index:
            raise ValueError("--dedup_index needs --fetch_images: decontamination searches the fetched pixels")
        if args.detached or args.dry_run:
            raise ValueError(
                "--detached and --dry_run need --fetch_images: the text-only job's stats come from its launcher"
            )
        stats = run_m3w(
            inputs, m3w_config_from_args(args), args.output, args.num_shards, beam_args, args.progress_every
        )
        print_m3w_summary(stats)
        if problems := documents_problems(stats, args.max_error_rate):
            raise FailedRun(problems)
        return 0
    config = RunConfig(
        inputs=inputs,
        output=args.output,
        fetch=fetch_config_from_args(args),
        m3w=m3w_config_from_args(args),
        images=image_stage_from_args(args),
        datasets=("m3w",),
        sharding=sharding_from_args(args),
        overwrite=args.overwrite,
    )
    return report_run(
        run_all(config, beam_args, launch_from_args(args)), config.datasets, args.output, args.max_error_rate
    )


def run_m3w(
    inputs: InputConfig,
    config: M3WConfig,
    output: str,
    num_shards: int,
    beam_args: list[str],
    progress_every: float = DEFAULT_PROGRESS_EVERY_S,
) -> dict:
    """The text-only M3W job: documents as JSON lines, images not fetched."""
    pipeline = new_pipeline(beam_args)
    read = pipeline | "ReadPages" >> ReadPages(inputs)
    extracted = read["pages"] | "M3W" >> PagesToDocuments(config)
    _ = extracted["documents"] | "WriteDocuments" >> WriteJsonLines(
        FileSystems.join(output, DOCUMENTS_DIR, "documents"),
        to_record=lambda doc: (doc.doc_id, doc.to_dict()),
        num_shards=num_shards,
    )
    job.write_rejects([read[REJECTS], extracted[REJECTS]] | "AllRejects" >> beam.Flatten(), output, "m3w")
    with progress.watching(describe_progress, progress_every):
        job_counters = job.run(pipeline)
    stats = job.stats_from_counters(job_counters)
    job.write_stats(output, stats)
    return stats


def print_m3w_summary(stats: dict) -> None:
    m3w = stats["stages"].get("m3w", {})
    images = stats["stages"].get("m3w_images", {})
    print(f"  pages read        {m3w.get('pages_in', 0)}")
    print(f"  documents kept    {m3w.get('documents_kept', 0)} (with {images.get('kept', 0)} images before fetching)")
    fetched = stats["stages"].get("images")
    if fetched:
        print(
            f"  images fetched    {fetched.get('ok', 0)} ok; documents left with images: {fetched.get('documents_with_images', 0)}"
        )
    for reason, count in sorted(stats["drops"].items(), key=lambda item: -item[1]):
        print(f"    dropped {reason:<40} {count}")
