"""Small HTTP servers on 127.0.0.1 with scripted behaviour, for the fetcher's tests."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# route path -> handler(request_count) -> (status, headers, body)
Route = Callable[[int], tuple[int, dict[str, str], bytes]]


class ScriptedServer:
    """Serves `routes` on 127.0.0.1 and counts requests per path; unknown paths get 404."""

    def __init__(self, routes: dict[str, Route], delay: dict[str, float] | None = None) -> None:
        self.routes = routes
        self.delay = delay or {}
        self.requests: dict[str, list[float]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.setdefault(self.path, []).append(time.monotonic())
                time.sleep(server.delay.get(self.path, 0))
                route = server.routes.get(self.path)
                status, headers, body = route(len(server.requests[self.path])) if route else (404, {}, b"missing")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                    self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def count(self, path: str) -> int:
        return len(self.requests.get(path, []))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def html(body: str = "<html><body><p>hello</p></body></html>") -> Route:
    return lambda _: (200, {"Content-Type": "text/html; charset=utf-8"}, body.encode())
