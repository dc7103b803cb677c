"""Bytes of a web page -> correct Unicode text, even when the page lies about its charset.

Evidence in a browser's order (WHATWG): byte-order mark, the HTTP header's charset, a `<meta>`
charset in the first 4 KB, then detection. Labels are mapped the way browsers map them (latin1
and ascii are windows-1252, gb2312 is gb18030, ...); unknown labels are ignored. Where real pages
differ from their labels:

- valid UTF-8 with non-ASCII bytes is UTF-8, whatever the label says (almost never an accident);
- a page that is UTF-8 but for a few pasted windows-1252 bytes keeps its UTF-8, and only those
  bytes are read as windows-1252;
- a label the bytes don't fit (utf-8 on a latin page, say) is skipped, not obeyed with U+FFFD.

The common case, a valid UTF-8 page, costs one strict decode and two small regex searches.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

META_SCAN_BYTES = 4096
# A non-UTF-8 page is still read as UTF-8 when the bytes in valid multi-byte characters outnumber the
# invalid sequences this many times. Measured: legacy pages (EUC-JP worst) stay below 0.6, real mixed
# UTF-8/windows-1252 pages are above 25.
MIXED_UTF8_RATIO = 4
# A label (or a detected charset) may leave one bad sequence, plus one per this many non-ASCII
# characters, so that a truncated multi-byte character doesn't cost a whole GBK or Shift_JIS page.
NON_ASCII_PER_TOLERATED_BAD = 200
# charset_normalizer's default (0.2) rejects short texts dense with diacritics (a Polish paragraph in
# iso-8859-2); the least chaotic candidate wins anyway, so a looser cut only lets detection answer.
DETECTION_MAX_CHAOS = 0.5

# WHATWG Encoding Standard labels, by the Python codec that decodes them.
_LABELS_BY_CODEC = {
    "utf-8": "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8",
    "cp866": "866 cp866 csibm866 ibm866",
    "iso8859-2": "csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 iso_8859-2:1987 l2 latin2",
    "iso8859-3": "csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 iso_8859-3:1988 l3 latin3",
    "iso8859-4": "csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 iso_8859-4:1988 l4 latin4",
    "iso8859-5": "csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595 iso_8859-5 iso_8859-5:1988",
    "iso8859-6": "arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 iso-8859-6 iso-8859-6-e "
    "iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6 iso_8859-6:1987",
    "iso8859-7": "csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126 iso8859-7 iso88597 "
    "iso_8859-7 iso_8859-7:1987 sun_eu_greek",
    "iso8859-8": "csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138 iso8859-8 iso88598 "
    "iso_8859-8 iso_8859-8:1988 visual csiso88598i iso-8859-8-i logical",
    "iso8859-10": "csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6",
    "iso8859-13": "iso-8859-13 iso8859-13 iso885913",
    "iso8859-14": "iso-8859-14 iso8859-14 iso885914",
    "iso8859-15": "csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9",
    "iso8859-16": "iso-8859-16",
    "koi8-r": "cskoi8r koi koi8 koi8-r koi8_r",
    "koi8-u": "koi8-ru koi8-u",
    "mac-roman": "csmacintosh mac macintosh x-mac-roman",
    "mac-cyrillic": "x-mac-cyrillic x-mac-ukrainian",
    "cp874": "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874",
    "cp1250": "cp1250 windows-1250 x-cp1250",
    "cp1251": "cp1251 windows-1251 x-cp1251",
    "cp1252": "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 iso8859-1 iso88591 "
    "iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252",
    "cp1253": "cp1253 windows-1253 x-cp1253",
    "cp1254": "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 iso_8859-9:1989 l5 latin5 "
    "windows-1254 x-cp1254",
    "cp1255": "cp1255 windows-1255 x-cp1255",
    "cp1256": "cp1256 windows-1256 x-cp1256",
    "cp1257": "cp1257 windows-1257 x-cp1257",
    "cp1258": "cp1258 windows-1258 x-cp1258",
    "gb18030": "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk gb18030",
    "big5hkscs": "big5 big5-hkscs cn-big5 csbig5 x-x-big5",
    "euc_jp": "cseucpkdfmtjapanese euc-jp x-euc-jp",
    "iso2022_jp": "csiso2022jp iso-2022-jp",
    "cp932": "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis",
    "cp949": "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 ksc5601 ksc_5601 "
    "windows-949",
    "utf-16-be": "unicodefffe utf-16be",
    "utf-16-le": "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le",
}
CODEC_BY_LABEL = {label: codec for codec, labels in _LABELS_BY_CODEC.items() for label in labels.split()}
# What detection may answer, most common on the web first: near-ties go to the earlier one.
_DETECTABLE = (
    "cp1252", "cp1251", "cp932", "gb18030", "cp949", "euc_jp", "iso8859-2", "cp1250", "big5hkscs", "cp1256",
    "cp1254", "iso8859-15", "cp1253", "iso8859-7", "cp1255", "cp874", "koi8-r", "koi8-u", "cp1257", "iso8859-13",
    "cp1258", "iso8859-5", "cp866",
)  # fmt: skip
_COHERENCE_TIE = 0.01

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([\w:.\-]+)""", re.I | re.A)
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([\w:.\-]+)""", re.I)
_SCRIPT_OR_STYLE_TAG = re.compile(rb"<(/?)(?:script|style)\b[^<>]*>", re.I)
_TAG = re.compile(rb"<[^<>]*>")  # [^<>] rather than [^>]: linear time even on unclosed tags

# Windows-1252 as browsers read it: Python's cp1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined,
# the WHATWG maps them to U+0081... The same table reads stray bytes inside UTF-8 pages.
_WINDOWS_1252 = [bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256)]
_AS_WINDOWS_1252 = "pipelines.html.decode:windows-1252"


def _bytes_as_windows_1252(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "".join(_WINDOWS_1252[b] for b in error.object[error.start : error.end]), error.end


codecs.register_error(_AS_WINDOWS_1252, _bytes_as_windows_1252)


@dataclass(frozen=True)
class DecodedHtml:
    text: str
    encoding: str  # the Python codec used: "utf-8", "cp1252", "gb18030", ...
    # Why that codec:
    #   "bom"            a byte-order mark
    #   "http-header"    the Content-Type charset
    #   "meta"           <meta charset> or <meta http-equiv=content-type> in the first 4 KB
    #   "valid-utf-8"    valid UTF-8, with no label or against a legacy label
    #   "utf-8-repaired" UTF-8 with a few stray bytes, read as windows-1252
    #   "detected"       charset detection on the page's text
    #   "fallback"       nothing fit: windows-1252, which maps every byte
    source: str


def decode_html(body: bytes, content_type: str = "") -> DecodedHtml:
    """Decode a page's raw bytes; `content_type` is the HTTP Content-Type value, if any. Never raises."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            rest = body[len(bom) :]
            if codec == "utf-8":
                return DecodedHtml(rest.decode(codec, errors=_AS_WINDOWS_1252), codec, "bom")
            return DecodedHtml(rest.decode(codec, errors="replace"), codec, "bom")

    declared = [
        (codec, source)
        for codec, source in ((_header_codec(content_type), "http-header"), (_meta_codec(body), "meta"))
        if codec
    ]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if declared and declared[0][0] == "utf-8":
            return DecodedHtml(text, "utf-8", declared[0][1])
        # Pure ASCII reads the same in every ASCII-compatible codec; the label matters only for
        # 7-bit codecs (iso-2022-jp) and for UTF-16 named in the header.
        if declared and body.isascii() and (labelled := _decode(body, declared[0][0])) is not None:
            return DecodedHtml(labelled, declared[0][0], declared[0][1])
        return DecodedHtml(text, "utf-8", "valid-utf-8")

    if _mostly_utf8(body):
        return DecodedHtml(body.decode("utf-8", errors=_AS_WINDOWS_1252), "utf-8", "utf-8-repaired")
    for codec, source in declared:
        if codec != "utf-8" and (text := _decode(body, codec)) is not None:
            return DecodedHtml(text, codec, source)
    for codec in _detect(body):
        if (text := _decode(body, codec)) is not None:
            return DecodedHtml(text, codec, "detected")
    return DecodedHtml(body.decode("cp1252", errors=_AS_WINDOWS_1252), "cp1252", "fallback")


