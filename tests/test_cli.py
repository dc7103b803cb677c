import json
import shutil
import subprocess
import sys

import pytest
import webdataset as wds

from pipelines.cli import build_parser, main
from schemas.samples import validate_sample


def subcommand_names() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return list(action.choices)


@pytest.mark.parametrize("command", subcommand_names())
def test_every_subcommand_has_help(command):
    done = subprocess.run(["curate", command, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert f"usage: curate {command}" in done.stdout


def test_console_scripts_are_installed():
    assert shutil.which("curate") and shutil.which("trainer")
    done = subprocess.run(["trainer", "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "usage: trainer" in done.stdout


# What the Beam workers' image leaves out (docker/beam-worker.Dockerfile installs the core only): the
# packages of the extras and the benchmarks' peers.
NOT_ON_THE_WORKER_IMAGE = (
    "torch", "torchvision", "open_clip", "transformers", "sentencepiece", "tensorboard", "tqdm",
    "trafilatura", "imagehash",
)  # fmt: skip


def run_demo_without_the_extras(output) -> subprocess.CompletedProcess:
    """`curate demo` in a Python where importing any package the worker image lacks fails."""
    script = (
        "import sys\n"
        "class Blocked:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {NOT_ON_THE_WORKER_IMAGE!r}:\n"
        "            raise ModuleNotFoundError(f'{name} is not on the worker image')\n"
        "sys.meta_path.insert(0, Blocked())\n"
        "from pipelines.cli import main\n"
        f"sys.exit(main(['demo', '--output', {str(output)!r}, '--direct_running_mode=in_memory']))\n"
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=False)


def test_demo_runs_end_to_end_without_the_extras(tmp_path, capsys):
    """The whole DAG (pages, images, hash decontamination, video, shards), as on the worker image."""
    output = tmp_path / "demo"
    done = run_demo_without_the_extras(output)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "curate demo: finished" in done.stdout
    summary = json.loads((output / "summary.json").read_text())
    assert summary["warc"]["pages_crawled"] == 7
    assert summary["warc"]["records"]["html_response"] == 7
    assert summary["m3w"]["documents_out"] == 5

    def read(kind_dir: str) -> list[dict]:
        shards = sorted(str(path) for path in (output / kind_dir).glob("shard-*.tar"))
        return list(wds.WebDataset(shards, shardshuffle=False))  # plain webdataset, no project code

    documents = [json.loads(sample["json"]) for sample in read("m3w")]
    images = [s for doc in documents for s in doc["segments"] if s["type"] == "image"]
    # the flat grey and the thin strip fail the image rules; photo1 is a copy of the demo benchmark's image
    assert len(documents) == 5 and len(images) == 6
    assert not any(image["url"].endswith("photo1.jpg") for image in images)
    assert summary["contamination"] == {"demo_benchmark": {"training_images": 1, "benchmark_items": 1}}
    assert all(image["info"]["width"] <= 320 and len(image["info"]["sha256"]) == 64 for image in images)
    statuses = [
        json.loads(line) for path in (output / "images").glob("*.jsonl") for line in path.read_text().splitlines()
    ]
    assert sorted(s["status"] for s in statuses) == sorted(
        ["aspect_ratio", "single_colour", "contaminated"] + ["ok"] * 6
    )
    pairs = read("pairs")
    assert len(pairs) == 7 and all(validate_sample(sample) == [] for sample in pairs)
    (clip,) = read("video")
    assert validate_sample(clip) == [] and len([name for name in clip if name.endswith(".jpg")]) == 4  # a 4 s clip
    assert json.loads(clip["json"])["text_source"] == "figcaption"
    assert summary["sizes"]["video"]["samples"] == 1 and summary["sizes"]["m3w"]["images"] == 6
    assert main(["verify", str(output)]) == 0
    assert main(["inspect", str(output)]) == 0
    assert "m3w           5 samples" in capsys.readouterr().out
    assert main(["report", str(output)]) == 0
    assert "Flamingos are wading birds" in (output / "report.html").read_text()


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--image_size", "0", "must be a positive integer, got 0"),
        ("--shard_mb", "-1", "must be a positive number, got -1"),
        ("--shard_samples", "-3", "must be a positive integer, got -3"),
        ("--max_images_per_document", "-2", "must be a positive integer, got -2"),
        ("--jpeg_quality", "101", "must be an integer from 1 to 100, got 101"),
        ("--dedup_threshold", "1.5", "must be a number from 0 to 1, got 1.5"),
        ("--max_video_bytes", "0", "must be a positive integer, got 0"),
        ("--per_host_delay", "-0.5", "must be a number >= 0, got -0.5"),
        ("--timeout", "soon", "'soon' is not a positive number"),
    ],
)
def test_impossible_option_values_are_refused_before_any_work(tmp_path, capsys, flag, value, message):
    with pytest.raises(SystemExit) as exit_code:
        main(["run", "--input", str(tmp_path / "x.warc"), "--output", str(tmp_path / "out"), flag, value])
    assert exit_code.value.code == 2
    assert f"argument {flag}: {message}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
