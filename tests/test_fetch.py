"""The polite fetcher against real servers on 127.0.0.1: address rules, robots, retries, limits, politeness."""

import gzip
import ipaddress
import socket
import subprocess
import sys
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to
from http_helpers import ScriptedServer, drip, html

from pipelines.fetch import address_guard
from pipelines.fetch.address_guard import AddressPolicy, BadUrl, BlockedAddress, address_refusal, check_url
from pipelines.fetch.http_client import USER_AGENT, FetchConfig, PoliteFetcher, x_robots_opt_out
from pipelines.fetch.robots import RobotsAnswer, RobotsCache, robots_token
from pipelines.readers.fetch_pages import FetchPages
from pipelines.readers.page import RawPage
from pipelines.rejects import REJECTS, is_reject

REPO_ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = AddressPolicy(allow_loopback=True)
TOKEN = robots_token(USER_AGENT)


def fetcher(**overrides) -> PoliteFetcher:
    """A fetcher for tests: loopback allowed, no politeness delay, tiny backoff and timeouts."""
    settings = {
        "addresses": LOOPBACK,
        "per_host_delay": 0.0,
        "backoff_seconds": 0.01,
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "deadline": 5.0,
        **overrides,
    }
    return PoliteFetcher(FetchConfig(**settings))


@pytest.fixture
def server():
    servers = []

    def start(routes, delay=None) -> ScriptedServer:
        servers.append(ScriptedServer(routes, delay))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def answer(status: int, headers: dict | None = None, body: bytes = b""):
    return lambda _: (status, headers or {}, body)


def robots(text: str):
    return answer(200, {"Content-Type": "text/plain"}, text.encode())


# --- the address guard ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://2130706433/",  # decimal
        "http://0x7f.1/",  # hex, short form
        "http://0177.0.0.1/",  # octal
        "http://127.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
        "http://[::ffff:7f00:1]/",
        "http://localhost:8080/",
    ],
)
def test_loopback_in_any_spelling_is_refused_by_default_and_allowed_on_request(url):
    with pytest.raises(BlockedAddress, match="loopback"):
        check_url(url, AddressPolicy())
    check_url(url, LOOPBACK)


@pytest.mark.parametrize(
    ("address", "policy", "refusal"),
    [
        ("8.8.8.8", AddressPolicy(), None),
        ("2606:4700:4700::1111", AddressPolicy(), None),
        ("10.1.2.3", AddressPolicy(), "private"),
        ("172.16.0.1", AddressPolicy(), "private"),
        ("192.168.1.1", AddressPolicy(), "private"),
        ("192.168.1.1", AddressPolicy(allow_private=True), None),
        ("fc00::1", AddressPolicy(), "private"),
        ("100.64.0.1", AddressPolicy(), "carrier-grade NAT"),
        ("100.64.0.1", AddressPolicy(allow_private=True), None),
        ("169.254.169.254", AddressPolicy(allow_private=True, allow_loopback=True), "cloud metadata"),
        ("169.254.169.254", AddressPolicy(allow_link_local=True), None),
        ("fd00:ec2::254", AddressPolicy(allow_private=True), "cloud metadata"),
        ("100.100.100.200", AddressPolicy(allow_private=True), "cloud metadata"),
        ("169.254.10.10", AddressPolicy(allow_private=True), "link-local"),
        ("fe80::1%eth0", AddressPolicy(allow_private=True), "link-local"),
        ("::ffff:169.254.169.254", AddressPolicy(allow_private=True), "cloud metadata"),
        ("::ffff:10.0.0.1", AddressPolicy(), "private"),
        ("64:ff9b::7f00:1", AddressPolicy(), "loopback"),  # NAT64 form of 127.0.0.1
        ("64:ff9b::808:808", AddressPolicy(), None),  # NAT64 form of 8.8.8.8
        ("2002:7f00:1::", AddressPolicy(), "loopback"),  # 6to4 form of 127.0.0.1
        ("0.0.0.0", AddressPolicy(allow_loopback=True, allow_private=True), "unspecified"),
        ("::", AddressPolicy(allow_loopback=True, allow_private=True), "unspecified"),
        ("224.0.0.1", AddressPolicy(allow_private=True), "multicast"),
        ("ff02::1", AddressPolicy(allow_private=True), "multicast"),
        ("240.0.0.1", AddressPolicy(allow_private=True), "reserved"),
        ("255.255.255.255", AddressPolicy(allow_private=True), "reserved"),
    ],
)
def test_address_kinds(address, policy, refusal):
    reason = address_refusal(address, policy)
    assert reason == refusal if refusal is None else refusal in reason
    assert address_refusal(ipaddress.ip_address(address.split("%")[0]), policy) == reason


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/", "gopher://x/", "http:///path", "http://[::1/", "http://h:99999/"],
)
def test_urls_that_are_not_http_urls_with_a_host_are_bad(url):
    with pytest.raises(BadUrl):
        check_url(url, LOOPBACK)


