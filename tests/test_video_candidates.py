"""Videos of a web page with their describing text: hand-written pages for each rule, then real pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines.readers.page import RawPage
from pipelines.video.candidates import TEXT_SOURCES, VideoCandidate, page_videos, watch_url

PAGE_URL = "https://news.example.com/section/story.html"
READABILITY = Path("web/html/readability")


def videos(html: str, url: str = PAGE_URL, content_type: str = "text/html; charset=utf-8") -> list[VideoCandidate]:
    return list(page_videos(RawPage(url=url, body=html.encode(), content_type=content_type)))


def urls(html: str, url: str = PAGE_URL) -> list[str]:
    return [video.url for video in videos(html, url)]


def real_page(testdata: Path, folder: str) -> RawPage:
    path = testdata / READABILITY / folder / "source.html"
    index = (testdata / "web/html/pages_index.tsv").read_text().splitlines()
    page_url = next(line.rsplit("\t", 1)[1] for line in index if line.startswith(f"{READABILITY / folder}/"))
    return RawPage(url=page_url, body=path.read_bytes())


# --- <video> ---------------------------------------------------------------------------------------------------


def test_video_src_is_resolved_against_the_page_url() -> None:
    assert urls('<p>x</p><video src="../media/clip.mp4"></video>') == ["https://news.example.com/media/clip.mp4"]


def test_an_mp4_or_webm_source_is_preferred_over_others() -> None:
    html = """<video>
      <source src="clip.m3u8" type="application/x-mpegURL">
      <source src="clip.ogv" type="video/ogg">
      <source src="clip.webm" type='video/webm; codecs="vp9"'>
      <source src="clip.mp4" type="video/mp4">
    </video>"""
    assert urls(html) == ["https://news.example.com/section/clip.webm"]


def test_without_a_preferred_type_the_first_usable_source_is_taken() -> None:
    html = '<video><source src="blob:https://x/1"><source src="a.m3u8" type="application/x-mpegURL"><source src="b.ogv"></video>'
    assert urls(html) == ["https://news.example.com/section/a.m3u8"]


def test_blob_data_and_other_non_http_urls_are_skipped() -> None:
    html = """
      <video src="blob:https://news.example.com/5f0c"></video>
      <video src="data:video/mp4;base64,AAAA"></video>
      <video src="javascript:void(0)"></video>
      <video src="ftp://files.example.com/a.mp4"></video>
      <video src="   "></video>
      <video src="http://[broken/a.mp4"></video>
      <video><source src="blob:https://news.example.com/1" type="video/mp4"><source src="data:video/webm;base64,AA"></video>
    """
    assert urls(html) == []


def test_a_video_whose_src_is_a_blob_falls_back_to_its_sources() -> None:
    html = '<video src="blob:https://news.example.com/5f0c"><source src="/v/real.mp4" type="video/mp4"></video>'
    assert urls(html) == ["https://news.example.com/v/real.mp4"]


def test_lazy_loaded_data_src_counts() -> None:
    assert urls('<video data-src="//cdn.example.net/lazy.mp4"></video>') == ["https://cdn.example.net/lazy.mp4"]


def test_base_href_is_used_for_relative_urls() -> None:
    html = '<head><base href="https://cdn.example.org/assets/"></head><video src="clip.mp4"></video>'
    assert urls(html) == ["https://cdn.example.org/assets/clip.mp4"]


def test_relative_base_href_is_resolved_against_the_page_and_a_non_http_base_is_ignored() -> None:
    assert urls('<base href="/media/"><video src="a.mp4"></video>') == ["https://news.example.com/media/a.mp4"]
    assert urls('<base href="javascript:x"><video src="a.mp4"></video>') == ["https://news.example.com/section/a.mp4"]


def test_a_page_without_url_keeps_only_absolute_videos() -> None:
    html = '<video src="relative.mp4"></video><video src="https://a.example/b.mp4"></video>'
    assert urls(html, url="") == ["https://a.example/b.mp4"]


# --- embedded players ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("player", "watch"),
    [
        ("https://www.youtube.com/embed/dQw4w9WgXcQ?rel=0&start=17", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        ("//www.youtube-nocookie.com/embed/dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        ("https://youtu.be/dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        ("https://player.vimeo.com/video/76979871?color=fff", "https://vimeo.com/76979871"),
        ("https://player.vimeo.com/video/76979871?h=8c3b2a1f9e", "https://vimeo.com/76979871/8c3b2a1f9e"),
        (
            "https://www.dailymotion.com/embed/video/x2p552m?syndication=131181",
            "https://www.dailymotion.com/video/x2p552m",
        ),
    ],
)
def test_player_iframes_become_watch_pages(player: str, watch: str) -> None:
    assert urls(f'<iframe src="{player}"></iframe>') == [watch]


@pytest.mark.parametrize(
    "src",
    [
        "https://www.youtube.com/embed/videoseries?list=PLDEBB741B42EDED3D",  # a playlist, not a video
        "https://www.youtube-nocookie.com/embed/?list=UU0zd0WX7SHXx3YAf-1dWayQ",
        "https://www.youtube.com/embed/short",
        "https://player.vimeo.com/video/not-a-number",
        "https://www.googletagmanager.com/ns.html?id=GTM-W8JKW6",
        "https://www.facebook.com/plugins/video.php?href=x",
        "/email/form/footer/today-us",
        "about:blank",
    ],
)
def test_other_iframes_are_not_videos(src: str) -> None:
    assert urls(f'<iframe src="{src}"></iframe>') == []


def test_a_lazy_iframe_with_a_placeholder_src_uses_its_data_src() -> None:
    html = '<iframe src="about:blank" data-src="https://www.youtube.com/embed/BItSgrSYAXA"></iframe>'
    assert urls(html) == ["https://www.youtube.com/watch?v=BItSgrSYAXA"]


def test_watch_url_leaves_non_player_urls_alone() -> None:
    assert watch_url("https://www.youtube.com/watch?v=dQw4w9WgXcQ") is None
    assert watch_url("https://cdn.example.com/embed/video/x.mp4") is None
    assert watch_url("http://[oops") is None


# --- og:video -----------------------------------------------------------------------------------------------------


def test_og_video_and_twitter_stream_are_videos_with_page_level_text() -> None:
    html = """<html><head>
      <title>Page title</title>
      <meta property="og:description" content="What the page is about">
      <meta property="og:video" content="https://cdn.example.com/a.mp4">
      <meta property="og:video:url" content="https://cdn.example.com/a.mp4">
      <meta property="og:video:secure_url" content="https://cdn.example.com/b.mp4">
      <meta property="og:video:type" content="video/mp4">
      <meta name="twitter:player:stream" content="/streams/c.mp4">
      <meta name="twitter:player" content="https://example.com/player.html">
    </head><body></body></html>"""
    found = videos(html)
    assert [video.url for video in found] == [
        "https://cdn.example.com/a.mp4",
        "https://cdn.example.com/b.mp4",
        "https://news.example.com/streams/c.mp4",
    ]
    assert {(video.text, video.text_source, video.page_url) for video in found} == {
        ("What the page is about", "og_description", PAGE_URL)
    }


def test_an_og_video_player_url_becomes_its_watch_page_and_meets_the_embedded_copy_once() -> None:
    html = """<head><meta property="og:video:url" content="https://www.youtube.com/embed/dQw4w9WgXcQ">
      <meta property="og:description" content="page"></head>
      <body><figure><iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe>
      <figcaption>The caption</figcaption></figure></body>"""
    assert videos(html) == [
        VideoCandidate("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "The caption", "figcaption", PAGE_URL)
    ]


def test_og_video_ignores_an_element_title() -> None:
    html = '<meta property="og:video" content="https://a.example/v.mp4" title="not this"><title>T</title>'
    assert [(v.text, v.text_source) for v in videos(html)] == [("T", "page_title")]


# --- text ---------------------------------------------------------------------------------------------------------

PAGE_HEAD = """<head><title>  The
  page title </title>
  <meta name="description" content="Meta description">
  <meta property="og:description" content="OG description">
  <meta property="og:title" content="OG title"></head>"""


def test_figcaption_beats_title_attribute_beats_page_description() -> None:
    html = f"""<html>{PAGE_HEAD}<body>
      <figure><div><div><video src="a.mp4" title="Title of a"></video></div></div>
        <figcaption>Caption <b>of</b>
           a</figcaption></figure>
      <video src="b.mp4" title="Title of b" aria-label="Label of b"></video>
      <video src="c.mp4" aria-label="Label of c"></video>
      <video src="d.mp4"></video>
    </body></html>"""
    assert [(video.text, video.text_source) for video in videos(html)] == [
        ("Caption of a", "figcaption"),
        ("Title of b", "title_attribute"),
        ("Label of c", "title_attribute"),
        ("OG description", "og_description"),
    ]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PAGE_HEAD, ("OG description", "og_description")),
        (
            PAGE_HEAD.replace('property="og:description"', 'property="og:other"'),
            ("Meta description", "meta_description"),
        ),
        ('<meta property="og:title" content="OG title"><title>T</title>', ("OG title", "og_title")),
        ("<title>\n  The page   title\n</title>", ("The page title", "page_title")),
        ('<meta property="og:description" content="   "><title>T</title>', ("T", "page_title")),
        ("", ("", "")),
    ],
)
def test_page_level_texts_in_priority_order(head: str, expected: tuple[str, str]) -> None:
    (video,) = videos(f'<html><head>{head}</head><body><video src="a.mp4"></video></body></html>')
    assert (video.text, video.text_source) == expected


def test_a_figure_more_than_four_levels_up_is_not_the_videos() -> None:
    html = """<title>T</title><figure><div><div><div><div><video src="a.mp4"></video></div></div></div></div>
      <figcaption>Too far</figcaption></figure>"""
    assert [(video.text, video.text_source) for video in videos(html)] == [("T", "page_title")]


def test_an_iframe_figcaption_and_an_empty_caption_falls_through() -> None:
    html = """<title>T</title>
      <figure><iframe src="https://player.vimeo.com/video/1"></iframe><figcaption>On Vimeo</figcaption></figure>
      <figure><video src="b.mp4" title="B"></video><figcaption> </figcaption></figure>"""
    assert [(video.text, video.text_source) for video in videos(html)] == [
        ("On Vimeo", "figcaption"),
        ("B", "title_attribute"),
    ]


def test_a_caption_after_video_sources_is_still_found() -> None:
    # libxml2 nests each <source> in the one before; the caption must not end up inside them
    html = """<figure><video><source src="a.webm" type="video/webm"><source src="a.mp4" type="video/mp4"></video>
      <figcaption>After the sources</figcaption></figure>"""
    assert [(v.url, v.text) for v in videos(html)] == [("https://news.example.com/section/a.webm", "After the sources")]


def test_a_title_that_only_names_the_player_is_not_a_description() -> None:
    html = """<meta name="description" content="The page">
      <iframe src="https://www.youtube.com/embed/c_3njQOzYf8" title="YouTube video player"></iframe>
      <iframe src="https://player.vimeo.com/video/2" title="vimeo" aria-label="The real name"></iframe>"""
    assert [(video.text, video.text_source) for video in videos(html)] == [
        ("The page", "meta_description"),
        ("The real name", "title_attribute"),
    ]


def test_special_tokens_in_texts_are_neutralised() -> None:
    html = """<head><title>&lt;EOC&gt; title</title><meta property="og:description" content="&lt;image&gt;"></head>
      <figure><video src="a.mp4"></video><figcaption>See &lt;image&gt; and &lt; EOC &gt; and ＜image＞</figcaption></figure>
      <video src="b.mp4" title="&lt;/eoc&gt;"></video>
      <video src="c.mp4"></video>"""
    found = videos(html)
    assert [video.text for video in found] == ["See (image) and (EOC) and (image)", "(EOC)", "(image)"]
    assert not any(re.search(r"<\s*/?\s*(image|eoc)", video.text, re.I) for video in found)


def test_svg_titles_are_not_the_page_title() -> None:
    html = '<body><svg><title>Play icon</title></svg><video src="a.mp4"></video></body>'
    assert [(video.text, video.text_source) for video in videos(html)] == [("", "")]


# --- order, duplicates, odd pages -------------------------------------------------------------------------------


def test_document_order_and_each_url_once() -> None:
    html = """<meta property="og:video" content="https://cdn.example.com/og.mp4">
      <iframe src="https://youtu.be/dQw4w9WgXcQ"></iframe>
      <video src="/v/1.mp4"></video>
      <iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ?autoplay=1"></iframe>
      <noscript><video src="https://news.example.com/v/1.mp4"></video></noscript>
      <video src="/v/2.mp4"></video>"""
    assert urls(html) == [
        "https://cdn.example.com/og.mp4",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://news.example.com/v/1.mp4",
        "https://news.example.com/v/2.mp4",
    ]


def test_the_best_text_of_a_repeated_url_wins() -> None:
    html = """<title>T</title><video src="a.mp4"></video><video src="a.mp4" title="Later, better"></video>"""
    assert [(video.text, video.text_source) for video in videos(html)] == [("Later, better", "title_attribute")]


def test_videos_in_conditional_comments_are_not_videos() -> None:
    # the picturefill hack for IE9 that most real pages' <video> tags are
    html = '<picture><!--[if IE 9]><video style="display: none;"><![endif]--><source srcset="a.jpg"></picture>'
    assert urls(html) == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n",
        b"<!-- only a comment -->",
        b"\x00\x01\x02 binary \xff\xfe",
        b"<video src='a.mp4'><source src=<<<>>>",
        b"<figure><video title='unclosed' src='a.mp4'><figcaption>cap",
        b"<html><body><iframe src='https://www.youtube.com/embed/dQw4w9WgXcQ'>",
        b"<meta property='og:video' content='http://[::1'><meta property='og:video'>",
        b"<base href='http://[broken'><video src='x.mp4'></video>",
        "<video src='caf\u00e9.mp4' title='\u00e9t\u00e9'></video>".encode("utf-16"),
    ],
)
def test_odd_markup_never_raises(body: bytes) -> None:
    for video in page_videos(RawPage(url=PAGE_URL, body=body)):
        assert video.url.startswith(("http://", "https://"))


def test_broken_markup_still_yields_what_it_can() -> None:
    found = list(
        page_videos(RawPage(url=PAGE_URL, body=b"<figure><video title='unclosed' src='a.mp4'><figcaption>cap"))
    )
    assert [(video.url, video.text, video.text_source) for video in found] == [
        ("https://news.example.com/section/a.mp4", "cap", "figcaption")
    ]


def test_the_body_is_decoded_by_its_declared_charset() -> None:
    html = '<video src="a.mp4" title="Ça tourne à Noël"></video>'.encode("windows-1252")
    (video,) = page_videos(RawPage(url=PAGE_URL, body=html, content_type="text/html; charset=windows-1252"))
    assert video.text == "Ça tourne à Noël"


def test_text_sources_are_in_priority_order() -> None:
    assert TEXT_SOURCES == (
        "figcaption",
        "title_attribute",
        "og_description",
        "meta_description",
        "og_title",
        "page_title",
        "list",
    )


# --- real pages ---------------------------------------------------------------------------------------------------


def test_guardian_video_tags_are_all_ie9_picture_hacks(testdata: Path) -> None:
    page = real_page(testdata, "guardian-1")
    html = page.body.decode()
    assert html.count("<video") == 17  # what pages_index.tsv counts
    assert html.count('<!--[if IE 9]><video style="display: none;"><![endif]-->') == 17
    # its only iframe is an e-mail sign-up form, and it has no og:video
    assert list(page_videos(page)) == []


def test_vox_youtube_embeds_become_watch_urls(testdata: Path) -> None:
    page = real_page(testdata, "videos-1")
    embedded = re.findall(r'<iframe src="https://www\.youtube\.com/embed/([\w-]{11})\?', page.body.decode())
    assert len(embedded) == 21
    found = list(page_videos(page))
    assert [video.url for video in found] == [f"https://www.youtube.com/watch?v={id_}" for id_ in embedded]
    assert found[0].url == "https://www.youtube.com/watch?v=Q0CbN8sfihY"
    assert len({video.url for video in found}) == 21
    # the embeds have no caption or title of their own: every one takes the page's og:description
    assert {(video.text, video.text_source) for video in found} == {
        (
            "How to watch the greatest movies of the year, from Lady Bird and Dunkirk to Get Out and The Big Sick.",
            "og_description",
        )
    }
    assert {video.page_url for video in found} == {page.url}


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("cnn", "http://ht3.cdn.turner.com/money/big/news/2015/11/30/homeboy-industries-priest.cnnmoney_1024x576.mp4"),
        ("lemonde-1", "https://www.dailymotion.com/video/x2p552m"),  # a protocol-relative embed
        ("engadget", "https://www.youtube.com/watch?v=c8aFcHFu8QM"),
    ],
)
def test_other_real_pages_with_one_video(testdata: Path, folder: str, expected: str) -> None:
    (video,) = page_videos(real_page(testdata, folder))
    assert video.url == expected
    assert video.text and video.text_source in TEXT_SOURCES


def test_every_real_readability_page_gives_valid_candidates(testdata: Path) -> None:
    total = 0
    for folder in sorted(path.name for path in (testdata / READABILITY).iterdir() if path.is_dir()):
        found = list(page_videos(real_page(testdata, folder)))
        total += len(found)
        assert len({video.url for video in found}) == len(found), folder
        for video in found:
            assert re.match(r"https?://[^/\s]+/", video.url), (folder, video.url)
            assert video.text_source in TEXT_SOURCES and video.text == video.text.strip(), (folder, video)
            assert "<image>" not in video.text and "<EOC>" not in video.text
    assert total >= 21 + 3
