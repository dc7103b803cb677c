"""`curate run` end to end on the real WARCs of ../shared/testdata, their images served from
127.0.0.1 by a mirror (the original hosts cannot be reached from tests), decontaminated against a
real index of the benchmark images; then verify, inspect, a rerun, and plain webdataset reading."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from importlib.metadata import version
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import webdataset as wds
from bs4 import BeautifulSoup
from PIL import Image

from pipelines.cli import main
from pipelines.local_server import ImageMirror
from pipelines.run.command import print_run_summary
from schemas.samples import validate_sample

FAST = ["--per_host_delay=0", "--direct_running_mode=in_memory", "--direct_num_workers=1"]


@pytest.fixture(scope="module")
def mirror(testdata: Path):
    images = testdata / "images"
    photos = [
        p
        for folder in ("darknet", "img2dataset", "coco_cc3m_clipcap", "llava")
        for p in sorted((images / folder).glob("*.jpg"))
    ]
    benchmark = sorted((images / "allennlp_benchmarks" / "gqa").glob("*.jpg"))[:4]
    server = ImageMirror([p.read_bytes() for p in [*photos, *benchmark]], missing_every=10)
    yield server
    server.close()


@pytest.fixture(scope="module")
def curated(testdata: Path, mirror: ImageMirror, tmp_path_factory) -> tuple[Path, str]:
    work = tmp_path_factory.mktemp("run")
    index = work / "index"
    bench = testdata / "images" / "allennlp_benchmarks"
    assert main(["index", "build", "--benchmark", f"folder:media={bench},label=allennlp", "--output", str(index), "--workers", "1"]) == 0  # fmt: skip
    warcs = testdata / "web" / "warc"
    args = ["--input", str(warcs / "*.warc.gz"), "--input", str(warcs / "warcio_example-iana.org-chunked.warc"),
            "--fetch_mirror", mirror.url, "--allow_loopback", "--dedup_index", str(index),
            "--datasets", "m3w,pairs", "--shard_samples", "8", *FAST]  # fmt: skip
    output = work / "out"
    assert main(["run", *args, "--output", str(output)]) == 0
    return output, args


def test_the_run_writes_verified_shards_of_both_datasets(curated, capsys):
    output, _ = curated
    stats = json.loads((output / "stats.json").read_text())
    assert stats["sizes"]["m3w"]["samples"] >= 10 and stats["sizes"]["pair"]["samples"] >= 10
    assert stats["sizes"]["m3w"]["shards"] >= 2  # --shard_samples 8
    assert stats["stages"]["warc"]["html_response"] >= 40
    assert stats["contamination"]["allennlp"]["training_images"] >= 1  # the mirror serves 4 GQA images
    assert stats["drops"]["images.http_4xx"] >= 1  # and 404s for one path in ten
    capsys.readouterr()
    assert main(["verify", str(output)]) == 0
    assert " problem" not in capsys.readouterr().out


def test_plain_webdataset_reads_every_sample(curated):
    output, _ = curated
    manifest = pq.read_table(output / "manifest.parquet")
    shards = sorted(str(p) for p in output.glob("*/shard-*.tar"))
    samples = list(wds.WebDataset(shards, shardshuffle=False))
    assert len(samples) == manifest.num_rows
    assert {s["__key__"] for s in samples} == set(manifest.column("key").to_pylist())
    for sample in samples:
        assert validate_sample(sample) == []
        meta = json.loads(sample["json"])
        if meta["dataset"] == "m3w":
            assert meta["text"].count("<image>") == sum(1 for name in sample if name.endswith(".jpg"))
            assert all(s["info"]["dedup_score"] < 0.9 for s in meta["segments"] if s["type"] == "image")


def test_images_keep_their_original_urls(curated, mirror):
    output, _ = curated
    statuses = [
        json.loads(line) for path in (output / "images").glob("*.jsonl") for line in path.read_text().splitlines()
    ]
    assert statuses and not any(s["url"].startswith(mirror.url) for s in statuses)
    assert all(s["url"].startswith("http") for s in statuses)


def shard_contents(output: Path) -> dict[str, str]:
    """sha256 of each shard, by its name less the run id."""
    return {
        f"{p.parent.name}/{p.stem.rsplit('-', 1)[0]}": hashlib.sha256(p.read_bytes()).hexdigest()
        for p in output.glob("*/shard-*.tar")
    }


def test_a_rerun_rewrites_byte_identical_shards_beside_the_old_and_then_removes_them(curated, tmp_path):
    import shutil

    _, args = curated
    output = tmp_path / "out"
    shutil.copytree(curated[0], output)
    before, old_files = shard_contents(output), set(output.glob("*/shard-*.tar"))
    manifest = pq.read_table(output / "manifest.parquet")
    provenance = json.loads((output / "stats.json").read_text())["provenance"]
    (output / "m3w" / "shard-00099-of-00100-0dead000.tar").write_bytes(b"left over from a crashed run")
    (output / "m3w" / "shard-00000-of-00002.tar.tmp-dead").write_bytes(b"a crashed writer's temporary file")
    assert main(["run", *args, "--output", str(output)]) == 0
    again = json.loads((output / "stats.json").read_text())["provenance"]
    assert shard_contents(output) == before and not old_files & set(output.glob("*/shard-*.tar"))
    assert all(
        name.endswith(f"-{again['run_id']}.tar")
        for name in pq.read_table(output / "manifest.parquet")["shard"].to_pylist()
    )
    rerun = pq.read_table(output / "manifest.parquet").drop_columns(["shard"])
    assert rerun.equals(manifest.drop_columns(["shard"]))
    assert not list(output.glob("m3w/*.tmp-*")) and not (output / "_manifest_parts").exists()
    assert again["run_id"] != provenance["run_id"]
    assert again["inputs"] == provenance["inputs"] and again["started"] >= provenance["finished"]


def killed(*_) -> None:
    raise KeyboardInterrupt  # where a kill would stop the run


def test_a_run_killed_before_it_switches_over_leaves_the_earlier_output_whole(curated, tmp_path, monkeypatch, capsys):
    """Before, a rerun killed at 90% had already overwritten the earlier run's shards."""
    import shutil

    from pipelines.run import finish

    _, args = curated
    output = tmp_path / "out"
    shutil.copytree(curated[0], output)
    files = {p: p.read_bytes() for p in output.rglob("*") if p.is_file()}
    smaller = [*args[: args.index("--shard_samples")], "--shard_samples", "3", *FAST]

    # the job's last step, which in-memory runs in this process
    monkeypatch.setattr(finish, "run_manifest", killed)  # every shard written, nothing switched over
    with pytest.raises(RuntimeError, match=r"KeyboardInterrupt \[while running .Finish/StatsAndManifest"):
        main(["run", *smaller, "--output", str(output)])
    new_shards = set(output.glob("*/shard-*.tar")) - set(files)
    assert new_shards  # written beside the earlier run's ...
    assert all(path.read_bytes() == data for path, data in files.items())  # ... not over them
    capsys.readouterr()
    assert main(["verify", str(output)]) == 0
    assert f"{len(new_shards)} shard(s) of run " in capsys.readouterr().out

    monkeypatch.undo()
    monkeypatch.setattr(finish, "switch_over", killed)  # stats.json written, the manifest not yet
    with pytest.raises(RuntimeError, match=r"KeyboardInterrupt \[while running .Finish/StatsAndManifest"):
        main(["run", *smaller, "--output", str(output)])
    assert main(["verify", str(output)]) == 1
    assert "a run stopped while switching over" in capsys.readouterr().err

    monkeypatch.undo()
    assert main(["run", *smaller, "--output", str(output)]) == 0
    assert not (set(files) | new_shards) & set(output.glob("*/shard-*.tar"))  # every older run's shards gone
    assert main(["verify", str(output)]) == 0


