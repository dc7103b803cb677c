"""HTML extraction: throughput and quality of ours vs trafilatura (with images) vs a bare lxml parse.

Throughput: documents per second on one core, over the real pages in ../shared/testdata
(readability, trafilatura and aeb sets), best of --repeat runs. Quality: word-level recall,
precision and F1 against the aeb gold article text, for our extraction (before and after the
text filters) and for trafilatura.

    .venv/bin/python benchmarks/html_extraction.py [--testdata PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import lxml.html
import trafilatura
from common import default_testdata, per_core_rate

from pipelines.html.decode import decode_html
from pipelines.html.extract import extract_page
from pipelines.m3w.document import M3WConfig, build_document
from pipelines.readers.page import RawPage
from schemas import TextSegment

WORDS = re.compile(r"\w+")


def load_pages(testdata: Path) -> list[RawPage]:
    html = testdata / "web/html"
    pages = [
        RawPage(url="http://fakehost/test/page.html", body=p.read_bytes())
        for p in sorted(html.glob("readability/*/source.html"))
    ]
    pages += [
        RawPage(url="http://fakehost/page.html", body=p.read_bytes()) for p in sorted(html.glob("trafilatura/*.html"))
    ]
    gold = json.loads((html / "aeb/ground-truth.json").read_text())
    for path in sorted(html.glob("aeb/*.html.gz")):
        key = path.name.removesuffix(".html.gz")
        pages.append(
            RawPage(url=gold.get(key, {}).get("url", "http://fakehost/"), body=gzip.decompress(path.read_bytes()))
        )
    return pages


def ours_extract(page: RawPage) -> str:
    segments = extract_page(decode_html(page.body, page.content_type).text, page.url).segments
    return "\n".join(s.text for s in segments if isinstance(s, TextSegment))


def ours_filtered(page: RawPage) -> str:
    config = M3WConfig(keep_documents_without_images=True)
    document = build_document(page, config).document
    return "\n".join(s.text for s in document.segments if isinstance(s, TextSegment)) if document else ""


def trafilatura_with_images(page: RawPage) -> str:
    return trafilatura.extract(decode_html(page.body).text, url=page.url, include_images=True) or ""


def lxml_parse_only(page: RawPage) -> str:
    lxml.html.document_fromstring(page.body)
    return ""


METHODS: dict[str, Callable[[RawPage], str]] = {
    "bare lxml parse (lower bound)": lxml_parse_only,
    "ours: decode + extract": ours_extract,
    "ours: full M3W document (filters, lang id)": ours_filtered,
    "trafilatura 2.x (include_images)": trafilatura_with_images,
}


def quality(method: Callable[[RawPage], str], testdata: Path) -> tuple[float, float, float, float]:
    html = testdata / "web/html/aeb"
    gold = json.loads((html / "ground-truth.json").read_text())
    recalls, precisions, f1s, kept = [], [], [], []
    for path in sorted(html.glob("*.html.gz")):
        entry = gold.get(path.name.removesuffix(".html.gz"))
        if not entry or not entry.get("articleBody"):
            continue
        truth = Counter(WORDS.findall(entry["articleBody"].removesuffix("...").lower()))
        got = Counter(WORDS.findall(method(RawPage(url=entry["url"], body=gzip.decompress(path.read_bytes()))).lower()))
        kept.append(bool(got))
        overlap = sum((truth & got).values())
        recall = overlap / max(1, sum(truth.values()))
        precision = overlap / max(1, sum(got.values()))
        recalls.append(recall)
        precisions.append(precision)
        f1s.append(2 * recall * precision / (recall + precision) if recall + precision else 0.0)
    return statistics.mean(recalls), statistics.mean(precisions), statistics.mean(f1s), statistics.mean(kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--testdata", type=Path, default=default_testdata())
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    pages = load_pages(args.testdata)
    megabytes = sum(len(p.body) for p in pages) / 1e6
    print(f"{len(pages)} real pages, {megabytes:.1f} MB; one core (process CPU time), best of {args.repeat}\n")
    print(f"{'method':<44} {'docs/s/core':>11} {'MB/s':>7} {'recall':>7} {'precision':>9} {'F1':>6} {'kept':>6}")
    for name, method in METHODS.items():
        rate = per_core_rate(method, pages, args.repeat)
        if method is lxml_parse_only:
            scores = f"{'-':>7} {'-':>9} {'-':>6} {'-':>6}"
        else:
            recall, precision, f1, kept = quality(method, args.testdata)
            scores = f"{recall:>7.3f} {precision:>9.3f} {f1:>6.3f} {kept:>6.1%}"
        print(f"{name:<44} {rate:>11.1f} {rate * megabytes / len(pages):>7.2f} {scores}")
    print("\nrecall/precision/F1: word-level, mean over the aeb pages with gold article text (a dropped page")
    print("scores 0); kept: share of those pages that give any text (the full M3W job rejects whole documents)")


if __name__ == "__main__":
    main()
