"""URL lists in every format, from tiny files and from the real 10,000 LAION-style pairs."""

import gzip

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from pipelines.readers.url_list import BAD_URL_LINE, BAD_URL_LIST, ReadUrlList, fetchable_url, read_url_list
from pipelines.rejects import REJECTS, is_reject

URLS = ["http://a.test/1", "https://b.test/2?x=1,2#part"]


def read(path, **kwargs):
    """(rows, bad lines as (line, reason))."""
    bad = []
    rows = list(read_url_list(str(path), on_bad_line=bad.append, **kwargs))
    return rows, [(b.line, b.reason) for b in bad]


def test_text_list_skips_comments_and_blank_lines_and_reports_bad_lines(tmp_path):
    path = tmp_path / "urls.txt"
    path.write_text("# a comment\n\n  http://a.test/1  \r\nnot a url\nhttps://b.test/2?x=1,2#part\nftp://c.test/\n")
    rows, bad = read(path)
    assert rows == [(url, None) for url in URLS]
    assert bad == [(4, "not an http(s) URL"), (6, "not an http(s) URL")]


def test_gzipped_list_is_decompressed(tmp_path):
    path = tmp_path / "urls.txt.gz"
    path.write_bytes(gzip.compress("\n".join(URLS).encode()))
    assert read(path) == ([(url, None) for url in URLS], [])


def test_csv_quoting_bom_and_text_column(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text(
        '\ufeffurl,caption\nhttp://a.test/1,one\n"https://b.test/2?x=1,2#part","two, quoted\non two lines"\n,no url\n',
        encoding="utf-8",
    )
    rows, bad = read(path, text_column="caption")
    assert rows == [(URLS[0], "one"), (URLS[1], "two, quoted\non two lines")]
    assert bad == [(5, "not an http(s) URL")]


def test_tsv_with_a_named_url_column(tmp_path):
    path = tmp_path / "u.tsv"
    path.write_text("id\tlink\n1\thttp://a.test/1\n2\thttps://b.test/2?x=1,2#part\n3\n")
    rows, bad = read(path, url_column="link")
    assert [url for url, _ in rows] == URLS and bad == [(4, "too few columns")]


def test_csv_row_too_large_for_the_csv_module_is_one_bad_line(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text(
        f"url,text\nhttp://a.test/1,{'x' * 200_000}\nhttps://b.test/2?x=1,2#part,ok\n".replace(",2#", "%2C2#")
    )
    rows, bad = read(path)
    assert rows == [("https://b.test/2?x=1%2C2#part", None)] and len(bad) == 1 and "field limit" in bad[0][1]


def test_jsonl_reports_broken_lines(tmp_path):
    path = tmp_path / "u.jsonl"
    path.write_text(
        '{"url": "http://a.test/1", "caption": "one"}\n'
        "broken line\n"
        "[1, 2]\n"
        '{"link": "http://c.test/"}\n'
        '{"url": 42}\n'
        "\n"
        '{"URL": "https://b.test/2?x=1,2#part"}\n'
    )
    rows, bad = read(path, text_column="caption")
    assert rows == [(URLS[0], "one"), (URLS[1], None)]
    assert [line for line, _ in bad] == [2, 3, 4, 5]
    assert bad[1][1] == "not a JSON object" and bad[2][1] == "no 'url' key"


def test_parquet_with_text_column_and_null_urls(tmp_path):
    path = tmp_path / "u.parquet"
    pq.write_table(pa.table({"URL": [URLS[0], None, URLS[1]], "text": ["a", "b", None]}), path)
    rows, bad = read(path, text_column="text")  # "url" finds "URL"
    assert rows == [(URLS[0], "a"), (URLS[1], None)] and bad == [(2, "not an http(s) URL")]


@pytest.mark.parametrize("name", ["u.csv", "u.parquet"])
def test_a_missing_column_is_named_with_the_file(tmp_path, name):
    path = tmp_path / name
    if name.endswith(".csv"):
        path.write_text("link\nhttp://a.test/1\n")
    else:
        pq.write_table(pa.table({"link": [URLS[0]]}), path)
    with pytest.raises(ValueError, match=rf"{name}: no column 'url' \(columns: \['link'\]\)"):
        read(path)


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("http://a.test/", "http://a.test/"),
        (" https://a.test/x y.jpg ", "https://a.test/x%20y.jpg"),
        ("HTTP://A.test/", "HTTP://A.test/"),
        ("http://a.test/\tb", None),
        ("javascript:alert(1)", None),
        ("//a.test/x", None),
        ("http://", None),
        ("http://a.test:99999/", None),
        ("UNLIKELY", None),
    ],
)
def test_fetchable_url(text, url):
    assert fetchable_url(text) == url


def test_read_url_list_dofn_sends_bad_lines_to_rejects(tmp_path):
    path = tmp_path / "urls.txt"
    path.write_text("http://a.test/1\nnope\nhttp://b.test/2\n")
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        out = pipeline | beam.Create([str(path)]) | beam.ParDo(ReadUrlList()).with_outputs(REJECTS, main="urls")
        assert_that(out.urls, equal_to([("http://a.test/1", None), ("http://b.test/2", None)]), label="urls")
        assert_that(
            out[REJECTS] | beam.Filter(is_reject) | beam.Map(lambda r: (r.reason, r.item)),
            equal_to([(BAD_URL_LINE, f"{path}:2")]),
            label="rejects",
        )


def test_real_laion_style_pairs(testdata):
    path = testdata / "annotations" / "laion_pairs" / "img2dataset_test_10000.parquet"
    assert pq.read_schema(path).names[:2] == ["URL", "TEXT"]
    rows, bad = read(path, url_column="URL", text_column="TEXT")
    assert len(rows) + len(bad) == 10_000
    assert len(rows) == 9_999 and bad == [(4675, "not an http(s) URL")]  # the URL is the word "UNLIKELY"
    assert all(url.startswith(("http://", "https://")) and " " not in url for url, _ in rows)
    assert sum(1 for _, text in rows if text) == 9_999
    assert rows[0] == (
        "http://direct.rhapsody.com/imageserver/v2/albums/Alb.131805200/images/170x170.jpg",
        "Classical Masterpieces: Xerses & More, Vol. 8 by Various Artists",
    )


@pytest.mark.parametrize("name", ["empty.csv", "empty.tsv", "empty.parquet", "empty.jsonl", "empty.txt"])
def test_an_empty_list_has_no_rows(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    assert read(path, text_column="caption") == ([], [])


def test_a_list_that_cannot_be_read_is_rejected_by_name_and_the_other_lists_go_on(tmp_path):
    good, empty, broken, headless = (tmp_path / n for n in ("good.csv", "empty.parquet", "broken.parquet", "x.csv"))
    good.write_text("url\nhttp://a.test/1\n")
    empty.write_bytes(b"")
    broken.write_bytes(b"PAR1 this is not parquet")
    headless.write_text("link\nhttp://b.test/2\n")
    paths = [str(p) for p in (good, empty, broken, headless)]
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        out = pipeline | beam.Create(paths) | beam.ParDo(ReadUrlList()).with_outputs(REJECTS, main="urls")
        assert_that(out.urls, equal_to([("http://a.test/1", None)]), label="urls")
        assert_that(
            out[REJECTS]
            | beam.Filter(is_reject)
            | beam.Map(lambda r: (r.reason, r.item, "parquet" in r.detail or "'url'" in r.detail)),
            equal_to([(BAD_URL_LIST, str(broken), True), (BAD_URL_LIST, str(headless), True)]),
            label="rejects",
        )
