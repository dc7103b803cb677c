"""Facts about one parsed page's elements that several steps ask for, each worked out once per page.

The article search and the walk that follows it ask the same questions of the same elements (is it a
paragraph, what is its text, how much of it is link text); lxml answers each in C, but only one
element at a time, so the answers are kept. The tree must not change while an index is in use.
"""

from __future__ import annotations

from lxml import etree

PARAGRAPH_TAGS = ("p", "pre", "td", "blockquote")  # list items are not scored: link lists would win
# A child with one of these tags makes its parent a container rather than a paragraph.
BLOCK_CHILD_TAGS = frozenset(
    {
        "div", "p", "table", "ul", "ol", "dl", "section", "article", "main", "pre", "blockquote", "figure",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "footer", "aside", "nav", "form",
    }
)  # fmt: skip
LEAF_BLOCK_TAGS = frozenset({*PARAGRAPH_TAGS, "div", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "span", "a"})
_LINK_TEXT = etree.XPath("descendant-or-self::a//text()", smart_strings=False)
# An element's text, as lxml.html's `text_content()` gives it, for any lxml element.
text_of = etree.XPath("string()", smart_strings=False)


def count_descendants(element: etree._Element, tag: str) -> int:
    return sum(1 for _ in element.iterdescendants(tag))


def has_descendant(element: etree._Element, tag: str) -> bool:
    return next(element.iterdescendants(tag), None) is not None


class PageIndex:
    def __init__(self, root: etree._Element) -> None:
        # One pass over the page's blocks, rather than a look at the children of every element asked about.
        self._block_parents = {block.getparent() for block in root.iter(*BLOCK_CHILD_TAGS)}
        self._texts: dict[etree._Element, str] = {}

    def has_block_children(self, element: etree._Element) -> bool:
        return element in self._block_parents

    def is_leaf_block(self, element: etree._Element) -> bool:
        """A block whose children are all inline: a paragraph, however it is marked up."""
        return element.tag in LEAF_BLOCK_TAGS and element not in self._block_parents

    def text(self, element: etree._Element) -> str:
        """The element's text (`text_of`), once per element."""
        text = self._texts.get(element)
        if text is None:
            text = self._texts[element] = text_of(element)
        return text

    def link_density(self, element: etree._Element) -> float:
        """The share of the element's text that is link text (one XPath query for all its links)."""
        text = len(self.text(element))
        if not text:
            return 0.0
        return min(1.0, sum(map(len, _LINK_TEXT(element))) / text)
