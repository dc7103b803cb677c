"""`curate inspect PATH` and `curate verify PATH`: read an output folder through Beam's FileSystems
(local, gs://, s3://) with the readers of shards/."""

from __future__ import annotations

import argparse
import sys

from apache_beam.io.filesystems import FileSystems

from pipelines.argument_types import non_negative_int
from pipelines.options import refuse_beam_flags
from pipelines.outputs import SHARD_DIRS
from shards.inspect import describe_output
from shards.verify import verify_output


def add_parsers(subcommands) -> None:
    inspect = subcommands.add_parser("inspect", help="counts, sizes and a few samples of an output folder")
    inspect.add_argument("path", help="output folder of curate run (or demo)")
    inspect.add_argument("--samples", type=non_negative_int, default=3, help="samples to print (default: %(default)s)")
    inspect.set_defaults(run=run_inspect)
    verify = subcommands.add_parser(
        "verify",
        help="check every sample of every shard, and the manifest and stats against the shards",
        description="Reads every shard; every sample must be valid against the schemas, and manifest.parquet "
        "must list exactly the samples there are, where they are. Exits 1 when anything is wrong.",
    )
    verify.add_argument("path", help="output folder of curate run (or demo)")
    verify.set_defaults(run=run_verify)


def run_inspect(args: argparse.Namespace, beam_args: list[str]) -> int:
    refuse_beam_flags(beam_args)
    print(describe_output(args.path, FileSystems.open, FileSystems.join, args.samples))
    return 0


def run_verify(args: argparse.Namespace, beam_args: list[str]) -> int:
    refuse_beam_flags(beam_args)
    result = verify_output(args.path, shard_files(args.path), FileSystems.open, FileSystems.join)
    for note in result.notes:
        print(f"  note: {note}")
    for problem in result.problems:
        print(f"  {problem}", file=sys.stderr)
    if result.problem_count > len(result.problems):
        print(f"  ... and {result.problem_count - len(result.problems)} more", file=sys.stderr)
    verdict = "ok" if result.ok else f"{result.problem_count} problem(s)"
    print(f"curate verify: {result.samples} samples in {result.shards} shard(s): {verdict}")
    return 0 if result.ok else 1


def shard_files(output: str) -> list[str]:
    """Shard files under `output`, relative to it (temporary files of a running job excluded)."""
    root = output.rstrip("/") + "/"
    found = []
    for kind_dir in SHARD_DIRS:
        for metadata in FileSystems.match([FileSystems.join(output, kind_dir, "shard-*.tar")])[0].metadata_list:
            found.append(metadata.path.removeprefix(root))
    return sorted(found)
