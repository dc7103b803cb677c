"""Progress while a job runs: Beam's in-process runner hands its counters over only at the end, so
the same counts also go to a running tally per worker process, which a thread writes to a small
JSON file every few seconds; the driver sums the files and prints a line now and then.

It works where the workers share the driver's machine and environment (the embedded default, in
memory or with worker processes); on Dataflow or a Flink cluster the files never appear, and the
runner's own UI shows the counters instead. Counts of a bundle that fails and is retried are
tallied twice here; the final summary uses Beam's committed counters.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

PROGRESS_DIR_ENV = "CURATE_PROGRESS_DIR"
WRITE_EVERY_S = 2.0

_lock = threading.Lock()
_tally: Counter[str] = Counter()
_tally_folder: str | None = None  # the job whose tally this is: a process may run several jobs in turn


def tally(stage: str, name: str, n: int) -> None:
    """Counts `n` more of `stage.name` in this process, when a driver is watching."""
    folder = os.environ.get(PROGRESS_DIR_ENV)
    if not folder:
        return
    global _tally, _tally_folder
    with _lock:
        if folder != _tally_folder:
            _tally, _tally_folder = Counter(), folder
            threading.Thread(target=_write_while_watched, args=(folder, _tally), daemon=True).start()
        _tally[f"{stage}.{name}"] += n


def _write_while_watched(folder: str, counts: Counter[str]) -> None:
    path = os.path.join(folder, f"{os.getpid()}.json")
    written: dict[str, int] = {}
    while os.path.isdir(folder):
        with _lock:
            snapshot = dict(counts)
        if snapshot != written:
            partial = f"{path}.tmp"
            try:
                with open(partial, "w") as out:
                    json.dump(snapshot, out)
                os.replace(partial, path)
            except OSError:  # the driver removed the folder: the job is over
                return
            written = snapshot
        time.sleep(WRITE_EVERY_S)


def read_totals(folder: str) -> Counter[str]:
    totals: Counter[str] = Counter()
    for name in os.listdir(folder):
        if name.endswith(".json"):
            try:
                with open(os.path.join(folder, name)) as handle:
                    totals.update(json.load(handle))
            except (OSError, ValueError):  # being replaced, or the folder is going
                continue
    return totals


@contextmanager
def watching(
    describe: Callable[[Counter[str], float], str], every_s: float = 10.0, out: TextIO | None = None
) -> Iterator[None]:
    """While the block runs, print `describe(totals, seconds so far)` to `out` (stderr) every
    `every_s` seconds (0: never)."""
    if not every_s:
        yield
        return
    out = out or sys.stderr
    folder = tempfile.mkdtemp(prefix="curate-progress-")
    earlier = os.environ.get(PROGRESS_DIR_ENV)
    os.environ[PROGRESS_DIR_ENV] = folder
    started = time.monotonic()
    done = threading.Event()

    def report() -> None:
        while not done.wait(every_s):
            totals = read_totals(folder)
            if totals:
                print(describe(totals, time.monotonic() - started), file=out, flush=True)

    printer = threading.Thread(target=report, name="curate-progress-printer", daemon=True)
    printer.start()
    try:
        yield
    finally:
        done.set()
        printer.join()
        if earlier is None:
            os.environ.pop(PROGRESS_DIR_ENV, None)
        else:
            os.environ[PROGRESS_DIR_ENV] = earlier
        shutil.rmtree(folder, ignore_errors=True)