def test_metadata_address_is_refused_without_connecting():
    started = time.monotonic()
    result = fetcher(connect_timeout=5.0).fetch("http://169.254.169.254/latest/meta-data/")
    assert result.status == "blocked_address" and result.attempts == 0
    assert "169.254.169.254" in result.error and "cloud metadata" in result.error
    assert time.monotonic() - started < 0.2  # a connection attempt would have waited for the connect timeout


def test_default_policy_refuses_a_local_server(server):
    s = server({"/": html()})
    result = PoliteFetcher(FetchConfig(per_host_delay=0)).fetch(s.url + "/")
    assert result.status == "blocked_address" and "loopback" in result.error
    assert s.requests == {}  # not even robots.txt was asked for


@pytest.mark.parametrize(
    ("location", "status"),
    [
        ("http://169.254.169.254/latest/meta-data/", "blocked_address"),
        ("http://10.0.0.1/", "blocked_address"),
        ("http://[::ffff:a9fe:a9fe]/", "blocked_address"),  # 169.254.169.254, IPv4-mapped
        ("http://0.0.0.0/", "blocked_address"),
        ("file:///etc/passwd", "bad_url"),
    ],
)
def test_every_redirect_hop_is_checked_against_the_address_policy(server, location, status):
    s = server({"/go": answer(302, {"Location": location})})
    result = fetcher(respect_robots=False).fetch(s.url + "/go")
    assert result.status == status and result.final_url == location and result.attempts == 1
    assert result.error.startswith(f"{s.url}/go (redirected to {location}): ")


def test_a_redirect_to_a_host_whose_robots_txt_disallows_is_not_followed(server):
    target = server({"/robots.txt": robots(f"User-agent: {TOKEN}\nDisallow: /private/\n"), "/private/x": html()})
    start = server({"/go": answer(301, {"Location": target.url + "/private/x"})})
    result = fetcher().fetch(start.url + "/go")
    assert result.status == "robots_disallowed" and result.final_url == target.url + "/private/x"
    assert target.count("/robots.txt") == 1 and target.count("/private/x") == 0


def test_an_address_that_changes_after_the_check_is_refused_at_connect(server, monkeypatch):
    """DNS rebinding: the check sees a public address, the connection lands on loopback."""
    s = server({"/": html()})

    def resolves_public(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("93.184.216.34", port))]

    monkeypatch.setattr(address_guard, "socket", types.SimpleNamespace(getaddrinfo=resolves_public, IPPROTO_TCP=6))
    result = PoliteFetcher(FetchConfig(per_host_delay=0, respect_robots=False)).fetch(s.url + "/")
    assert result.status == "blocked_address" and "connected to 127.0.0.1, a loopback address" in result.error
    assert s.requests == {}  # the connection was closed before a request was sent


def test_a_host_that_does_not_resolve_is_a_dns_error(monkeypatch):
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(address_guard, "socket", types.SimpleNamespace(getaddrinfo=no_such_host, IPPROTO_TCP=6))
    result = fetcher().fetch("http://no-such-host.test/")
    assert result.status == "dns_error" and "no-such-host.test" in result.error and result.attempts == 0


@pytest.mark.parametrize("url", ["not a url", "ftp://example.com/file", "http://", "http://h:99999/"])
def test_bad_urls_get_a_status_not_an_exception(url):
    result = fetcher().fetch(url)
    assert result.status == "bad_url" and result.attempts == 0 and url in result.error


