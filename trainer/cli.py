"""The `trainer` command line: trains and evaluates Flamingo models on flamingo-curate shards."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import version

try:
    from trainer import eval_command, generate_command, presets_command, tokenizer_command, train_command
except ModuleNotFoundError as missing:  # a curation-only install: `pip install flamingo-curate`
    sys.exit(f"trainer needs {missing.name}: pip install 'flamingo-curate[train]'")

COMMANDS = [train_command, eval_command, generate_command, tokenizer_command, presets_command]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trainer", description="Train and evaluate Flamingo models on webdataset shards written by `curate`."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('flamingo-curate')}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subcommands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return args.run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
