"""Crawls a site on 127.0.0.1 into a WARC file, the way a web archive would record it."""

from __future__ import annotations

import urllib.request
from collections import deque
from io import BytesIO
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

from lxml import html as lxml_html
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

USER_AGENT = "flamingo-curate-demo/0.1 (+https://github.com/flamingo-curate)"


def crawl_to_warc(start_url: str, warc_path: Path, max_pages: int = 100) -> list[str]:
    """Fetch `start_url` and the same-host pages it links to; write request+response records (gzip)."""
    host = urlparse(start_url).netloc
    queue, seen, crawled = deque([start_url]), {start_url}, []
    with open(warc_path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        writer.write_record(writer.create_warcinfo_record(warc_path.name, {"software": USER_AGENT}))
        while queue and len(crawled) < max_pages:
            url = queue.popleft()
            status, reason, headers, body = _fetch(url)
            _write_exchange(writer, url, status, reason, headers, body)
            crawled.append(url)
            content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
            if status == 200 and "html" in content_type:
                for link in _same_host_links(url, body, host):
                    if link not in seen:
                        seen.add(link)
                        queue.append(link)
    return crawled


def _fetch(url: str) -> tuple[int, str, list[tuple[str, str]], bytes]:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.reason, list(response.headers.items()), response.read()


def _write_exchange(writer: WARCWriter, url, status, reason, headers, body) -> None:
    path = urlparse(url).path or "/"
    request_headers = StatusAndHeaders(f"GET {path} HTTP/1.1", [("User-Agent", USER_AGENT)], is_http_request=True)
    request = writer.create_warc_record(url, "request", http_headers=request_headers)
    response_headers = StatusAndHeaders(f"{status} {reason}", headers, protocol="HTTP/1.1")
    response = writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=response_headers)
    writer.write_request_response_pair(request, response)


def _same_host_links(page_url: str, body: bytes, host: str) -> list[str]:
    tree = lxml_html.fromstring(body)
    links = []
    for href in tree.xpath("//a/@href"):
        url = urldefrag(urljoin(page_url, href)).url
        if urlparse(url).netloc == host:
            links.append(url)
    return links