# --- redirects, timeouts, retries, size --------------------------------------------------------------


def test_redirects_are_followed_and_loops_cut(server):
    s = server({"/a": answer(301, {"Location": "/b"}), "/b": html(), "/loop": answer(302, {"Location": "/loop"})})
    ok = fetcher(respect_robots=False).fetch(s.url + "/a")
    assert ok.ok and ok.url == s.url + "/a" and ok.final_url == s.url + "/b" and b"hello" in ok.body
    assert ok.attempts == 2 and ok.headers["content-type"].startswith("text/html")
    looped = fetcher(respect_robots=False, max_redirects=3).fetch(s.url + "/loop")
    assert looped.status == "too_many_redirects" and looped.body == b""
    assert s.count("/loop") == 4  # the first request and three redirects


def test_slow_server_times_out_within_the_read_timeout(server):
    s = server({"/slow": html()}, delay={"/slow": 1.5})
    started = time.monotonic()
    result = fetcher(respect_robots=False, read_timeout=0.3).fetch(s.url + "/slow")
    assert result.status == "timeout" and result.attempts == 1 and s.url in result.error
    assert time.monotonic() - started < 0.8


def test_the_deadline_bounds_a_body_that_drips_in(server):
    s = server({"/drip": lambda _: (200, {"Content-Type": "text/html"}, drip(40, every=0.05))})
    started = time.monotonic()
    result = fetcher(respect_robots=False, read_timeout=1.0, deadline=0.5).fetch(s.url + "/drip")
    assert result.status == "timeout" and "deadline" in result.error
    assert 0.45 < time.monotonic() - started < 0.9


def test_429_with_retry_after_then_success(server):
    s = server({"/busy": lambda n: (429, {"Retry-After": "0"}, b"") if n == 1 else html()(n)})
    result = fetcher(respect_robots=False).fetch(s.url + "/busy")
    assert result.ok and result.attempts == 2 and s.count("/busy") == 2


def test_retry_after_is_honoured_up_to_its_cap(server):
    s = server({"/busy": lambda n: (503, {"Retry-After": "30"}, b"") if n == 1 else html()(n)})
    result = fetcher(respect_robots=False, max_retry_after=0.3).fetch(s.url + "/busy")
    waited = s.requests["/busy"][1] - s.requests["/busy"][0]
    assert result.ok and result.attempts == 2 and 0.28 <= waited < 0.8


def test_persistent_5xx_gives_up_after_max_retries(server):
    s = server({"/down": answer(503)})
    client = fetcher(respect_robots=False)
    result = client.fetch(s.url + "/down")
    assert client.config.max_retries == 3
    assert result.status == "http_5xx" and result.http_status == 503
    assert result.attempts == client.config.max_retries + 1 == s.count("/down")
    assert result.body == b"" and "HTTP 503" in result.error


def test_transient_5xx_then_success(server):
    s = server({"/flaky": lambda n: (502, {}, b"") if n < 3 else html()(n)})
    result = fetcher(respect_robots=False).fetch(s.url + "/flaky")
    assert result.ok and result.attempts == 3


def test_retries_back_off_exponentially_with_jitter(server):
    s = server({"/down": answer(500)})
    fetcher(respect_robots=False, backoff_seconds=0.05, max_retries=2).fetch(s.url + "/down")
    first, second, third = s.requests["/down"]
    assert 0.02 <= second - first < 0.2 and 0.05 <= third - second < 0.4  # 0.05 then 0.1, each x0.5 to x1.5


def test_404_is_not_retried(server):
    s = server({})
    result = fetcher(respect_robots=False).fetch(s.url + "/missing")
    assert result.status == "http_4xx" and result.http_status == 404 and result.attempts == 1


def test_connection_refused_is_retried_then_reported():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = fetcher(respect_robots=False, max_retries=2).fetch(f"http://127.0.0.1:{port}/")
    assert result.status == "connection_error" and result.attempts == 3 and str(port) in result.error


