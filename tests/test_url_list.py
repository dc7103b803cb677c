import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.readers.url_list import read_url_list

URLS = ["http://a.test/1", "https://b.test/2?x=1,2"]


def test_text_list(tmp_path):
    path = tmp_path / "urls.txt"
    path.write_text("# a comment\n\nhttp://a.test/1\nnot a url\nhttps://b.test/2?x=1,2\n")
    assert [u for u, _ in read_url_list(str(path))] == URLS


def test_csv_tsv_jsonl_parquet(tmp_path):
    (tmp_path / "u.csv").write_text('url,caption\nhttp://a.test/1,one\n"https://b.test/2?x=1,2","two, quoted"\n')
    assert list(read_url_list(str(tmp_path / "u.csv"), text_column="caption")) == [
        (URLS[0], "one"),
        (URLS[1], "two, quoted"),
    ]
    (tmp_path / "u.tsv").write_text("link\tx\nhttp://a.test/1\t1\nhttps://b.test/2?x=1,2\t2\n")
    assert [u for u, _ in read_url_list(str(tmp_path / "u.tsv"), url_column="link")] == URLS
    (tmp_path / "u.jsonl").write_text('{"url": "http://a.test/1"}\nbroken line\n{"url": "https://b.test/2?x=1,2"}\n')
    assert [u for u, _ in read_url_list(str(tmp_path / "u.jsonl"))] == URLS
    pq.write_table(pa.table({"url": URLS, "text": ["a", "b"]}), tmp_path / "u.parquet")
    assert list(read_url_list(str(tmp_path / "u.parquet"), text_column="text")) == list(
        zip(URLS, ["a", "b"], strict=True)
    )


def test_missing_column_is_named(tmp_path):
    (tmp_path / "u.csv").write_text("link\nhttp://a.test/1\n")
    with pytest.raises(ValueError, match="no column 'url'"):
        list(read_url_list(str(tmp_path / "u.csv")))


def test_real_laion_style_pairs(testdata):
    path = testdata / "annotations/laion_pairs/img2dataset_test_10000.parquet"
    names = pq.read_schema(path).names
    url_column = next(n for n in names if n.lower() == "url")
    text_column = next(n for n in names if n.lower() in ("caption", "text"))
    rows = list(read_url_list(str(path), url_column=url_column, text_column=text_column))
    assert len(rows) >= 9_000
    assert all(url.startswith("http") for url, _ in rows)
    assert sum(1 for _, text in rows if text) >= 9_000
