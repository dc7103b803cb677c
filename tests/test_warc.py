"""WARC reading on real archives: byte-range splits, record types, revisits, chunked bodies, damage."""

import bz2
import gzip as zlib_gzip
import io
import json
import lzma
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to
from warcio.archiveiterator import ArchiveIterator

from pipelines.job_metrics import counters
from pipelines.readers.warc import ReadWarcPages, is_html
from pipelines.rejects import REJECTS, is_reject

REPO_ROOT = Path(__file__).resolve().parent.parent

WARCS = [
    "commoncrawl_whirlwind.warc.gz",
    "commoncrawl_whirlwind.warc.wat.gz",
    "commoncrawl_whirlwind.warc.wet.gz",
    "dolma_sample-0000.warc.gz",
    "dolma_sample-0001.warc.gz",
    "pywb_iana.warc.gz",
    "warcio_example-iana.org-chunked.warc",
    "warcio_example.warc.gz",
]


def html_record_ids(path) -> list[str]:
    with open(path, "rb") as stream:
        return [
            record.rec_headers.get_header("WARC-Record-ID")
            for record in ArchiveIterator(stream, arc2warc=True)
            if record.rec_type == "response" and is_html(record.http_headers.get_header("Content-Type", ""))
        ]


def read(paths, split_bytes, check_pages=None, check_rejects=None):
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        out = (
            pipeline
            | beam.Create([str(p) for p in paths])
            | beam.ParDo(ReadWarcPages(split_bytes)).with_outputs(REJECTS, main="pages")
        )
        if check_pages:
            assert_that(out.pages, check_pages, label="pages")
        if check_rejects:
            assert_that(out[REJECTS] | beam.Filter(is_reject), check_rejects, label="rejects")
    return counters(pipeline.result).get("warc", {})


@pytest.mark.parametrize("name", WARCS)
def test_small_byte_ranges_read_every_record_exactly_once(testdata, name):
    path = testdata / "web/warc" / name
    expected = html_record_ids(path)
    whole = read([path], 1 << 30, check_pages=lambda pages: equal_to(expected)([p.record_id for p in pages]))
    split = read([path], 2048, check_pages=lambda pages: equal_to(expected)([p.record_id for p in pages]))
    assert whole == split
    assert whole.get("html_response", 0) == len(expected)


def test_record_types_are_counted_and_revisits_skipped(testdata):
    stats = read([testdata / "web/warc/pywb_iana.warc.gz"], 1 << 20)
    assert stats["skipped_revisit"] == 123
    assert stats["skipped_request"] == 171
    assert stats["skipped_non_html_response"] == 28
    assert stats["html_response"] == 20


def test_chunked_body_is_decoded(testdata):
    def check(pages):
        (page,) = pages
        assert page.url == "http://www.iana.org/"
        assert page.body.lstrip().lower().startswith(b"<!doctype html")
        assert b"\r\n0\r\n" not in page.body[-10:]

    read([testdata / "web/warc/warcio_example-iana.org-chunked.warc"], 1 << 20, check_pages=check)


def test_common_crawl_record(testdata):
    def check(pages):
        (page,) = pages
        assert page.url.startswith("http") and page.record_id.startswith("<urn:uuid:")
        assert page.crawl_time.startswith("20") and "html" in page.content_type
        assert b"<html" in page.body.lower()

    stats = read([testdata / "web/warc/commoncrawl_whirlwind.warc.gz"], 4096, check_pages=check)
    assert stats == {"skipped_warcinfo": 1, "skipped_request": 1, "html_response": 1, "skipped_metadata": 1}


def test_damaged_files_are_rejects_not_failures(testdata, tmp_path):
    good = testdata / "web/warc/dolma_sample-0001.warc.gz"
    damaged = testdata / "web/warc/dolma_sample-0000.warc.gz"
    data = damaged.read_bytes()
    truncated = tmp_path / "truncated.warc.gz"
    truncated.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.warc"
    garbage.write_bytes(b"this is not a WARC file\n" * 100)

    def some_pages_survive(pages):
        ids = {p.record_id for p in pages}
        assert set(html_record_ids(good)) <= ids  # the intact file is read whole
        before_damage = ids & set(html_record_ids(damaged))  # and the truncated one up to its damage
        assert 0 < len(before_damage) < len(html_record_ids(damaged))

    def both_damaged_files_rejected(rejects):
        assert sorted((r.reason, r.item.rsplit("/", 1)[-1]) for r in rejects) == [
            ("not_a_warc", "garbage.warc"),
            ("truncated_record", "truncated.warc.gz"),
        ]

    read([good, truncated, garbage], 1 << 30, some_pages_survive, both_damaged_files_rejected)


