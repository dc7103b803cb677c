"""An HTTP proxy on 127.0.0.1 that applies the address policy to every connection it makes.

Tools that follow redirects on their own (yt-dlp) are pointed at it, so every request they send,
redirected ones included, is checked: the target host is resolved, every address it resolves to
must pass the policy, and the connection goes to the checked address (no second lookup to rebind).
HTTPS goes through CONNECT tunnels, plain HTTP through absolute-form requests. One proxy serves one
client for the length of one download; `refusals` says what it turned away.

Given `max_bytes`, the proxy is also the download's byte budget: it relays at most that many bytes
from origins to the client, over all connections together (HTTPS tunnels included, which nothing
else can see into), then cuts the connection and refuses new ones; `over_budget` says so.
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

from pipelines.fetch.address_guard import AddressPolicy, BlockedAddress, checked_addresses

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
     "transfer-encoding", "upgrade"}
)  # fmt: skip
CHUNK = 64 << 10


def guarded_connection(host: str, port: int, policy: AddressPolicy, timeout: float) -> socket.socket:
    """A TCP connection to `host`, made only if every address it resolves to passes `policy`."""
    family, kind, proto, _, sockaddr = checked_addresses(f"{host}:{port}", host, port, policy)[0]
    connection = socket.socket(family, kind, proto)
    connection.settimeout(timeout)
    connection.connect(sockaddr)
    return connection


class GuardedProxy:
    def __init__(self, policy: AddressPolicy, timeout: float = 20.0, max_bytes: int | None = None) -> None:
        self.policy = policy
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.refusals: list[str] = []
        self.relayed = 0
        self.over_budget = False
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_CONNECT(self) -> None:
                host, _, port = self.path.rpartition(":")
                upstream = proxy._connect(self, host.strip("[]"), int(port or 443))
                if upstream is None:
                    return
                self.send_response(200, "Connection Established")
                self.end_headers()
                _relay(self.connection, upstream, proxy.timeout, proxy._take)
                self.close_connection = True

            def do_GET(self) -> None:
                proxy._forward(self)

            do_HEAD = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> GuardedProxy:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _take(self, size: int) -> bool:
        """Counts `size` bytes from an origin; False once the budget is spent."""
        with self._lock:
            self.relayed += size
            if self.max_bytes is not None and self.relayed > self.max_bytes:
                self.over_budget = True
            return not self.over_budget

    def _connect(self, handler: BaseHTTPRequestHandler, host: str, port: int) -> socket.socket | None:
        if self.over_budget:
            handler.send_error(403, f"over the download's budget of {self.max_bytes} bytes")
            return None
        try:
            return guarded_connection(host, port, self.policy, self.timeout)
        except BlockedAddress as refused:
            self.refusals.append(str(refused))
            handler.send_error(403, f"refused by the address policy: {refused}")
        except OSError as error:
            handler.send_error(502, f"cannot reach {host}:{port}: {error}")
        return None

    def _forward(self, handler: BaseHTTPRequestHandler) -> None:
        target = urlsplit(handler.path)
        if target.scheme != "http" or not target.hostname:
            handler.send_error(400, "absolute http:// URLs only (HTTPS goes through CONNECT)")
            return
        upstream = self._connect(handler, target.hostname, target.port or 80)
        if upstream is None:
            return
        connection = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=self.timeout)
        connection.sock = upstream
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            path = (target.path or "/") + (f"?{target.query}" if target.query else "")
            connection.request(handler.command, path, headers=headers)
            response = connection.getresponse()
            handler.send_response(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP:
                    handler.send_header(name, value)
            handler.send_header("Connection", "close")
            handler.end_headers()
            while handler.command != "HEAD" and (chunk := response.read(CHUNK)) and self._take(len(chunk)):
                handler.wfile.write(chunk)
        except (OSError, http.client.HTTPException):
            pass  # the client sees a cut connection, as it would from the origin
        finally:
            connection.close()
            handler.close_connection = True


def _relay(client: socket.socket, upstream: socket.socket, timeout: float, take: Callable[[int], bool]) -> None:
    sockets = [client, upstream]
    try:
        while True:
            readable, _, _ = select.select(sockets, [], [], timeout)
            if not readable:
                return
            for source in readable:
                data = source.recv(CHUNK)
                if not data or (source is upstream and not take(len(data))):
                    return
                (upstream if source is client else client).sendall(data)
    except OSError:
        return
    finally:
        upstream.close()
