"""Servers on 127.0.0.1 in a background thread: a static one (the demo's website, the tests' fixture) and a
mirror that stands in for the image hosts of real crawled pages (tests and benchmarks)."""

from __future__ import annotations

import functools
import hashlib
import sys
import threading
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up early (a downloader that has read enough) is not a server error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalServer:
    """Serves `root` at http://127.0.0.1:PORT/ until closed; `port=0` picks a free port."""

    def __init__(self, root: str | Path, port: int = 0) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise NotADirectoryError(f"cannot serve {self.root}: not a directory")
        handler = functools.partial(_QuietHandler, directory=str(self.root))
        self._server = _Server(("127.0.0.1", port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-server", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class ImageMirror:
    """Answers every path with one of `images`, chosen by a hash of the path (so a URL always gets the
    same bytes), and robots.txt and every `missing_every`-th path (0: none) with 404: the web hosts of
    real crawled pages, which tests and benchmarks cannot reach."""

    def __init__(self, images: list[bytes], missing_every: int = 0) -> None:
        class Answer(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                digest = int(hashlib.sha1(self.path.encode()).hexdigest(), 16)
                if self.path.endswith("/robots.txt") or (missing_every and digest % missing_every == 0):
                    self.send_error(404)
                    return
                body = images[digest % len(images)]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Answer)
        self._thread = threading.Thread(target=self._server.serve_forever, name="image-mirror", daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