def test_body_over_the_cap_is_refused_whether_or_not_its_size_is_declared(server):
    s = server(
        {
            "/declared": answer(200, {"Content-Type": "text/html"}, b"x" * 50_000),
            "/undeclared": lambda _: (200, {"Content-Type": "text/html"}, iter([b"x" * 8_000] * 6)),
            "/small": answer(200, {"Content-Type": "text/html"}, b"x" * 9_000),
        }
    )
    client = fetcher(respect_robots=False, max_bytes=10_000)
    declared = client.fetch(s.url + "/declared")
    assert declared.status == "too_large" and "Content-Length 50000" in declared.error
    undeclared = client.fetch(s.url + "/undeclared")
    assert undeclared.status == "too_large" and undeclared.body == b""
    assert client.fetch(s.url + "/small").body == b"x" * 9_000


def test_compressed_bodies_are_decoded(server):
    page = b"<html><body>" + b"compressible " * 1000 + b"</body></html>"
    s = server({"/gz": answer(200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, gzip.compress(page))})
    assert fetcher(respect_robots=False).fetch(s.url + "/gz").body == page


# --- robots.txt, opt-outs, politeness ----------------------------------------------------------------


def test_robots_txt_is_honoured_and_fetched_once_per_host_across_threads(server):
    s = server(
        {"/robots.txt": robots("User-agent: *\nDisallow: /private/\n"), "/public": html(), "/private/page": html()}
    )
    client = fetcher()
    urls = [s.url + "/public", s.url + "/private/page"] * 8
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda url: client.fetch(url).status, urls))
    assert statuses == ["ok", "robots_disallowed"] * 8
    assert s.count("/robots.txt") == 1 and s.count("/private/page") == 0 and s.count("/public") == 8


def test_the_group_naming_our_token_wins_over_the_star_group(server):
    rules = f"User-agent: *\nAllow: /\n\nUser-agent: {TOKEN}\nDisallow: /\n\nUser-agent: otherbot\nAllow: /\n"
    s = server({"/robots.txt": robots(rules), "/page": html()})
    result = fetcher().fetch(s.url + "/page")
    assert result.status == "robots_disallowed" and TOKEN in result.error and result.attempts == 0


def test_missing_robots_txt_allows_everything(server):
    s = server({"/page": html()})  # /robots.txt is a 404
    assert fetcher().fetch(s.url + "/page").ok and s.count("/robots.txt") == 1


def test_robots_txt_server_error_closes_the_host_for_a_while(server):
    s = server({"/robots.txt": lambda n: (503, {}, b"") if n == 1 else (404, {}, b""), "/page": html()})
    client = fetcher(robots_failure_ttl=0.3)
    refused = client.fetch(s.url + "/page")
    assert refused.status == "http_5xx" and "robots.txt" in refused.error and "HTTP 503" in refused.error
    assert client.fetch(s.url + "/page").status == "http_5xx"  # still closed, robots.txt not asked again
    assert s.count("/robots.txt") == 1 and s.count("/page") == 0
    time.sleep(0.35)
    assert client.fetch(s.url + "/page").ok and s.count("/robots.txt") == 2


def test_a_robots_txt_that_never_answers_is_a_timeout_not_a_disallow():
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        result = fetcher(read_timeout=0.3).fetch(f"http://127.0.0.1:{silent.getsockname()[1]}/page")
    assert result.status == "timeout" and "robots.txt" in result.error and "disallow" not in result.error


@pytest.mark.parametrize(
    ("rules", "path", "allowed"),
    [
        ("Disallow: /*.jpg$", "/a/b.jpg", False),  # Google's wildcards: urllib.robotparser allowed this
        ("Disallow: /*.jpg$", "/a/b.jpg?size=2", True),  # `$` anchors the end
        ("Disallow: /*.jpg$", "/a/b.jpgx", True),
        ("Disallow: /img/\nAllow: /img/public/", "/img/public/x.jpg", True),  # the longest match wins
        ("Disallow: /img/\nAllow: /img/public/", "/img/private/x.jpg", False),
        ("Allow: /img/public/\nDisallow: /img/", "/img/public/x.jpg", True),  # whatever the order
        ("Disallow: /", "/anything", False),
    ],
)
def test_robots_rules_are_read_as_google_reads_them(rules, path, allowed):
    body = f"User-agent: *\n{rules}\n".encode()
    cache = RobotsCache(lambda url: RobotsAnswer(200, body), USER_AGENT)
    assert cache.allowed(f"http://example.com{path}") is allowed


