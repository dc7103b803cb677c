"""Benchmarks run as the README shows them, in their small `--quick` mode, so none can rot."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


SCRIPTS = sorted(
    p.name for p in (REPO_ROOT / "benchmarks").glob("*.py") if p.name not in ("common.py", "real_images.py")
)
PACKAGES = {p.parent.name for p in REPO_ROOT.glob("*/__init__.py")}


def test_no_benchmark_script_shadows_a_package():
    # The script's folder comes first on sys.path: benchmarks/dedup.py once hid the dedup package.
    assert not {Path(name).stem for name in SCRIPTS} & PACKAGES


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_benchmark_starts_as_the_readme_runs_it(script):
    done = subprocess.run(
        [sys.executable, f"benchmarks/{script}", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and "usage:" in done.stdout, done.stderr[-2000:]


QUICK_TABLES = {  # script -> its tables
    "train_step.py": 3,
    "html_extraction.py": 1,
    "copy_detection.py": 6,
    "shard_writing.py": 1,
    "video_frames.py": 2,
    "image_processing.py": 2,
    "runners.py": 1,
}
TABLE_RULE = re.compile(r"^\| ?:?-{2,}", re.MULTILINE)  # a markdown table's header rule


@pytest.mark.parametrize("script", QUICK_TABLES)
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
    assert len(TABLE_RULE.findall(done.stdout)) >= QUICK_TABLES[script], done.stdout
