"""A polite, safe HTTP client for pages, images and videos.

Every hop (redirects included) is checked against the address policy before connecting, and the
connected socket's peer address is checked again; robots.txt is honoured on every hop; requests to
one host are spaced and capped in number; 429/5xx/connection errors are retried with exponential
backoff and jitter (Retry-After honoured, capped); bodies are streamed under a size cap; a deadline
bounds the whole fetch of one URL; `X-Robots-Tag` opt-outs ("noai", "noimageai") are honoured.

`PoliteFetcher.fetch` never raises for network trouble: it returns a FetchResult whose `status`
names the error class, so callers count it and move on. Statuses: "ok", "bad_url", "dns_error",
"blocked_address", "robots_disallowed", "timeout", "too_large", "too_many_redirects", "http_3xx"
(304, or a redirect without Location), "http_4xx", "http_5xx", "connection_error", "tls_error",
"opted_out".
"""

from __future__ import annotations

import contextlib
import http.client
import math
import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from pipelines.fetch.address_guard import (
    AddressPolicy,
    BadUrl,
    BlockedAddress,
    UnresolvableHost,
    address_refusal,
    check_url,
)
from pipelines.fetch.mirror import mirror_url, original_url
from pipelines.fetch.robots import DEFAULT_FAILURE_TTL, DEFAULT_TTL, RobotsAnswer, RobotsCache, Verdict, robots_token

USER_AGENT = "flamingo-curate/0.1 (+https://github.com/flamingo-curate/flamingo-curate; research data curation)"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK_BYTES = 64 << 10
# X-Robots-Tag directives whose value follows a colon, so that colon does not name a crawler.
_VALUED_DIRECTIVES = frozenset({"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"})


@dataclass(frozen=True)
class FetchConfig:
    user_agent: str = USER_AGENT  # honest, with a contact URL; its first word's name is our robots.txt token
    connect_timeout: float = 10.0  # seconds to open a connection
    read_timeout: float = 20.0  # longest silence, in seconds, while waiting for bytes
    deadline: float = 60.0  # seconds for the whole fetch of one URL (retries, redirects, body), from its first request
    max_retries: int = 3  # retries after the first attempt, on 429, 5xx and connection errors
    backoff_seconds: float = 1.0  # wait before the first retry; doubled each retry, with jitter (x0.5 to x1.5)
    max_retry_after: float = 60.0  # longest Retry-After honoured; longer ones are cut to this
    max_redirects: int = 5
    max_bytes: int = 10 << 20  # body cap (after decompression); bigger answers are "too_large"
    per_host_delay: float = 1.0  # seconds between the starts of two requests to one host
    max_concurrent_per_host: int = 2  # requests in flight to one host, however many threads share the fetcher
    respect_robots: bool = True
    honour_crawl_delay: bool = True  # a robots.txt Crawl-delay widens per_host_delay for its host...
    max_crawl_delay: float = 30.0  # ...up to this many seconds
    robots_ttl: float = DEFAULT_TTL  # seconds robots.txt rules are kept
    robots_failure_ttl: float = DEFAULT_FAILURE_TTL  # seconds a host stays closed after its robots.txt gave 5xx
    max_robots_bytes: int = 500 << 10  # robots.txt beyond this is ignored (Google's limit)
    robots_cache_hosts: int = 10_000
    honour_x_robots_tag: tuple[str, ...] = ("noai", "noimageai")  # X-Robots-Tag directives that opt a URL out
    addresses: AddressPolicy = field(default_factory=AddressPolicy)
    mirror: str | None = None  # fetch every URL from this mirror instead (pipelines/fetch/mirror.py)


