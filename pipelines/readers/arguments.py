"""Command-line flags for the page inputs every job reads (WARC files, saved HTML, URL lists)."""

from __future__ import annotations

import argparse

from pipelines.argument_types import positive_int
from pipelines.fetch.arguments import fetch_config_from_args
from pipelines.readers.inputs import INPUT_FORMATS, InputConfig, check_inputs_exist
from pipelines.readers.warc import DEFAULT_SPLIT_BYTES


def add_input_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    group = parser.add_argument_group("inputs")
    group.add_argument(
        "--input",
        action="append",
        required=required,
        default=[],
        help="file or glob (local, gs://, s3://); repeatable. WARC (.warc[.gz]), HTML (.html[.gz]) or URL list "
        "(.txt/.tsv/.csv/.parquet/.jsonl)",
    )
    group.add_argument("--input_format", choices=INPUT_FORMATS, help="override the format told by file names")
    group.add_argument("--html_base_url", help="URL that saved HTML files stand for (resolves relative links)")
    group.add_argument("--url_column", default="url", help="URL column of tabular URL lists (default: %(default)s)")
    group.add_argument(
        "--warc_split_bytes",
        type=positive_int,
        default=DEFAULT_SPLIT_BYTES,
        help="WARC files are read in byte ranges of this size, in parallel (default: %(default)s)",
    )


def input_config_from_args(args: argparse.Namespace) -> InputConfig:
    check_inputs_exist(args.input)
    return InputConfig(
        patterns=tuple(args.input),
        input_format=args.input_format,
        html_base_url=args.html_base_url,
        warc_split_bytes=args.warc_split_bytes,
        url_column=args.url_column,
        fetch=fetch_config_from_args(args),
    )
