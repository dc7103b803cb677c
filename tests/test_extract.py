"""DOM-order extraction: real pages against readability's gold output, and each HTML feature by hand."""

import re
from collections import Counter

import lxml.html
import pytest

from pipelines.html.extract import extract_page
from pipelines.html.images import choose_from_srcset, image_url
from schemas import EOC, IMAGE, ImageSegment, InterleavedDocument, TextSegment

PAGE_URL = "http://fakehost/test/page.html"  # the base URL readability's test pages were saved with
WORDS = re.compile(r"\w+")
# Floors under what the 43 pages measure: mean text recall 0.981 (lowest page: qq, 0.817, whose
# missing words are share buttons, an editor's name and a rating prompt that readability keeps),
# mean image recall 0.954, and 0.863 of the images kept are gold images. Before the extraction found
# the article, recall was 0.997 / 1.0 and image precision 0.40: every teaser and logo was kept.
MIN_MEAN_TEXT_RECALL = 0.97
MIN_PAGE_TEXT_RECALL = 0.8
MIN_MEAN_IMAGE_RECALL = 0.94
MIN_IMAGE_PRECISION = 0.85


def readability_pages(testdata):
    return sorted(p for p in (testdata / "web/html/readability").iterdir() if (p / "expected.html").exists())


def text_and_images(page):
    text = " ".join(s.text for s in page.segments if isinstance(s, TextSegment))
    return text, [s.url for s in page.segments if isinstance(s, ImageSegment)]


def word_recall(gold: str, ours: str) -> float:
    gold_words, our_words = Counter(WORDS.findall(gold.lower())), Counter(WORDS.findall(ours.lower()))
    return sum((gold_words & our_words).values()) / max(1, sum(gold_words.values()))


def is_subsequence(needles: list[str], haystack: list[str]) -> bool:
    remaining = iter(haystack)
    return all(any(n == h for h in remaining) for n in needles)


def test_readability_gold_text_and_images_are_covered_in_order_and_others_left_out(testdata):
    text_recalls, image_recalls = [], []
    kept_images = kept_gold_images = 0
    for folder in readability_pages(testdata):
        source = (folder / "source.html").read_text(encoding="utf-8", errors="replace")
        gold = lxml.html.fromstring((folder / "expected.html").read_text(encoding="utf-8", errors="replace"))
        ours, our_images = text_and_images(extract_page(source, PAGE_URL))

        recall = word_recall(gold.text_content(), ours)
        assert recall >= MIN_PAGE_TEXT_RECALL, f"{folder.name}: text recall {recall:.3f}"
        text_recalls.append(recall)

        # Gold images that exist as <img> in the source (some are only in scripts' JSON).
        in_source = {image_url(img, PAGE_URL) for img in lxml.html.document_fromstring(source).iter("img")}
        gold_images = list(dict.fromkeys(u for img in gold.iter("img") if (u := image_url(img, PAGE_URL)) in in_source))
        kept = list(dict.fromkeys(our_images))
        kept_images += len(kept)
        kept_gold_images += sum(u in gold_images for u in kept)
        if gold_images:
            found = [u for u in gold_images if u in our_images]
            image_recalls.append(len(found) / len(gold_images))
            assert is_subsequence(found, list(dict.fromkeys(our_images))), f"{folder.name}: images out of order"
    assert len(text_recalls) == 43
    assert sum(text_recalls) / len(text_recalls) >= MIN_MEAN_TEXT_RECALL
    assert sum(image_recalls) / len(image_recalls) >= MIN_MEAN_IMAGE_RECALL
    assert kept_gold_images / kept_images >= MIN_IMAGE_PRECISION


def segments_of(body: str, url: str = "http://site.test/dir/page.html"):
    return extract_page(f"<html><body>{body}</body></html>", url).segments


