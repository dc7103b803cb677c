"""HTML extraction: throughput and quality of ours vs trafilatura (with images) vs a bare lxml parse.

Throughput: documents per second on one core, over the real pages in ../shared/testdata
(readability, trafilatura and aeb sets), the methods taking turns page by page and each page's time
the best of --repeat rounds (so that the ratio to the bare parse holds when the machine's load
changes). Quality, side by side:
- text: word-level recall, precision and F1 against the aeb gold article text (90 news and blog
  pages), for our extraction (before and after the M3W filters) and for trafilatura;
- images: precision and recall against the images of the 43 readability pages' `expected.html`
  (an image kept that is not in the gold is a false positive; a gold image matches by any of its
  src, lazy or srcset URLs), counted over all images;
- the share of kept images that sit inside the article on the aeb pages: whose nearest paragraph
  before or after is mostly gold article text.

    .venv/bin/python benchmarks/html_extraction.py [--testdata PATH] [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import re
import statistics
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

import lxml.html
import trafilatura
from common import default_testdata, interleaved_rates

from pipelines.html.decode import decode_html
from pipelines.html.extract import extract_page
from pipelines.html.images import LAZY_SRC_ATTRIBUTES, LAZY_SRCSET_ATTRIBUTES, parse_srcset
from pipelines.m3w.document import M3WConfig, build_document
from pipelines.readers.page import RawPage
from schemas import TextSegment

WORDS = re.compile(r"\w+")
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)[^)]*\)")
READABILITY_URL = "http://fakehost/test/page.html"  # the base URL readability's test pages were saved with
GOLD_SHARE = 0.6  # a paragraph whose words are mostly in the gold article is article text
MIN_PARAGRAPH_WORDS = 5

# A page -> its text and images in order: ("text", paragraph) or ("image", url)
Segments = list[tuple[str, str]]


def load_pages(testdata: Path) -> list[RawPage]:
    html = testdata / "web/html"
    pages = [RawPage(url=READABILITY_URL, body=p.read_bytes()) for p in sorted(html.glob("readability/*/source.html"))]
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


def _segments(segments) -> Segments:
    return [("text", s.text) if isinstance(s, TextSegment) else ("image", s.url) for s in segments]


def ours_extract(page: RawPage) -> Segments:
    return _segments(extract_page(decode_html(page.body, page.content_type).text, page.url).segments)


def ours_article_only(page: RawPage) -> Segments:
    return _segments(extract_page(decode_html(page.body, page.content_type).text, page.url, False).segments)


def ours_document(page: RawPage, keep_documents_without_images: bool = True) -> Segments:
    """The full M3W step; the job's default rejects a page left without images (before the text rules)."""
    config = M3WConfig(keep_documents_without_images=keep_documents_without_images)
    document = build_document(page, config).document
    return _segments(document.segments) if document else []


def trafilatura_with_images(page: RawPage) -> Segments:
    text = trafilatura.extract(decode_html(page.body).text, url=page.url, include_images=True) or ""
    segments: Segments = []
    for line in text.splitlines():
        urls = MARKDOWN_IMAGE.findall(line)
        segments += [("image", url) for url in urls]
        rest = MARKDOWN_IMAGE.sub("", line).strip()
        if rest:
            segments.append(("text", rest))
    return segments


def lxml_parse_only(page: RawPage) -> Segments:
    lxml.html.document_fromstring(page.body)
    return []


FLOOR = "bare lxml parse (lower bound)"
METHODS: dict[str, Callable[[RawPage], Segments]] = {
    FLOOR: lxml_parse_only,
    "ours: decode + extract": ours_extract,
    "ours: decode + extract, --article_text_only": ours_article_only,
    "ours: full M3W document (filters, lang id)": ours_document,
    "ours: the same, pages without images rejected (the job's default)": functools.partial(
        ours_document, keep_documents_without_images=False
    ),
    "trafilatura 2.x (include_images)": trafilatura_with_images,
}


def _words(text: str) -> Counter[str]:
    return Counter(WORDS.findall(text.lower()))


def aeb_pages(testdata: Path) -> list[tuple[RawPage, str]]:
    html = testdata / "web/html/aeb"
    gold = json.loads((html / "ground-truth.json").read_text())
    pages = []
    for path in sorted(html.glob("*.html.gz")):
        entry = gold.get(path.name.removesuffix(".html.gz"))
        if entry and entry.get("articleBody"):
            page = RawPage(url=entry["url"], body=gzip.decompress(path.read_bytes()))
            pages.append((page, entry["articleBody"].removesuffix("...")))
    return pages


def text_quality(method: Callable[[RawPage], Segments], pages: list[tuple[RawPage, str]]) -> dict[str, float]:
    """Mean word recall, precision and F1 against the gold text; the share of pages with any text;
    the share of kept images inside the article."""
    recalls, precisions, f1s, kept, inside, images = [], [], [], [], 0, 0
    for page, gold_text in pages:
        segments = method(page)
        truth = _words(gold_text)
        got = _words(" ".join(text for kind, text in segments if kind == "text"))
        kept.append(bool(got))
        overlap = sum((truth & got).values())
        recall, precision = overlap / max(1, sum(truth.values())), overlap / max(1, sum(got.values()))
        recalls.append(recall)
        precisions.append(precision)
        f1s.append(2 * recall * precision / (recall + precision) if recall + precision else 0.0)
        page_inside, page_images = images_inside_article(segments, set(truth))
        inside += page_inside
        images += page_images
    return {
        "recall": statistics.mean(recalls),
        "precision": statistics.mean(precisions),
        "f1": statistics.mean(f1s),
        "kept": statistics.mean(kept),
        "inside": inside / images if images else float("nan"),
    }


