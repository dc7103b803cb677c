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
    """Each method's best per-core rate, the rounds interleaved (every method once per round), so that a
    change in the machine's load weighs on all of them alike and their ratios hold."""
    best = dict.fromkeys(methods, 0.0)
    for _ in range(rounds):
        for name, method in methods.items():
            best[name] = max(best[name], per_core_rate(method, items, 1))
    return best