def test_crawl_delay_is_exposed_and_widens_the_spacing_up_to_its_cap(server):
    s = server({"/robots.txt": robots(f"User-agent: {TOKEN}\nCrawl-delay: 5\n"), "/a": html(), "/b": html()})
    client = fetcher(max_crawl_delay=0.3)
    assert client.fetch(s.url + "/a").ok and client.fetch(s.url + "/b").ok
    assert 0.28 <= s.requests["/b"][0] - s.requests["/a"][0] < 1.0
    cache = RobotsCache(lambda url: RobotsAnswer(200, b"User-agent: *\nCrawl-delay: 5\n"), USER_AGENT)
    assert cache.crawl_delay("http://example.com/x") == 5.0


def test_robots_cache_is_bounded_and_expires():
    fetched = []

    def fetch(url):
        fetched.append(url)
        return RobotsAnswer(200, b"User-agent: *\nDisallow: /no\n")

    now = [0.0]
    cache = RobotsCache(fetch, USER_AGENT, max_origins=2, ttl=10, clock=lambda: now[0])
    for host in ("a", "b", "a", "c", "a", "b"):
        assert not cache.allowed(f"http://{host}.test/no")
    # b is fetched again: c evicted it, the least recently used
    assert fetched == [f"http://{host}.test/robots.txt" for host in ("a", "b", "c", "b")]
    now[0] = 11
    assert cache.allowed("http://a.test/yes") and fetched[-1] == "http://a.test/robots.txt"


@pytest.mark.parametrize(
    ("headers", "opted_out"),
    [
        (["noai"], "noai"),
        (["noindex, NoImageAI"], "noimageai"),
        ([f"{TOKEN}: noai"], "noai"),
        (["otherbot: noai"], None),
        (["googlebot: noindex, noai"], None),  # the scope runs on to the end of that header
        (["googlebot: noindex", "noai"], "noai"),  # a second header starts unscoped
        (["unavailable_after: 25 Jun 2030 15:00:00 PST, noai"], "noai"),
        (["noindex, nofollow"], None),
    ],
)
def test_x_robots_tag_directives_and_their_scope(headers, opted_out):
    assert x_robots_opt_out(headers, TOKEN, ("noai", "noimageai")) == opted_out


def test_x_robots_tag_opt_out(server):
    page = b"<html></html>"
    s = server({"/noai": answer(200, {"Content-Type": "text/html", "X-Robots-Tag": "noai, noimageai"}, page)})
    result = fetcher(respect_robots=False).fetch(s.url + "/noai")
    assert result.status == "opted_out" and result.body == b"" and "noai" in result.error
    assert fetcher(respect_robots=False, honour_x_robots_tag=()).fetch(s.url + "/noai").body == page


def test_requests_to_one_host_are_spaced(server):
    s = server({"/a": html(), "/b": html()})
    client = fetcher(respect_robots=False, per_host_delay=0.3)
    client.fetch(s.url + "/a")
    client.fetch(s.url + "/b")
    assert 0.28 <= s.requests["/b"][0] - s.requests["/a"][0] < 0.6


def test_requests_in_flight_to_one_host_are_capped(server):
    s = server({f"/{i}": html() for i in range(6)}, delay={f"/{i}": 0.15 for i in range(6)})
    client = fetcher(respect_robots=False, max_concurrent_per_host=2)
    with ThreadPoolExecutor(6) as pool:
        assert all(r.ok for r in pool.map(lambda i: client.fetch(f"{s.url}/{i}"), range(6)))
    assert s.max_in_flight == 2


def test_the_user_agent_is_honest(server):
    s = server({"/": html()})
    fetcher().fetch(s.url + "/")
    assert s.user_agents == [USER_AGENT, USER_AGENT]  # robots.txt, then the page
    assert USER_AGENT.startswith(f"{TOKEN}/") and "+https://" in USER_AGENT


# --- the Beam DoFn -----------------------------------------------------------------------------------


