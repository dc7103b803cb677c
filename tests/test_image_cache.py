"""`--resume`: a rerun reuses what an earlier run into the same folder fetched (a content cache of
fetched images keyed by URL), fetches again only what could come out another way, and writes what a
fresh run would. The images are real photos of ../shared/testdata, served from 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from http_helpers import ScriptedServer
from PIL import Image

from pipelines.cli import main

FAST = ["--allow_loopback", "--per_host_delay=0", "--max_retries=0", "--direct_running_mode=in_memory",
        "--direct_num_workers=1"]  # fmt: skip
PHOTOS = ("dog", "eagle", "giraffe", "horses")


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def site(testdata: Path):
    photos = {f"/{name}.jpg": (testdata / "images" / "darknet" / f"{name}.jpg").read_bytes() for name in PHOTOS}
    healthy = {"flaky": False}

    def photo(path: str):
        return lambda _: (200, {"Content-Type": "image/jpeg"}, photos[path])

    def flaky(_):
        if healthy["flaky"]:
            return 200, {"Content-Type": "image/jpeg"}, photos["/horses.jpg"]
        return 503, {}, b"try again later"

    routes = {path: photo(path) for path in photos if path != "/horses.jpg"}
    routes |= {
        "/flaky.jpg": flaky,
        "/gone.jpg": lambda _: (404, {}, b"not here"),
        "/busy.jpg": lambda _: (429, {}, b"slow down"),
        "/tiny.jpg": lambda _: (200, {"Content-Type": "image/jpeg"}, jpeg(Image.new("RGB", (40, 30), "red"))),
    }
    server = ScriptedServer(routes)
    server.healthy = healthy
    yield server
    server.close()


def pairs_list(folder: Path, server: ScriptedServer) -> Path:
    names = ["dog", "eagle", "giraffe", "flaky", "gone", "busy", "tiny"]
    listing = folder / "pairs.csv"
    rows = [f"{server.url}/{name}.jpg,A photograph of a {name} taken outdoors in daylight" for name in names]
    listing.write_text("url,caption\n" + "\n".join(rows) + "\n")
    return listing


def run_pairs(listing: Path, output: Path, *extra: str) -> dict:
    assert main(["pairs", "--pairs_list", str(listing), "--output", str(output), *FAST, *extra]) == 0
    return json.loads((output / "stats.json").read_text())


def image_requests(server: ScriptedServer) -> dict[str, int]:
    return {path: len(times) for path, times in server.requests.items() if path.endswith(".jpg")}


def shards_by_content(output: Path) -> list[str]:
    return sorted(hashlib.sha256(path.read_bytes()).hexdigest() for path in output.glob("pairs/shard-*.tar"))


def test_a_resumed_run_fetches_only_what_may_change_and_writes_what_a_fresh_run_would(site, tmp_path):
    listing = pairs_list(tmp_path, site)
    output = tmp_path / "out"
    first = run_pairs(listing, output)
    assert first["sizes"]["pair"]["samples"] == 3  # dog, eagle, giraffe; flaky gave 503
    cached = pq.read_table(output / "images" / "cache").to_pylist()
    statuses = {row["url"].rsplit("/", 1)[1]: row["status"] for row in cached}
    assert statuses == {"dog.jpg": "ok", "eagle.jpg": "ok", "giraffe.jpg": "ok", "flaky.jpg": "http_5xx",
                        "gone.jpg": "http_4xx", "busy.jpg": "http_4xx", "tiny.jpg": "too_small"}  # fmt: skip
    before = image_requests(site)

    site.healthy["flaky"] = True
    resumed = run_pairs(listing, output, "--resume")
    fetched_again = {path for path, count in image_requests(site).items() if count > before.get(path, 0)}
    assert fetched_again == {"/flaky.jpg", "/busy.jpg"}  # a 5xx and a 429 may go another way; the rest may not
    assert resumed["stages"]["image_cache"]["reused"] == 5
    assert resumed["sizes"]["pair"]["samples"] == 4

    fresh = tmp_path / "fresh"
    run_pairs(listing, fresh)
    assert shards_by_content(output) == shards_by_content(fresh)
    manifest = pq.read_table(output / "manifest.parquet").drop_columns(["shard"])
    assert manifest.equals(pq.read_table(fresh / "manifest.parquet").drop_columns(["shard"]))


def test_other_image_rules_do_not_reuse_the_cache(site, tmp_path):
    listing = pairs_list(tmp_path, site)
    output = tmp_path / "out"
    run_pairs(listing, output)
    before = image_requests(site)
    resumed = run_pairs(listing, output, "--resume", "--image_size", "224")
    assert "image_cache" not in resumed["stages"] or not resumed["stages"]["image_cache"].get("reused")
    assert all(count == 2 * before[path] for path, count in image_requests(site).items())


def test_no_image_cache_writes_none(site, tmp_path):
    output = tmp_path / "out"
    run_pairs(pairs_list(tmp_path, site), output, "--no_image_cache")
    assert not (output / "images" / "cache").exists()
