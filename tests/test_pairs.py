"""Image-text pairs: caption rules, and the pairs job end to end against a site served on 127.0.0.1."""

import json

import pytest
import webdataset as wds

from pipelines.cli import main
from pipelines.demo.crawl import crawl_to_warc
from pipelines.demo.site import build_demo_site
from pipelines.local_server import LocalServer
from pipelines.pairs.captions import CaptionRules, caption_rejection
from schemas.samples import validate_sample

RULES = CaptionRules()
FAST = ["--allow_loopback", "--per_host_delay=0", "--direct_running_mode=in_memory", "--direct_num_workers=1"]


@pytest.mark.parametrize(
    ("text", "kind", "reason"),
    [
        ("A flock of flamingos feeding", "alt", None),
        ("Image", "alt", "boilerplate_caption"),
        ("IMG_2041.JPG", "alt", "file_name_caption"),
        ("DSC01234", "alt", "file_name_caption"),
        ("two words", "alt", "caption_too_short"),
        (" ".join(["word"] * 21), "alt", "caption_too_long"),
        ("12345 678 90", "alt", "no_letters"),
        ("A nest of mud", "caption", "caption_too_short"),
        ("The mud nest keeps the egg above the flood line.", "caption", None),
        ("   ", "alt", "empty_caption"),
    ],
)
def test_caption_rules(text, kind, reason):
    assert caption_rejection(text, kind, RULES) == reason


def read_jsonl(folder):
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()]


def test_pairs_from_pages_and_from_a_list(tmp_path):
    site = build_demo_site(tmp_path / "site")
    with LocalServer(site.root) as server:
        warc = tmp_path / "crawl.warc.gz"
        crawl_to_warc(server.url + "index.html", warc)
        listing = tmp_path / "pairs.csv"
        shared = [f"{server.url}img/photo0.jpg?copy={i},Stock photo of a bird" for i in range(11)]
        listing.write_text(
            "\n".join(
                [
                    "url,caption",
                    f"{server.url}img/photo7.jpg,A zoo flock <image> standing by the pond<\u200bEOC>",
                    *shared,
                ]
            )
        )
        output = tmp_path / "out"
        assert main(["pairs", "--input", str(warc), "--pairs_list", str(listing), "--output", str(output), *FAST]) == 0

    shards = sorted(str(path) for path in (output / "pairs").glob("shard-*.tar"))
    samples = list(wds.WebDataset(shards, shardshuffle=False))
    assert all(validate_sample(sample) == [] for sample in samples)
    pairs = {(p["url"].removeprefix(server.url), p["kind"]): p for p in (json.loads(s["json"]) for s in samples)}
    assert ("img/photo0.jpg", "alt") in pairs and ("img/photo0.jpg", "caption") in pairs  # figure: alt and caption
    assert pairs[("img/photo0.jpg", "caption")]["caption"] == "A flock feeding in the shallow water of the lagoon."
    assert ("img/photo2.jpg", "alt") in pairs  # lazy-loaded
    assert ("img/photo7.jpg", "alt") in pairs  # from the list, where text cannot forge a token either
    assert pairs[("img/photo7.jpg", "alt")]["caption"] == "A zoo flock (image) standing by the pond(EOC)"
    forged = next(s for s in samples if json.loads(s["json"])["url"].endswith("photo7.jpg"))
    assert forged["txt"].decode() == "A zoo flock (image) standing by the pond(EOC)"
    assert not any(url.startswith("img/photo0.jpg?copy") for url, _ in pairs)  # caption shared by 11 images
    assert not any("logo" in url or "flat-grey" in url or "thin-strip" in url for url, _ in pairs)
    for pair in pairs.values():
        assert pair["info"]["width"] <= 320 and pair["info"]["height"] <= 320 and len(pair["info"]["sha256"]) == 64

    statuses = {s["url"].removeprefix(server.url): s["status"] for s in read_jsonl(output / "images")}
    assert statuses["img/photo0.jpg"] == "ok"
    assert statuses["img/thin-strip.jpg"] == "aspect_ratio"
    assert "img/flat-grey.jpg" not in statuses  # its alt text "placeholder" failed first: never fetched
    stats = json.loads((output / "stats.json").read_text())
    assert stats["drops"]["pairs.caption_shared_by_many_images"] == 11
    reasons = {r["reason"] for r in read_jsonl(output / "rejects")}
    assert {"image_aspect_ratio", "boilerplate_caption"} <= reasons


def test_pairs_needs_an_input(tmp_path, capsys):
    assert main(["pairs", "--output", str(tmp_path)]) == 2
    assert "give --input" in capsys.readouterr().err


def test_empty_pair_and_video_lists_do_not_stop_the_run(tmp_path):
    site = build_demo_site(tmp_path / "site")
    empty_pairs, empty_videos = tmp_path / "pairs.csv", tmp_path / "videos.parquet"
    empty_pairs.write_bytes(b"")
    empty_videos.write_bytes(b"")
    with LocalServer(site.root) as server:
        warc = tmp_path / "crawl.warc.gz"
        crawl_to_warc(server.url + "index.html", warc)
        output = tmp_path / "out"
        args = ["--input", str(warc), "--pairs_list", str(empty_pairs), "--video_list", str(empty_videos)]
        assert main(["run", *args, "--datasets", "pairs", "--output", str(output), *FAST]) == 0
    stats = json.loads((output / "stats.json").read_text())
    assert stats["stages"]["url_list"]["empty_lists"] == 1  # the video list is not read when video is not asked for
    assert stats["sizes"]["pair"]["samples"] >= 3  # the pages' pairs are all there


@pytest.mark.parametrize("body", [b"", b"   ", b"<!-- only a comment -->"])
def test_an_empty_page_is_unparseable_html_not_an_extraction_error(body):
    """Before, such pages (two in the IANA WARC) counted as code failures against --max_error_rate."""
    from pipelines.filters.image_urls import ImageUrlRules
    from pipelines.pairs.transforms import ExtractPairs
    from pipelines.readers.page import RawPage

    page = RawPage(url="http://site.test/empty", body=body, content_type="text/html")
    (reject,) = [output.value for output in ExtractPairs(ImageUrlRules()).process(page)]
    assert (reject.stage, reject.reason) == ("pairs", "unparseable_html")
