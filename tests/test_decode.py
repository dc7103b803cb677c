"""Charset decoding: real crawled pages (legacy charsets, lying labels, mixed encodings) and hand-made cases."""

from __future__ import annotations

import codecs
import gzip
import html
import json
import random
import re
import unicodedata
from functools import cache
from pathlib import Path

import conftest
import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.html.decode import CODEC_BY_LABEL, DecodedHtml, codec_for_label, decode_html

TRAFILATURA = "web/html/trafilatura"
SPACES = re.compile(r"\s+")
# UTF-8 read as windows-1252: what a wrong decode of these pages looks like.
MOJIBAKE = ("Ã©", "Ã¤", "Ã¶", "Ã¼", "ÃŸ", "Ã³", "Ã§", "â€™", "â€œ", "â€“", "Å‚", "Ä…", "Å¼", "Ä™")
# Gold snippets that are nowhere in the stored bytes, so no decoder can find them: the gold was
# most likely taken from another crawl of the page, or from text a script adds. Each is boilerplate
# (a "without" snippet). test_excluded_snippets_are_really_absent proves every one absent under every
# plausible charset, so this list can't hide a decoding bug.
NOT_ON_THE_PAGE = {
    # a comments heading and an advertiser's name
    "_Ziemniaki_na_sz_stej_sur_wka_na_dziesi_tej_._Jak_pomaga_eby_nie_zaszkodzi___PORADNIK_W_PIGU_CE_.html": {
        "cocopanda.pl",
        "Komentarze",
    },
    # the live site's footer; the stored copy is the Wayback Machine's, with archive.org's footer
    "archive.org.he.xinhuanet.com.25340717.html": {"copyright (c) 2000", "ICP证010042号"},
    # sidebar headlines
    "pocketpc.ch.auslieferung.html": {
        "Gewinnspiel: Das neue Quizdue",
        "[Apple Pay] und eure Erfahrun",
        "Review: InLine BT-POCKET falt",
    },
    # reader testimonials
    "wordsmith.org.maudlin.html": {
        "“A word in the head is worth two in the book.”",
        "“A trawl through the site’s archive yields all kinds of delights.”",
    },
    # comment links, "more from" boxes, a date widget, teasers, a video consent notice
    "correctiv.org.zusage.html": {"Kommentar verfassen"},
    "skateboardmsm.de.dormhagen.html": {"More from News"},
    "Angus_Barbieri._Nie_jad_przez_382_dni_-_Menway_w_INTERIA.PL.html": {" Poniedziałek"},
    "assabah.com.tn.article.html": {"كورونا يقتل"},
    "brasil247.com-militares.html": {"MAIS POPULAR", "Fique por dentro do 247"},
    "correiobraziliense.com.br-poderes.html": {"Pela Web"},
    "adac.de.kindersitze.html": {"Dieses Video wird über YouTube"},
}
# The decodings the exclusion proof tries.
EVERY_PLAUSIBLE_CODEC = ("utf-8", "cp1252", "cp1250", "iso8859-2", "gb18030")


def normalise(text: str) -> str:
    return SPACES.sub(" ", unicodedata.normalize("NFC", html.unescape(text))).strip()


def page_views(decoded: str) -> list[str]:
    """The page's text, in the forms the gold snippets quote it."""
    doc = lxml.html.document_fromstring(decoded)
    return [
        normalise(doc.text_content()),
        normalise(" ".join(doc.itertext())),  # across a <br>: "Über 45.000<br>Ferienhäuser"
        normalise(" ".join(doc.xpath("//@alt | //@title"))),  # an image's alt text, a link's title
    ]


def snippets_found(snippets: set[str], decoded: str) -> set[str]:
    views = page_views(decoded)
    return {s for s in snippets if any(normalise(s) in view for view in views)}


@cache
def gold(root: Path) -> dict[str, set[str]]:
    """File name -> every "with" and "without" snippet of the trafilatura evaluation pages."""
    entries = json.loads((root / TRAFILATURA / "evaldata_subset.json").read_text(encoding="utf-8")).values()
    return {e["stored_as"]: set(e["with"]) | set(e["without"]) for e in entries}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "gold_page" in metafunc.fixturenames:
        root = conftest.testdata_root()
        names = sorted(gold(root)) if (root / TRAFILATURA / "evaldata_subset.json").is_file() else []
        # Without the data, one placeholder run lets the `testdata` fixture skip (or fail under CI).
        metafunc.parametrize("gold_page", names or ["(no test data)"])


