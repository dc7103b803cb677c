"""`curate report`: the HTML report of a curated output folder, checked as text and as headless Chromium renders it."""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html import escape
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from PIL import Image

from pipelines import report_command
from schemas import ImageInfo, ImageSegment, ImageTextPair, InterleavedDocument, TextSegment, VideoTextPair, stable_key
from schemas.samples import document_to_sample, pair_to_sample, video_to_sample
from shards.manifest import manifest_row, rows_to_parquet
from shards.report import FRAMES_SHOWN, build_report, spread
from shards.svg_charts import Bin, bar_chart, format_number, histogram, histogram_bins
from shards.tar_writer import write_samples

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    *("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"),
    *("--disable-background-networking", "--disable-component-update", "--disable-sync"),
    *("--dump-dom", "--window-size=1200,3000"),
]
SVG = "{http://www.w3.org/2000/svg}"
INJECTED_TEXT = '<script>document.title = "pwned"</script> Breaking: </p><h1 id="injected">forged heading</h1>'
INJECTED_ALT = '"><img src=x onerror="document.title=1">'
INJECTED_REASON = "m3w.<b>odd</b>_reason"


# --- an output folder written with the real shard writer ----------------------------------------------------------


class Output:
    """A curated output folder: its root, and the records written into it."""

    def __init__(self, root: Path, documents: list[InterleavedDocument], jpegs: dict[str, bytes]) -> None:
        self.root = root
        self.documents = sorted(documents, key=lambda doc: doc.doc_id)
        self.jpegs = jpegs  # image URL -> the JPEG stored in the shards


def encode(path: Path, side: int = 320) -> tuple[bytes, ImageInfo]:
    """A real photo resized and re-encoded as the image stage does, with its facts."""
    with Image.open(path) as image:
        original = image.size
        small = image.convert("RGB")
    small.thumbnail((side, side))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=90)
    data = out.getvalue()
    info = ImageInfo(hashlib.sha256(path.read_bytes()).hexdigest(), *small.size, *original, dedup_score=0.12)
    return data, info


def document(
    url: str,
    parts: list[str | tuple[str, str]],
    images: dict[str, tuple[bytes, ImageInfo]],
    language: str = "",
    alts: dict[str, str] | None = None,
) -> InterleavedDocument:
    """Text parts are strings; ("image", NAME) parts are images of `images` in reading order."""
    alts = alts or {}
    segments = tuple(
        TextSegment(part)
        if isinstance(part, str)
        else ImageSegment(
            url=f"https://img.test/{part[1]}.jpg",
            alt=alts.get(part[1], f"photo of a {part[1]}"),
            caption=f"{part[1]} caption",
            info=images[part[1]][1],
        )
        for part in parts
    )
    return InterleavedDocument(stable_key(url, repr(parts)), url, segments, language=language)


def write_shard(root: Path, relative: str, samples: list[dict]) -> list[dict]:
    samples = sorted(samples, key=lambda sample: sample["__key__"])
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        entries = write_samples(samples, out)
    return [manifest_row(sample, relative, entry) for sample, entry in zip(samples, entries, strict=True)]