def test_stats_record_where_the_output_came_from(curated):
    output, _ = curated
    provenance = json.loads((output / "stats.json").read_text())["provenance"]
    assert provenance["version"] == version("flamingo-curate")
    assert provenance["options"]["output"] == str(output) and provenance["options"]["datasets"] == ["m3w", "pairs"]
    assert "--direct_num_workers=1" in provenance["beam_options"]
    assert provenance["inputs"]["files"] >= 5 and len(provenance["inputs"]["sha256"]) == 64
    assert provenance["started"] <= provenance["finished"] and provenance["seconds"] > 0


def test_verify_finds_damage(curated, tmp_path, capsys):
    import shutil

    output, _ = curated
    damaged = tmp_path / "damaged"
    shutil.copytree(output, damaged)
    shard = sorted(damaged.glob("pairs/shard-*.tar"))[0]
    shard.write_bytes(shard.read_bytes()[: len(shard.read_bytes()) // 2])
    missing = sorted(damaged.glob("m3w/shard-*.tar"))[-1]
    missing.unlink()
    capsys.readouterr()
    assert main(["verify", str(damaged)]) == 1
    err = capsys.readouterr().err
    assert "not a readable tar" in err or "samples in the shard" in err
    assert f"{missing.relative_to(damaged)}: listed in manifest.parquet but missing" in err


def test_run_needs_some_input(tmp_path, capsys):
    assert main(["run", "--output", str(tmp_path)]) == 2
    assert "give --input" in capsys.readouterr().err
    assert main(["run", "--input", str(tmp_path / "x.warc"), "--datasets", "m3w,audio", "--output", str(tmp_path)]) == 2
    assert "--datasets takes some of m3w, pairs, video" in capsys.readouterr().err


def _damaged_copy(curated, tmp_path, name: str) -> Path:
    import shutil

    output, _ = curated
    damaged = tmp_path / name
    shutil.copytree(output, damaged)
    return damaged


def _verify_errors(path: Path, capsys) -> str:
    capsys.readouterr()
    assert main(["verify", str(path)]) == 1
    return capsys.readouterr().err


def test_verify_finds_zeroed_image_bytes_and_edited_tokens(curated, tmp_path, capsys):
    damaged = _damaged_copy(curated, tmp_path, "bytes")
    shard = sorted(damaged.glob("pairs/shard-*.tar"))[0]
    data = bytearray(shard.read_bytes())
    jpeg = data.index(b"\xff\xd8\xff", data.index(b".jpg\0"))  # the first image's bytes
    data[jpeg + 2000 : jpeg + 2064] = bytes(64)
    shard.write_bytes(bytes(data))
    m3w = sorted(damaged.glob("m3w/shard-*.tar"))[0]
    text = m3w.read_bytes()
    m3w.write_bytes(text.replace(b"<image>", b"(image)", 1))  # same length: the tar still parses
    err = _verify_errors(damaged, capsys)
    assert f"{shard.relative_to(damaged)} sample" in err and "manifest sha256 is" in err
    assert "the stored text is not the one its segments make" in err


def test_verify_finds_garbage_after_a_shard_and_missing_end_blocks(curated, tmp_path, capsys):
    damaged = _damaged_copy(curated, tmp_path, "ends")
    first, second = sorted(damaged.glob("*/shard-*.tar"))[:2]
    first.write_bytes(first.read_bytes() + b"appended garbage" * 100)
    data = second.read_bytes().rstrip(b"\0")
    second.write_bytes(data + bytes(-len(data) % 512))  # the last member padded, the end blocks gone
    err = _verify_errors(damaged, capsys)
    assert f"{first.relative_to(damaged)}: " in err and "bytes after the end of the archive" in err
    assert f"{second.relative_to(damaged)}: " in err and "end blocks are missing" in err


def test_verify_checks_every_manifest_column_and_names_an_unfinished_run(curated, tmp_path, capsys):
    damaged = _damaged_copy(curated, tmp_path, "manifest")
    manifest = pq.read_table(damaged / "manifest.parquet")
    scores = manifest.column("dedup_max_score").to_pylist()
    scores[0] = 0.5 if scores[0] != 0.5 else 0.25
    column = manifest.schema.get_field_index("dedup_max_score")
    edited = manifest.set_column(column, "dedup_max_score", pa.array(scores, pa.float32()))
    pq.write_table(edited.replace_schema_metadata(manifest.schema.metadata), damaged / "manifest.parquet")
    assert f"manifest dedup_max_score is {scores[0]}" in _verify_errors(damaged, capsys)
    (damaged / "manifest.parquet").unlink()
    err = _verify_errors(damaged, capsys)
    assert "the run did not finish" in err and "Errno" not in err


def test_the_summary_names_every_drop_reason_the_time_and_the_fetch_rate(curated, capsys):
    output, _ = curated
    stats = json.loads((output / "stats.json").read_text())
    capsys.readouterr()
    print_run_summary(stats, str(output))
    printed = capsys.readouterr().out
    assert f"output in {output} after " in printed and " usable of " in printed and " fetched (" in printed
    assert all(f"dropped {reason} " in printed for reason in stats["drops"])


def test_a_run_of_other_datasets_refuses_to_touch_an_earlier_runs_shards_unless_told(curated, tmp_path, capsys):
    import shutil

    output, args = curated
    folder = tmp_path / "earlier"
    shutil.copytree(output, folder)
    m3w_shards = sorted(p.name for p in (folder / "m3w").glob("shard-*.tar"))
    i = args.index("--datasets")
    pairs_args = [*args[:i], *args[i + 2 :], "--output", str(folder)]
    capsys.readouterr()
    assert main(["pairs", *pairs_args]) == 2
    assert "holds an earlier run's m3w shards" in capsys.readouterr().err
    assert sorted(p.name for p in (folder / "m3w").glob("shard-*.tar")) == m3w_shards  # untouched
    assert main(["verify", str(folder)]) == 0
    assert main(["pairs", *pairs_args, "--overwrite"]) == 0
    assert not list((folder / "m3w").glob("shard-*.tar"))  # replaced, as asked
    capsys.readouterr()
    assert main(["verify", str(folder)]) == 0


def test_stats_and_the_report_show_each_dropped_copy_beside_its_benchmark_match(curated, tmp_path):
    output, _ = curated
    stats = json.loads((output / "stats.json").read_text())
    records = stats["contaminated"]
    dropped = sum(c["training_images"] + c.get("training_clips", 0) for c in stats["contamination"].values())
    assert len(records) == stats["contaminated_total"] == dropped >= 1
    for record in records:
        assert record["item"].startswith(("http://", "https://")) and record["match"].startswith("allennlp/")
        assert record["decided_by"] in ("score", "verified") and 0 < record["score"] <= 1
        assert (record["inliers"] is not None) == (record["decided_by"] == "verified")
        for key in ("thumbnail", "benchmark_thumbnail"):
            with Image.open(io.BytesIO(base64.b64decode(record[key]))) as thumbnail:
                assert thumbnail.format == "JPEG" and max(thumbnail.size) <= 96
    report = tmp_path / "report.html"
    assert main(["report", str(output), "--output", str(report)]) == 0
    figures = BeautifulSoup(report.read_text(), "html.parser").select("#contamination figure.match")
    assert len(figures) == len(records)
    assert all(len(figure.find_all("img")) == 2 for figure in figures)