def codec_for_label(label: str) -> str | None:
    """The Python codec for a WHATWG charset label, None for labels browsers don't know either."""
    return CODEC_BY_LABEL.get(label.strip().lower())


def _header_codec(content_type: str) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return codec_for_label(match.group(1)) if match else None


def _meta_codec(body: bytes) -> str | None:
    match = _META_CHARSET.search(body, 0, META_SCAN_BYTES)
    if not match:
        return None
    codec = codec_for_label(match.group(1).decode("ascii"))
    # WHATWG: a <meta> readable as ASCII can't be in UTF-16, whatever it says.
    return "utf-8" if codec in ("utf-16-le", "utf-16-be") else codec


def _decode(body: bytes, codec: str) -> str | None:
    """The text if the bytes fit the codec: strictly, or but for a rare bad sequence (which becomes U+FFFD)."""
    if codec.startswith("utf-16") and b"\x00" not in body[:1024]:
        return None  # HTML in UTF-16 is half NUL bytes: without them the label is wrong
    errors = _AS_WINDOWS_1252 if codec == "cp1252" else "strict"
    try:
        return body.decode(codec, errors=errors)
    except UnicodeDecodeError:
        pass
    text = body.decode(codec, errors="replace")
    bad = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    return text if bad <= 1 + non_ascii // NON_ASCII_PER_TOLERATED_BAD else None


