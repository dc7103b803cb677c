"""HTML -> text and image segments in DOM order (the M3W extraction), with lxml.

The DOM is walked once: boilerplate subtrees are skipped, block elements end a paragraph, inline
elements are unwrapped into the text around them, and each `<img>` becomes an image segment where
it stands, carrying its alt text, title, declared size and figure caption.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree
from lxml.html import HTMLParser

from pipelines.html.boilerplate import CONTENT_CONTAINERS, PageBoilerplate
from pipelines.html.images import declared_size, image_url
from pipelines.html.main_content import is_link_list_item, is_prose, is_teaser, main_content
from pipelines.html.page_index import PageIndex, count_descendants, text_of
from schemas import ImageSegment, TextSegment, neutralise_special_tokens
from schemas.records import Segment

BLOCK_TAGS = frozenset(
    {
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd", "table", "tr",
        "thead", "tbody", "tfoot", "caption", "blockquote", "pre", "figure", "figcaption", "section",
        "article", "main", "header", "footer", "address", "hr", "center", "details", "summary", "body",
    }
)  # fmt: skip
SCRIPT_TAGS = ("script", "style", "template")
CELL_TAGS = frozenset({"td", "th"})
HEADINGS_AND_ITEMS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd"})
_PARSER = HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)
# The same parse without lxml.html's element classes, for the extraction: lxml.html picks each
# element's class in Python code whenever lxml makes an object for the element, and the extraction
# makes one for every element of the page and uses none of those classes' methods.
_PLAIN_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)


@dataclass(frozen=True)
class ExtractedPage:
    segments: list[Segment]
    title: str
    lang: str  # the page's own <html lang>, if any
    headings_and_items: frozenset[int] = frozenset()  # indices of text segments that are headings or list items
    skipped_images: dict[str, int] = field(default_factory=dict)  # reason -> images left out of the article
    skipped_paragraphs: dict[str, int] = field(default_factory=dict)  # reason -> text blocks left out


class HtmlParseError(ValueError):
    pass


def parse_html(html_text: str, parser: etree.HTMLParser = _PARSER) -> etree._Element:
    """The page's root element; lxml.html's elements unless another parser is given."""
    try:
        root = etree.fromstring(html_text, parser)
        if root is None:
            raise etree.ParserError("Document is empty")
    except (etree.ParserError, ValueError) as error:
        raise HtmlParseError(f"unparseable HTML ({error})") from error
    return root


def extract_page(html_text: str, page_url: str, prose_outside_article: bool = True) -> ExtractedPage:
    """`prose_outside_article`: keep the page's prose outside its article too (M3W and OBELICS keep
    pages, not only articles); False keeps the article's text alone."""
    root = parse_html(html_text, _PLAIN_PARSER)
    # Their text is code, not page text: left in, it would count as prose wherever text is measured.
    etree.strip_elements(root, *SCRIPT_TAGS, with_tail=False)
    base_url = _base_url(root, page_url)
    walker = _SegmentWalker(base_url, prose_outside_article)
    walker.walk(root)
    title = _clean(root.findtext(".//title") or "")
    return ExtractedPage(
        segments=walker.segments,
        title=title,
        lang=(root.get("lang") or "").strip().lower(),
        headings_and_items=frozenset(walker.headings_and_items),
        skipped_images={
            reason: count
            for reason, count in (("outside_article", walker.outside_images), ("teaser", walker.teaser_images))
            if count
        },
        skipped_paragraphs={
            reason: count
            for reason, count in (("outside_article", walker.outside_paragraphs), ("link_list_item", walker.link_items))
            if count
        },
    )


def _base_url(root: etree._Element, page_url: str) -> str:
    base = root.find(".//base[@href]")
    return urljoin(page_url, base.get("href").strip()) if base is not None else page_url


def _clean(text: str) -> str:
    # str.split() splits on exactly the characters that `\s` matches
    return neutralise_special_tokens(" ".join(text.split()))


