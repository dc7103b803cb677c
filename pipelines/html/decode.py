"""Bytes of a web page -> correct Unicode text, even when the page lies about its charset.

Evidence in a browser's order (WHATWG): byte-order mark, the HTTP header, `<meta>` in the first
bytes, then detection. A declared charset only wins if the bytes decode under it; valid UTF-8 with
multi-byte sequences beats a single-byte label (a common mislabel); UTF-8 pages with stray
windows-1252 bytes keep their UTF-8 and have the stray bytes read as windows-1252.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([a-zA-Z0-9_:.\-]+)""", re.I)
META_SCAN_BYTES = 4096
# WHATWG's label mapping, where it differs from Python's codecs.
_WHATWG = {
    "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252",
    "us-ascii": "cp1252", "l1": "cp1252", "iso-8859-9": "cp1254", "latin5": "cp1254", "iso-8859-11": "cp874",
    "tis-620": "cp874", "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
    "shift_jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "windows-31j": "cp932", "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949", "big5": "big5hkscs", "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8",
}  # fmt: skip
_SINGLE_BYTE = frozenset(
    {"cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1257", "cp874", "iso8859-2", "iso8859-15"}
)


_CP1252_FALLBACK = "flamingo-curate-cp1252-fallback"


def _decode_stray_bytes_as_cp1252(error: UnicodeDecodeError) -> tuple[str, int]:
    """Mixed pages: UTF-8 text with a few windows-1252 bytes pasted in (an é as the single byte 0xE9)."""
    stray = error.object[error.start : error.end]
    return stray.decode("cp1252", errors="replace"), error.end


codecs.register_error(_CP1252_FALLBACK, _decode_stray_bytes_as_cp1252)


@dataclass(frozen=True)
class DecodedHtml:
    text: str
    encoding: str  # the Python codec used
    source: str  # "bom", "http-header", "meta", "utf-8", "utf-8-repaired", "detected" or "fallback"


def decode_html(body: bytes, content_type: str = "") -> DecodedHtml:
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return DecodedHtml(body[len(bom) :].decode(encoding, errors="replace"), encoding, "bom")
    try:  # the common case: one strict decode
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    declared = [(_codec(_label(_HEADER_CHARSET, content_type)), "http-header"), (_codec(_meta_label(body)), "meta")]
    if text is not None:
        # Valid UTF-8 with non-ASCII bytes is almost never an accident, whatever the label says.
        if body.isascii() or not any(codec in _SINGLE_BYTE for codec, _ in declared):
            return DecodedHtml(text, "utf-8", "utf-8")
        first = next(((c, s) for c, s in declared if c), None)
        if first is None or first[0] in _SINGLE_BYTE:
            return DecodedHtml(text, "utf-8", "utf-8")
    for codec, source in declared:
        if codec and codec != "utf-8":
            try:
                return DecodedHtml(body.decode(codec), codec, source)
            except UnicodeDecodeError:
                continue
    if _mostly_utf8(body):
        return DecodedHtml(body.decode("utf-8", errors=_CP1252_FALLBACK), "utf-8", "utf-8-repaired")
    best = from_bytes(body).best()
    if best is not None:
        return DecodedHtml(str(best), best.encoding, "detected")
    return DecodedHtml(body.decode("cp1252", errors="replace"), "cp1252", "fallback")


def _label(pattern: re.Pattern, value: str) -> str | None:
    match = pattern.search(value or "")
    return match.group(1) if match else None


def _meta_label(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:META_SCAN_BYTES])
    return match.group(1).decode("ascii", errors="ignore") if match else None


def _codec(label: str | None) -> str | None:
    """The Python codec for a charset label (WHATWG mapping first), None if unknown."""
    if not label:
        return None
    label = label.strip().lower()
    label = _WHATWG.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _mostly_utf8(body: bytes) -> bool:
    """UTF-8 with a few stray bytes: at least nine valid multi-byte characters for each invalid sequence.

    A page really in a single-byte charset fails on nearly every non-ASCII byte, so the margin is wide.
    """
    text = body.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    valid = sum(1 for ch in text if ord(ch) > 0x7F) - invalid
    return valid > 0 and valid >= 9 * invalid
