"""One video URL -> a local file, with yt-dlp's Python API: the smallest format that still gives
frames of the target size, size and duration caps, a deadline, bounded retries, no playlists, the
same address rules as every other fetch, and the temporary folder removed on every path.

Direct file URLs and pages with `<video src>` go through yt-dlp's generic extractor; watch pages of
the sites it knows (YouTube, Vimeo, ...) through theirs. A site that blocks bots answers with an
HTTP error or a sign-in wall: that is a counted reason, not a retry loop or a hang.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import yt_dlp
from yt_dlp.utils import DownloadError

from dedup.video_frames import ffmpeg_executable
from pipelines.fetch.address_guard import AddressPolicy, BadUrl, BlockedAddress, UnresolvableHost, check_url
from pipelines.fetch.guarded_proxy import GuardedProxy
from pipelines.fetch.http_client import USER_AGENT


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


@dataclass(frozen=True)
class DownloadedVideo:
    path: str
    title: str
    description: str
    duration_s: float | None  # as the site declares it; None for bare files
    extractor: str


class VideoRejected(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# yt-dlp's message for an HTTP status or a bot wall -> our reason (first match wins)
_ERROR_REASONS: tuple[tuple[str, str], ...] = (
    ("deadline exceeded", "timeout"),
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

    yt-dlp follows redirects itself, so all its traffic goes through a GuardedProxy that applies
    the address rules to every connection, redirected ones included.
    """
    _check_address(url, config.addresses)
    with (
        tempfile.TemporaryDirectory(prefix="curate-video-") as folder,
        GuardedProxy(config.addresses, config.socket_timeout_s) as proxy,
    ):
        deadline = time.monotonic() + config.deadline_s
        with yt_dlp.YoutubeDL({**_options(folder, config, deadline), "proxy": proxy.url}) as ydl:
            info = _run(url, lambda: ydl.extract_info(url, download=False), proxy)
            _check_info(url, info, config)
            done = _run(url, lambda: ydl.process_ie_result(info, download=True), proxy)
        downloads = done.get("requested_downloads") or []
        path = downloads[0].get("filepath") if downloads else None
        if not path:
            # yt-dlp skips, without an error, a file that turns out larger than max_filesize
            raise VideoRejected("too_large", f"{url}: over {config.max_bytes} bytes once downloading")
        yield DownloadedVideo(
            path=path,
            title=str(info.get("title") or ""),
            description=str(info.get("description") or ""),
            duration_s=_number(info.get("duration")),
            extractor=str(info.get("extractor") or ""),
        )


def _options(folder: str, config: DownloadConfig, deadline: float) -> dict[str, Any]:
    def enforce_deadline(progress: dict[str, Any]) -> None:
        if time.monotonic() > deadline:
            raise DownloadError(f"deadline exceeded ({config.deadline_s:g} s)")

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
        "progress_hooks": [enforce_deadline],
        "ffmpeg_location": ffmpeg_executable(),
        "cachedir": False,
        "noprogress": True,
        "quiet": True,
        "no_warnings": True,
        "logger": _SilentLogger(),
    }


def _run(url: str, step, proxy: GuardedProxy):
    try:
        return step()
    except DownloadError as error:
        if proxy.refusals:
            raise VideoRejected("blocked_address", f"{url}: {proxy.refusals[0]}") from None
        message = str(error)
        reason = next((reason for needle, reason in _ERROR_REASONS if needle in message), "download_error")
        raise VideoRejected(reason, f"{url}: {message.removeprefix('ERROR: ')[:300]}") from None


def _check_info(url: str, info: dict[str, Any], config: DownloadConfig) -> None:
    if info.get("_type") in ("playlist", "multi_video"):
        raise VideoRejected("playlist", f"{url}: is a playlist, not one video")
    if info.get("is_live"):
        raise VideoRejected("live_stream", f"{url}: is a live stream")
    duration = _number(info.get("duration"))
    if duration is not None and duration > config.max_duration_s:
        raise VideoRejected("too_long", f"{url}: {duration:g} s, over {config.max_duration_s:g} s")
    size = _number(info.get("filesize") or info.get("filesize_approx"))
    if size is not None and size > config.max_bytes:
        raise VideoRejected("too_large", f"{url}: {size:g} bytes, over {config.max_bytes}")


def _check_address(url: str, policy: AddressPolicy) -> None:
    try:
        check_url(url, policy)
    except BlockedAddress as error:
        raise VideoRejected("blocked_address", str(error)) from None
    except UnresolvableHost as error:
        raise VideoRejected("unresolvable_host", str(error)) from None
    except BadUrl as error:
        raise VideoRejected("bad_url", str(error)) from None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


class _SilentLogger:
    """yt-dlp writes errors to stderr even when quiet; they reach us as exceptions instead."""

    def debug(self, message: str) -> None:
        pass

    warning = info = error = debug
