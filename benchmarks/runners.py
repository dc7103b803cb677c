"""Runners: the same `curate run` (M3W and pairs, images fetched, shards written) on the real WARCs of
../shared/testdata, side by side in one run:

- in process on Beam's FnApiRunner, 1 and 2 worker processes (what `curate run` does with no --runner),
- through Beam's portable path: the Python job service and an external SDK worker pool, each its own
  process (`pipelines/portable.py`), the path a Flink cluster takes in an EXTERNAL environment.

Pages/s is pages read over the wall time of the whole command (pipeline start-up and the job's last
step included); every run must write the same samples. The pages' images come from a mirror on
127.0.0.1 that answers every image path with one of the real test images.

    .venv/bin/python benchmarks/runners.py [--testdata PATH] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
from common import default_testdata

from pipelines.cli import main as curate
from pipelines.local_server import ImageMirror
from pipelines.portable import PortableServices


def run(args: list[str], output: Path) -> tuple[float, int, list[str]]:
    """Wall seconds, pages read and the sample keys written of one `curate run`."""
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # its summary: the table says what matters here
        code = curate(["run", *args, "--output", str(output), "--progress_every", "0"])
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"curate run exited with {code}")
    stages = json.loads((output / "stats.json").read_text())["stages"]
    pages = stages.get("m3w", {}).get("pages_in") or stages.get("pairs", {}).get("pages_in", 0)
    return seconds, pages, sorted(pq.read_table(output / "manifest.parquet").column("key").to_pylist())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--testdata", type=Path, default=default_testdata())
    parser.add_argument("--quick", action="store_true", help="one small WARC, in process on 1 worker and portable (CI)")
    options = parser.parse_args()
    warcs = options.testdata / "web" / "warc"
    inputs = [warcs / "dolma_sample-0000.warc.gz"] if options.quick else sorted(warcs.glob("*.warc.gz"))
    photos = sorted((options.testdata / "images" / "darknet").glob("*.jpg"))
    mirror = ImageMirror([p.read_bytes() for p in photos])
    args = [arg for path in inputs for arg in ("--input", str(path))]
    args += ["--fetch_mirror", mirror.url, "--allow_loopback", "--per_host_delay=0", "--datasets", "m3w,pairs"]
    rows, expected = [], None
    with tempfile.TemporaryDirectory() as scratch:
        variants = [("in process (FnApiRunner)", "1 process", ["--direct_num_workers=1"])]
        if not options.quick:
            variants.append(("in process (FnApiRunner)", "2 processes", ["--direct_num_workers=2"]))
        with PortableServices() as services:
            variants.append(("portable: job service + worker pool", "1 SDK worker", services.flags()))
            for number, (runner, workers, flags) in enumerate(variants):
                seconds, pages, keys = run([*args, *flags], Path(scratch) / str(number))
                if expected is not None and keys != expected:
                    raise SystemExit(f"{runner} ({workers}) wrote other samples than the first run")
                expected = keys
                rows.append([runner, workers, str(pages), str(len(keys)), f"{seconds:.1f}", f"{pages / seconds:.1f}"])
    mirror.close()
    print(f"`curate run` on {len(inputs)} WARC file(s) of {options.testdata / 'web' / 'warc'} (M3W and pairs)\n")
    header = ["runner", "workers", "pages", "samples", "wall s", "pages/s"]
    print("| " + " | ".join(header) + " |")
    print("| --- | --- | " + " | ".join("---:" for _ in header[2:]) + " |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
