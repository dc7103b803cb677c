"""The `curate` command line. Flags a subcommand does not know are Beam pipeline options."""

from __future__ import annotations

import argparse
import logging
import sys

from pipelines import report_command, shards_commands
from pipelines.demo import command as demo_command
from pipelines.index import command as index_command
from pipelines.m3w import command as m3w_command
from pipelines.options import check_beam_flags
from pipelines.outcome import FailedRun
from pipelines.outputs import check_output_location
from pipelines.pairs import command as pairs_command
from pipelines.run import command as run_command
from pipelines.video import command as video_command

COMMANDS = [demo_command, run_command, m3w_command, pairs_command, video_command, index_command, report_command]
PIPELINE_COMMANDS = ("run", "m3w", "pairs", "video")  # those whose --output is a folder a job writes into


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="curate",
        description="Curate Flamingo-style training data from web pages with Apache Beam. "
        "Unknown flags are passed to Beam (e.g. --runner=DataflowRunner --project=... ).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show Beam's own progress logs")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subcommands)
    shards_commands.add_parsers(subcommands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, beam_args = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        check_beam_flags(beam_args)
        output = getattr(args, "output", None)
        if output is not None and args.command in PIPELINE_COMMANDS and not getattr(args, "dry_run", False):
            check_output_location(str(output))
        return args.run(args, beam_args) or 0
    except (FileNotFoundError, ValueError) as error:  # bad input: the message names it and says why
        print(f"curate {args.command}: {error}", file=sys.stderr)
        return 2
    except FailedRun as failed:
        print(f"curate {args.command}: failed: " + "; ".join(failed.problems), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
