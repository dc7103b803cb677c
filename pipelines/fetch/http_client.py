"""A polite, safe HTTP client: every address checked (redirects too), robots.txt honoured, per-host
spacing, bounded retries with backoff on 429/5xx, a size cap, timeouts, and opt-out headers.

`fetch` never raises for network trouble: it returns a FetchResult whose `status` names the error
class ("ok", "blocked_address", "robots_disallowed", "timeout", ...), so callers count and move on.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import urllib3

from pipelines.fetch.address_guard import AddressPolicy, BlockedAddress, check_url
from pipelines.fetch.robots import RobotsCache

USER_AGENT = "flamingo-curate/0.1 (+https://github.com/flamingo-curate/flamingo-curate; data curation for research)"


@dataclass(frozen=True)
class FetchConfig:
    user_agent: str = USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    max_retries: int = 3  # after the first attempt, on 429, 5xx and connection errors
    backoff_seconds: float = 1.0  # doubled each retry, with jitter
    max_retry_after: float = 60.0  # longest Retry-After we wait for
    max_redirects: int = 5
    max_bytes: int = 10 << 20
    per_host_delay: float = 1.0  # seconds between two requests to one host
    per_host_concurrency: int = 4  # requests in flight to one host at once
    respect_robots: bool = True
    opt_out_directives: tuple[str, ...] = ("noai", "noimageai")  # in X-Robots-Tag
    addresses: AddressPolicy = field(default_factory=AddressPolicy)


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: str  # "ok" or the error class
    final_url: str = ""
    http_status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str = ""
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class _TooLarge(Exception):
    pass


class PoliteFetcher:
    """Thread-safe: one per worker process, shared by its download threads."""

    def __init__(self, config: FetchConfig) -> None:
        self.config = config
        self._pool = urllib3.PoolManager(
            num_pools=256,
            maxsize=config.per_host_concurrency,
            retries=False,
            timeout=urllib3.Timeout(connect=config.connect_timeout, read=config.read_timeout),
            headers={"User-Agent": config.user_agent},
        )
        self._robots = RobotsCache(self._fetch_robots, config.user_agent)
        self._next_slot: dict[str, float] = {}
        self._in_flight: dict[str, threading.BoundedSemaphore] = {}
        self._slot_lock = threading.Lock()

    def fetch(self, url: str) -> FetchResult:
        attempts = 0
        current = url
        for _ in range(self.config.max_redirects + 1):
            refusal = self._refusal(url, current)
            if refusal is not None:
                return refusal
            response, attempts, failure = self._request_with_retries(url, current, attempts)
            if failure is not None:
                return failure
            if response.status in (301, 302, 303, 307, 308) and response.headers.get("location"):
                current = urljoin(current, response.headers["location"])
                continue
            return self._result(url, current, response, attempts)
        return FetchResult(
            url,
            "too_many_redirects",
            current,
            error=f"{url}: more than {self.config.max_redirects} redirects",
            attempts=attempts,
        )

    def _refusal(self, url: str, current: str) -> FetchResult | None:
        try:
            check_url(current, self.config.addresses)
        except BlockedAddress as error:
            return FetchResult(url, "blocked_address", current, error=str(error))
        if self.config.respect_robots and not self._robots.allowed(current):
            return FetchResult(url, "robots_disallowed", current, error=f"{current}: disallowed by robots.txt")
        return None

    def _request_with_retries(self, url: str, current: str, attempts: int):
        delay = self.config.backoff_seconds
        while True:
            attempts += 1
            self._wait_for_host(current)
            try:
                response = self._get(current)
            except _TooLarge:
                return (
                    None,
                    attempts,
                    FetchResult(
                        url,
                        "too_large",
                        current,
                        error=f"{current}: over {self.config.max_bytes} bytes",
                        attempts=attempts,
                    ),
                )
            except (urllib3.exceptions.TimeoutError, TimeoutError) as error:
                response, failure = (
                    None,
                    FetchResult(url, "timeout", current, error=f"{current}: {error}", attempts=attempts),
                )
            except (urllib3.exceptions.HTTPError, OSError) as error:
                response, failure = (
                    None,
                    FetchResult(url, "connection_error", current, error=f"{current}: {error}", attempts=attempts),
                )
            else:
                if response.status != 429 and response.status < 500:
                    return response, attempts, None
                failure = FetchResult(
                    url,
                    f"http_{response.status // 100}xx",
                    current,
                    response.status,
                    error=f"{current}: HTTP {response.status}",
                    attempts=attempts,
                )
            if attempts > self.config.max_retries or failure.status == "timeout":
                return None, attempts, failure
            time.sleep(self._retry_delay(response, delay))
            delay *= 2

    def _get(self, url: str) -> urllib3.BaseHTTPResponse:
        with self._host_slot(url):
            return self._get_now(url)

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        host = urlsplit(url).netloc
        with self._slot_lock:
            if host not in self._in_flight:
                self._in_flight[host] = threading.BoundedSemaphore(self.config.per_host_concurrency)
            return self._in_flight[host]

    def _get_now(self, url: str) -> urllib3.BaseHTTPResponse:
        response = self._pool.request("GET", url, redirect=False, preload_content=False)
        try:
            declared = int(response.headers.get("content-length", "0") or 0)
            if declared > self.config.max_bytes:
                raise _TooLarge
            body = bytearray()
            for chunk in response.stream(64 << 10):
                body += chunk
                if len(body) > self.config.max_bytes:
                    raise _TooLarge
            response._body = bytes(body)
        finally:
            response.release_conn()
        return response

    def _retry_delay(self, response, delay: float) -> float:
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after), self.config.max_retry_after)
        return delay * (0.5 + random.random())

    def _wait_for_host(self, url: str) -> None:
        host = urlsplit(url).netloc
        with self._slot_lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + self.config.per_host_delay
        if slot > now:
            time.sleep(slot - now)

    def _result(self, url: str, final_url: str, response, attempts: int) -> FetchResult:
        headers = {k.lower(): v for k, v in response.headers.items()}
        tags = headers.get("x-robots-tag", "").lower()
        if any(directive in tags for directive in self.config.opt_out_directives):
            return FetchResult(
                url,
                "opted_out",
                final_url,
                response.status,
                headers,
                error=f"{final_url}: X-Robots-Tag {tags}",
                attempts=attempts,
            )
        if response.status >= 400:
            return FetchResult(
                url,
                f"http_{response.status // 100}xx",
                final_url,
                response.status,
                headers,
                error=f"{final_url}: HTTP {response.status}",
                attempts=attempts,
            )
        return FetchResult(url, "ok", final_url, response.status, headers, response._body, attempts=attempts)

    def _fetch_robots(self, robots_url: str) -> tuple[int | None, bytes]:
        try:
            check_url(robots_url, self.config.addresses)
            self._wait_for_host(robots_url)
            response = self._get(robots_url)
        except (BlockedAddress, _TooLarge, urllib3.exceptions.HTTPError, OSError):
            return None, b""
        return response.status, response._body
