"""`curate pairs`: ALIGN/LTIP-style image-text pairs from web pages or from a (url, caption) list."""

from __future__ import annotations

import argparse

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipelines import job
from pipelines.fetch.arguments import add_fetch_arguments, fetch_config_from_args
from pipelines.filters.image_urls import add_image_url_arguments, image_url_rules_from_args
from pipelines.images.arguments import add_dedup_arguments, add_image_arguments, image_stage_from_args
from pipelines.m3w.command import add_input_arguments, input_config_from_args
from pipelines.options import new_pipeline
from pipelines.pairs.candidates import pair
from pipelines.pairs.captions import add_caption_arguments, caption_rules_from_args
from pipelines.pairs.transforms import BuildPairs, ExtractPairs
from pipelines.readers.inputs import ReadPages, check_inputs_exist
from pipelines.readers.url_list import read_url_list
from pipelines.rejects import REJECTS
from pipelines.sinks.jsonl import WriteJsonLines

PAIRS_DIR = "pairs"


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "pairs",
        help="image-text pairs (ALIGN alt text, LTIP long captions) from pages or a url/caption list",
        description="Build image-text pairs: from web pages (alt text -> kind 'alt', <figcaption> -> kind "
        "'caption'), or from a table of (url, caption) like img2dataset's input with --pairs_list. "
        "Writes OUTPUT/pairs/*.jsonl, OUTPUT/images/status-*.jsonl (one line per URL: ok or the error "
        "class, so a rerun can retry failures), OUTPUT/rejects/ and OUTPUT/stats.json.",
    )
    add_input_arguments(parser, required=False)
    parser.add_argument("--pairs_list", action="append", default=[], help="CSV/TSV/parquet/JSONL of (url, caption)")
    parser.add_argument(
        "--caption_column", default="caption", help="caption column of --pairs_list (default: %(default)s)"
    )
    parser.add_argument("--output", required=True, help="output folder (any Beam FileSystems path)")
    parser.add_argument("--num_shards", type=int, default=4, help="JSON-lines files to write (default: %(default)s)")
    add_caption_arguments(parser)
    add_image_url_arguments(parser)
    add_image_arguments(parser)
    # ALIGN drops images that carry more than 1000 different alt texts
    add_dedup_arguments(parser, max_uses_per_image=1000)
    add_fetch_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    if not args.input and not args.pairs_list:
        raise ValueError("give --input (web pages) or --pairs_list (url, caption table), or both")
    pipeline = new_pipeline(beam_args)
    sources, rejects = [], []
    if args.input:
        read = pipeline | "ReadPages" >> ReadPages(input_config_from_args(args))
        extracted = read["pages"] | "ExtractPairs" >> beam.ParDo(
            ExtractPairs(image_url_rules_from_args(args))
        ).with_outputs(REJECTS, main="pairs")
        sources.append(extracted.pairs)
        rejects += [read[REJECTS], extracted[REJECTS]]
    if args.pairs_list:
        check_inputs_exist(args.pairs_list)
        url_column, caption_column = args.url_column, args.caption_column
        sources.append(
            pipeline
            | "PairLists" >> beam.Create(args.pairs_list)
            | "ReadPairLists"
            >> beam.FlatMap(
                lambda path: (
                    pair(url, caption or "", "alt")
                    for url, caption in read_url_list(path, url_column=url_column, text_column=caption_column)
                )
            )
        )
    built = (sources | "AllCandidates" >> beam.Flatten()) | "BuildPairs" >> BuildPairs(
        caption_rules_from_args(args), fetch_config_from_args(args), image_stage_from_args(args)
    )
    _ = built["pairs"] | "WritePairs" >> WriteJsonLines(
        FileSystems.join(args.output, PAIRS_DIR, "pairs"),
        to_record=lambda item: (item[0].key, item[0].to_dict()),
        num_shards=args.num_shards,
    )
    job.write_image_status(built["results"], args.output, args.num_shards)
    job.write_rejects([*rejects, built[REJECTS]] | "AllRejects" >> beam.Flatten(), args.output, "pairs")
    stats = job.stats_from_counters(job.run(pipeline))
    job.write_stats(args.output, stats)
    pairs_stage, images = stats["stages"].get("pairs", {}), stats["stages"].get("images", {})
    print(
        f"curate pairs: {pairs_stage.get('pairs_alt', 0)} alt-text pairs, {pairs_stage.get('pairs_caption', 0)} caption pairs"
    )
    print(f"  images fetched ok {images.get('ok', 0)}; output in {args.output}")
    for reason, count in sorted(stats["drops"].items(), key=lambda item: -item[1]):
        print(f"    dropped {reason:<44} {count}")
    return 0