@dataclass(frozen=True)
class FetchResult:
    url: str  # as asked for
    final_url: str  # after redirects; for failures, the hop that failed
    status: str  # "ok" or the error class
    http_status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # lowercase names; repeated headers joined by ", "
    body: bytes = b""  # empty unless ok
    error: str = ""  # human readable, names the URL
    attempts: int = 0  # HTTP requests made for this URL (robots.txt not counted)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class PoliteFetcher:
    """Thread-safe: make one per worker process and share it between its download threads."""

    def __init__(self, config: FetchConfig) -> None:
        self.config = config
        self.robots_token = robots_token(config.user_agent)
        self._pool = _guarded_pool_manager(config)
        self._hosts = HostGate(config.max_concurrent_per_host)
        self._robots = RobotsCache(
            self._fetch_robots_txt,
            config.user_agent,
            max_origins=config.robots_cache_hosts,
            ttl=config.robots_ttl,
            failure_ttl=config.robots_failure_ttl,
        )

    def close(self) -> None:
        self._pool.clear()

    def __enter__(self) -> PoliteFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def fetch(self, url: str) -> FetchResult:
        run = _Run(url, self.config.deadline)
        current = mirror_url(url, self.config.mirror) if self.config.mirror else url
        for _ in range(self.config.max_redirects + 1):
            refusal = self._refusal(run, current)
            if refusal is not None:
                return refusal
            outcome = self._get_with_retries(run, current)
            if isinstance(outcome, FetchResult):
                return outcome
            if outcome.redirect_to is None:
                return self._final_result(run, current, outcome)
            current = urljoin(current, outcome.redirect_to)
        return run.failure(current, "too_many_redirects", f"more than {self.config.max_redirects} redirects")

    def _refusal(self, run: _Run, url: str) -> FetchResult | None:
        try:
            check_url(url, self.config.addresses)
        except BadUrl as error:
            return run.failure(url, "bad_url", error.reason)
        except UnresolvableHost as error:
            return run.failure(url, "dns_error", error.reason)
        except BlockedAddress as error:
            return run.failure(url, "blocked_address", error.reason)
        verdict = self.robots_verdict(url)
        if not verdict.allowed:
            return run.failure(url, verdict.reason, verdict.detail)
        return None

    def robots_verdict(self, url: str) -> Verdict:
        """Whether robots.txt lets us fetch `url` (always, when `respect_robots` is off), from the shared cache."""
        return self._robots.verdict(url) if self.config.respect_robots else Verdict(True)

    def _get_with_retries(self, run: _Run, url: str) -> _Response | FetchResult:
        while True:
            run.attempts += 1
            retry_after = None
            try:
                response = self._exchange(run, url, self._interval(url), self.config.max_bytes, truncate=False)
            except _FetchFailure as failure:
                outcome = run.failure(url, failure.status, failure.message)
                if not failure.retryable:
                    return outcome
            else:
                if response.status != 429 and response.status < 500:
                    return response
                outcome = run.failure(
                    url, _status_class(response.status), f"HTTP {response.status}", response.status, response.headers
                )
                retry_after = _retry_after_seconds(response.headers.get("retry-after", ""))
            if run.retries >= self.config.max_retries:
                return outcome
            wait = self._retry_wait(run.retries, retry_after)
            if wait >= run.remaining():
                return outcome  # the deadline would pass before the retry
            run.retries += 1
            if retry_after is not None:
                self._hosts.hold(_host_of(url), wait)  # the server asked every request to it to wait
            time.sleep(wait)

    def _retry_wait(self, retries_so_far: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.config.max_retry_after)
        return self.config.backoff_seconds * 2**retries_so_far * (0.5 + random.random())

    def _interval(self, url: str) -> float:
        interval = self.config.per_host_delay
        if self.config.respect_robots and self.config.honour_crawl_delay:
            crawl_delay = self._robots.crawl_delay(url)
            if crawl_delay is not None:
                interval = max(interval, min(crawl_delay, self.config.max_crawl_delay))
        return interval

    def _exchange(self, run: _Run, url: str, interval: float, max_bytes: int, truncate: bool) -> _Response:
        """One GET, in this host's turn; raises _FetchFailure. The body is read only for 2xx answers."""
        host = _host_of(url)
        try:
            with self._hosts.turn(host, interval, latest_start=run.expires):
                run.start_clock()
                return self._get(run, url, max_bytes, truncate)
        except _FetchFailure:
            raise
        except _NoTurnInTime:
            raise _FetchFailure("timeout", f"no turn for {host} before the deadline", retryable=False) from None
        except BlockedAddress as error:  # the connected peer is refused: DNS changed after check_url
            raise _FetchFailure("blocked_address", error.reason, retryable=False) from error
        except urllib3.exceptions.LocationValueError as error:
            raise _FetchFailure("bad_url", str(error), retryable=False) from error
        except urllib3.exceptions.NameResolutionError as error:
            raise _FetchFailure("dns_error", str(error), retryable=False) from error
        except urllib3.exceptions.NewConnectionError as error:  # a ConnectTimeoutError subclass: caught first
            raise _FetchFailure("connection_error", _reason(error), retryable=True) from error
        except (urllib3.exceptions.TimeoutError, TimeoutError) as error:
            raise _FetchFailure("timeout", _reason(error), retryable=False) from error
        except urllib3.exceptions.SSLError as error:
            raise _FetchFailure("tls_error", _reason(error), retryable=False) from error
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as error:
            raise _FetchFailure("connection_error", _reason(error), retryable=True) from error
        except ValueError as error:  # a URL urllib3 cannot send, though check_url let it through
            raise _FetchFailure("bad_url", str(error), retryable=False) from error

    def _get(self, run: _Run, url: str, max_bytes: int, truncate: bool) -> _Response:
        remaining = run.remaining()
        if remaining <= 0:
            raise _FetchFailure("timeout", self._deadline_message(), retryable=False)
        timeout = urllib3.Timeout(
            connect=min(self.config.connect_timeout, remaining), read=min(self.config.read_timeout, remaining)
        )
        response = self._pool.request("GET", url, redirect=False, preload_content=False, timeout=timeout)
        read_to_end = False
        try:
            headers = {name.lower(): response.headers[name] for name in response.headers}
            redirect_to = headers.get("location") if response.status in REDIRECT_STATUSES else None
            body = b""
            if 200 <= response.status < 300:
                body, read_to_end = self._read_body(run, response, max_bytes, truncate)
            return _Response(response.status, headers, body, redirect_to, response.headers.getlist("x-robots-tag"))
        finally:
            if not read_to_end:
                response.close()  # an unread or cut-off body: drop the connection rather than drain it
            response.release_conn()

    def _read_body(
        self, run: _Run, response: urllib3.BaseHTTPResponse, max_bytes: int, truncate: bool
    ) -> tuple[bytes, bool]:
        """(body, whether it was read to its end). Raises _FetchFailure when too large or too late."""
        declared = response.headers.get("content-length", "")
        if not truncate and declared.isdigit() and int(declared) > max_bytes:
            raise _FetchFailure("too_large", f"Content-Length {declared} is over {max_bytes} bytes", retryable=False)
        body = bytearray()
        while True:
            remaining = run.remaining()
            if remaining <= 0:
                raise _FetchFailure("timeout", self._deadline_message(), retryable=False)
            # read1 returns after a single socket read, so a server dripping bytes cannot outlast the deadline
            read_timeout = min(self.config.read_timeout, remaining)
            _set_read_timeout(response, read_timeout)
            try:
                chunk = response.read1(_CHUNK_BYTES)
            except urllib3.exceptions.ReadTimeoutError:
                if read_timeout < self.config.read_timeout:
                    raise _FetchFailure("timeout", self._deadline_message(), retryable=False) from None
                raise
            if not chunk:
                return bytes(body), True
            body += chunk
            if len(body) > max_bytes:
                if truncate:
                    return bytes(body[:max_bytes]), False
                raise _FetchFailure("too_large", f"body is over {max_bytes} bytes", retryable=False)

    def _deadline_message(self) -> str:
        return f"not done within the {self.config.deadline} s deadline"

    def _final_result(self, run: _Run, url: str, response: _Response) -> FetchResult:
        if not 200 <= response.status < 300:
            return run.failure(
                url, _status_class(response.status), f"HTTP {response.status}", response.status, response.headers
            )
        directive = x_robots_opt_out(response.x_robots_tags, self.robots_token, self.config.honour_x_robots_tag)
        if directive is not None:
            return run.failure(url, "opted_out", f"X-Robots-Tag says {directive!r}", response.status, response.headers)
        final = original_url(url, self.config.mirror, run.url) if self.config.mirror else url
        return FetchResult(
            run.url, final, "ok", response.status, response.headers, response.body, attempts=run.attempts
        )

    def _fetch_robots_txt(self, robots_url: str) -> RobotsAnswer:
        """robots.txt for RobotsCache, following redirects under the same address rules."""
        run = _Run(robots_url, self.config.deadline)
        current = robots_url
        for _ in range(self.config.max_redirects + 1):
            try:
                check_url(current, self.config.addresses)
                response = self._exchange(
                    run, current, self.config.per_host_delay, self.config.max_robots_bytes, truncate=True
                )
            except BadUrl:
                return RobotsAnswer(None, failure="bad_url")
            except UnresolvableHost:
                return RobotsAnswer(None, failure="dns_error")
            except BlockedAddress:
                return RobotsAnswer(None, failure="blocked_address")
            except _FetchFailure as failure:
                return RobotsAnswer(None, failure=failure.status)
            if response.redirect_to is None:
                return RobotsAnswer(response.status, response.body)
            current = urljoin(current, response.redirect_to)
        return RobotsAnswer(404)  # Google: a robots.txt not reached within the redirect limit counts as missing