def make_output(root: Path, testdata: Path) -> Output:
    photos = sorted((testdata / "images" / "darknet").glob("*.jpg"))
    images = {path.stem: encode(path) for path in photos}
    documents = [
        document(
            "https://news.test/a",
            ["A dog and an eagle.", ("image", "dog"), "Between the two photos.", ("image", "eagle"), "The end."],
            images,
            language="en",
        ),
        document(
            'https://evil.test/"><script>document.title=2</script>',
            [INJECTED_TEXT, ("image", "kite"), "Text with <image> and <EOC> look-alikes & ampersands."],
            images,
            alts={"kite": INJECTED_ALT},
        ),
        document(
            "https://zoo.test/b",
            [("image", "giraffe"), "Die Giraffe ist groß.", ("image", "scream"), "Zweiter Absatz."],
            images,
            language="de",
        ),
        document("https://farm.test/c", ["Horses in a field.", ("image", "horses")], images, language="en"),
        document("https://text.test/d", ["A document left without images, kept on purpose."], images),
    ]
    jpegs = {f"https://img.test/{name}.jpg": data for name, (data, _) in images.items()}
    samples = [document_to_sample(doc, [jpegs[image.url] for image in doc.images]) for doc in documents]
    rows = write_shard(root, "m3w/shard-00000-of-00002.tar", samples[:3])
    rows += write_shard(root, "m3w/shard-00001-of-00002.tar", samples[3:])
    pairs = [
        pair_to_sample(
            ImageTextPair(stable_key("p", name), f"https://img.test/{name}.jpg", f"A {name}.", kind, info=info), data
        )
        for (name, (data, info)), kind in zip(sorted(images.items())[:2], ("alt", "caption"), strict=True)
    ]
    rows += write_shard(root, "pairs/shard-00000-of-00001.tar", pairs)
    frames = [images[name][0] for name in sorted(images)] * 2
    clip = VideoTextPair(
        stable_key("v", "clip"),
        "https://video.test/v.mp4",
        "A clip <b>of</b> animals.",
        duration=14.0,
        frame_count=len(frames),
    )
    rows += write_shard(root, "video/shard-00000-of-00001.tar", [video_to_sample(clip, frames)])
    (root / "manifest.parquet").write_bytes(rows_to_parquet(rows))
    (root / "stats.json").write_text(json.dumps(STATS))
    return Output(root, documents, jpegs)


STATS = {
    "format_version": 1,
    "stages": {
        "warc": {"html_response": 12},
        "m3w": {"pages_in": 12, "documents_out": 7, "dropped_too_few_words": 5},
        "images": {"ok": 9, "documents_with_images": 5, "dropped_aspect_ratio": 2},
        "video": {"videos_ok": 1, "clips": 1},
    },
    "drops": {"m3w.too_few_words": 5, "images.aspect_ratio": 2, INJECTED_REASON: 1, "m3w.no_images": 2},
    "contamination": {
        "coco": {"training_images": 3, "benchmark_items": 2},
        "msrvtt": {"training_images": 0, "training_clips": 1, "benchmark_items": 1},
    },
    "sizes": {},
}


@pytest.fixture(scope="module")
def output(tmp_path_factory, testdata) -> Output:
    return make_output(tmp_path_factory.mktemp("curated"), testdata)


def copy_of(output: Output, tmp_path: Path) -> Path:
    return Path(shutil.copytree(output.root, tmp_path / "copy"))


def run_report_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    report_command.add_parser(parser.add_subparsers())
    args, beam_args = parser.parse_known_args(argv)
    return args.run(args, beam_args)


# --- the report as text ---------------------------------------------------------------------------------------------


