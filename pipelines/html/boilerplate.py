"""Which parts of a page are not content: scripts and styles, navigation, ads, hidden elements."""

from __future__ import annotations

import functools
import re

from lxml import etree

from pipelines.html.page_index import count_descendants

# Elements whose whole subtree never holds article content.
DROPPED_TAGS = frozenset(
    {
        "script", "style", "template", "svg", "math", "canvas", "iframe", "object", "embed",
        "button", "input", "select", "textarea", "nav", "menu", "aside", "dialog", "title", "link", "meta",
    }
)  # fmt: skip
# Page furniture: dropped unless it sits inside the article itself (articles have headers too).
FURNITURE_TAGS = frozenset({"header", "footer"})
CONTENT_CONTAINERS = frozenset({"article", "main"})
# class/id words that mark clutter; matched as whole words after splitting on - and _. What these
# name is never the article, whatever else the names say ("article-comments", "related-stories");
# the list joins Readability's unlikely candidates and trafilatura's discarded sections.
CLUTTER_WORDS = frozenset(
    {
        "ad", "ads", "advert", "advertisement", "adsbygoogle", "cookie", "cookies", "consent", "share",
        "sharing", "social", "comment", "comments", "related", "newsletter", "promo", "sponsored", "subscribe",
        "popup", "modal", "outbrain", "taboola", "paywall", "signup", "login", "teaser", "teasers",
        "recommended", "trending", "popular", "disqus", "replies", "legends", "remark", "rss", "shoutbox",
        "supplemental", "pagination", "pager", "community", "agegate", "skyscraper", "recirculation",
        "byline", "tag", "tags", "flyout",
    }
)  # fmt: skip
# Page layout: furniture, unless the same names also say it holds the article ("l-sidebar
# l-article-body") or it holds many paragraphs (a page wrapper with an odd name).
LAYOUT_WORDS = frozenset(
    {"banner", "sidebar", "breadcrumb", "breadcrumbs", "menu", "navbar", "nav", "navigation", "footer", "skiplink"}
)
CONTENT_WORDS = frozenset({"article", "body", "content", "main", "story", "entry"})
MIN_PARAGRAPHS_OF_A_WRAPPER = 3
WRAPPER_SHARE = 0.9  # of the page's paragraphs: what holds this much is the page, whatever its name
ARTICLE_SHARE = 0.5  # ...and this much, named as content too, is the article ("box article modal-enabled")
_WORD_SPLIT = re.compile(r"[\s_\-]+")
_CAMEL_HUMP = re.compile(r"([a-z])([A-Z])")  # "adUltraBody" names an ad
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def is_boilerplate(element: etree._Element, inside_content: bool, page_paragraphs: int = 0) -> bool:
    """`page_paragraphs`: the page's `<p>` count; an element named like clutter that holds nearly
    all of them wraps the page (a whole page inside a `<form>` or a `div#share-buttons-parent`)."""
    tag = element.tag
    if tag == "form":
        return not _holds_the_page(element, page_paragraphs)
    if tag in DROPPED_TAGS:
        return True
    if tag in FURNITURE_TAGS and not inside_content:
        return True
    if element.get("hidden") is not None:
        return True
    if tag in CONTENT_CONTAINERS or tag in ("html", "body"):
        return False
    style = element.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    class_, id_ = element.get("class"), element.get("id")
    if class_ is None and id_ is None:
        return False
    names = _name_kinds(class_, id_)
    if names is None:
        return False
    clutter, layout, content = names
    if clutter:
        return not _holds_the_page(element, page_paragraphs, ARTICLE_SHARE if content else WRAPPER_SHARE)
    if not layout or content:
        return False
    return count_descendants(element, "p") < MIN_PARAGRAPHS_OF_A_WRAPPER


@functools.lru_cache(maxsize=65536)
def _name_kinds(class_: str | None, id_: str | None) -> tuple[bool, bool, bool] | None:
    """(names clutter, names layout, names content) for a class and id; None when both are empty.
    Cached: a page repeats the same few class names on most of its elements."""
    names = _CAMEL_HUMP.sub(r"\1 \2", f"{class_ or ''} {id_ or ''}").lower()
    if not names.strip():
        return None
    words = set(_WORD_SPLIT.split(names))
    return (
        not words.isdisjoint(CLUTTER_WORDS),
        not words.isdisjoint(LAYOUT_WORDS),
        not words.isdisjoint(CONTENT_WORDS),
    )


class PageBoilerplate:
    """`is_boilerplate` for the elements of one page, each decided once: the article search and the
    walk that follows it ask about the same elements. Only furniture depends on where it stands."""

    def __init__(self, root: etree._Element) -> None:
        self.page_paragraphs = count_descendants(root, "p")
        self._verdicts: dict[etree._Element, bool] = {}

    def __call__(self, element: etree._Element, inside_content: bool) -> bool:
        if not inside_content and element.tag in FURNITURE_TAGS:
            return True
        verdict = self._verdicts.get(element)
        if verdict is None:
            verdict = self._verdicts[element] = is_boilerplate(element, True, self.page_paragraphs)
        return verdict


def _holds_the_page(element: etree._Element, page_paragraphs: int, share: float = WRAPPER_SHARE) -> bool:
    paragraphs = count_descendants(element, "p")
    return paragraphs >= MIN_PARAGRAPHS_OF_A_WRAPPER and paragraphs >= share * page_paragraphs
