"""The special tokens of the interleaved format, and the guard that keeps page text from forging them."""

import re
import unicodedata

IMAGE = "<image>"
EOC = "<EOC>"
SPECIAL_TOKENS = (IMAGE, EOC)

# Every code point whose NFKC form contains "<" or ">" (checked against all of Unicode by a test).
_ANGLE_LIKE = frozenset("<>\ufe64\ufe65\uff1c\uff1e")
_ANY_ANGLE_LIKE = re.compile(f"[{re.escape(''.join(sorted(_ANGLE_LIKE)))}]")
# A token look-alike after normalisation: any case, spaces or a slash inside the brackets.
_TOKEN_LIKE = re.compile(r"<\s*/?\s*(image|eoc)\s*/?\s*>", re.IGNORECASE)
_SAFE_FORM = {"image": "(image)", "eoc": "(EOC)"}


def neutralise_special_tokens(text: str) -> str:
    """Rewrite anything that reads as `<image>` or `<EOC>` so that page text can never inject a token.

    Look-alikes count too: full-width or small-form brackets, other cases, inner spaces, and
    zero-width or other invisible format characters hidden inside the token.
    """
    if not _ANY_ANGLE_LIKE.search(text):
        return text
    normalised, origin = _normalise_with_origin(text)
    spans = [(origin[m.start()], origin[m.end() - 1] + 1, m.group(1).lower()) for m in _TOKEN_LIKE.finditer(normalised)]
    if not spans:
        return text
    pieces, cursor = [], 0
    for start, end, word in spans:
        pieces.append(text[cursor:start])
        pieces.append(_SAFE_FORM[word])
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _normalise_with_origin(text: str) -> tuple[str, list[int]]:
    """NFKC per character with invisible format characters dropped, and each output char's source index."""
    chars: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        if unicodedata.category(ch) == "Cf":
            continue
        for out in unicodedata.normalize("NFKC", ch):
            chars.append(out)
            origin.append(index)
    return "".join(chars), origin


def count_special_tokens(text: str) -> dict[str, int]:
    return {token: text.count(token) for token in SPECIAL_TOKENS}
