"""argparse types that refuse impossible values at the command line, naming the flag (argparse adds
it), before any pipeline starts: `--image_size 0` or `--shard_mb -1` never reach a worker."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def _number(kind: Callable[[str], float], low: float, inclusive: bool, high: float | None, words: str):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {words}") from None
        if value < low or (not inclusive and value == low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {words}, got {text}")
        return value

    parse.__name__ = words  # what argparse names in its own messages
    return parse


positive_int = _number(int, 0, False, None, "a positive integer")
non_negative_int = _number(int, 0, True, None, "an integer >= 0")
positive_float = _number(float, 0, False, None, "a positive number")
non_negative_float = _number(float, 0, True, None, "a number >= 0")
fraction = _number(float, 0, True, 1, "a number from 0 to 1")
jpeg_quality = _number(int, 1, True, 100, "an integer from 1 to 100")
at_least_one = _number(float, 1, True, None, "a number >= 1")