def x_robots_opt_out(header_values: list[str], token: str, directives: tuple[str, ...]) -> str | None:
    """The first of `directives` that the `X-Robots-Tag` headers apply to us, or None.

    Each header is a comma-separated list, and "name: directive" scopes the directives that follow
    it (in that header) to one crawler: "otherbot: noai" does not opt out of us, "noai" and
    "flamingo-curate: noai" do.
    """
    wanted = {directive.lower() for directive in directives}
    for value in header_values:
        agent = None
        for part in value.split(","):
            part = part.strip().lower()
            name, colon, rest = part.partition(":")
            if colon and name.strip() not in _VALUED_DIRECTIVES:
                agent, part = name.strip(), rest.strip()
            if part in wanted and agent in (None, "*", token):
                return part
    return None


class HostGate:
    """Per-host politeness: a minimum interval between request starts and a cap on requests in flight.

    Thread-safe. Idle hosts are forgotten now and then, so memory stays bounded on long crawls.
    """

    def __init__(self, max_in_flight: int) -> None:
        self._max_in_flight = max(1, max_in_flight)
        self._lock = threading.Lock()
        self._hosts: dict[str, _HostState] = {}
        self._sweep_above = 1024

    @contextlib.contextmanager
    def turn(self, host: str, interval: float, latest_start: float | None = None) -> Iterator[None]:
        """Wait for `host`'s next slot, then hold one of its in-flight places while the block runs.

        Raises _NoTurnInTime when the turn would come after `latest_start` (a time.monotonic() value).
        """
        state = self._enter(host)
        try:
            timeout = None if latest_start is None else max(0.0, latest_start - time.monotonic())
            if not state.in_flight.acquire(timeout=timeout):
                raise _NoTurnInTime
            try:
                with self._lock:
                    now = time.monotonic()
                    start = max(now, state.next_start)
                    if latest_start is not None and start > latest_start:
                        raise _NoTurnInTime
                    state.next_start = start + interval
                if start > now:
                    time.sleep(start - now)
                yield
            finally:
                state.in_flight.release()
        finally:
            self._leave(state)

    def hold(self, host: str, seconds: float) -> None:
        """Start no request to `host` in the next `seconds` (a server's Retry-After)."""
        state = self._enter(host)
        with self._lock:
            state.next_start = max(state.next_start, time.monotonic() + seconds)
        self._leave(state)

    def _enter(self, host: str) -> _HostState:
        with self._lock:
            state = self._hosts.get(host)
            if state is None:
                state = self._hosts[host] = _HostState(threading.BoundedSemaphore(self._max_in_flight))
            state.users += 1
            return state

    def _leave(self, state: _HostState) -> None:
        with self._lock:
            state.users -= 1
            if len(self._hosts) > self._sweep_above:
                now = time.monotonic()
                for host in [h for h, s in self._hosts.items() if s.users == 0 and s.next_start <= now]:
                    del self._hosts[host]
                self._sweep_above = max(1024, 2 * len(self._hosts))


