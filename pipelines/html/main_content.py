"""Where a page's main content is: the container of its article, found as Readability finds it.

Every paragraph-like block with some text gives its parent a score (one point, one per comma, one
per 100 characters up to three) and its grandparent half of that; a container's class and id add or
take away (`article-body` up, `related-posts` down); the score is then scaled by the share of the
container's text that is not link text. The best container (or an ancestor scoring higher on the
way up, as in a table layout) is the article, together with those of its siblings that score close
to it or are plain prose. The extraction keeps images only inside it, and outside it only text that
reads as prose (long, few links), since M3W documents are pages, not only articles.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from lxml import etree

from pipelines.html.boilerplate import CONTENT_CONTAINERS, FURNITURE_TAGS, PageBoilerplate
from pipelines.html.images import declared_size
from pipelines.html.page_index import PARAGRAPH_TAGS, PageIndex, has_descendant

MIN_PARAGRAPH_CHARS = 25
SIBLING_SHARE = 0.2  # a sibling scoring this share of the best container is part of the article
IMAGE_SCORE = 3
MIN_IMAGE_SIDE = 64  # declared smaller: an icon or avatar, no content
TOP_CANDIDATES = 5
RANKED = 30  # containers by raw score whose link density is measured up front
MIN_RIVALS = 3
MIN_ARTICLE_CHARS = 500  # Readability's threshold too
_SCORED_TAGS = frozenset({*PARAGRAPH_TAGS, "div", "img"})
MIN_HEADLINE_WORDS = 3
_LIST_ITEM_TAGS = frozenset({"p", "li", "dd", "dt", "div", "td", "h2", "h3", "h4", "h5", "h6"})
_IMAGE_FILE = re.compile(r"\.(jpe?g|png|gif|webp|avif|bmp|tiff?)(\?|#|$)")
POSITIVE = re.compile(r"article|body|content|entry|hentry|h-entry|main|page|post|text|blog|story|prose", re.I)
NEGATIVE = re.compile(
    r"-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|foot|footer|footnote|gdpr|masthead|"
    r"media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|tool|"
    r"widget|teaser|recommend|more-from|trending|popular|newsletter|subscribe|byline|author-bio|nav|menu",
    re.I,
)
_TAG_WEIGHT = {"div": 5, "article": 10, "main": 5, "section": 3, "pre": 3, "td": 3, "blockquote": 3,
               "address": -3, "ol": -3, "ul": -3, "dl": -3, "dd": -3, "dt": -3, "li": -3, "form": -3,
               "h1": -5, "h2": -5, "h3": -5, "h4": -5, "h5": -5, "h6": -5, "th": -5}  # fmt: skip


def main_content(root: etree._Element, boilerplate: PageBoilerplate, index: PageIndex) -> set[etree._Element]:
    """The article's containers (empty when the page has no paragraph to speak of); boilerplate
    (`is_boilerplate`) is never a candidate, as Readability first removes unlikely candidates."""
    scores: dict[etree._Element, float] = {}
    for block in _scored_blocks(root, boilerplate):
        if block.tag == "img":
            if _small(block):
                continue
            score = IMAGE_SCORE  # a photo story's pictures are its content as much as its text
        elif block.tag == "div" and index.has_block_children(block):
            continue
        else:
            text = index.text(block)
            if len(text.strip()) < MIN_PARAGRAPH_CHARS:
                continue
            score = 1 + text.count(",") + text.count("，") + min(len(text) // 100, 3)
        for level, ancestor in enumerate(_ancestors(block, 3)):
            if ancestor not in scores:
                scores[ancestor] = _initial_score(ancestor)
            scores[ancestor] += score / (1 if level == 0 else 2 if level == 1 else level * 3)
    if not scores:
        return set()
    # Link density costs a walk of the container: measured for the likely winners, then as asked.
    final = {e: scores[e] * (1 - index.link_density(e)) for e in sorted(scores, key=scores.get, reverse=True)[:RANKED]}

    def final_score(element: etree._Element) -> float:
        if element not in final and element in scores:
            final[element] = scores[element] * (1 - index.link_density(element))
        return final.get(element, 0.0)

    best = _common_ancestor_of_close_rivals(max(final, key=final.get), final)
    best = _only_child_to_parent(_rising_ancestor(best, scores, final_score))
    threshold = max(10.0, final_score(best) * SIBLING_SHARE)
    parent = best.getparent()
    chosen = {best}
    for sibling in parent if parent is not None else ():
        if sibling is best or not isinstance(sibling.tag, str):
            continue
        if final_score(sibling) >= threshold or (sibling.tag == "p" and is_prose(sibling, index)):
            chosen.add(sibling)
        elif sibling.tag in ("figure", "header"):  # the lead picture, in or beside the article's header
            chosen.update(figure for figure in sibling.iter("figure") if not _small_figure(figure))
    if sum(len(index.text(container)) for container in chosen) < MIN_ARTICLE_CHARS:
        return set()  # too little to call an article: the page is kept whole
    return chosen


def _scored_blocks(root: etree._Element, boilerplate: PageBoilerplate):
    walker = etree.iterwalk(root, events=("start",))
    for _, element in walker:
        tag = element.tag
        # Furniture inside article/main is content: only then is an ancestor looked for.
        inside_content = tag in FURNITURE_TAGS and next(element.iterancestors(*CONTENT_CONTAINERS), None) is not None
        if boilerplate(element, inside_content):
            walker.skip_subtree()
        elif tag in _SCORED_TAGS:
            yield element


def _common_ancestor_of_close_rivals(best: etree._Element, final: dict[etree._Element, float]) -> etree._Element:
    """When the article is split over several containers that score alike (a list per section), the
    article is the ancestor that holds at least three of them, as Readability decides."""
    rivals = [e for e in sorted(final, key=final.get, reverse=True)[1:TOP_CANDIDATES] if final[e] >= 0.75 * final[best]]
    if len(rivals) < MIN_RIVALS:
        return best
    rival_ancestors = [set(rival.iterancestors()) for rival in rivals]
    for ancestor in best.iterancestors():
        if ancestor.tag in ("body", "html"):
            break
        if sum(ancestor in ancestors for ancestors in rival_ancestors) >= MIN_RIVALS:
            return ancestor
    return best


def _rising_ancestor(
    best: etree._Element, scores: dict[etree._Element, float], final_score: Callable[[etree._Element], float]
) -> etree._Element:
    """An ancestor that scores higher than the one below it, before the scores fall under a third of
    the best's: more of the article lies in its other branches (a table layout's other cells), so it
    is the article, as Readability decides."""
    last = final_score(best)
    floor = last / 3
    for ancestor in best.iterancestors():
        if ancestor.tag in ("body", "html"):
            break
        if ancestor not in scores:
            continue
        score = final_score(ancestor)
        if score < floor:
            break
        if score > last:
            return ancestor
        last = score
    return best


def _only_child_to_parent(best: etree._Element) -> etree._Element:
    """A container that is its parent's only element is the parent's content: go up (as Readability
    does), so that the article's other sections become siblings."""
    parent = best.getparent()
    while parent is not None and parent.tag not in ("body", "html") and len(_element_children(parent)) == 1:
        best, parent = parent, parent.getparent()
    return best