def test_every_gold_page_is_stored(testdata):
    pages = gold(testdata)
    assert len(pages) == 81
    assert all((testdata / TRAFILATURA / name).is_file() for name in pages)
    assert set(NOT_ON_THE_PAGE) <= set(pages)


def test_gold_snippets_are_in_the_decoded_page(testdata, gold_page):
    body = (testdata / TRAFILATURA / gold_page).read_bytes()
    decoded = decode_html(body)
    expected = gold(testdata)[gold_page] - NOT_ON_THE_PAGE.get(gold_page, set())
    assert snippets_found(expected, decoded.text) == expected, (decoded.encoding, decoded.source)
    assert "\ufffd" not in decoded.text
    text = page_views(decoded.text)[0]
    assert not [m for m in MOJIBAKE if m in text], (decoded.encoding, decoded.source)


def test_excluded_snippets_are_really_absent(testdata):
    for name, snippets in NOT_ON_THE_PAGE.items():
        body = (testdata / TRAFILATURA / name).read_bytes()
        for codec in EVERY_PLAUSIBLE_CODEC:
            decoded = body.decode(codec, errors="replace")
            assert not snippets_found(snippets, decoded), (name, codec)
            assert not any(normalise(s) in normalise(decoded) for s in snippets), (name, codec)


