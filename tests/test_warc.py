"""WARC reading on real archives: byte-range splits, record types, revisits, chunked bodies, damage."""

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to
from warcio.archiveiterator import ArchiveIterator

from pipelines.job_metrics import counters
from pipelines.readers.warc import ReadWarcPages, is_html
from pipelines.rejects import REJECTS

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
            assert_that(out[REJECTS], check_rejects, label="rejects")
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
