"""robots.txt, fetched once per host and cached: 4xx means allow all, 5xx or no answer disallow all
for that host (Google's documented behaviour), as `urllib.robotparser` does."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

# fetch(url) -> (HTTP status or None when there was no answer, body)
RobotsFetch = Callable[[str], tuple[int | None, bytes]]


class RobotsCache:
    def __init__(self, fetch: RobotsFetch, user_agent: str, max_hosts: int = 10_000) -> None:
        self._fetch = fetch
        self._agent = user_agent
        self._max_hosts = max_hosts
        self._parsers: OrderedDict[str, RobotFileParser] = OrderedDict()
        self._lock = threading.Lock()

    def allowed(self, url: str) -> bool:
        return self._parser(url).can_fetch(self._agent, url)

    def crawl_delay(self, url: str) -> float | None:
        delay = self._parser(url).crawl_delay(self._agent)
        return float(delay) if delay is not None else None

    def _parser(self, url: str) -> RobotFileParser:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            if origin in self._parsers:
                self._parsers.move_to_end(origin)
                return self._parsers[origin]
        parser = RobotFileParser()
        status, body = self._fetch(origin + "/robots.txt")
        if status is None or status >= 500:
            parser.disallow_all = True
        elif status >= 400:
            parser.allow_all = True
        else:
            parser.parse(body.decode("utf-8", errors="replace").splitlines())
        with self._lock:
            self._parsers[origin] = parser
            while len(self._parsers) > self._max_hosts:
                self._parsers.popitem(last=False)
        return parser