def test_the_same_folder_gives_the_same_html_and_the_command_writes_it(output, tmp_path):
    html = build_report(str(output.root))
    assert build_report(str(output.root)) == html
    assert run_report_command(["report", str(output.root), "--output", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == html


def test_page_text_is_escaped_and_the_page_has_no_script(output):
    html = build_report(str(output.root))
    assert "<script" not in html.lower()
    assert escape(INJECTED_TEXT) in html and escape(INJECTED_ALT) in html
    assert "&lt;b&gt;odd&lt;/b&gt;" in html and "<b>" not in html
    assert "Content-Security-Policy" in html


def test_the_gallery_holds_the_first_documents_by_key(output):
    soup = BeautifulSoup(build_report(str(output.root), samples=2), "html.parser")
    shown = [article["data-key"] for article in soup.select("article.document")]
    assert shown == [doc.doc_id for doc in output.documents[:2]]


def test_no_contamination_reads_none_found(output, tmp_path):
    root = copy_of(output, tmp_path)
    (root / "stats.json").write_text(json.dumps({**STATS, "contamination": {}}))
    section = BeautifulSoup(build_report(str(root)), "html.parser").find(id="contamination")
    assert "none found" in section.get_text()
    assert section.find("table") is None


@pytest.mark.parametrize("missing", ["manifest.parquet", "stats.json"])
def test_a_missing_manifest_or_stats_names_the_file(output, tmp_path, missing):
    root = copy_of(output, tmp_path)
    (root / missing).unlink()
    with pytest.raises(FileNotFoundError, match=missing):
        build_report(str(root))
    with pytest.raises(FileNotFoundError, match=missing):
        run_report_command(["report", str(root)])


def test_an_unreadable_shard_is_reported_not_fatal(output, tmp_path):
    root = copy_of(output, tmp_path)
    (root / "pairs" / "shard-00000-of-00001.tar").write_bytes(b"")
    soup = BeautifulSoup(build_report(str(root)), "html.parser")
    assert "pairs/shard-00000-of-00001.tar" in soup.find(id="problems").get_text()
    assert len(soup.select("article.document")) == len(output.documents)


def test_a_negative_gallery_size_is_refused(output):
    with pytest.raises(ValueError, match="gallery size"):
        build_report(str(output.root), samples=-1)


def test_spread_keeps_first_and_last():
    assert spread(3, 8) == [0, 1, 2]
    assert spread(10, 4) == [0, 3, 6, 9]


# --- the SVG helpers ------------------------------------------------------------------------------------------------


def test_small_integer_ranges_get_one_bin_per_value():
    assert histogram_bins([1, 1, 2, 4]) == [Bin(v, v + 1, n, single=True) for v, n in ((1, 2), (2, 1), (3, 0), (4, 1))]


def test_continuous_values_get_equal_bins_with_the_maximum_in_the_last():
    bins = histogram_bins([0.0, 0.5, 1.0], max_bins=4)
    assert [b.count for b in bins] == [1, 0, 1, 1]
    assert (bins[0].low, bins[-1].high) == (0.0, 1.0)
    assert histogram_bins([0.5, 0.5]) == [Bin(0.5, 1.5, 2)]
    assert histogram_bins([]) == []


def test_bar_chart_is_valid_svg_with_escaped_labels_and_proportional_bars():
    label = 'a <b>bold</b> & "quoted" reason'
    svg = ET.fromstring(bar_chart([(label, 10), ("half", 5)], "t <i>", bar_width=200))
    rects = svg.findall(f"{SVG}rect")
    assert [float(r.get("width")) for r in rects] == [200.0, 100.0]
    assert rects[0].find(f"{SVG}title").text == f"{label}: 10"
    assert svg.get("aria-label") == "t <i>"


def test_histogram_has_a_column_per_bin_and_says_when_empty():
    svg = ET.fromstring(histogram([1, 2, 2, 3], "h", "x"))
    assert [r.find(f"{SVG}title").text for r in svg.findall(f"{SVG}rect")] == ["1: 1", "2: 2", "3: 1"]
    labels = [t.text for t in svg.findall(f"{SVG}text")]
    assert labels[-4:] == ["1", "2", "3", "x"]  # values under their columns, then the axis name
    floats = ET.fromstring(histogram([0.5, 1.5], "h", "x", max_bins=2))
    assert [r.find(f"{SVG}title").text for r in floats.findall(f"{SVG}rect")] == ["0.5 to 1: 1", "1 to 1.5: 1"]
    empty = ET.fromstring(histogram([], "h", "x"))
    assert empty.findall(f"{SVG}rect") == [] and "no data" in "".join(empty.itertext())


def test_format_number():
    assert [format_number(v) for v in (12345, 2.0, 1.3333, 0.05, 1234.5)] == ["12,345", "2", "1.33", "0.05", "1,234"]


# --- the report as Chromium renders it ------------------------------------------------------------------------------


def chromium() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI installs it: a skip there would hide a broken setup
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def rendered(output, tmp_path_factory) -> tuple[BeautifulSoup, Path]:
    """The report written by the command, as Chromium's DOM after loading it, and its screenshot."""
    browser = chromium()
    assert run_report_command(["report", str(output.root)]) == 0
    work = tmp_path_factory.mktemp("chromium")
    screenshot = work / "shot.png"
    page = (output.root / "report.html").as_uri()
    completed = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={work / 'profile'}", f"--screenshot={screenshot}", page],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return BeautifulSoup(completed.stdout, "html.parser"), screenshot


def reading_order(doc: InterleavedDocument) -> list[tuple[str, str]]:
    return [("image", s.alt) if isinstance(s, ImageSegment) else ("text", s.text) for s in doc.segments]


def rendered_order(article) -> list[tuple[str, str]]:
    body = article.find(class_="body")
    return [
        ("image", child.img["alt"]) if child.name == "figure" else ("text", child.get_text())
        for child in body.find_all(["p", "figure"], recursive=False)
    ]


def decoded(img) -> Image.Image:
    prefix = "data:image/jpeg;base64,"
    assert img["src"].startswith(prefix)
    return Image.open(io.BytesIO(base64.b64decode(img["src"].removeprefix(prefix))))


def test_rendered_gallery_shows_each_document_in_reading_order(output, rendered):
    soup, _ = rendered
    articles = soup.select("#gallery article.document")
    assert [a["data-key"] for a in articles] == [doc.doc_id for doc in output.documents]
    for article, doc in zip(articles, output.documents, strict=True):
        assert rendered_order(article) == reading_order(doc)
        imgs = article.find_all("img")
        assert len(imgs) == len(doc.images)
        for img, image in zip(imgs, doc.images, strict=True):
            thumbnail = decoded(img)
            with Image.open(io.BytesIO(output.jpegs[image.url])) as stored:
                assert max(thumbnail.size) <= 256
                assert thumbnail.width / thumbnail.height == pytest.approx(stored.width / stored.height, rel=0.02)


def test_rendered_pairs_and_clip_frames(rendered):
    soup, _ = rendered
    assert len(soup.select("#gallery figure.pair img")) == 2
    clip = soup.select_one("#gallery article.clip")
    assert len(clip.find_all("img")) == FRAMES_SHOWN
    assert clip.find(class_="text").get_text() == "A clip <b>of</b> animals."


def test_injected_markup_is_shown_as_text_not_run(rendered):
    soup, _ = rendered
    assert soup.find_all("script") == []
    assert soup.find(id="injected") is None and soup.find("b") is None
    assert soup.title.get_text().startswith("Curation report")
    assert all(img["src"].startswith("data:image/jpeg;base64,") for img in soup.find_all("img"))
    assert not soup.find_all(attrs={"onerror": True})
    texts = [p.get_text() for p in soup.select("#gallery p.text")]
    assert INJECTED_TEXT in texts
    assert INJECTED_ALT in [img["alt"] for img in soup.find_all("img")]


def test_rendered_charts(rendered):
    soup, _ = rendered
    assert len(soup.select("#images svg.histogram")) == 3
    assert (
        "of 8 M3W and pair images, read from all 6 samples with images" in soup.select_one("#images .note").get_text()
    )
    assert len(soup.select("#documents svg.histogram")) == 2
    assert len(soup.select("#funnel svg.bar-chart")) == 3
    drops = [title.get_text() for title in soup.select("#drops svg rect title")]
    assert drops == ["m3w.too_few_words: 5", "images.aspect_ratio: 2", "m3w.no_images: 2", f"{INJECTED_REASON}: 1"]
    contamination = [title.get_text() for title in soup.select("#contamination svg rect title")]
    assert contamination == ["coco: 3", "msrvtt: 1"]
    assert all(svg.find("rect") for svg in soup.find_all("svg"))


def test_rendered_summary_counts_every_sample(output, rendered):
    soup, _ = rendered
    total = soup.select("#summary tbody tr")[-1]
    assert [td.get_text() for td in total.find_all("td")][:3] == ["total", str(len(output.documents) + 3), "4"]


def test_screenshot_is_not_blank(rendered):
    _, screenshot = rendered
    with Image.open(screenshot) as image:
        assert image.size == (1200, 3000)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is None or len(colours) > 100