def _mostly_utf8(body: bytes) -> bool:
    """UTF-8 but for a few stray bytes: valid multi-byte characters far outnumber invalid sequences."""
    text = body.decode("utf-8", errors="replace")
    # Each multi-byte character is one character for two to four bytes, so the length difference
    # counts them (weighted by size) without a Python-level loop over the text.
    return len(body) - len(text) >= MIXED_UTF8_RATIO * text.count("\ufffd")


def _detect(body: bytes) -> list[str]:
    """Likely codecs, best first, judged on the page's text only (markup would drown the language signal)."""
    sample = _text_bytes(body)
    if sample.isascii():
        return []  # the only non-ASCII bytes are in markup: nothing to judge by
    try:
        matches = list(
            from_bytes(
                sample, cp_isolation=list(_DETECTABLE), threshold=DETECTION_MAX_CHAOS, preemptive_behaviour=False
            )
        )
        if not matches:
            return []
        # Least chaos, then most coherent; near-ties (German reads the same in cp1250 and cp1252)
        # go to the charset that is more common on the web.
        least_chaos = min(m.chaos for m in matches)
        tied = [m for m in matches if m.chaos <= least_chaos]
        top = max(m.coherence for m in tied)
        near = {
            codecs.lookup(name).name
            for m in tied
            if m.coherence >= top - _COHERENCE_TIE
            for name in m.could_be_from_charset
        }
        rank = {codec: i for i, codec in enumerate(_DETECTABLE)}
        best = sorted(near, key=lambda codec: (rank.get(codec, len(rank)), codec))
        return list(dict.fromkeys(best + [codecs.lookup(m.encoding).name for m in matches]))
    except Exception:  # a heuristic library must not take the page down with it
        return []


def _text_bytes(body: bytes) -> bytes:
    """The page without tags, scripts and styles, still as bytes."""
    kept, in_script = [], False
    # split() interleaves the text between tags with each tag's captured "/" (closing) or "" (opening).
    for i, piece in enumerate(_SCRIPT_OR_STYLE_TAG.split(body)):
        if i % 2:
            in_script = not piece
        elif not in_script:
            kept.append(piece)
    return _TAG.sub(b" ", b" ".join(kept))
