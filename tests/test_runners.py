"""The scale-out paths, as far as this machine can prove them, on the real WARCs of ../shared/testdata:
`curate run` through Beam's portable path (the job service and SDK worker pool that Flink's EXTERNAL
environment uses), waited for and detached, and translated for Dataflow offline then executed as
translated. Each output must equal the in-process run's: the same samples in the same shard bytes,
the same manifest and the same counts. Where it can, the module runs in a private network namespace
(`unshare -n`, only loopback), so nothing can leave the machine."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines import job
from pipelines.cli import build_parser, main
from pipelines.local_server import ImageMirror
from pipelines.portable import PortableServices
from pipelines.run.command import build_pipeline, run_config_from_args

ISOLATED = "CURATE_TESTS_IN_PRIVATE_NETWORK"
DATAFLOW = ["--runner=DataflowRunner", "--project=dummy-project", "--region=us-central1",
            "--temp_location=gs://dummy-bucket/tmp", "--experiments=use_runner_v2",
            "--sdk_container_image=registry.example.com/flamingo-curate-worker:test"]  # fmt: skip
RUN_ID = re.compile(r"-[0-9a-f]{8}\.tar$")
DETACHED_TIMEOUT_S = 300


def can_isolate() -> bool:
    if os.environ.get(ISOLATED) or os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def isolated_outcomes(request, tmp_path_factory) -> dict[str, str] | None:
    """Outside a namespace, where one can be made: this module's tests, run in one; test name ->
    "passed" or what failed. None: run them here."""
    if not can_isolate():
        return None
    report = tmp_path_factory.mktemp("isolated") / "report.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", __file__]
    ran = subprocess.run(
        ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *command],
        env={**os.environ, ISOLATED: "1"},
        capture_output=True,
        text=True,
    )
    print(ran.stdout[-5000:], ran.stderr[-3000:])
    outcomes = {}
    for case in ElementTree.parse(report).iter("testcase"):
        found = [case.find(kind) for kind in ("failure", "error", "skipped")]
        failed = next((element for element in found if element is not None), None)
        outcomes[case.get("name")] = "passed" if failed is None else failed.get("message", "") + (failed.text or "")
    return outcomes


@pytest.fixture
def here(request, isolated_outcomes) -> bool:
    """Whether to run the test in this process; if not, it ran in the namespace, and must have passed."""
    if isolated_outcomes is None:
        return True
    outcome = isolated_outcomes.get(request.node.name, "did not run in the private network namespace")
    assert outcome == "passed", outcome
    return False


@pytest.fixture(scope="module")
def run_args(testdata: Path, tmp_path_factory) -> list[str]:
    images = testdata / "images"
    photos = [p for folder in ("darknet", "img2dataset", "llava") for p in sorted((images / folder).glob("*.jpg"))]
    benchmark = sorted((images / "allennlp_benchmarks" / "gqa").glob("*.jpg"))[:4]
    mirror = ImageMirror([p.read_bytes() for p in [*photos, *benchmark]], missing_every=10)
    index = tmp_path_factory.mktemp("index") / "index"
    bench = f"folder:media={images / 'allennlp_benchmarks' / 'gqa'},label=gqa"  # 9 images: a small index
    assert main(["index", "build", "--benchmark", bench, "--output", str(index), "--workers", "1"]) == 0
    warcs = testdata / "web" / "warc"
    yield ["--input", str(warcs / "*.warc.gz"), "--fetch_mirror", mirror.url, "--allow_loopback",
           "--per_host_delay=0", "--dedup_index", str(index), "--datasets", "m3w,pairs", "--shard_samples", "8",
           "--progress_every", "0"]  # fmt: skip
    mirror.close()


@pytest.fixture(scope="module")
def in_process(run_args, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("in_process") / "out"
    assert main(["run", *run_args, "--output", str(output), "--direct_num_workers=2"]) == 0
    return output


def test_the_portable_path_writes_what_the_in_process_run_writes(here, request, run_args, tmp_path, capsys):
    if not here:
        return
    expected = request.getfixturevalue("in_process")
    waited, detached = tmp_path / "waited", tmp_path / "detached"
    with PortableServices() as services:
        assert main(["run", *run_args, "--output", str(waited), *services.flags()]) == 0
        assert "curate run: output in" in capsys.readouterr().out  # the launcher's summary, read from stats.json
        assert_same_output(waited, expected)

        # detached: the launcher returns at once; the job itself writes the manifest and stats.json
        assert main(["run", *run_args, "--output", str(detached), "--detached", *services.flags()]) == 0
        assert "submitted to PortableRunner" in capsys.readouterr().out
        deadline = time.monotonic() + DETACHED_TIMEOUT_S
        while not (detached / "manifest.parquet").exists() and time.monotonic() < deadline:
            time.sleep(0.5)
    assert_same_output(detached, expected)


def test_a_dataflow_translation_runs_as_translated(here, request, run_args, tmp_path, capsys):
    if not here:
        return
    # `curate run --dry_run`: Dataflow's own translation, offline, no credentials, nothing written
    assert main(["run", *run_args, "--output", "gs://dummy-bucket/curated", *DATAFLOW, "--dry_run"]) == 0
    printed = capsys.readouterr().out
    assert "translated for DataflowRunner, nothing run" in printed and "beam:env:docker:v1" in printed

    # the pipeline Dataflow would receive, executed on local workers: only its environment (the
    # worker image) is replaced by this process, as a Dataflow worker would run it
    output = tmp_path / "out"
    args, beam_args = build_parser().parse_known_args(["run", *run_args, "--output", str(output), *DATAFLOW])
    pipeline = build_pipeline(run_config_from_args(args), job.dry_run_flags(beam_args))
    translated = job.translate(pipeline)
    assert {env.urn for env in translated.components.environments.values()} == {"beam:env:docker:v1"}
    for environment in translated.components.environments.values():
        environment.urn, environment.payload = "beam:env:embedded_python:v1", b""
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    FnApiRunner().run_via_runner_api(translated, pipeline.options).wait_until_finish()
    assert_same_output(output, request.getfixturevalue("in_process"))


def assert_same_output(output: Path, expected: Path) -> None:
    assert main(["verify", str(output)]) == 0
    manifest, wanted = (
        pq.read_table(folder / "manifest.parquet").drop_columns(["shard"]) for folder in (output, expected)
    )
    assert manifest.sort_by("key").equals(wanted.sort_by("key"))
    assert shard_bytes(output) == shard_bytes(expected)  # same samples, same shards, same bytes
    stats, wanted_stats = (job.read_stats(str(folder)) for folder in (output, expected))
    for section in ("stages", "drops", "sizes", "contamination", "contaminated", "contaminated_total"):
        assert stats[section] == wanted_stats[section], section
    assert stats["sizes"]["m3w"]["samples"] >= 10 and stats["sizes"]["pair"]["samples"] >= 10
    assert stats["contamination"]["gqa"]["training_images"] >= 1


def shard_bytes(output: Path) -> dict[str, bytes]:
    """Each shard's bytes by its name without the run's id."""
    return {RUN_ID.sub(".tar", str(p.relative_to(output))): p.read_bytes() for p in output.glob("*/shard-*.tar")}
