"""A process that has imported yt-dlp once and forks a child per download (as Android's zygote
forks apps): each download gets a process of its own under hard limits (`ytdlp_child`) for the cost
of a fork, where starting Python, importing yt-dlp and compiling its URL patterns costs 0.7 s of CPU.

The zygote is single-threaded, so forking it is safe (forking a Beam worker, with its gRPC threads,
is not). It reads sockets from its control socket (stdin): each is one download's line to the
parent, and the child it forks owns it. It ends when the parent closes the control socket.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any


class DeadlineExceeded(Exception):
    pass


class Zygote:
    """The parent's side: one zygote per process, started on first use and again if it died."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._control: socket.socket | None = None
        self._process: subprocess.Popen | None = None

    def run(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The child's answer; raises DeadlineExceeded (the child is killed) after `timeout` seconds."""
        ours, theirs = socket.socketpair()
        with ours:
            with theirs:
                self._hand_over(theirs)
            ours.sendall(json.dumps(request).encode())
            ours.shutdown(socket.SHUT_WR)
            received, complete = _read_until(ours, time.monotonic() + timeout)
        pid, _, answer = received.partition(b"\n")
        if not complete:
            if pid.isdigit():
                _kill_group(int(pid))
            raise DeadlineExceeded
        if not answer:
            return {"error": "yt-dlp's process ended without answering"}
        return json.loads(answer)

    def _hand_over(self, connection: socket.socket) -> None:
        with self._lock:
            for attempt in range(2):
                if self._process is None or self._process.poll() is not None:
                    self._start()
                try:
                    socket.send_fds(self._control, [b"."], [connection.fileno()])
                    return
                except OSError:
                    if attempt:
                        raise
                    self._process.kill()

    def _start(self) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__],
                stdin=theirs,
                env={**os.environ, "MALLOC_ARENA_MAX": "2"},  # glibc's per-thread arenas would eat the address cap
            )
        self._control = ours


def _read_until(connection: socket.socket, deadline: float) -> tuple[bytes, bool]:
    """What the child sent before the deadline, and whether that was all of it."""
    parts = []
    while (left := deadline - time.monotonic()) > 0:
        connection.settimeout(left)
        try:
            part = connection.recv(1 << 16)
        except TimeoutError:
            break
        if not part:
            return b"".join(parts), True
        parts.append(part)
    return b"".join(parts), False


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def main() -> None:
    from pipelines.video import ytdlp_child  # imports yt-dlp, once for every child

    ytdlp_child.warm_up()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    control = socket.socket(fileno=sys.stdin.fileno())
    while True:
        try:
            _, fds, _, _ = socket.recv_fds(control, 1, 1)
        except OSError:
            return
        if not fds:  # the parent closed its end
            return
        if os.fork() == 0:
            status = 1
            try:
                control.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the child waits for its own ffmpeg
                with socket.socket(fileno=fds[0]) as connection:
                    ytdlp_child.serve_one(connection)
                status = 0
            finally:
                os._exit(status)  # never back into the zygote's loop
        os.close(fds[0])


if __name__ == "__main__":
    main()