def images_inside_article(segments: Segments, gold_words: set[str]) -> tuple[int, int]:
    """(images whose nearest paragraph before or after is mostly gold text, all images): a teaser's
    picture sits between teaser headlines, an article's between (or just before) its paragraphs."""
    paragraphs = [
        (i, _is_gold_paragraph(text, gold_words))
        for i, (kind, text) in enumerate(segments)
        if kind == "text" and len(WORDS.findall(text)) >= MIN_PARAGRAPH_WORDS
    ]
    inside = images = 0
    for i, (kind, _) in enumerate(segments):
        if kind != "image":
            continue
        images += 1
        before = next((gold for j, gold in reversed(paragraphs) if j < i), False)
        after = next((gold for j, gold in paragraphs if j > i), False)
        inside += before or after
    return inside, images


def _is_gold_paragraph(text: str, gold_words: set[str]) -> bool:
    words = WORDS.findall(text.lower())
    return len(words) >= MIN_PARAGRAPH_WORDS and sum(w in gold_words for w in words) >= GOLD_SHARE * len(words)


def readability_gold(testdata: Path) -> list[tuple[RawPage, list[set[str]]]]:
    """Each readability page, with the URLs each of its gold images may go by."""
    pages = []
    for folder in sorted((testdata / "web/html/readability").iterdir()):
        if (folder / "expected.html").exists():
            gold = lxml.html.document_fromstring((folder / "expected.html").read_bytes())
            images = [urls for img in gold.iter("img") if (urls := _image_urls(img))]
            pages.append((RawPage(url=READABILITY_URL, body=(folder / "source.html").read_bytes()), images))
    return pages


def _image_urls(img) -> set[str]:
    urls = {(img.get(name) or "").strip() for name in ("src", *LAZY_SRC_ATTRIBUTES)}
    for name in ("srcset", *LAZY_SRCSET_ATTRIBUTES):
        urls |= {url for url, _ in parse_srcset(img.get(name) or "")}
    return {urljoin(READABILITY_URL, url) for url in urls if url and not url.startswith("data:")}


def image_quality(
    method: Callable[[RawPage], Segments], pages: list[tuple[RawPage, list[set[str]]]]
) -> tuple[float, float]:
    """(precision, recall) over every image of the pages; each gold image matches at most once."""
    kept = true = gold_total = 0
    for page, gold in pages:
        matched: set[int] = set()
        for url in (url for kind, url in method(page) if kind == "image"):
            kept += 1
            hit = next((i for i, urls in enumerate(gold) if i not in matched and url in urls), None)
            if hit is not None:
                matched.add(hit)
                true += 1
        gold_total += len(gold)
    return true / max(1, kept), true / max(1, gold_total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--testdata", type=Path, default=default_testdata())
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="every 10th page, one pass: for CI")
    args = parser.parse_args()

    pages, text_gold, image_gold = load_pages(args.testdata), aeb_pages(args.testdata), readability_gold(args.testdata)
    if args.quick:
        pages, text_gold, image_gold, args.repeat = pages[::10], text_gold[::10], image_gold[::10], 1
    megabytes = sum(len(p.body) for p in pages) / 1e6
    print(
        f"{len(pages)} real pages, {megabytes:.1f} MB; one core (process CPU time), the methods taking turns "
        f"page by page, each page the best of {args.repeat}"
    )
    print(f"text against {len(text_gold)} aeb pages' gold; images against {len(image_gold)} readability pages' gold\n")
    header = ["method", "docs/s/core", "x bare parse time", "MB/s", "text recall", "text precision", "text F1",
              "kept", "image precision", "image recall", "images inside article"]  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|---|" + "---:|" * (len(header) - 1))
    rates = interleaved_rates(METHODS, pages, args.repeat)
    for name, method in METHODS.items():
        rate = rates[name]
        cells = [name, f"{rate:.1f}", f"{rates[FLOOR] / rate:.1f}", f"{rate * megabytes / len(pages):.2f}"]
        if method is lxml_parse_only:
            cells += ["-"] * 7
        else:
            text = text_quality(method, text_gold)
            image_precision, image_recall = image_quality(method, image_gold)
            cells += [f"{text['recall']:.3f}", f"{text['precision']:.3f}", f"{text['f1']:.3f}", f"{text['kept']:.1%}",
                      f"{image_precision:.3f}", f"{image_recall:.3f}", f"{text['inside']:.1%}"]  # fmt: skip
        print("| " + " | ".join(cells) + " |")
    print("\ntext: word-level, mean over the aeb pages with gold article text (a dropped page scores 0); kept: the")
    print("share of those pages that give any text (the full M3W job rejects whole documents). images: over all")
    print("gold images of the readability pages; inside article: kept images of the aeb pages whose nearest")
    print("paragraph before or after is mostly gold article text. x bare parse time: how many times the time")
    print("of lxml's parse alone")


if __name__ == "__main__":
    main()
