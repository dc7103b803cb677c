"""A run that cannot do its job says so: mistyped flags and unusable outputs before any work, an empty
dataset or too many failing pages after it, with a non-zero exit."""

from __future__ import annotations

import pytest

from pipelines.cli import main
from pipelines.demo.crawl import crawl_to_warc
from pipelines.demo.site import build_demo_site
from pipelines.local_server import LocalServer
from pipelines.outcome import run_problems

FAST = ["--per_host_delay=0", "--direct_running_mode=in_memory", "--direct_num_workers=1"]


@pytest.mark.parametrize("typo", ["--shard_sampels=3", "--min_paragraph_wrods=2"])
def test_a_mistyped_flag_is_refused_before_any_work(tmp_path, capsys, typo):
    output = tmp_path / "out"
    assert main(["run", "--input", str(tmp_path / "x.warc"), "--output", str(output), typo]) == 2
    assert f"unrecognised arguments: {typo}" in capsys.readouterr().err
    assert not output.exists()


def test_beam_options_still_pass(tmp_path, capsys):
    args = [
        "run",
        "--input",
        str(tmp_path / "missing.warc"),
        "--output",
        str(tmp_path / "o"),
        "--runner=DataflowRunner",
    ]
    assert main([*args, "--project=p", "--temp_location=gs://b/t", "--experiments=use_runner_v2"]) == 2
    assert "matches no file" in capsys.readouterr().err  # got past the flag check, to the inputs


def test_an_output_that_is_a_file_or_cannot_be_made_is_refused_before_any_work(tmp_path, capsys):
    warc = tmp_path / "in.warc"
    warc.write_bytes(b"")
    afile = tmp_path / "taken"
    afile.write_text("not a folder")
    assert main(["run", "--input", str(warc), "--output", str(afile)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert main(["run", "--input", str(warc), "--output", "/proc/flamingo-curate-out"]) == 2
    assert "cannot be created" in capsys.readouterr().err


def test_a_run_that_writes_nothing_it_was_asked_for_exits_non_zero(tmp_path, capsys):
    site = build_demo_site(tmp_path / "site")
    with LocalServer(site.root) as server:
        crawl_to_warc(server.url + "index.html", tmp_path / "crawl.warc.gz")
        urls = tmp_path / "pages.txt"
        urls.write_text("".join(f"{server.url}{page}\n" for page in site.pages))
        # the pages are on 127.0.0.1 and --allow_loopback is not given: nothing can be fetched
        code = main(["run", "--input", str(urls), "--datasets", "m3w", "--output", str(tmp_path / "out"), *FAST])
    assert code == 1
    err = capsys.readouterr().err
    assert "m3w was asked for but no sample was written" in err and "blocked_address" in err


def test_the_error_budget():
    stats = {
        "sizes": {"m3w": {"samples": 5}},
        "stages": {"m3w": {"pages_in": 100, "dropped_extraction_error": 6}},
        "drops": {"m3w.extraction_error": 6},
    }
    assert run_problems(stats, ("m3w",), 0.1) == []
    (problem,) = run_problems(stats, ("m3w",), 0.05)
    assert "6 of 100 pages failed in m3w extraction" in problem
    assert run_problems(stats, ("m3w", "pairs"), 0.1) == [
        "pairs was asked for but no sample was written (most dropped: m3w.extraction_error 6)"
    ]
