"""One download in a process of its own, forked by the zygote (see `ytdlp_zygote`) under hard limits.

yt-dlp reads a page whole into memory while it looks for a video in it, and inflates what the server
compressed; a gzip bomb or an endless text/html answer grew a worker to 6 GiB in 18 s. In a process
of its own the kernel holds the line on every path, extraction included: its address space is capped
(MemoryError), so is every file it writes (EFBIG, for a chunked answer that never declares its size),
and an alarm ends it if the parent that would kill it at the deadline is gone.

The request comes as JSON on the child's socket; the child writes its pid on a line, then its answer
as JSON: {"video": {...}} when a file was downloaded, {"rejected": [reason, detail]} when the video
broke a rule, {"error": message} when yt-dlp failed (the parent words the reason).
"""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import socket
from typing import Any

import yt_dlp
from yt_dlp.extractor import gen_extractor_classes
from yt_dlp.utils import DownloadError

MAX_TEXT_CHARS = 10_000  # of a title or description; the clip keeps far less
ALARM_SLACK_S = 5  # the parent kills the child at the deadline; the alarm is for a parent that is gone


def warm_up() -> None:
    """Compile every extractor's URL pattern once, in the zygote, not in each child (0.4 s of CPU)."""
    for extractor in gen_extractor_classes():
        extractor.suitable("http://localhost/")


def serve_one(connection: socket.socket) -> None:
    os.setsid()  # a process group of its own: the deadline takes yt-dlp's ffmpeg children too
    connection.sendall(f"{os.getpid()}\n".encode())
    request = json.loads(_read_all(connection))
    signal.alarm(math.ceil(request["deadline_s"]) + ALARM_SLACK_S)
    _limit(request["max_memory_bytes"], request["max_bytes"])
    try:
        answer = _download(request)
    except MemoryError:
        limit = request["max_memory_bytes"]
        answer = {"rejected": ["too_large", f"{request['url']}: over {limit} bytes of memory while extracting"]}
    except Exception as error:  # anything else yt-dlp lets out is this video's failure, told to the parent
        answer = {"error": f"{type(error).__name__}: {error}"}
    if "video" in answer:
        answer["video"]["cpu_s"] = _cpu_seconds()
    connection.sendall(json.dumps(answer).encode())


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _read_all(connection: socket.socket) -> bytes:
    parts = []
    while part := connection.recv(1 << 16):
        parts.append(part)
    return b"".join(parts)


def _limit(memory_bytes: int, file_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails with EFBIG instead of killing us


def _download(request: dict[str, Any]) -> dict[str, Any]:
    max_bytes = request["max_bytes"]

    def enforce_size(progress: dict[str, Any]) -> None:
        if (progress.get("downloaded_bytes") or 0) > max_bytes:
            raise DownloadError(f"over {max_bytes} bytes once downloading")

    options = {**request["options"], "progress_hooks": [enforce_size], "logger": _SilentLogger()}
    url = request["url"]
    with yt_dlp.YoutubeDL(options) as ydl:
        try:
            info = ydl.extract_info(url, download=False)
            rejected = _broken_rule(url, info, request)
            if rejected:
                return {"rejected": rejected}
            done = ydl.process_ie_result(info, download=True)
        except DownloadError as error:
            return {"error": str(error)}
    downloads = done.get("requested_downloads") or []
    path = downloads[0].get("filepath") if downloads else None
    if not path:  # yt-dlp skips, without an error, a file that turns out larger than max_filesize
        return {"rejected": ["too_large", f"{url}: over {max_bytes} bytes once downloading"]}
    return {
        "video": {
            "path": path,
            "title": str(info.get("title") or "")[:MAX_TEXT_CHARS],
            "description": str(info.get("description") or "")[:MAX_TEXT_CHARS],
            "duration_s": _number(info.get("duration")),
            "extractor": str(info.get("extractor") or ""),
        }
    }


def _broken_rule(url: str, info: dict[str, Any], request: dict[str, Any]) -> list[str] | None:
    if info.get("_type") in ("playlist", "multi_video"):
        return ["playlist", f"{url}: is a playlist, not one video"]
    if info.get("is_live"):
        return ["live_stream", f"{url}: is a live stream"]
    duration = _number(info.get("duration"))
    if duration is not None and duration > request["max_duration_s"]:
        return ["too_long", f"{url}: {duration:g} s, over {request['max_duration_s']:g} s"]
    size = _number(info.get("filesize") or info.get("filesize_approx"))
    if size is not None and size > request["max_bytes"]:
        return ["too_large", f"{url}: {size:g} bytes, over {request['max_bytes']}"]
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


class _SilentLogger:
    """yt-dlp writes errors to stderr even when quiet; they reach the parent in the answer instead."""

    def debug(self, message: str) -> None:
        pass

    warning = info = error = debug
