"""Fetching from a mirror: `https://example.org/a/b.jpg?x=1` is asked of `MIRROR/example.org/a/b.jpg?x=1`,
the layout `wget --force-directories` writes (host, then path). Records keep the original URL; only
the request goes to the mirror, which is where address rules, robots.txt and politeness then apply.
A page's URL after the fetch (which its relative links resolve against) is the original's too."""

from __future__ import annotations

from urllib.parse import urlsplit


def mirror_url(url: str, mirror: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]  # never forward credentials
    query = f"?{parts.query}" if parts.query else ""
    return f"{mirror.rstrip('/')}/{host}{parts.path or '/'}{query}"


def original_url(mirrored: str, mirror: str, requested: str) -> str:
    """The URL that `mirrored` (a URL on the mirror, after any redirects there) stands for, with the
    scheme of the URL first requested; a URL off the mirror is itself."""
    prefix = mirror.rstrip("/") + "/"
    if not mirrored.startswith(prefix):
        return mirrored
    return f"{urlsplit(requested).scheme}://{mirrored.removeprefix(prefix)}"