# --- damage inside a file, and decompression bombs ------------------------------------------------


def write_warc(path, bodies: list[bytes], gzip: bool) -> list[str]:
    """A WARC of HTML responses with these bodies, made by warcio; returns their record ids."""
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    ids = []
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=gzip)
        for number, body in enumerate(bodies):
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                f"http://site.test/{number}", "response", payload=BytesIO(body), http_headers=headers
            )
            ids.append(record.rec_headers.get_header("WARC-Record-ID"))
            writer.write_record(record)
    return ids


PAGES = [f"<html><body><p>page {n} {'text ' * 50}</p></body></html>".encode() for n in range(6)]


def _save_to(path: str):
    def save(items):
        with open(path, "w") as out:
            json.dump(list(items), out)

    return save


def read_back(path, split_bytes=1 << 30, max_page_bytes=1 << 20) -> tuple[list[str], list[SimpleNamespace]]:
    """(record ids of the pages read, rejects) of reading one WARC."""
    saved = {name: f"{path}.{name}.json" for name in ("pages", "rejects")}
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        out = (
            pipeline
            | beam.Create([str(path)])
            | beam.ParDo(ReadWarcPages(split_bytes, max_page_bytes)).with_outputs(REJECTS, main="pages")
        )
        assert_that(out.pages | beam.Map(lambda p: p.record_id), _save_to(saved["pages"]), label="pages")
        assert_that(
            out[REJECTS] | beam.Filter(is_reject) | beam.Map(lambda r: r.to_dict()),
            _save_to(saved["rejects"]),
            label="rejects",
        )
    with open(saved["pages"]) as pages, open(saved["rejects"]) as rejects:
        return json.load(pages), [SimpleNamespace(**r) for r in json.load(rejects)]


@pytest.mark.parametrize("gzip", [True, False])
def test_garbage_after_the_last_record_costs_nothing_and_names_its_bytes(tmp_path, gzip):
    path = tmp_path / ("damaged.warc.gz" if gzip else "damaged.warc")
    ids = write_warc(path, PAGES, gzip)
    size = path.stat().st_size
    with open(path, "ab") as out:
        out.write(bytes(range(256)) * 64)
    pages, rejects = read_back(path)
    assert sorted(pages) == sorted(ids)
    (reject,) = rejects
    assert reject.reason == "unreadable_warc" and "to the end of the file" in reject.detail
    assert int(reject.item.rsplit("@", 1)[1]) < size


def _third_record(data: bytes) -> int:
    return data.index(b"WARC/1.", data.index(b"WARC/1.", data.index(b"WARC/1.") + 1) + 1)


def _with_third_length(data: bytes, length: bytes) -> bytes:
    """A plain WARC whose third record says `length` where its true Content-Length is."""
    third = _third_record(data)
    header_end = data.index(b"\r\n\r\n", third)
    header = re.sub(rb"Content-Length: \d+", b"Content-Length: " + length, data[third:header_end], count=1)
    return data[:third] + header + data[header_end:]


@pytest.mark.parametrize("length", [b"-5", b"abc847"])
@pytest.mark.parametrize("gzip", [True, False])
def test_a_record_with_an_impossible_length_is_skipped_and_the_rest_of_the_file_read(tmp_path, gzip, length):
    plain = tmp_path / "plain.warc"
    ids = write_warc(plain, PAGES, gzip=False)
    damaged = _with_third_length(plain.read_bytes(), length)
    path = tmp_path / ("damaged.warc.gz" if gzip else "damaged.warc")
    if gzip:  # one gzip member per record, as crawlers write them
        records = re.split(rb"(?=WARC/1\.\d\r\n)", damaged)
        path.write_bytes(b"".join(zlib_gzip.compress(r) for r in records if r))
    else:
        path.write_bytes(damaged)
    pages, rejects = read_back(path, split_bytes=2048)
    assert set(pages) == set(ids) - {ids[2]}  # every other record, before and after the damage
    assert [r.reason for r in rejects] == ["unreadable_warc"]
    assert "bytes " in rejects[0].detail


