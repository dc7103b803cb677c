"""Small HTTP servers on 127.0.0.1 with scripted behaviour, for the fetcher's tests."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A route answers its n-th request (n from 1) with (status, headers, body). A bytes body is sent
# with a Content-Length; an iterable of chunks is sent as it is produced, without a length, the end
# marked by closing the connection (so a route can drip bytes slowly, or not say how big it is).
Body = bytes | Iterable[bytes]
Route = Callable[[int], tuple[int, dict[str, str], Body]]


class ScriptedServer:
    """Serves `routes` on 127.0.0.1 and records when each path was asked for; other paths go to
    `fallback(path)`, or get 404.

    `delay` holds a path's answer back that many seconds; `max_in_flight` is the most requests the
    server was ever answering at once.
    """

    def __init__(
        self,
        routes: dict[str, Route],
        delay: dict[str, float] | None = None,
        fallback: Callable[[str], tuple[int, dict[str, str], Body]] | None = None,
    ) -> None:
        self.routes = routes
        self.fallback = fallback
        self.delay = delay or {}
        self.requests: dict[str, list[float]] = {}
        self.user_agents: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.requests.setdefault(self.path, []).append(time.monotonic())
                    server.user_agents.append(self.headers.get("User-Agent", ""))
                    count = len(server.requests[self.path])
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    time.sleep(server.delay.get(self.path, 0))
                    route = server.routes.get(self.path)
                    if route:
                        status, headers, body = route(count)
                    elif server.fallback:
                        status, headers, body = server.fallback(self.path)
                    else:
                        status, headers, body = 404, {}, b"missing"
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                        self._answer(status, headers, body)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self, status: int, headers: dict[str, str], body: Body) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if isinstance(body, bytes):
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.close_connection = True
                self.end_headers()
                for chunk in body:
                    self.wfile.write(chunk)
                    self.wfile.flush()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.port = self._server.server_address[1]

    def count(self, path: str) -> int:
        return len(self.requests.get(path, []))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def html(body: str = "<html><body><p>hello</p></body></html>") -> Route:
    return lambda _: (200, {"Content-Type": "text/html; charset=utf-8"}, body.encode())


def drip(chunks: int, every: float, chunk: bytes = b"x") -> Iterable[bytes]:
    """A body sent slowly: `chunks` pieces, one every `every` seconds."""
    for _ in range(chunks):
        time.sleep(every)
        yield chunk
