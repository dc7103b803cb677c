"""`curate report PATH`: a self-contained HTML report of a curated output folder."""

from __future__ import annotations

import argparse

from apache_beam.io.filesystems import FileSystems

from pipelines.argument_types import non_negative_int
from pipelines.options import refuse_beam_flags
from shards.report import CLIPS_SHOWN, PAIRS_SHOWN, build_report

REPORT_FILE = "report.html"


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "report",
        help="write a self-contained HTML report of a curated output folder",
        description="Reads PATH/manifest.parquet, PATH/stats.json and samples of the shards, and writes one HTML "
        "file with no external resource: counts per kind, the filter funnel, drops per reason, image and "
        "document size histograms, contamination per benchmark, and a gallery of samples.",
    )
    parser.add_argument("path", help="curated output folder (any Beam FileSystems path)")
    parser.add_argument("--output", help=f"HTML file to write (default: PATH/{REPORT_FILE})")
    parser.add_argument(
        "--samples",
        type=non_negative_int,
        default=12,
        help=f"documents in the gallery, first by key; also up to {PAIRS_SHOWN} pairs and {CLIPS_SHOWN} clips "
        "(default: %(default)s)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    refuse_beam_flags(beam_args)
    html = build_report(args.path, FileSystems.open, samples=args.samples)
    output = args.output or FileSystems.join(args.path, REPORT_FILE)
    with FileSystems.create(output) as out:
        out.write(html.encode("utf-8"))
    print(f"curate report: {output}")
    return 0