@pytest.mark.parametrize("error", [+100, +700, +(1 << 20), -40])
def test_a_plain_record_whose_length_is_wrong_costs_only_that_record(tmp_path, error):
    """Too long, a Content-Length swallows the records after it (before: the rest of the file, when it
    ran past the end, for one `truncated_record`); too short, the record's body is cut. Either way the
    record is a reject naming its bytes, and every other record is read."""
    path = tmp_path / "plain.warc"
    ids = write_warc(path, PAGES, gzip=False)
    data = path.read_bytes()
    true_length = int(re.findall(rb"Content-Length: (\d+)", data)[2])
    path.write_bytes(_with_third_length(data, str(true_length + error).encode()))
    pages, rejects = read_back(path)
    assert sorted(pages) == sorted(ids[:2] + ids[3:])
    (reject,) = rejects
    third = _third_record(data)
    assert reject.reason == "unreadable_warc" and reject.item.endswith(f"@{third}")
    assert reject.detail.startswith(f"bytes {third} to byte ")


def test_a_plain_warc_cut_short_loses_only_its_last_record(tmp_path):
    path = tmp_path / "plain.warc"
    ids = write_warc(path, PAGES, gzip=False)
    path.write_bytes(path.read_bytes()[:-200])
    pages, rejects = read_back(path)
    assert sorted(pages) == sorted(ids[:-1])
    assert [r.reason for r in rejects] == ["truncated_record"] and ids[-1] in rejects[0].detail


def peak_mb() -> int:
    """This process's peak resident memory since its exec (ru_maxrss would include its parent's peak)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmHWM:"))


class _Spaces(io.RawIOBase):
    """`size` bytes of spaces, made as they are read: a bomb's payload that never sits in memory."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = b" " * count
        self.left -= count
        return count


def test_a_decompression_bomb_in_a_warc_record_is_too_large_without_the_memory(tmp_path):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path, size = tmp_path / "bomb.warc.gz", 2 << 30  # 2 GiB of page that gzip makes about 2 MB
    ids = write_warc(path, PAGES[:1], gzip=True)
    with open(path, "ab") as out:
        writer = WARCWriter(out, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        bomb = writer.create_warc_record(
            "http://site.test/bomb",
            "response",
            payload=io.BufferedReader(_Spaces(size)),
            length=size,
            http_headers=headers,
        )
        writer.write_record(bomb)
    tail = tmp_path / "tail.warc.gz"
    ids += write_warc(tail, PAGES[1:2], gzip=True)
    with open(path, "ab") as out:
        out.write(tail.read_bytes())
    assert path.stat().st_size < 8 << 20
    # Read in a fresh process, so that its peak memory is the reading's alone.
    script = (
        "import json, sys; sys.path.insert(0, 'tests'); from test_warc import peak_mb, read_back; "
        f"pages, rejects = read_back({str(path)!r}, max_page_bytes=1 << 20); "
        "print(json.dumps([pages, [r.reason for r in rejects], [r.detail for r in rejects], "
        "peak_mb()]))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    pages, reasons, details, peak_mb = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(pages) == set(ids)  # the pages before and after the bomb
    assert reasons == ["too_large"] and "site.test/bomb" in details[0]
    print(f"reading a 2 GiB WARC bomb peaked at {peak_mb} MB")
    assert peak_mb < 1024, f"reading a 2 GiB bomb peaked at {peak_mb} MB"


def test_an_html_gz_bomb_is_too_large_without_the_memory(tmp_path):
    from pipelines.readers.html_files import ReadHtmlFiles

    page = tmp_path / "bomb.html.gz"
    with zlib_gzip.open(page, "wb", compresslevel=9) as out:
        for _ in range(256):  # 1 GiB inflated
            out.write(b" " * (4 << 20))
    assert page.stat().st_size < 4 << 20
    script = (
        "import sys; sys.path.insert(0, 'tests'); from test_warc import peak_mb; from pipelines.readers.html_files import ReadHtmlFiles; "
        f"print([o.value.reason for o in ReadHtmlFiles(max_page_bytes=1 << 20).process({str(page)!r})], "
        "peak_mb())"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    reasons, peak_mb = done.stdout.strip().splitlines()[-1].rsplit(" ", 1)
    print(f"reading a 1 GiB .html.gz bomb peaked at {peak_mb} MB")
    assert reasons == "['too_large']" and int(peak_mb) < 400
    assert ReadHtmlFiles  # the same reader the jobs use


@pytest.mark.parametrize(
    ("suffix", "compress"), [(".gz", zlib_gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)]
)
def test_read_capped_inflates_each_compression_up_to_the_cap(tmp_path, suffix, compress):
    from pipelines.readers.capped import read_capped

    data = bytes(range(256)) * 4000
    path = tmp_path / f"page.html{suffix}"
    path.write_bytes(compress(data[:500_000]) + compress(data[500_000:]))  # two members / streams, as `cat` makes
    assert read_capped(str(path), 10 << 20) == data
    assert read_capped(str(path), 1000) == data[:1001]  # one byte over the cap says "larger"
