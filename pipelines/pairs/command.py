"""`curate pairs`: ALIGN/LTIP-style image-text pairs from web pages or from a (url, caption) list:
the whole-run DAG with only its pairs dataset."""

from __future__ import annotations

import argparse

from pipelines.fetch.arguments import add_fetch_arguments, fetch_config_from_args
from pipelines.filters.image_urls import add_image_url_arguments, image_url_rules_from_args
from pipelines.images.arguments import add_dedup_arguments, add_image_arguments, image_stage_from_args
from pipelines.m3w.document import M3WConfig
from pipelines.outcome import add_run_report_arguments, launch_from_args
from pipelines.pairs.captions import add_caption_arguments, caption_rules_from_args
from pipelines.readers.arguments import add_input_arguments, input_config_from_args
from pipelines.readers.inputs import check_inputs_exist
from pipelines.run.command import (
    add_overwrite_argument,
    add_sharding_arguments,
    report_run,
    run_all,
    sharding_from_args,
)
from pipelines.run.dag import PairLists, RunConfig


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "pairs",
        help="image-text pairs (ALIGN alt text, LTIP long captions) from pages or a url/caption list",
        description="Build image-text pairs: from web pages (alt text -> kind 'alt', <figcaption> -> kind "
        "'caption'), or from a table of (url, caption) like img2dataset's input with --pairs_list. "
        "Writes webdataset shards OUTPUT/pairs/shard-*.tar (KEY.jpg + KEY.txt + KEY.json), manifest.parquet, "
        "OUTPUT/images/status-*.jsonl (one line per URL: ok or the error class, so a rerun can retry "
        "failures), OUTPUT/rejects/ and OUTPUT/stats.json.",
    )
    add_input_arguments(parser, required=False)
    parser.add_argument("--pairs_list", action="append", default=[], help="CSV/TSV/parquet/JSONL of (url, caption)")
    parser.add_argument(
        "--caption_column", default="caption", help="caption column of --pairs_list (default: %(default)s)"
    )
    parser.add_argument("--output", required=True, help="output folder (any Beam FileSystems path)")
    add_sharding_arguments(parser)
    add_overwrite_argument(parser)
    add_caption_arguments(parser)
    add_image_url_arguments(parser)
    add_image_arguments(parser)
    # ALIGN drops images that carry more than 1000 different alt texts
    add_dedup_arguments(parser, max_uses_per_image=1000)
    add_fetch_arguments(parser)
    add_run_report_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    if not args.input and not args.pairs_list:
        raise ValueError("give --input (web pages) or --pairs_list (url, caption table), or both")
    check_inputs_exist(args.pairs_list)
    images = image_stage_from_args(args)
    config = RunConfig(
        inputs=input_config_from_args(args) if args.input else None,
        output=args.output,
        fetch=fetch_config_from_args(args),
        m3w=M3WConfig(images=image_url_rules_from_args(args)),
        captions=caption_rules_from_args(args),
        images=images,
        pair_repetition=images.repetition,
        pair_lists=PairLists(tuple(args.pairs_list), args.url_column, args.caption_column),
        datasets=("pairs",),
        sharding=sharding_from_args(args),
        overwrite=args.overwrite,
    )
    return report_run(
        run_all(config, beam_args, launch_from_args(args)), config.datasets, args.output, args.max_error_rate
    )
