"""A web page -> the videos it carries, each with the text that describes it (the VTP candidates).

Videos come from `<video>` (its `src` or its best `<source>`), from the embedded players of YouTube,
Vimeo and Dailymotion (rewritten to the watch page yt-dlp downloads), and from `og:video` metadata.
Each gets the most specific text the page offers: its figure caption, its own title, then the
page's description and title.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

from lxml.html import HtmlElement

from pipelines.html.decode import decode_html
from pipelines.html.extract import HtmlParseError, _clean, _figure_caption, parse_html
from pipelines.readers.page import RawPage

TEXT_SOURCES: tuple[str, ...] = (
    "figcaption",
    "title_attribute",
    "og_description",
    "meta_description",
    "og_title",
    "page_title",
    "list",  # the text column of a URL list
)
PREFERRED_SOURCE_TYPES = frozenset({"video/mp4", "video/webm"})
# Lazy-loading scripts keep the real address in data-src until the player scrolls into view.
URL_ATTRIBUTES = ("src", "data-src")
VIDEO_META_KEYS = frozenset({"og:video", "og:video:url", "og:video:secure_url", "twitter:player:stream"})
# Titles that name the player, not the video (YouTube's embed code sets "YouTube video player"); "" too.
_PLAYER_NAME = re.compile(r"((youtube|vimeo|dailymotion)\s*)?(video\s*)?(player|embed)?", re.IGNORECASE)
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_VIMEO_ID = re.compile(r"\d+")
_DAILYMOTION_ID = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class VideoCandidate:
    url: str  # absolute http(s) URL that yt-dlp can download (a direct file or a watch page)
    text: str  # whitespace-normalised, special tokens neutralised; "" when the page has none
    text_source: str  # one of TEXT_SOURCES; "" when text is ""
    page_url: str = ""


def page_videos(page: RawPage) -> Iterator[VideoCandidate]:
    """The page's videos in document order, each URL once with the best text any of its elements has;
    nothing for a page that cannot be parsed."""
    try:
        root = parse_html(decode_html(page.body, page.content_type).text)
    except HtmlParseError:
        return
    found = list(_videos(root, _base_url(root, page.url)))
    if not found:
        return
    page_texts = _page_texts(root)
    best: dict[str, VideoCandidate] = {}
    for url, element in found:
        own_texts = [] if element.tag == "meta" else _element_texts(element)
        text, source = next(((text, source) for source, text in own_texts + page_texts if text), ("", ""))
        candidate = VideoCandidate(url=url, text=text, text_source=source, page_url=page.url)
        if url not in best or _rank(candidate) < _rank(best[url]):
            best[url] = candidate
    yield from best.values()


def _rank(candidate: VideoCandidate) -> int:
    return TEXT_SOURCES.index(candidate.text_source) if candidate.text else len(TEXT_SOURCES)


def _base_url(root: HtmlElement, page_url: str) -> str:
    # not extract.py's: that one raises on a <base href> urljoin cannot parse and obeys a javascript: one
    base = root.find(".//base[@href]")
    return (_http_url(page_url, base.get("href")) if base is not None else None) or page_url


def _videos(root: HtmlElement, base_url: str) -> Iterator[tuple[str, HtmlElement]]:
    for element in root.iter("video", "iframe", "meta"):
        url = _video_url(element, base_url)
        if url is not None:
            yield url, element


def _video_url(element: HtmlElement, base_url: str) -> str | None:
    if element.tag == "video":
        return _video_element_url(element, base_url)
    if element.tag == "iframe":
        return next(filter(None, (watch_url(url) for url in _attribute_urls(element, base_url))), None)
    key = (element.get("property") or element.get("name") or "").strip().lower()
    if key not in VIDEO_META_KEYS:
        return None
    url = _http_url(base_url, element.get("content"))
    return url and (watch_url(url) or url)


def _video_element_url(video: HtmlElement, base_url: str) -> str | None:
    own = next(_attribute_urls(video, base_url), None)
    if own:
        return own
    # libxml2 does not know <source> is void and nests each one in the one before: search all descendants.
    sources = [(source, url) for source in video.iter("source") for url in _attribute_urls(source, base_url)]
    preferred = [url for source, url in sources if _media_type(source) in PREFERRED_SOURCE_TYPES]
    return next(iter(preferred or [url for _, url in sources]), None)


def _attribute_urls(element: HtmlElement, base_url: str) -> Iterator[str]:
    return filter(None, (_http_url(base_url, element.get(name)) for name in URL_ATTRIBUTES))


def _media_type(source: HtmlElement) -> str:
    return (source.get("type") or "").split(";")[0].strip().lower()


def _http_url(base_url: str, raw: str | None) -> str | None:
    """`raw` resolved against the base, if it is an http(s) URL; blob:, data:, javascript: and junk are None."""
    if not raw or not raw.strip():
        return None
    try:
        url = urljoin(base_url, raw.strip())
        if url.startswith("//"):  # a protocol-relative URL on a page whose own URL is unknown
            url = "https:" + url
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def watch_url(url: str) -> str | None:
    """The watch page of a YouTube, Vimeo or Dailymotion embedded-player URL; None for any other URL."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").removeprefix("www.").removeprefix("m.")
    except ValueError:
        return None
    path = [piece for piece in parts.path.split("/") if piece]
    if host in ("youtube.com", "youtube-nocookie.com") and len(path) == 2 and path[0] in ("embed", "v"):
        return _youtube(path[1])
    if host == "youtu.be" and len(path) == 1:
        return _youtube(path[0])
    if host == "player.vimeo.com" and len(path) == 2 and path[0] == "video" and _VIMEO_ID.fullmatch(path[1]):
        # an unlisted video plays only with its hash (h=...), which its watch URL carries as a path piece
        unlisted_hash = parse_qs(parts.query).get("h", [""])[0]
        return f"https://vimeo.com/{path[1]}" + (f"/{unlisted_hash}" if unlisted_hash.isalnum() else "")
    if host == "dailymotion.com" and path[:2] == ["embed", "video"] and len(path) == 3:
        return f"https://www.dailymotion.com/video/{path[2]}" if _DAILYMOTION_ID.fullmatch(path[2]) else None
    return None


def _youtube(video_id: str) -> str | None:
    # the playlist player's path piece, "videoseries", happens to have the length and alphabet of an id
    is_video = _YOUTUBE_ID.fullmatch(video_id) and video_id != "videoseries"
    return f"https://www.youtube.com/watch?v={video_id}" if is_video else None


def _element_texts(element: HtmlElement) -> list[tuple[str, str]]:
    titles = (_clean(element.get(name) or "") for name in ("title", "aria-label"))
    return [
        ("figcaption", _figure_caption(element)),
        ("title_attribute", next((title for title in titles if not _PLAYER_NAME.fullmatch(title)), "")),
    ]


def _page_texts(root: HtmlElement) -> list[tuple[str, str]]:
    """The page-level texts, best first."""
    metas: dict[str, str] = {}
    for meta in root.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        content = _clean(meta.get("content") or "")
        if content:
            metas.setdefault(key, content)
    # <title> inside inline SVG names an icon, not the page
    titles = root.xpath("//title[not(ancestor::svg)]")
    return [
        ("og_description", metas.get("og:description", "")),
        ("meta_description", metas.get("description", "")),
        ("og_title", metas.get("og:title", "")),
        ("page_title", _clean(titles[0].text_content()) if titles else ""),
    ]
