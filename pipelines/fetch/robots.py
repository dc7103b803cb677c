"""robots.txt rules, fetched once per origin (scheme + host + port) and kept in a bounded LRU cache.

How an answer for /robots.txt is read follows Google's documented behaviour
(https://developers.google.com/search/docs/crawling-indexing/robots/robots_txt#handling-http-result-codes):

- 2xx: parsed with urllib.robotparser; the group naming our product token applies, else `*`.
- 4xx other than 429, or a redirect chain that never ends: no robots.txt, everything allowed.
- 429, 5xx, or no answer at all (timeout, connection refused, refused address): the whole host is
  treated as disallowed, temporarily: those rules expire after `failure_ttl` seconds and robots.txt
  is asked for again. Answers that were read are kept for `ttl` seconds (Google: up to 24 hours).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

# fetch(robots_url) -> (HTTP status, or None when there was no answer; body)
RobotsFetch = Callable[[str], tuple[int | None, bytes]]

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
    parser: RobotFileParser
    expires: float  # a clock() value


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

    def allowed(self, url: str) -> bool:
        return self._parser(url).can_fetch(self.token, url)

    def crawl_delay(self, url: str) -> float | None:
        """The Crawl-delay (seconds) robots.txt sets for us, or None."""
        delay = self._parser(url).crawl_delay(self.token)
        return float(delay) if delay is not None else None

    def _parser(self, url: str) -> RobotFileParser:
        origin = origin_of(url)
        rules = self._cached(origin)
        if rules is not None:
            return rules.parser
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
        return rules.parser

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
        status, body = self._fetch(origin + "/robots.txt")
        parser = RobotFileParser(origin + "/robots.txt")
        if status is None or status == 429 or status >= 500:
            parser.disallow_all = True
            return _Rules(parser, self._clock() + self._failure_ttl)
        if 200 <= status < 300:
            parser.parse(body.decode("utf-8", errors="replace").removeprefix("\ufeff").splitlines())
        else:
            parser.allow_all = True
        return _Rules(parser, self._clock() + self._ttl)