def test_text_and_images_keep_dom_order_and_inline_tags_are_unwrapped():
    segments = segments_of(
        "<h1>Title</h1><p>First <b>bold</b> and <a href='x'>link</a> text.</p>"
        "<img src='a.jpg' alt='An A' title='T' width='640' height='480'>"
        "<ul><li>one</li><li>two</li></ul><table><tr><td>c1</td><td>c2</td></tr></table>"
    )
    assert segments == [
        TextSegment("Title"),
        TextSegment("First bold and link text."),
        ImageSegment(url="http://site.test/dir/a.jpg", alt="An A", title="T", declared_width=640, declared_height=480),
        TextSegment("one"),
        TextSegment("two"),
        TextSegment("c1 c2"),
    ]


def test_boilerplate_is_dropped_but_article_headers_stay():
    segments = segments_of(
        "<header>Site header</header><nav>Home | About</nav><script>var x = '<p>no</p>';</script>"
        "<style>p{}</style><article><header><p>Article standfirst</p></header><p>Body text.</p>"
        "<div class='share-buttons'>Share on X</div><footer>Tags</footer></article>"
        "<aside>Related</aside><div style='display:none'>Hidden</div><div hidden>Gone</div>"
        "<footer>Copyright</footer><!-- a comment --><div class='cookie-consent'>Accept cookies</div>"
    )
    texts = [s.text for s in segments]
    assert texts == ["Article standfirst", "Body text.", "Tags"]


def test_a_wrapper_with_a_clutter_name_but_many_paragraphs_is_content():
    body = "<div id='gigya-share-container'>" + "".join(f"<p>Paragraph {i}.</p>" for i in range(5)) + "</div>"
    assert len(segments_of(body)) == 5


def test_relative_urls_resolve_against_base_href():
    segments = segments_of("<img src='../img/a.jpg'>", url="http://site.test/x/y/page.html")
    assert segments[0].url == "http://site.test/x/img/a.jpg"
    page = extract_page(
        "<html><head><base href='https://cdn.test/assets/'></head><body><img src='b.png'></body></html>",
        "http://site.test/page.html",
    )
    assert page.segments[0].url == "https://cdn.test/assets/b.png"


def test_lazy_loading_picture_and_srcset():
    segments = segments_of(
        "<img src='data:image/gif;base64,R0lGOD' data-src='/lazy.jpg'>"
        "<img src='/blank.gif' data-srcset='/s-200.jpg 200w, /s-400.jpg 400w, /s-800.jpg 800w'>"
        "<picture><source srcset='/p-1x.webp 1x, /p-2x.webp 2x'><img></picture>"
        "<img data-lazy-src='/other.jpg'><noscript><img src='/other.jpg'></noscript>"
    )
    assert [s.url for s in segments] == [
        "http://site.test/lazy.jpg",
        "http://site.test/s-400.jpg",
        "http://site.test/p-1x.webp",
        "http://site.test/other.jpg",  # the noscript fallback of the same image is not repeated
    ]


def test_srcset_choice():
    assert choose_from_srcset("a.jpg 100w, b.jpg 330w, c.jpg 2000w") == "b.jpg"
    assert choose_from_srcset("a.jpg 100w, b.jpg 200w") == "b.jpg"
    assert choose_from_srcset("a.jpg, b.jpg 2x") == "a.jpg"
    assert choose_from_srcset("data:image/png;base64,xx 1x") is None


def test_figcaption_becomes_the_image_caption_and_stays_in_the_text():
    segments = segments_of(
        "<figure><img src='f.jpg' alt='alt'><figcaption>A <i>long</i> caption.</figcaption></figure>"
    )
    assert segments[0].caption == "A long caption."
    assert segments[1] == TextSegment("A long caption.")


@pytest.mark.parametrize("attack", ["&lt;image&gt;", "&lt;EOC&gt;", "&#xFF1C;image&#xFF1E;", "&lt;im&#x200B;age&gt;"])
def test_page_text_cannot_inject_tokens(attack):
    page = extract_page(f"<p>before {attack} after</p><img src='a.jpg' alt='{attack}'>", "http://s.test/")
    doc = InterleavedDocument(doc_id="0" * 32, url="http://s.test/", segments=tuple(page.segments))
    assert doc.text.count(IMAGE) == 1 and doc.text.count(EOC) == 2
    assert IMAGE not in doc.images[0].alt and EOC not in doc.images[0].alt


