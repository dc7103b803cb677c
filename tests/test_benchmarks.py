"""Benchmarks run as the README shows them, in their small `--quick` mode, so none can rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("script", ["train_step.py"])
def test_benchmark_runs_in_quick_mode_and_prints_its_tables(script, testdata):
    done = subprocess.run(
        [sys.executable, f"benchmarks/{script}", "--quick", "--testdata", str(testdata)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("| ---") >= 2, done.stdout  # a markdown table per comparison
