"""One video URL -> a local file, the temporary folder removed on every path.

A direct media URL (`.mp4`, `.webm`, ...: see `direct`) is fetched by the project's own guarded
fetcher. Anything else (pages with `<video src>`, watch pages of the sites yt-dlp knows) goes to
yt-dlp in a child process: the smallest format that still gives frames of the target size, caps on
bytes, duration and memory, a deadline, bounded retries, no playlists, the same address rules as
every other fetch, and robots.txt for the URL it is handed (yt-dlp reads none itself). A site that
blocks bots answers with an HTTP error or a sign-in wall: that is a counted reason, not a retry loop
or a hang.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from dedup.video_frames import ffmpeg_executable
from pipelines.fetch.address_guard import AddressPolicy, BadUrl, BlockedAddress, UnresolvableHost, check_url
from pipelines.fetch.guarded_proxy import GuardedProxy
from pipelines.fetch.http_client import USER_AGENT, FetchConfig
from pipelines.video.direct import DirectFetchFailed, fetch_media, is_direct_media_url, shared_fetcher, video_reason
from pipelines.video.ytdlp_zygote import DeadlineExceeded, Zygote

_ZYGOTE = Zygote()  # one per worker process, shared by its download threads


@dataclass(frozen=True)
class DownloadConfig:
    max_bytes: int = 200_000_000
    max_duration_s: float = 900.0  # longer videos are refused before any byte of them is fetched
    deadline_s: float = 180.0  # for the whole download
    socket_timeout_s: float = 20.0
    retries: int = 2
    max_height: int = 360  # frames are resized to 320 px: a larger format only costs bytes
    addresses: AddressPolicy = field(default_factory=AddressPolicy)
    user_agent: str = USER_AGENT
    max_memory_bytes: int = 1 << 30  # yt-dlp's address space, extraction included
    per_host_delay: float = 1.0  # direct fetches: seconds between two requests to one host
    respect_robots: bool = True  # direct fetches, and the URL handed to yt-dlp

    def direct_fetch(self) -> FetchConfig:
        """The guarded fetcher's settings for a direct media URL: this download's caps and deadline."""
        return FetchConfig(
            user_agent=self.user_agent,
            connect_timeout=self.socket_timeout_s,
            read_timeout=self.socket_timeout_s,
            deadline=self.deadline_s,
            max_retries=self.retries,
            max_bytes=self.max_bytes,
            per_host_delay=self.per_host_delay,
            respect_robots=self.respect_robots,
            addresses=self.addresses,
        )


@dataclass(frozen=True)
class DownloadedVideo:
    path: str
    title: str
    description: str
    duration_s: float | None  # as the site declares it; None for bare files
    extractor: str  # "direct" for a direct media URL
    cpu_s: float  # of yt-dlp's process and its children; 0 for a direct media URL


class VideoRejected(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# yt-dlp's message for an HTTP status or a bot wall -> our reason (first match wins)
_ERROR_REASONS: tuple[tuple[str, str], ...] = (
    ("File too large", "too_large"),  # EFBIG: the child's file size cap
    ("MemoryError", "too_large"),  # the child's address space cap
    ("HTTP Error 403", "forbidden"),
    ("HTTP Error 401", "forbidden"),
    ("HTTP Error 404", "not_found"),
    ("HTTP Error 410", "not_found"),
    ("HTTP Error 429", "rate_limited"),
    ("Sign in to confirm", "bot_check"),
    ("confirm you're not a bot", "bot_check"),
    ("Unsupported URL", "unsupported_url"),
    ("Private video", "unavailable"),
    ("Video unavailable", "unavailable"),
    ("timed out", "timeout"),
    ("HTTP Error 5", "server_error"),
)


@contextmanager
def download_video(url: str, config: DownloadConfig) -> Iterator[DownloadedVideo]:
    """Download `url` into a temporary folder that exists only inside the `with` block.

    A direct media URL is fetched in this process (`direct`). For anything else yt-dlp runs in a
    child process under hard limits (see `ytdlp_child`), killed at the deadline. It follows
    redirects itself, so all its traffic goes through a GuardedProxy that applies the address rules
    to every connection, redirected ones included, and holds the download to `max_bytes` read from
    the network in all, extraction pages included.
    """
    _check_address(url, config.addresses)
    if is_direct_media_url(url):
        with _direct_download(url, config) as video:
            yield video
        return
    _check_robots(url, config)
    with (
        tempfile.TemporaryDirectory(prefix="curate-video-") as folder,
        GuardedProxy(config.addresses, config.socket_timeout_s, max_bytes=config.max_bytes) as proxy,
    ):
        answer = _run_child(url, config, {**_options(folder, config), "proxy": proxy.url})
        if "rejected" in answer:
            raise VideoRejected(*answer["rejected"])
        if "error" in answer:
            raise _rejection(url, answer["error"], proxy, config)
        if proxy.over_budget:  # an answer without a declared length looks complete where the proxy cut it
            raise VideoRejected("too_large", f"{url}: over {config.max_bytes} bytes read from the network")
        yield DownloadedVideo(**answer["video"])


@contextmanager
def _direct_download(url: str, config: DownloadConfig) -> Iterator[DownloadedVideo]:
    try:
        body = fetch_media(url, config.direct_fetch())
    except DirectFetchFailed as failed:
        raise VideoRejected(failed.reason, failed.detail) from None
    name = PurePosixPath(unquote(urlsplit(url).path))
    with tempfile.TemporaryDirectory(prefix="curate-video-") as folder:
        path = f"{folder}/video{name.suffix.lower()}"
        with open(path, "wb") as file:
            file.write(body)
        del body
        # the file's name is its title, as yt-dlp's generic extractor gives it
        yield DownloadedVideo(path, name.stem, description="", duration_s=None, extractor="direct", cpu_s=0.0)


def _options(folder: str, config: DownloadConfig) -> dict[str, Any]:
    return {
        "outtmpl": f"{folder}/video.%(ext)s",
        # one stream is enough (frames only, no audio): the smallest at or under max_height, else the smallest
        "format": f"bv*[height<={config.max_height}]/b[height<={config.max_height}]/wv*/w",
        "format_sort": [f"res:{config.max_height}", "+size", "+br"],
        "max_filesize": config.max_bytes,
        "noplaylist": True,
        "socket_timeout": config.socket_timeout_s,
        "retries": config.retries,
        "fragment_retries": config.retries,
        "extractor_retries": config.retries,
        "http_headers": {"User-Agent": config.user_agent},
        "ffmpeg_location": ffmpeg_executable(),
        "cachedir": False,
        "noprogress": True,
        "quiet": True,
        "no_warnings": True,
    }


def _run_child(url: str, config: DownloadConfig, options: dict[str, Any]) -> dict[str, Any]:
    request = {
        "url": url,
        "options": options,
        "max_bytes": config.max_bytes,
        "max_duration_s": config.max_duration_s,
        "max_memory_bytes": config.max_memory_bytes,
        "deadline_s": config.deadline_s,
    }
    try:
        return _ZYGOTE.run(request, timeout=config.deadline_s)
    except DeadlineExceeded:
        raise VideoRejected("timeout", f"{url}: deadline exceeded ({config.deadline_s:g} s)") from None


def _rejection(url: str, message: str, proxy: GuardedProxy, config: DownloadConfig) -> VideoRejected:
    if proxy.refusals:
        return VideoRejected("blocked_address", f"{url}: {proxy.refusals[0]}")
    if proxy.over_budget:
        return VideoRejected("too_large", f"{url}: over {config.max_bytes} bytes read from the network")
    reason = next((reason for needle, reason in _ERROR_REASONS if needle in message), "download_error")
    return VideoRejected(reason, f"{url}: {message.removeprefix('ERROR: ')[:300]}")


def _check_robots(url: str, config: DownloadConfig) -> None:
    """The robots.txt of the URL handed to yt-dlp, which reads none itself, from the direct path's cache."""
    verdict = shared_fetcher(config.direct_fetch()).robots_verdict(url)
    if not verdict.allowed:
        raise VideoRejected(video_reason(verdict.reason), f"{url}: {verdict.detail}")


def _check_address(url: str, policy: AddressPolicy) -> None:
    try:
        check_url(url, policy)
    except BlockedAddress as error:
        raise VideoRejected("blocked_address", str(error)) from None
    except UnresolvableHost as error:
        raise VideoRejected("unresolvable_host", str(error)) from None
    except BadUrl as error:
        raise VideoRejected("bad_url", str(error)) from None
