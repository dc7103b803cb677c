"""robots.txt rules, fetched once per origin (scheme + host + port) and kept in a bounded LRU cache.

Rules are read by Protego, which follows Google's specification as Scrapy does: `*` and `$`
wildcards in paths, and the longest matching rule wins (`Allow: /img/public/` beats
`Disallow: /img/`). How an answer for /robots.txt is read follows Google's documented behaviour
(https://developers.google.com/search/docs/crawling-indexing/robots/robots_txt#handling-http-result-codes):

- 2xx: the group naming our product token applies, else `*`.
- 4xx other than 429, or a redirect chain that never ends: no robots.txt, everything allowed.
- 429, 5xx, or no answer at all (timeout, connection refused, refused address): the whole host is
  off limits, temporarily, and a refusal says why (`timeout`, `http_5xx`, ...), never that robots.txt
  disallows it: those verdicts expire after `failure_ttl` seconds and robots.txt is asked for again.
  Answers that were read are kept for `ttl` seconds (Google: up to 24 hours).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego


@dataclass(frozen=True)
class RobotsAnswer:
    status: int | None  # the HTTP status; None when there was no answer
    body: bytes = b""
    failure: str = ""  # with no answer: why, as a fetch status ("timeout", "connection_error", ...)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""  # when refused: "robots_disallowed", or why robots.txt could not be read
    detail: str = ""


RobotsFetch = Callable[[str], RobotsAnswer]

DEFAULT_TTL = 24 * 3600.0
DEFAULT_FAILURE_TTL = 15 * 60.0


def robots_token(user_agent: str) -> str:
    """The product token robots.txt groups name: "flamingo-curate" in "flamingo-curate/0.1 (+https://...)"."""
    words = user_agent.split()
    return words[0].split("/", 1)[0].lower() if words else "*"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True)
class _Rules:
    parser: Protego | None  # None: no robots.txt, everything allowed
    expires: float  # a clock() value
    unreachable: Verdict | None = None  # robots.txt could not be read: every URL of the origin is refused so


class RobotsCache:
    """Thread-safe; robots.txt is fetched once per origin even when many threads ask at once."""

    def __init__(
        self,
        fetch: RobotsFetch,
        user_agent: str,
        max_origins: int = 10_000,
        ttl: float = DEFAULT_TTL,
        failure_ttl: float = DEFAULT_FAILURE_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self.token = robots_token(user_agent)
        self._max_origins = max_origins
        self._ttl = ttl
        self._failure_ttl = failure_ttl
        self._clock = clock
        self._rules: OrderedDict[str, _Rules] = OrderedDict()
        self._lock = threading.Lock()
        self._fetching: dict[str, threading.Lock] = {}  # one lock per origin whose robots.txt is being fetched

    def verdict(self, url: str) -> Verdict:
        rules = self._rules_for(url)
        if rules.unreachable is not None:
            return rules.unreachable
        if rules.parser is not None and not rules.parser.can_fetch(url, self.token):
            return Verdict(False, "robots_disallowed", f"robots.txt disallows it for {self.token}")
        return Verdict(True)

    def allowed(self, url: str) -> bool:
        return self.verdict(url).allowed

    def crawl_delay(self, url: str) -> float | None:
        """The Crawl-delay (seconds) robots.txt sets for us, or None."""
        parser = self._rules_for(url).parser
        delay = parser.crawl_delay(self.token) if parser is not None else None
        return float(delay) if delay is not None else None

    def _rules_for(self, url: str) -> _Rules:
        origin = origin_of(url)
        rules = self._cached(origin)
        if rules is not None:
            return rules
        with self._lock:
            origin_lock = self._fetching.setdefault(origin, threading.Lock())
        with origin_lock:
            rules = self._cached(origin)  # another thread may have fetched it while this one waited
            if rules is None:
                rules = self._fetch_rules(origin)
                with self._lock:
                    self._rules[origin] = rules
                    while len(self._rules) > self._max_origins:
                        self._rules.popitem(last=False)
        with self._lock:
            self._fetching.pop(origin, None)
        return rules

    def _cached(self, origin: str) -> _Rules | None:
        with self._lock:
            rules = self._rules.get(origin)
            if rules is None:
                return None
            if rules.expires <= self._clock():
                del self._rules[origin]
                return None
            self._rules.move_to_end(origin)
            return rules

    def _fetch_rules(self, origin: str) -> _Rules:
        answer = self._fetch(origin + "/robots.txt")
        if answer.status is None or answer.status == 429 or answer.status >= 500:
            if answer.status is None:
                reason, what = answer.failure or "connection_error", f"no answer ({answer.failure or 'no connection'})"
            else:
                reason, what = ("rate_limited" if answer.status == 429 else "http_5xx"), f"HTTP {answer.status}"
            detail = f"robots.txt of {origin} could not be read: {what}; the host is off limits for now"
            return _Rules(None, self._clock() + self._failure_ttl, Verdict(False, reason, detail))
        parser = None
        if 200 <= answer.status < 300:
            parser = Protego.parse(answer.body.decode("utf-8", errors="replace").removeprefix("\ufeff"))
        return _Rules(parser, self._clock() + self._ttl)
