"""Image URL hygiene before fetching: tracker hosts and beacons by host and path, not only by words in
the path; placeholders in `src` give way to the lazy-loaded image."""

import lxml.html
import pytest
from lxml.html import fragment_fromstring

from pipelines.filters.image_urls import ImageUrlRules, image_url_rejection
from pipelines.html.images import _PLACEHOLDER, _is_placeholder, image_url
from schemas import ImageSegment


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://sb.scorecardresearch.com/p?c1=2&c2=6035250&cv=2.0&cj=1", "tracker_host"),  # seen kept before
        ("https://pixel.wp.com/b.gif?v=noscript", "tracker_host"),  # seen kept before
        ("https://www.facebook.com/tr?id=1234&ev=PageView&noscript=1", "tracker_host"),
        ("https://googleads.g.doubleclick.net/pagead/viewthroughconversion/1/?guid=ON", "tracker_host"),
        ("https://stats.example.org/count.gif?page=3", "tracker_host"),
        ("https://cdn.site.com/static/1x1-000000-0.png", "beacon"),  # seen as a lazy placeholder before
        ("https://images.example.com/b.gif", "beacon"),
        ("https://example.com/__utm.gif?utmwv=1", "beacon"),
        ("https://example.com/logo-small.png", "banned_url_substring"),
        ("https://example.com/wp-content/uploads/2019/11/flamingos-1024x683.jpg", None),
        ("https://upload.wikimedia.org/wikipedia/commons/a/ab/Flamingo.jpg", None),
        ("https://pictures.example.com/stats-chart-of-the-week.png", None),  # the host label is not "stats"
    ],
)
def test_trackers_and_beacons_are_dropped_and_photos_kept(url, reason):
    assert image_url_rejection(ImageSegment(url=url), ImageUrlRules()) == reason


@pytest.mark.parametrize(
    ("img", "url"),
    [
        ("<img src='/img/blank.png' data-src='/img/photo.jpg'>", "/img/photo.jpg"),
        ("<img src='/static/1x1-000000-0.png' data-lazy-src='/img/photo.jpg'>", "/img/photo.jpg"),
        ("<img src='/thumbs/photo-20px.jpg' data-src='/img/photo.jpg'>", "/img/photo.jpg"),  # a blurred preview
        ("<img src='/img/grey.gif' data-srcset='/img/a-400.jpg 400w, /img/a-800.jpg 800w'>", "/img/a-400.jpg"),
        ("<img src='/img/photo.jpg'>", "/img/photo.jpg"),
    ],
)
def test_the_lazy_loaded_image_wins_over_its_placeholder(img, url):
    assert image_url(fragment_fromstring(img), "http://site.test/page.html") == "http://site.test" + url


def test_the_placeholder_prefilter_lets_through_every_url_its_pattern_matches(testdata):
    """`_is_placeholder` runs the pattern only on URLs that hold one of its hints: a new alternative in
    the pattern without a hint would go unseen. Every image attribute of the real pages, and look-alikes."""
    urls = {
        "data:image/gif;base64,R0lGODlhAQABAAAAACw=", "/img/Placeholder-Wide.svg", "/js/LAZY_LOAD.gif",
        "/static/1X1.png", "/a/Blank.GIF", "/Spacer.gif", "/img/Transparent.PNG", "/t/trans.png",
        "/Empty.jpeg", "/clear.webp", "/GREY.jpg", "/gray.png", "/Loading.gif", "/loader.gif", "/pixel.png",
        "/ïmg/blank.gif", "/photos/flamingo-1x1-crop.jpg",
    }  # fmt: skip
    for page in (testdata / "web/html").rglob("*.htm*"):
        root = lxml.html.document_fromstring(page.read_bytes())
        urls.update(value.strip() for img in root.iter("img") for value in img.attrib.values())
    assert len(urls) > 1000
    assert [url for url in urls if _is_placeholder(url) != bool(_PLACEHOLDER.search(url))] == []
    assert sum(map(_is_placeholder, urls)) > 50