@dataclass
class _HostState:
    in_flight: threading.BoundedSemaphore
    next_start: float = 0.0  # time.monotonic() before which no request to the host starts
    users: int = 0  # threads waiting for or holding a turn


class _NoTurnInTime(Exception):
    pass


class _FetchFailure(Exception):
    def __init__(self, status: str, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retryable = retryable


@dataclass(frozen=True)
class _Response:
    status: int
    headers: dict[str, str]
    body: bytes
    redirect_to: str | None  # a redirect's Location
    x_robots_tags: list[str]  # each X-Robots-Tag header on its own: their crawler scoping is per header


@dataclass
class _Run:
    """One fetch's state: attempts, retries and the deadline, whose clock starts at the first request."""

    url: str
    deadline: float
    attempts: int = 0
    retries: int = 0
    expires: float | None = None  # time.monotonic() at the deadline

    def start_clock(self) -> None:
        if self.expires is None:
            self.expires = time.monotonic() + self.deadline

    def remaining(self) -> float:
        return math.inf if self.expires is None else self.expires - time.monotonic()

    def failure(
        self,
        hop: str,
        status: str,
        message: str,
        http_status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> FetchResult:
        where = self.url if hop == self.url else f"{self.url} (redirected to {hop})"
        return FetchResult(
            self.url, hop, status, http_status, headers or {}, error=f"{where}: {message}", attempts=self.attempts
        )


def _status_class(http_status: int) -> str:
    return f"http_{http_status // 100}xx"


def _host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _reason(error: BaseException) -> str:
    """An exception's message without urllib3's "<HTTPConnection object at 0x...>: " prefix."""
    text = str(error) or type(error).__name__
    return text.split(">: ", 1)[-1] if text.startswith("<") else text


def _retry_after_seconds(value: str) -> float | None:
    """Retry-After in seconds: given as a number of seconds or as an HTTP date."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


def _set_read_timeout(response: urllib3.BaseHTTPResponse, seconds: float) -> None:
    sock = getattr(getattr(response, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))


def _refuse_peer(sock: socket.socket, host: str, policy: AddressPolicy) -> None:
    peer = sock.getpeername()[0]
    reason = address_refusal(peer, policy)
    if reason:
        sock.close()
        raise BlockedAddress(host, f"connected to {peer}, a {reason} address")


class _GuardedHTTPConnection(HTTPConnection):
    address_policy = AddressPolicy()

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _refuse_peer(sock, self.host, self.address_policy)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    address_policy = AddressPolicy()

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _refuse_peer(sock, self.host, self.address_policy)
        return sock


def _guarded_pool_manager(config: FetchConfig) -> urllib3.PoolManager:
    """A thread-safe PoolManager whose connections refuse peers the address policy refuses."""
    policy = {"address_policy": config.addresses}
    http_connection = type("GuardedHTTPConnection", (_GuardedHTTPConnection,), policy)
    https_connection = type("GuardedHTTPSConnection", (_GuardedHTTPSConnection,), policy)
    manager = urllib3.PoolManager(
        num_pools=256,
        maxsize=max(1, config.max_concurrent_per_host),
        retries=False,  # retries and redirects are ours, so every hop is checked
        headers=urllib3.make_headers(user_agent=config.user_agent, accept_encoding=True),
    )
    manager.pool_classes_by_scheme = {
        "http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_connection}),
        "https": type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_connection}),
    }
    return manager