def test_fetch_pages_outputs_pages_and_rejects(server):
    s = server(
        {
            "/good": html(),
            "/mislabelled": answer(200, {"Content-Type": "text/plain"}, b"\n<!DOCTYPE html><p>hi</p>"),
            "/image": answer(200, {"Content-Type": "image/png"}, b"\x89PNG"),
            "/moved": answer(301, {"Location": "/good"}),
        }
    )
    urls = [s.url + p for p in ("/good", "/mislabelled", "/moved", "/missing", "/image")] + ["http://169.254.169.254/"]
    config = FetchConfig(addresses=LOOPBACK, per_host_delay=0, respect_robots=False, max_retries=0)
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        out = pipeline | beam.Create(urls) | beam.ParDo(FetchPages(config)).with_outputs(REJECTS, main="pages")
        assert_that(
            out.pages | beam.Map(lambda p: (type(p) is RawPage, p.source, p.url, p.content_type, len(p.body) > 0)),
            equal_to(
                [
                    (True, s.url + "/good", s.url + "/good", "text/html; charset=utf-8", True),
                    (True, s.url + "/mislabelled", s.url + "/mislabelled", "text/plain", True),
                    (True, s.url + "/moved", s.url + "/good", "text/html; charset=utf-8", True),
                ]
            ),
            label="pages",
        )
        assert_that(
            out[REJECTS] | beam.Filter(is_reject) | beam.Map(lambda r: (r.stage, r.reason, r.item, r.item in r.detail)),
            equal_to(
                [
                    ("url_list", "http_4xx", s.url + "/missing", True),
                    ("url_list", "not_html", s.url + "/image", True),
                    ("url_list", "blocked_address", "http://169.254.169.254/", True),
                ]
            ),
            label="rejects",
        )


# 192.0.2.1 is TEST-NET-1 (never routed); these URLs are refused before any connection anyway.
@pytest.mark.parametrize("authority", ["127.0.0.1:{port}\\@192.0.2.1", "127.0.0.1:{port} @192.0.2.1"])
def test_an_authority_parsers_read_differently_is_refused_before_any_connection(server, authority):
    s = server({"/x": html()})
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    errors = []
    for port in (s.port, closed_port):
        url = f"http://{authority.format(port=port)}/x"
        result = fetcher(addresses=AddressPolicy(allow_loopback=False)).fetch(url)
        assert result.status == "bad_url" and result.attempts == 0 and "ambiguous authority" in result.error
        errors.append(result.error.replace(str(port), "PORT"))
    assert s.requests == {}  # nothing reached the open port
    assert errors[0] == errors[1]  # and the refusal does not tell an open port from a closed one


_HTTP_BOMB = """
import gzip, http.server, io, sys, threading
sys.path.insert(0, "tests")
from test_warc import peak_mb
from pipelines.fetch.address_guard import AddressPolicy
from pipelines.fetch.http_client import FetchConfig, PoliteFetcher
packed = io.BytesIO()
with gzip.GzipFile(fileobj=packed, mode="wb", compresslevel=9) as out:
    for _ in range(256):  # 1 GiB of page, about 1 MB on the wire
        out.write(b" " * (4 << 20))
body = packed.getvalue()
class Bomb(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Bomb)
threading.Thread(target=server.serve_forever, daemon=True).start()
config = FetchConfig(addresses=AddressPolicy(allow_loopback=True), per_host_delay=0, respect_robots=False, max_bytes=1 << 20)
result = PoliteFetcher(config).fetch(f"http://127.0.0.1:{server.server_address[1]}/page")
print(result.status, peak_mb())
"""


def test_an_http_content_encoding_bomb_is_too_large_without_the_memory():
    done = subprocess.run([sys.executable, "-c", _HTTP_BOMB], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    status, peak = done.stdout.split()
    print(f"fetching a 1 GiB gzip-encoded page peaked at {peak} MB")
    assert status == "too_large" and int(peak) < 400


def test_a_page_fetched_from_a_mirror_keeps_its_original_url(server):
    """Its relative links resolve against the original, not the mirror (which would mirror them twice)."""
    mirror = server(
        {
            "/shapes.test/a.html": answer(301, {"Location": "/shapes.test/b.html"}),
            "/shapes.test/b.html": html("<img src='img/1.jpg'>"),
        }
    )
    with fetcher(mirror=mirror.url) as polite:
        result = polite.fetch("https://shapes.test/a.html")
    assert result.ok and result.final_url == "https://shapes.test/b.html"