def _element_children(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str)]


def _small_figure(figure: etree._Element) -> bool:
    images = figure.findall(".//img")
    return not images or all(_small(img) for img in images)


def _small(img: etree._Element) -> bool:
    sizes = [declared_size(img, name) for name in ("width", "height")]
    return any(size is not None and size < MIN_IMAGE_SIDE for size in sizes)


def is_prose(element: etree._Element, index: PageIndex, min_words: int = 50, max_link_density: float = 0.1) -> bool:
    """Real text rather than furniture: enough words, few of them in links, ending like a sentence."""
    text = index.text(element).strip()
    if (
        len(text.split()) < min_words
        or text[-1:] not in ".!?\"'”)…。"
        or next(element.iterancestors("a"), None) is not None
    ):
        return False
    return index.link_density(element) <= max_link_density


def is_link_list_item(
    element: etree._Element, index: PageIndex, max_chars: int = 160, min_link_density: float = 0.6
) -> bool:
    """A short block that is mostly a link: an item of a list of other pages, inside an article too.
    Short is counted in characters, so that it means the same in languages written without spaces."""
    if element.tag not in _LIST_ITEM_TAGS or not has_descendant(element, "a") or has_descendant(element, "img"):
        return False  # no link: not a link; a picture: see is_teaser
    return len(index.text(element).strip()) < max_chars and index.link_density(element) >= min_link_density


def is_teaser(link: etree._Element, index: PageIndex, max_words: int = 20) -> bool:
    """A picture that links to another page with a short headline: a teaser card, not the article's own
    figure (a link to the picture's larger version, or a picture-only link to its file page, is kept)."""
    href = (link.get("href") or "").strip().lower()
    if not href or href.startswith(("#", "javascript:")) or _IMAGE_FILE.search(href):
        return False
    return has_descendant(link, "img") and MIN_HEADLINE_WORDS <= len(index.text(link).split()) <= max_words


def class_weight(element: etree._Element) -> int:
    return _names_weight(element.get("class"), element.get("id"))


@functools.lru_cache(maxsize=8192)
def _names_weight(*names: str | None) -> int:
    return sum(25 * (bool(POSITIVE.search(name)) - bool(NEGATIVE.search(name))) for name in names if name)


def _initial_score(element: etree._Element) -> float:
    return _TAG_WEIGHT.get(element.tag, 0) + class_weight(element)


def _ancestors(element: etree._Element, levels: int):
    for level, ancestor in enumerate(element.iterancestors()):
        if level >= levels or ancestor.tag in ("body", "html"):
            return
        yield ancestor
