import json
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import (
    EOC,
    IMAGE,
    ImageSegment,
    ImageTextPair,
    InterleavedDocument,
    TextSegment,
    VideoTextPair,
    neutralise_special_tokens,
)
from schemas.samples import document_to_sample, pair_to_sample, validate_sample
from schemas.tokens import _ANGLE_LIKE, _TOKEN_LIKE, _normalise_with_origin

ATTACKS = [
    "<image>",
    "<EOC>",
    "<IMAGE>",
    "<eoc>",
    "< image >",
    "</image>",
    "<image/>",
    "\uff1cimage\uff1e",  # full-width brackets
    "\ufe64EOC\ufe65",  # small-form brackets
    "<im\u200bage>",  # zero-width space inside
    "<\u2060EOC\u2060>",  # word joiners
    "<\uff49\uff4d\uff41\uff47\uff45>",  # full-width letters
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_token_lookalikes_are_neutralised(attack):
    cleaned = neutralise_special_tokens(f"before {attack} after")
    assert IMAGE not in cleaned and EOC not in cleaned
    normalised, _ = _normalise_with_origin(cleaned)
    assert not _TOKEN_LIKE.search(normalised)
    assert cleaned.startswith("before ") and cleaned.endswith(" after")


def test_ordinary_text_is_untouched():
    for text in ["a < b and c > d", "<b>bold</b> in prose", "Keepers’ notes — “mirrors”", "图像 <img>", ""]:
        assert neutralise_special_tokens(text) == text


def test_neutralised_forms_are_readable():
    assert neutralise_special_tokens("see <image> and <EOC>") == "see (image) and (EOC)"


def test_angle_like_set_covers_all_of_unicode():
    found = {
        chr(cp)
        for cp in range(sys.maxunicode + 1)
        if not 0xD800 <= cp <= 0xDFFF and any(c in "<>" for c in unicodedata.normalize("NFKC", chr(cp)))
    }
    assert found == set(_ANGLE_LIKE)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["<", ">", "\uff1c", "\ufe65", "image", "EOC", "eoc", " ", "/", "\u200b", "x"])))
def test_no_sequence_of_pieces_survives_as_a_token(pieces):
    text = "".join(pieces)
    doc = InterleavedDocument(
        doc_id="0" * 32,
        url="http://example.test/",
        segments=(TextSegment(neutralise_special_tokens(text)), ImageSegment(url="http://example.test/a.jpg")),
    )
    assert doc.text.count(IMAGE) == 1
    assert doc.text.count(EOC) == 2
    normalised, _ = _normalise_with_origin(neutralise_special_tokens(text))
    assert not _TOKEN_LIKE.search(normalised)


def test_every_text_a_record_holds_is_neutralised_when_it_is_built():
    attack = "a <image> b \uff1cEOC\uff1e c <im\u200bage>"
    safe = "a (image) b (EOC) c (image)"
    image = ImageSegment(url="http://example.test/a.jpg", alt=attack, title=attack, caption=attack)
    assert (image.alt, image.title, image.caption) == (safe, safe, safe)
    assert TextSegment(attack).text == safe
    assert ImageTextPair(key="0" * 32, url="http://example.test/a.jpg", caption=attack, kind="alt").caption == safe
    assert VideoTextPair(key="0" * 32, url="http://example.test/v.mp4", text=attack).text == safe
    doc = InterleavedDocument(doc_id="0" * 32, url="http://example.test/", segments=(TextSegment(attack), image))
    assert doc.text.count(IMAGE) == 1 and doc.text.count(EOC) == 2


def test_validation_finds_a_forged_token_written_past_the_records():
    pair = ImageTextPair(key="0" * 32, url="http://example.test/a.jpg", caption="a bird", kind="alt")
    sample = pair_to_sample(pair, b"jpeg")
    assert validate_sample(sample) == []
    meta = json.loads(sample["json"])
    meta["caption"] = "a <image> bird"
    forged = {**sample, "json": json.dumps(meta).encode(), "txt": b"a <image> bird"}
    problems = validate_sample(forged)
    assert any("caption holds a special-token look-alike" in p for p in problems)
    assert any("txt holds a special-token look-alike" in p for p in problems)
    doc = InterleavedDocument(doc_id="1" * 32, url="http://example.test/", segments=(TextSegment("a bird"),))
    meta = json.loads(document_to_sample(doc, [])["json"])
    meta["segments"][0]["text"] = "a \uff1cEOC\uff1e bird"
    assert any("segment 0 text" in p for p in validate_sample({"__key__": "1" * 32, "json": json.dumps(meta).encode()}))
