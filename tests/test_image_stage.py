"""The Beam image stage against a real server on 127.0.0.1 serving real and broken images."""

import io

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to
from http_helpers import ScriptedServer
from PIL import Image

from pipelines.fetch.address_guard import AddressPolicy
from pipelines.fetch.http_client import FetchConfig
from pipelines.images.stage import FetchDocumentImages, ImageStage
from pipelines.rejects import REJECTS, is_reject
from schemas import EOC, IMAGE, ImageSegment, InterleavedDocument, TextSegment, stable_key

TEST_FETCH = FetchConfig(
    addresses=AddressPolicy(allow_loopback=True),
    per_host_delay=0,
    backoff_seconds=0.01,
    read_timeout=0.5,
    max_retries=1,
)


def served(data: bytes, content_type: str = "image/jpeg"):
    return lambda _: (200, {"Content-Type": content_type}, data)


@pytest.fixture(scope="module")
def site(testdata):
    photos = sorted((testdata / "images").rglob("*.jpg"))[:3]
    bomb = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(bomb, format="PNG")
    png = io.BytesIO()
    Image.open(photos[2]).save(png, format="PNG")
    routes = {
        "/robots.txt": lambda _: (404, {}, b""),
        "/a.jpg": served(photos[0].read_bytes()),
        "/b.jpg": served(photos[1].read_bytes()),
        "/png-as-text": served(png.getvalue(), "text/plain"),  # the bytes decide, not the header
        "/truncated.jpg": served(photos[0].read_bytes()[:5000]),
        "/html.jpg": served(b"<html>not an image</html>"),
        "/bomb.png": served(bomb.getvalue(), "image/png"),
        "/loop.jpg": lambda _: (302, {"Location": "/loop.jpg"}, b""),
        "/slow.jpg": served(photos[1].read_bytes()),
        "/busy.jpg": lambda n: (429, {"Retry-After": "0"}, b"") if n == 1 else (200, {}, photos[1].read_bytes()),
    }
    server = ScriptedServer(routes, delay={"/slow.jpg": 2.0})
    yield server
    server.close()


def document(name: str, urls: list[str]) -> InterleavedDocument:
    segments = [TextSegment(f"About {name}.")]
    for url in urls:
        segments += [ImageSegment(url=url), TextSegment(f"Text after {url.rsplit('/', 1)[-1]}.")]
    return InterleavedDocument(doc_id=stable_key(name, name), url=f"http://site.test/{name}", segments=tuple(segments))


def test_good_images_join_back_and_bad_ones_vanish_with_their_tokens(site):
    base = site.url
    docs = [
        document("one", [base + p for p in ["/a.jpg", "/truncated.jpg", "/html.jpg", "/png-as-text", "/loop.jpg"]]),
        document("two", [base + p for p in ["/a.jpg", "/bomb.png", "/slow.jpg", "/busy.jpg"]]),
        document("three", [base + "/html.jpg", "http://169.254.169.254/latest/meta-data/"]),
    ]

    def check_documents(pairs):
        by_name = {doc.url.rsplit("/", 1)[-1]: (doc, jpegs) for doc, jpegs in pairs}
        assert set(by_name) == {"one", "two"}
        one, jpegs = by_name["one"]
        assert [i.url.removeprefix(base) for i in one.images] == ["/a.jpg", "/png-as-text"]
        assert one.text.count(IMAGE) == 2 and one.text.count(EOC) == 3
        assert "Text after truncated.jpg." in one.text  # the text stays, the image goes
        assert all(Image.open(io.BytesIO(j)).format == "JPEG" for j in jpegs) and len(jpegs) == 2
        assert (
            one.images[0].info.width == 320
            or one.images[0].info.height == 320
            or one.images[0].info.original_width < 320
        )
        two, _ = by_name["two"]
        assert [i.url.removeprefix(base) for i in two.images] == ["/a.jpg", "/busy.jpg"]

    def check_statuses(results):
        statuses = {r.url.removeprefix(base): r.status for r in results}
        assert statuses == {
            "/a.jpg": "ok",
            "/png-as-text": "ok",
            "/busy.jpg": "ok",
            "/truncated.jpg": "truncated_or_corrupt",
            "/html.jpg": "not_an_image",
            "/bomb.png": "decompression_bomb",
            "/loop.jpg": "too_many_redirects",
            "/slow.jpg": "timeout",
            "http://169.254.169.254/latest/meta-data/": "blocked_address",
        }

    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        out = pipeline | beam.Create(docs) | FetchDocumentImages(TEST_FETCH, ImageStage())
        assert_that(out["documents"], check_documents, label="documents")
        assert_that(out["results"], check_statuses, label="results")
        assert_that(
            out[REJECTS] | beam.Filter(is_reject) | beam.Map(lambda r: r.reason),
            equal_to(["no_images_after_fetch"]),
            label="rejects",
        )
    assert site.count("/a.jpg") == 1  # used by two documents, fetched once
    assert site.count("/busy.jpg") == 2  # 429, then success


def test_loopback_is_refused_by_default(site):
    def all_blocked(results):
        assert [r.status for r in results] == ["blocked_address"]

    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        out = (
            pipeline
            | beam.Create([document("x", [site.url + "/b.jpg"])])
            | FetchDocumentImages(FetchConfig(), ImageStage())
        )
        assert_that(out["results"], all_blocked)
