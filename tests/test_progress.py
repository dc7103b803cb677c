"""Progress while a job runs, from Beam workers in this process and in worker processes of their own,
and from `curate` itself; Beam's in-process runner gives its counters only at the end."""

from __future__ import annotations

import contextlib
import io
import os
import re
import time
from collections import Counter
from pathlib import Path

import apache_beam as beam
import pytest
from http_helpers import ScriptedServer

from pipelines import progress
from pipelines.cli import main
from pipelines.options import new_pipeline
from pipelines.rejects import Rejects


class SlowPages(beam.DoFn):
    def __init__(self) -> None:
        self.counts = Rejects("m3w")

    def process(self, page: int):
        time.sleep(0.05)
        self.counts.count("pages_in")
        yield page


def pages_line(totals: Counter[str], seconds: float) -> str:
    return f"pages {totals['m3w.pages_in']}"


@pytest.mark.parametrize("mode", ["in_memory", "multi_processing"])
def test_counts_arrive_while_the_job_runs(mode, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))
    printed = io.StringIO()
    pipeline = new_pipeline([f"--direct_running_mode={mode}", "--direct_num_workers=2"])
    _ = pipeline | beam.Create(range(80)) | beam.Reshuffle() | beam.ParDo(SlowPages())
    with progress.watching(pages_line, every_s=0.5, out=printed):
        result = pipeline.run()
        result.wait_until_finish()
    seen = [int(n) for n in re.findall(r"pages (\d+)", printed.getvalue())]
    assert len(seen) >= 2 and seen == sorted(seen) and 0 < seen[0] < 80  # growing, from before the end
    assert os.environ.get(progress.PROGRESS_DIR_ENV) is None  # the watch is over


def test_curate_prints_progress_lines_while_it_fetches(testdata: Path, tmp_path):
    photo = (testdata / "images" / "darknet" / "dog.jpg").read_bytes()
    server = ScriptedServer({}, fallback=lambda path: (200, {"Content-Type": "image/jpeg"}, photo))
    server.delay = {f"/{n}.jpg": 0.4 for n in range(12)}
    listing = tmp_path / "pairs.csv"
    listing.write_text(
        "url,caption\n" + "".join(f"{server.url}/{n}.jpg,A dog sitting on the grass in a park {n}\n" for n in range(12))
    )
    args = ["pairs", "--pairs_list", str(listing), "--output", str(tmp_path / "out"), "--allow_loopback",
            "--per_host_delay=0", "--progress_every=0.5", "--direct_running_mode=in_memory", "--direct_num_workers=1"]  # fmt: skip
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            assert main(args) == 0
    finally:
        server.close()
    lines = [line for line in stderr.getvalue().splitlines() if line.startswith("curate [")]
    assert lines, stderr.getvalue()
    print("\n".join(lines))
    assert re.fullmatch(
        r"curate \[0:\d\d\] list rows 12 · images \d+ usable, 0 failed, 0 reused · samples written \d+", lines[-1]
    )