def test_whitespace_is_collapsed_and_empty_blocks_vanish():
    assert segments_of("<div>  \n </div><p>  a \n\t b  </p><p></p>") == [TextSegment("a b")]


def test_broken_markup_still_extracts():
    segments = segments_of("<p>open <b>bold <i>both</p><p>next</b> para<img src=x.jpg")
    assert [type(s).__name__ for s in segments][:2] == ["TextSegment", "TextSegment"]


ARTICLE_PARAGRAPH = (
    "Flamingos feed with their heads upside down, filtering shrimp and algae from the water with their bills, "
    "and a colony can strip a shallow lake of its food in a few weeks before it moves on to the next one."
)
OUTSIDE_PROSE = (
    "Our society has counted the birds of the lagoon every winter since 1970, and the volunteers who walk its "
    "shores at dawn with their notebooks and telescopes are the reason we know how the colony has grown, how it "
    "shrank in the dry years, and where the young birds go when they leave the lagoon for the first time."
)


def test_prose_outside_the_article_is_kept_unless_only_the_article_is_asked_for():
    html = (
        f"<html><body><div class='page'><div class='story'>{'<p>' + ARTICLE_PARAGRAPH + '</p>' * 1}"
        f"{''.join('<p>' + ARTICLE_PARAGRAPH + ' ' + str(n) + '</p>' for n in range(4))}"
        "<img src='colony.jpg' width='800' height='600'></div>"
        f"<div class='author-bio'><p>{OUTSIDE_PROSE}</p><p><a href='/more'>More stories</a></p>"
        "<img src='portrait.jpg' width='800' height='600'></div></div></body></html>"
    )
    page = extract_page(html, "http://site.test/news/flamingos.html")
    texts, images = text_and_images(page)
    assert OUTSIDE_PROSE in texts and "More stories" not in texts
    assert images == ["http://site.test/news/colony.jpg"]  # images only from inside the article
    assert page.skipped_paragraphs == {"outside_article": 1} and page.skipped_images == {"outside_article": 1}
    article_only, _ = text_and_images(extract_page(html, "http://site.test/news/flamingos.html", False))
    assert OUTSIDE_PROSE not in article_only and ARTICLE_PARAGRAPH in article_only


def test_script_text_does_not_make_a_block_the_article():
    # A script's commas once scored its block as prose: the teaser grid around it won the page.
    data = "<script>var grid = [" + ",".join(str(n) for n in range(400)) + "];</script>"
    html = (
        f"<html><body><div class='grid'><p>Five things to do this weekend {data}</p>"
        "<img src='teaser.jpg' width='800' height='600'></div>"
        f"<div class='story'>{''.join(f'<p>{ARTICLE_PARAGRAPH} {n}</p>' for n in range(4))}"
        "<img src='colony.jpg' width='800' height='600'></div></body></html>"
    )
    texts, images = text_and_images(extract_page(html, "http://site.test/news/flamingos.html"))
    assert images == ["http://site.test/news/colony.jpg"]
    assert "var grid" not in texts


def test_bylines_and_tag_lists_inside_the_article_are_left_out():
    html = (
        f"<html><body><article><p class='byline-date'>November 18, 2019 | 4:10pm</p>"
        f"{''.join(f'<p>{ARTICLE_PARAGRAPH} {n}</p>' for n in range(4))}"
        "<div class='tag-list'><span>Filed under</span> <a href='/t/birds'>birds</a></div></article></body></html>"
    )
    texts, _ = text_and_images(extract_page(html, "http://site.test/news/flamingos.html"))
    assert ARTICLE_PARAGRAPH in texts and "4:10pm" not in texts and "Filed under" not in texts
