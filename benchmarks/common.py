"""What every benchmark needs: where the real test data is, and a per-core rate that ignores noise."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

Item = TypeVar("Item")


def default_testdata() -> Path:
    """$CURATE_TESTDATA, else ../shared/testdata beside the repository (as the tests resolve it)."""
    return Path(os.environ.get("CURATE_TESTDATA", Path(__file__).resolve().parents[1].parent / "shared/testdata"))


def per_core_rate(method: Callable[[Item], object], items: Sequence[Item], rounds: int) -> float:
    """Items per second of process CPU time (one core), best of `rounds` passes."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for item in items:
            method(item)
        best = min(best, time.process_time() - started)
    return len(items) / best


def interleaved_rates(
    methods: Mapping[str, Callable[[Item], object]], items: Sequence[Item], rounds: int
) -> dict[str, float]:
    """Each method's per-core rate, the methods taking turns on every item and each item's time the best of
    `rounds`. The machine's load moves within seconds, so turns item by item make it weigh on every method
    alike (turns pass by pass let a whole-pass ratio swing by 40 %), and the best per item drops the spikes.
    Who goes first moves from item to item and round to round: a method that follows another on the same
    item finds it in the caches (the same code timed twice in a row ran 8 % faster the second time)."""
    names = list(methods)
    best = {name: [float("inf")] * len(items) for name in names}
    for round_ in range(rounds):
        for index, item in enumerate(items):
            first = (index + round_) % len(names)
            for name in names[first:] + names[:first]:
                started = time.process_time()
                methods[name](item)
                best[name][index] = min(best[name][index], time.process_time() - started)
    return {name: len(items) / sum(times) for name, times in best.items()}
