"""Charset decoding on real crawled pages (legacy charsets, lying labels) and on hand-made cases."""

import codecs
import html
import json
import os
import re

import lxml.html
import pytest

from pipelines.html.decode import decode_html

SPACES = re.compile(r"\s+")
# Decodings an oracle tries: the best any of them achieves is what a correct decoder must reach.
CANDIDATES = ["utf-8", "cp1252", "cp1250", "iso8859-2", "gb18030"]
MOJIBAKE = ("Ã©", "Ã¼", "Ã¶", "â€™", "â€œ", "Ã¤")


def page_text(text: str) -> str:
    return SPACES.sub(" ", lxml.html.document_fromstring(text).text_content()) if text.strip() else ""


def found(snippets, text) -> set[str]:
    return {s for s in snippets if SPACES.sub(" ", html.unescape(s)) in text}


def trafilatura_cases(testdata):
    folder = testdata / "web/html/trafilatura"
    gold = json.loads((folder / "evaldata_subset.json").read_text())
    return [
        (folder / e["stored_as"], e["with"] + e["without"]) for e in gold.values() if (folder / e["stored_as"]).exists()
    ]


def test_real_pages_decode_as_well_as_the_best_candidate(testdata):
    cases = trafilatura_cases(testdata)
    assert len(cases) >= 80
    for path, snippets in cases:
        body = path.read_bytes()
        ours = page_text(decode_html(body).text)
        best = max((found(snippets, page_text(body.decode(c, errors="replace"))) for c in CANDIDATES), key=len)
        assert best <= found(snippets, ours), f"{path.name}: missing {best - found(snippets, ours)}"
        assert not any(m in ours for m in MOJIBAKE), f"{path.name}: mojibake"


def test_legacy_charset_pages_use_their_charset(testdata):
    index = (testdata / "web/html/pages_index.tsv").read_text().splitlines()
    header = index[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=False)) for line in index[1:]]
    legacy = [r for r in rows if "trafilatura" in r["file"] and r["meta_charset"] not in ("", "utf-8")]
    expected = {
        "iso-8859-1": "cp1252",
        "windows-1252": "cp1252",
        "windows-1250": "cp1250",
        "iso-8859-2": "iso8859-2",
        "gb2312": "gb18030",
    }
    assert len(legacy) >= 20
    for row in legacy:
        decoded = decode_html((testdata / row["file"]).read_bytes())
        if row["valid_utf8"] == "True":
            assert decoded.encoding == "utf-8", row["file"]  # labelled legacy, really UTF-8
        else:
            assert decoded.encoding == codecs.lookup(expected[row["meta_charset"]]).name, row["file"]
        assert "\ufffd" not in decoded.text, row["file"]


def test_byte_order_marks():
    assert decode_html(codecs.BOM_UTF8 + "é".encode()).text == "é"
    assert decode_html(codecs.BOM_UTF16_LE + "日本".encode("utf-16-le")).text == "日本"


def test_header_beats_meta_when_both_decode():
    body = '<meta charset="windows-1250"><p>Łódź</p>'.encode("cp1250")
    assert decode_html(body, "text/html; charset=iso-8859-2").encoding == "iso8859-2"
    assert decode_html(body).text.endswith("Łódź</p>")


def test_lying_labels():
    french = "<p>Le café du coin est fermé depuis l'été ; les habitués déçus vont à la brasserie près de l'église.</p>"
    assert decode_html(french.encode("cp1252"), "text/html; charset=utf-8").text == french  # header lies
    utf8 = '<meta charset="iso-8859-1"><p>café – “quoted”</p>'.encode()
    decoded = decode_html(utf8)
    assert decoded.encoding == "utf-8" and "café – “quoted”" in decoded.text  # meta lies


def test_legacy_chinese_and_central_european():
    chinese = '<meta charset="gb2312"><p>新华网北京电</p>'.encode("gb2312")
    assert "新华网北京电" in decode_html(chinese).text
    polish = "<html><head><meta http-equiv='Content-Type' content='text/html; charset=windows-1250'></head><p>Zażółć gęślą jaźń</p>"
    assert "Zażółć gęślą jaźń" in decode_html(polish.encode("cp1250")).text


def test_mixed_utf8_and_cp1252_is_repaired():
    german = (
        "<p>Grüße aus Köln: Über die Brücke gehen wir zum Büro, später zur Mühle am Fluß, dann nach Düsseldorf.</p>"
    )
    body = german.encode() + "<p>café</p>".encode("cp1252")  # a snippet pasted from an old CMS
    decoded = decode_html(body)
    assert decoded.source == "utf-8-repaired"
    assert german in decoded.text and "café" in decoded.text


@pytest.mark.parametrize("body", [b"", os.urandom(5000), bytes(range(256)) * 10])
def test_never_raises(body):
    assert isinstance(decode_html(body, "text/html; charset=bogus-charset").text, str)
