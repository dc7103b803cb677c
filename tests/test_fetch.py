"""The polite fetcher against real servers on 127.0.0.1: address rules, robots, retries, limits."""

import time
from concurrent.futures import ThreadPoolExecutor

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to
from http_helpers import ScriptedServer, html

from pipelines.fetch.address_guard import AddressPolicy, BlockedAddress, check_url
from pipelines.fetch.http_client import FetchConfig, PoliteFetcher
from pipelines.readers.url_list import FetchPages
from pipelines.rejects import REJECTS

LOOPBACK = AddressPolicy(allow_loopback=True)


def fetcher(**overrides) -> PoliteFetcher:
    settings = {"addresses": LOOPBACK, "per_host_delay": 0.0, "backoff_seconds": 0.01, "read_timeout": 2.0, **overrides}
    return PoliteFetcher(FetchConfig(**settings))


@pytest.fixture
def server():
    servers = []

    def start(routes, delay=None):
        servers.append(ScriptedServer(routes, delay))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost/",
    ],
)
def test_loopback_in_any_spelling_is_refused_by_default(url):
    with pytest.raises(BlockedAddress, match="loopback"):
        check_url(url, AddressPolicy())
    check_url(url, LOOPBACK)


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://192.168.1.1/", "file:///etc/passwd"]
)
def test_metadata_private_and_non_http_are_refused(url):
    with pytest.raises(BlockedAddress):
        check_url(url, LOOPBACK)


def test_metadata_address_is_refused_without_connecting():
    started = time.monotonic()
    result = fetcher(respect_robots=False).fetch("http://169.254.169.254/latest/meta-data/")
    assert result.status == "blocked_address" and result.attempts == 0
    assert time.monotonic() - started < 0.5


def test_default_policy_refuses_a_local_server(server):
    s = server({"/": html()})
    result = PoliteFetcher(FetchConfig(per_host_delay=0)).fetch(s.url + "/")
    assert result.status == "blocked_address" and s.count("/") == 0


def test_a_redirect_to_the_metadata_address_is_refused(server):
    s = server({"/go": lambda _: (302, {"Location": "http://169.254.169.254/"}, b"")})
    result = fetcher(respect_robots=False).fetch(s.url + "/go")
    assert result.status == "blocked_address" and "169.254.169.254" in result.error


def test_redirects_are_followed_and_loops_cut(server):
    s = server(
        {
            "/a": lambda _: (301, {"Location": "/b"}, b""),
            "/b": html(),
            "/loop": lambda _: (302, {"Location": "/loop"}, b""),
        }
    )
    ok = fetcher(respect_robots=False).fetch(s.url + "/a")
    assert ok.ok and ok.final_url == s.url + "/b" and b"hello" in ok.body
    assert fetcher(respect_robots=False, max_redirects=3).fetch(s.url + "/loop").status == "too_many_redirects"
    assert s.count("/loop") == 4


def test_slow_server_times_out(server):
    s = server({"/slow": html()}, delay={"/slow": 2.0})
    started = time.monotonic()
    result = fetcher(respect_robots=False, read_timeout=0.3).fetch(s.url + "/slow")
    assert result.status == "timeout" and time.monotonic() - started < 1.5


def test_429_with_retry_after_then_success(server):
    s = server(
        {
            "/busy": lambda n: (
                (429, {"Retry-After": "0"}, b"") if n == 1 else (200, {"Content-Type": "text/html"}, b"<html>ok</html>")
            )
        }
    )
    result = fetcher(respect_robots=False).fetch(s.url + "/busy")
    assert result.ok and result.attempts == 2


def test_persistent_5xx_gives_up_after_the_retries(server):
    s = server({"/down": lambda _: (503, {}, b"")})
    result = fetcher(respect_robots=False, max_retries=2).fetch(s.url + "/down")
    assert result.status == "http_5xx" and result.attempts == 3 and s.count("/down") == 3


def test_body_over_the_cap_is_refused(server):
    s = server({"/big": lambda _: (200, {"Content-Type": "text/html"}, b"x" * 50_000)})
    assert fetcher(respect_robots=False, max_bytes=10_000).fetch(s.url + "/big").status == "too_large"


def test_robots_txt_is_honoured_and_fetched_once(server):
    robots = lambda _: (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n")  # noqa: E731
    s = server({"/robots.txt": robots, "/public": html(), "/private/page": html()})
    client = fetcher()
    assert client.fetch(s.url + "/public").ok
    assert client.fetch(s.url + "/private/page").status == "robots_disallowed"
    assert client.fetch(s.url + "/public").ok
    assert s.count("/robots.txt") == 1 and s.count("/private/page") == 0


def test_robots_5xx_disallows_the_host(server):
    s = server({"/robots.txt": lambda _: (500, {}, b""), "/page": html()})
    assert fetcher(max_retries=0).fetch(s.url + "/page").status == "robots_disallowed"


def test_x_robots_tag_opt_out(server):
    s = server(
        {"/noai": lambda _: (200, {"Content-Type": "text/html", "X-Robots-Tag": "noai, noimageai"}, b"<html></html>")}
    )
    assert fetcher(respect_robots=False).fetch(s.url + "/noai").status == "opted_out"


def test_requests_to_one_host_are_spaced(server):
    s = server({"/a": html(), "/b": html()})
    client = fetcher(respect_robots=False, per_host_delay=0.3)
    client.fetch(s.url + "/a")
    client.fetch(s.url + "/b")
    assert s.requests["/b"][0] - s.requests["/a"][0] >= 0.28


def test_requests_in_flight_to_one_host_are_capped(server):
    s = server({f"/p{i}": html() for i in range(8)}, delay={f"/p{i}": 0.2 for i in range(8)})
    client = fetcher(respect_robots=False, per_host_concurrency=2)
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        assert all(r.ok for r in pool.map(client.fetch, [f"{s.url}/p{i}" for i in range(8)]))
    assert time.monotonic() - started >= 0.75  # 8 requests of 0.2 s, two at a time


def test_fetch_pages_dofn_outputs_pages_and_rejects(server):
    s = server({"/good": html(), "/image": lambda _: (200, {"Content-Type": "image/png"}, b"\x89PNG")})
    urls = [s.url + "/good", s.url + "/missing", s.url + "/image", "http://169.254.169.254/"]
    config = FetchConfig(addresses=LOOPBACK, per_host_delay=0, respect_robots=False, max_retries=0)
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        out = pipeline | beam.Create(urls) | beam.ParDo(FetchPages(config)).with_outputs(REJECTS, main="pages")
        assert_that(
            out.pages | beam.Map(lambda p: (p.url, b"hello" in p.body)),
            equal_to([(s.url + "/good", True)]),
            label="pages",
        )
        assert_that(
            out[REJECTS] | beam.Map(lambda r: r.reason),
            equal_to(["http_4xx", "not_html", "blocked_address"]),
            label="rejects",
        )