class _SegmentWalker:
    def __init__(self, base_url: str, prose_outside_article: bool = True) -> None:
        self.prose_outside_article = prose_outside_article
        self.base_url = base_url
        self.segments: list[Segment] = []
        self.outside_images = 0  # images left out because they are outside the article
        self.teaser_images = 0  # ...or because they link to another page with a headline
        self.outside_paragraphs = 0  # text blocks outside the article that are not prose
        self.link_items = 0  # short blocks that are mostly a link, inside the article too
        self.headings_and_items: list[int] = []
        self._blocks: list[str] = []  # the open block elements, innermost last
        self._buffer: list[str] = []

    def walk(self, root: etree._Element) -> None:
        """Everything inside the article's containers (less boilerplate); outside them, only prose."""
        boilerplate = PageBoilerplate(root)
        index = PageIndex(root)
        article = main_content(root, boilerplate, index)
        around_article = {ancestor for container in article for ancestor in container.iterancestors()}
        content_depth = 0
        kept = 0 if article else 1  # depth inside the article, or inside prose outside it
        opened: set[etree._Element] = set()
        skipped: set[etree._Element] = set()
        walker = etree.iterwalk(root, events=("start", "end"))
        for event, element in walker:
            tag = element.tag
            if not isinstance(tag, str):
                continue
            if event == "start":
                around = element in around_article
                if (not around and boilerplate(element, content_depth > 0)) or (
                    tag == "noscript" and element.find(".//img") is None
                ):
                    walker.skip_subtree()
                    skipped.add(element)
                    continue
                leaf = index.is_leaf_block(element)
                if not kept and not around:
                    prose = self.prose_outside_article and leaf and is_prose(element, index)
                    if element in article or prose:
                        kept += 1
                        opened.add(element)
                    elif leaf or tag == "img":
                        walker.skip_subtree()
                        skipped.add(element)
                        self.outside_images += tag == "img" or count_descendants(element, "img")
                        self.outside_paragraphs += tag != "img" and bool(index.text(element).strip())
                        continue
                if tag == "a" and is_teaser(element, index):
                    walker.skip_subtree()
                    skipped.add(element)
                    self.teaser_images += count_descendants(element, "img")
                    continue
                if leaf and is_link_list_item(element, index):
                    walker.skip_subtree()
                    skipped.add(element)
                    self.link_items += 1
                    continue
                content_depth += tag in CONTENT_CONTAINERS
                if tag in BLOCK_TAGS:
                    self._flush()
                    self._blocks.append(tag)
                elif tag == "br":
                    self._flush()
                elif tag in CELL_TAGS:
                    self._buffer.append(" ")
                elif tag == "img":
                    self._add_image(element)
                # lxml makes a new string at each read of .text or .tail: read once, and only when kept
                if kept and tag != "noscript" and (text := element.text):
                    self._buffer.append(text)
            else:
                if element not in skipped:
                    content_depth -= tag in CONTENT_CONTAINERS
                    if tag in BLOCK_TAGS:
                        self._flush()
                        self._blocks.pop()
                    if element in opened:
                        kept -= 1
                if kept and (tail := element.tail):
                    self._buffer.append(tail)
        self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        text = _clean("".join(self._buffer))
        self._buffer.clear()
        if text:
            if self._blocks and self._blocks[-1] in HEADINGS_AND_ITEMS:
                self.headings_and_items.append(len(self.segments))
            self.segments.append(TextSegment(text))

    def _add_image(self, img: etree._Element) -> None:
        url = image_url(img, self.base_url)
        if not url:
            return
        self._flush()
        previous = self.segments[-1] if self.segments else None
        if isinstance(previous, ImageSegment) and previous.url == url:
            return  # the same picture twice in a row: a lazy <img> and its <noscript> fallback
        self.segments.append(
            ImageSegment(
                url=url,
                alt=_clean(img.get("alt") or ""),
                title=_clean(img.get("title") or ""),
                caption=_figure_caption(img),
                declared_width=declared_size(img, "width"),
                declared_height=declared_size(img, "height"),
            )
        )


def _figure_caption(img: etree._Element, max_levels: int = 4) -> str:
    for level, ancestor in enumerate(img.iterancestors()):
        if level >= max_levels:
            break
        if ancestor.tag == "figure":
            caption = ancestor.find(".//figcaption")
            return _clean(text_of(caption)) if caption is not None else ""
    return ""