def index_rows(root: Path) -> list[dict[str, str]]:
    lines = (root / "web/html/pages_index.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]


def read_page(path: Path) -> bytes:
    body = path.read_bytes()
    return gzip.decompress(body) if path.suffix == ".gz" else body


def test_legacy_charset_pages_decode_with_their_real_charset(testdata):
    legacy = [r for r in index_rows(testdata) if r["meta_charset"] not in ("", "utf-8") or r["valid_utf8"] == "False"]
    assert len(legacy) == 32
    for row in legacy:
        body = read_page(testdata / row["file"])
        decoded = decode_html(body)
        label = row["meta_charset"]
        if body.isascii():  # reads the same in any of them: the label is kept
            expected = codec_for_label(label), "meta"
        elif row["valid_utf8"] == "True":  # labelled legacy, really UTF-8
            expected = "utf-8", "valid-utf-8"
        elif label == "utf-8":  # UTF-8 with a few windows-1252 bytes pasted in
            expected = "utf-8", "utf-8-repaired"
        elif label:
            expected = codec_for_label(label), "meta"
        else:  # no label in the first 4 KB; the page declares iso-8859-1 only at byte 58128
            assert re.search(rb"<meta[^>]*charset=iso-8859-1", body, re.I)
            expected = "cp1252", "detected"
        assert (decoded.encoding, decoded.source) == expected, row["file"]
        assert "\ufffd" not in decoded.text, row["file"]


# Hand-made pages.
FRENCH = "Le café du coin est fermé depuis l'été ; les habitués déçus vont à la brasserie près de l'église."
GERMAN = "Grüße aus Köln: Über die Brücke gehen wir zum Büro, später zur Mühle am Fluß, dann nach Düsseldorf."
POLISH = "Zażółć gęślą jaźń. Pchnąć w tę łódź jeża lub ośm skrzyń fig. Źle się dzieje w państwie, gdy urzędnicy śpią."
CZECH = "Příliš žluťoučký kůň úpěl ďábelské ódy. Nechť již hříšné saxofony ďáblů rozezvučí síň úděsnými tóny."
CHINESE = "新华网北京电 记者从国务院新闻办公室获悉，我国经济运行总体平稳，就业形势保持稳定，居民收入继续增长。"
RUSSIAN = "Съешь же ещё этих мягких французских булок, да выпей чаю. В чащах юга жил бы цитрус?"
JAPANESE = "東京都は本日、新しい交通計画を発表しました。市民の皆さまのご意見をお待ちしております。"
KOREAN = "서울시는 오늘 새로운 교통 계획을 발표했습니다. 시민 여러분의 의견을 기다립니다."


def page(text: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}<title>t</title></head><body><p>{text}</p></body></html>"


def test_valid_utf8_is_one_strict_decode():
    body = page(GERMAN, '<meta charset="utf-8">').encode()
    assert decode_html(body) == DecodedHtml(body.decode(), "utf-8", "meta")
    assert decode_html(body, "text/html; charset=UTF-8").source == "http-header"
    assert decode_html(page(GERMAN).encode()).source == "valid-utf-8"


def test_byte_order_marks_win():
    latin1 = "text/html; charset=iso-8859-1"
    assert decode_html(codecs.BOM_UTF8 + page(GERMAN).encode(), latin1) == DecodedHtml(page(GERMAN), "utf-8", "bom")
    for codec, bom in (("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE)):
        text = page(CHINESE, '<meta charset="gb2312">')
        assert decode_html(bom + text.encode(codec), latin1) == DecodedHtml(text, codec, "bom")


def test_header_beats_meta_and_meta_beats_detection():
    text = page("Łódź i Wrocław", '<meta charset="windows-1250">')
    by_header = decode_html(text.encode("cp1250"), "text/html; charset=iso-8859-2")
    assert (by_header.encoding, by_header.source) == ("iso8859-2", "http-header")
    assert decode_html(text.encode("cp1250")) == DecodedHtml(text, "cp1250", "meta")
    http_equiv = page(POLISH, "<meta http-equiv='Content-Type' content='text/html; charset=windows-1250'>")
    assert decode_html(http_equiv.encode("cp1250")) == DecodedHtml(http_equiv, "cp1250", "meta")


def test_meta_is_only_looked_for_near_the_top():
    late = page("x" * 5000 + "<meta charset=koi8-r>" + FRENCH)
    assert decode_html(late.encode("cp1252")) == DecodedHtml(late, "cp1252", "detected")


def test_header_says_utf8_but_bytes_are_windows_1252():
    decoded = decode_html(page(FRENCH).encode("cp1252"), "text/html; charset=utf-8")
    assert decoded == DecodedHtml(page(FRENCH), "cp1252", "detected")


def test_header_lies_and_meta_tells_the_truth():
    text = page(CZECH, '<meta charset="windows-1250">')
    assert decode_html(text.encode("cp1250"), "text/html; charset=utf-8") == DecodedHtml(text, "cp1250", "meta")


@pytest.mark.parametrize("label", ["iso-8859-1", "windows-1252", "gb2312", "shift_jis"])
def test_legacy_label_on_utf8_bytes_reads_utf8(label):
    text = page("café – “quoted” " + CHINESE, f'<meta charset="{label}">')
    assert decode_html(text.encode()) == DecodedHtml(text, "utf-8", "valid-utf-8")
    assert decode_html(text.encode(), f"text/html; charset={label}").encoding == "utf-8"


def test_gb2312_chinese():
    labelled = page(CHINESE + "朱镕基", '<meta charset="gb2312">')  # 镕 is in GBK, not in GB2312
    assert decode_html(labelled.encode("gbk")) == DecodedHtml(labelled, "gb18030", "meta")
    assert decode_html(page(CHINESE).encode("gb2312")) == DecodedHtml(page(CHINESE), "gb18030", "detected")


def test_one_truncated_character_does_not_cost_a_legacy_page():
    truncated = "摘要".encode("gbk")[:3] + b"...</p>"
    body = page(CHINESE, '<meta charset="gbk">').encode("gbk").replace(b"</p>", truncated)
    decoded = decode_html(body)
    assert (decoded.encoding, decoded.source, decoded.text.count("\ufffd")) == ("gb18030", "meta", 1)
    assert CHINESE + "摘" in decoded.text


@pytest.mark.parametrize(("text", "codec"), [(POLISH, "cp1250"), (CZECH, "cp1250"), (POLISH, "iso8859-2")])
def test_central_european_pages(text, codec):
    labelled = page(text, f"<meta http-equiv='Content-Type' content='text/html; charset={codec}'>")
    assert decode_html(labelled.encode(codec)) == DecodedHtml(labelled, codec, "meta")
    assert decode_html(page(text).encode(codec)) == DecodedHtml(page(text), codec, "detected")


@pytest.mark.parametrize(
    ("text", "codec", "detected"),
    [
        (RUSSIAN, "cp1251", "cp1251"),
        (RUSSIAN, "koi8-r", "koi8-r"),
        (JAPANESE, "shift_jis", "cp932"),
        (JAPANESE, "euc_jp", "euc_jp"),
        (KOREAN, "euc_kr", "cp949"),
        (GERMAN, "cp1252", "cp1252"),
        (FRENCH, "cp1252", "cp1252"),
    ],
)
def test_unlabelled_legacy_pages_are_detected(text, codec, detected):
    assert decode_html(page(text).encode(codec)) == DecodedHtml(page(text), detected, "detected")


def test_utf8_with_pasted_windows_1252_is_repaired():
    # é, à and ë are UTF-8 lead bytes followed by ASCII: bs4's detwingle skips them as if they started
    # a character. The curly quotes are UTF-8 continuation bytes.
    pasted = "<p>Un “café” en été à Noël.</p>"
    expected = page(GERMAN + " " + POLISH).replace("</body>", pasted + "</body>")
    body = expected.encode().replace(pasted.encode(), pasted.encode("cp1252"))
    assert decode_html(body, "text/html; charset=utf-8") == DecodedHtml(expected, "utf-8", "utf-8-repaired")


def test_a_latin1_label_on_mostly_utf8_bytes_is_repaired_too():
    text = page(GERMAN, '<meta charset="iso-8859-1">')
    body = text.encode().replace("Fluß".encode(), "Fluß".encode("cp1252"))
    assert decode_html(body) == DecodedHtml(text, "utf-8", "utf-8-repaired")


def test_windows_1252_reads_every_byte_like_a_browser():
    # Python's cp1252 leaves 0x81 and 0x8D undefined; the WHATWG's windows-1252 maps them to U+0081, U+008D.
    body = b'<meta charset="windows-1252"><p>\x81\x8d\x93quotes\x94</p>'
    assert decode_html(body) == DecodedHtml('<meta charset="windows-1252"><p>\x81\x8d“quotes”</p>', "cp1252", "meta")


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("iso-8859-1", "cp1252"),
        ("Latin1", "cp1252"),
        ("US-ASCII", "cp1252"),
        (" ascii ", "cp1252"),
        ("gb2312", "gb18030"),
        ("GBK", "gb18030"),
        ("iso-8859-9", "cp1254"),
        ("tis-620", "cp874"),
        ("shift_jis", "cp932"),
        ("x-sjis", "cp932"),
        ("windows-31j", "cp932"),
        ("euc-kr", "cp949"),
        ("big5", "big5hkscs"),
        ("utf8", "utf-8"),
        ("unicode-1-1-utf-8", "utf-8"),
        ("utf-16", "utf-16-le"),
    ],
)
def test_whatwg_label_mapping(label, codec):
    assert codec_for_label(label) == codec


@pytest.mark.parametrize("label", ["rot13", "base64", "hex", "undefined", "utf-7", "unicode_escape", "x-bogus", ""])
def test_labels_browsers_do_not_know_are_ignored(label):
    assert codec_for_label(label) is None
    utf8 = decode_html(page(GERMAN, f"<meta charset={label}>").encode(), f"text/html; charset={label}")
    assert utf8.source == "valid-utf-8"
    assert decode_html(page(FRENCH).encode("cp1252"), f"text/html; charset={label}").encoding == "cp1252"


def test_every_mapped_codec_exists_under_its_canonical_name():
    assert len(CODEC_BY_LABEL) > 200
    for codec in set(CODEC_BY_LABEL.values()):
        assert codecs.lookup(codec).name == codec


def test_utf16_and_7_bit_labels():
    japanese = page(JAPANESE)
    by_header = decode_html(japanese.encode("utf-16-le"), "text/html; charset=utf-16")
    assert by_header == DecodedHtml(japanese, "utf-16-le", "http-header")
    assert decode_html(page("plain").encode(), "text/html; charset=utf-16").encoding == "utf-8"  # no NULs: a lie
    assert decode_html(page("plain", '<meta charset="utf-16">').encode()).source == "meta"  # WHATWG: means utf-8
    seven_bit = decode_html(japanese.encode("iso2022_jp"), "text/html; charset=iso-2022-jp")
    assert seven_bit == DecodedHtml(japanese, "iso2022_jp", "http-header")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x00" * 100,
        codecs.BOM_UTF8,
        codecs.BOM_UTF16_LE + b"\x00",
        codecs.BOM_UTF8 + b"\xff\xfe\x80",
        random.Random(0).randbytes(5000),
        bytes(range(256)) * 10,
        b"<" * 10000 + b"<script" * 1000 + b"\xe9",
    ],
)
@pytest.mark.parametrize("content_type", ["", "text/html; charset=bogus", "text/html; charset=utf-16", "charset="])
def test_never_raises(body, content_type):
    decoded = decode_html(body, content_type)
    assert isinstance(decoded.text, str) and decoded.encoding and decoded.source


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from(["", "text/html; charset=utf-8", "text/html; charset=gbk"]))
def test_any_bytes_decode_and_valid_utf8_stays_utf8(body, content_type):
    decoded = decode_html(body, content_type)
    assert isinstance(decoded.text, str)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return
    if not body.isascii() and not body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8)):
        assert (decoded.text, decoded.encoding) == (text, "utf-8")
