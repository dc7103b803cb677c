"""A direct media URL (its path ends in a video file extension) -> its bytes, fetched by the
project's own guarded fetcher: the address rules, robots.txt, per-host politeness, the byte cap and
the deadline of every other fetch, without yt-dlp's process (0.2 s of CPU for a bare file of the
shared clips, where this costs 6 ms). Pages and players need a site extractor and stay with yt-dlp
(`download`); so do URLs without such an extension, whatever they serve."""

from __future__ import annotations

import functools
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from pipelines.fetch.http_client import FetchConfig, PoliteFetcher

MEDIA_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".webm", ".mov", ".mkv", ".avi", ".ogv", ".mpg", ".mpeg", ".3gp", ".flv", ".wmv"}
)
# Content types that say the answer is a page or a document, not a video: a login wall, an error page
NOT_VIDEO_TYPES = ("text/", "application/json", "application/xml", "application/xhtml", "image/")

# fetch statuses -> the reasons the yt-dlp path gives for the same failures
_REASONS = {"dns_error": "unresolvable_host", "http_5xx": "server_error"}
_HTTP_REASONS = {401: "forbidden", 403: "forbidden", 404: "not_found", 410: "not_found", 429: "rate_limited"}


class DirectFetchFailed(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def is_direct_media_url(url: str) -> bool:
    return PurePosixPath(urlsplit(url).path).suffix.lower() in MEDIA_EXTENSIONS


@functools.cache
def shared_fetcher(config: FetchConfig) -> PoliteFetcher:
    """One per worker process and configuration, shared by its download threads (it is thread-safe)."""
    return PoliteFetcher(config)


def fetch_media(url: str, config: FetchConfig) -> bytes:
    """The body of `url`; raises DirectFetchFailed with the reason it is not a video to decode."""
    result = shared_fetcher(config).fetch(url)
    if not result.ok:
        raise DirectFetchFailed(video_reason(result.status, result.http_status), result.error)
    content_type = result.headers.get("content-type", "").lower()
    if content_type.startswith(NOT_VIDEO_TYPES):
        raise DirectFetchFailed("not_a_video", f"{url}: the answer is {content_type.split(';')[0]}, not a video")
    return result.body


def video_reason(status: str, http_status: int | None = None) -> str:
    """A fetch status (and HTTP status) -> the reason the yt-dlp path gives for the same failure."""
    if http_status in _HTTP_REASONS:
        return _HTTP_REASONS[http_status]
    return _REASONS.get(status, status)
