"""`trainer presets`: the model presets and their parameter counts (counted on the meta device)."""

from __future__ import annotations

import argparse

from trainer.model.build import PRESETS, preset_parameter_counts

COLUMNS = ("vision", "language_model", "resampler", "cross_attention", "trainable", "frozen", "total")


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser("presets", help="the model presets and their parameter counts")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print("| preset | xattn every | " + " | ".join(COLUMNS) + " |")
    print("|---|---:|" + "---:|" * len(COLUMNS))
    for name, config in PRESETS.items():
        counts = preset_parameter_counts(name)
        cells = [_millions(counts[column]) for column in COLUMNS]
        print(f"| {name} | {config.cross_attention.every} | " + " | ".join(cells) + " |")
    return 0


def _millions(count: int) -> str:
    return f"{count / 1e9:.2f}B" if count >= 1e9 else f"{count / 1e6:.1f}M"
