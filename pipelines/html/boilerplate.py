"""Which parts of a page are not content: scripts and styles, navigation, ads, hidden elements."""

from __future__ import annotations

import re

from lxml.html import HtmlElement

# Elements whose whole subtree never holds article content.
DROPPED_TAGS = frozenset(
    {
        "script", "style", "template", "svg", "math", "canvas", "iframe", "object", "embed", "form",
        "button", "input", "select", "textarea", "nav", "menu", "aside", "dialog", "title", "link", "meta",
    }
)  # fmt: skip
# Page furniture: dropped unless it sits inside the article itself (articles have headers too).
FURNITURE_TAGS = frozenset({"header", "footer"})
CONTENT_CONTAINERS = frozenset({"article", "main"})
# class/id words that mark clutter; matched as whole words after splitting on - and _.
BOILERPLATE_WORDS = frozenset(
    {
        "ad", "ads", "advert", "advertisement", "adsbygoogle", "banner", "cookie", "cookies", "consent",
        "share", "sharing", "social", "comment", "comments", "related", "newsletter", "promo", "sponsored",
        "sidebar", "breadcrumb", "breadcrumbs", "menu", "navbar", "nav", "navigation", "footer", "subscribe",
        "popup", "modal", "outbrain", "taboola", "skiplink", "paywall", "signup", "login",
    }
)  # fmt: skip
# ...unless the same names also say it holds the article ("l-sidebar l-article-body").
CONTENT_WORDS = frozenset({"article", "body", "content", "main", "post", "story", "entry", "text"})
# A class/id match on an element holding this many paragraphs is a page wrapper with an odd name.
MIN_PARAGRAPHS_OF_A_WRAPPER = 3
_WORD_SPLIT = re.compile(r"[\s_\-]+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def is_boilerplate(element: HtmlElement, inside_content: bool) -> bool:
    tag = element.tag
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
    names = f"{element.get('class', '')} {element.get('id', '')}".lower()
    if not names.strip():
        return False
    words = set(_WORD_SPLIT.split(names))
    if words.isdisjoint(BOILERPLATE_WORDS) or not words.isdisjoint(CONTENT_WORDS):
        return False
    return len(element.findall(".//p")) < MIN_PARAGRAPHS_OF_A_WRAPPER
