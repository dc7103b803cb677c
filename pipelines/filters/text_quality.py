"""Text rules for web documents, in datatrove's style: each check returns a reason string or None.

Two sets of published rules:

- OBELICS (Laurençon et al. 2023, arXiv 2306.16527) node-level rules,
  which decide whether a paragraph is kept, and document-level rules, which decide whether the
  document is kept. Thresholds are those of OBELICS's filtering config,
  huggingface/OBELICS `obelisc/configs/config_filter_web_documents.yaml` (commit 1bfce04), read by
  `obelics/processors/web_document_filtering.py`; the measures follow that code.
- MassiveWeb's repetition rules (Gopher, Rae et al. 2021, arXiv 2112.11446, appendix A, table A1),
  at document level.

Not implemented, because their data does not ship with an installed package (and nothing is ever
downloaded): OBELICS's flagged-word ratio (its porn word list), common-word ratio (word counts
from OSCAR), KenLM perplexity, and its fastText language-id score (the pipeline has its own
`--min_language_score` on py3langid's probability instead).

Words. Text is lower-cased and split into tokens: runs of letters, combining marks and digits,
with inner apostrophes kept ("don't", "l'homme"), which is OBELICS's whitespace split with
special characters stripped from both ends. Tokens made only of digits are not words (OBELICS
strips digits as special characters), but they count for MassiveWeb's n-grams. Chinese and Japanese
put no spaces between words, so each Han or kana character is one token (a Chinese paragraph would
otherwise be "one word" and fail every word-count rule), and in word counts `cjk_chars_per_word`
(1.5) such characters make one word. Korean, which does space its words, is split like Latin text.
Thai, Lao, Khmer and Burmese are split at spaces only (phrases, not words): their word counts are
low, and no stop-word list exists for them, so that rule is skipped.

Stop words. OBELICS used one English list. Here each language uses jusText's list (the ~400 most
frequent Wikipedia words of that language, `justext.get_stoplist`), loaded on first use. Languages
jusText has no list for (Chinese, Japanese, Thai, ...; see `STOPWORD_LANGUAGES`) skip the stop-word
rule, and their `stopword_ratio` is None.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np

OBELICS_CONFIG = "OBELICS config_filter_web_documents.yaml"
GOPHER_TABLE = "Gopher/MassiveWeb table A1"


def _rule(default, source: str):
    """A threshold with its default and where that default comes from (shown in --help)."""
    return field(default=default, metadata={"source": source})


@dataclass(frozen=True)
class TextFilterConfig:
    """Every threshold of the text rules; each default comes from the source named beside it."""

    # Rule groups (a CLI flag --no_<name> turns a group off).
    paragraph_rules: bool = _rule(True, "OBELICS node-level text rules")
    document_rules: bool = _rule(True, "OBELICS document-level text rules")
    repetition_rules: bool = _rule(True, "MassiveWeb repetition rules (Gopher appendix A)")
    stopword_rules: bool = _rule(True, "the stop-word ratio rules at both levels (languages with a list)")

    # Paragraph (node) level: OBELICS config_filter_web_documents.yaml, *_node_level_* keys.
    min_paragraph_words: int = _rule(4, f"{OBELICS_CONFIG}: number_words_node_level_min_cutoff")
    max_paragraph_words: int = _rule(1000, f"{OBELICS_CONFIG}: number_words_node_level_max_cutoff")
    # OBELICS's node-level cutoff is 0.1; on a paragraph a name said twice is 10% of its 10-grams: at 0.1
    # the rule dropped 40 paragraphs of the aeb pages' gold articles and 3 lines of furniture, at 0.3
    # one gold paragraph (a string of the same 10 characters) and still every run of "hahaha".
    max_paragraph_char_repetition: float = _rule(
        0.3, f"ours (OBELICS: 0.1, {OBELICS_CONFIG}: character_repetition_node_level_max_cutoff)"
    )
    max_paragraph_word_repetition: float = _rule(
        0.1, f"{OBELICS_CONFIG}: word_repetition_node_level_max_cutoff (word 5-grams)"
    )
    max_paragraph_special_char_ratio: float = _rule(
        0.3, f"{OBELICS_CONFIG}: special_character_ratio_node_level_max_cutoff"
    )
    min_paragraph_stopword_ratio: float = _rule(0.3, f"{OBELICS_CONFIG}: stopword_ratio_node_level_min_cutoff")
    min_paragraph_punctuation_ratio: float = _rule(
        0.001, f"{OBELICS_CONFIG}: punctuation_ratio_node_level_min_cutoff (so: no punctuation at all)"
    )
    min_paragraph_tokens_for_punctuation: int = _rule(
        12, f"{OBELICS_CONFIG}: min_number_words_to_check_punctuation_ratio_node_level (words + marks)"
    )

    # Document level: OBELICS config_filter_web_documents.yaml, *_doc_level_* keys.
    min_document_words: int = _rule(10, f"{OBELICS_CONFIG}: number_words_doc_level_min_cutoff")
    max_document_words: int = _rule(2000, f"{OBELICS_CONFIG}: number_words_doc_level_max_cutoff")
    max_document_char_repetition: float = _rule(
        0.1, f"{OBELICS_CONFIG}: character_repetition_doc_level_max_cutoff (character 10-grams)"
    )
    max_document_word_repetition: float = _rule(
        0.2, f"{OBELICS_CONFIG}: word_repetition_doc_level_max_cutoff (word 5-grams)"
    )
    max_document_special_char_ratio: float = _rule(
        0.275, f"{OBELICS_CONFIG}: special_character_ratio_doc_level_max_cutoff"
    )
    min_document_stopword_ratio: float = _rule(0.35, f"{OBELICS_CONFIG}: stopword_ratio_doc_level_min_cutoff")
    min_document_punctuation_ratio: float = _rule(0.03, f"{OBELICS_CONFIG}: punctuation_ratio_doc_level_min_cutoff")

    # How many CJK characters make one word in the word counts (ours, not OBELICS's, which was English
    # only): Chinese and Japanese words average about 1.5 characters, so without this a Chinese article
    # would hit the 2000-word cap at ~1300 words and the punctuation rule after ~8 words.
    cjk_chars_per_word: float = _rule(1.5, "ours: CJK characters per word in word counts (Chinese words average ~1.5)")

    # n-gram sizes of the OBELICS repetition ratios, both levels.
    char_repetition_ngram: int = _rule(10, f"{OBELICS_CONFIG}: character_repetition_length_*_level")
    word_repetition_ngram: int = _rule(5, f"{OBELICS_CONFIG}: word_repetition_length_*_level")

    # MassiveWeb repetition (document level): Gopher, arXiv 2112.11446, table A1.
    max_duplicate_line_fraction: float = _rule(0.30, f"{GOPHER_TABLE}: duplicate line fraction")
    max_duplicate_paragraph_fraction: float = _rule(0.30, f"{GOPHER_TABLE}: duplicate paragraph fraction")
    max_duplicate_line_char_fraction: float = _rule(0.20, f"{GOPHER_TABLE}: duplicate line character fraction")
    max_duplicate_paragraph_char_fraction: float = _rule(
        0.20, f"{GOPHER_TABLE}: duplicate paragraph character fraction"
    )
    max_top_2gram_char_fraction: float = _rule(0.20, f"{GOPHER_TABLE}: top 2-gram character fraction")
    max_top_3gram_char_fraction: float = _rule(0.18, f"{GOPHER_TABLE}: top 3-gram character fraction")
    max_top_4gram_char_fraction: float = _rule(0.16, f"{GOPHER_TABLE}: top 4-gram character fraction")
    max_duplicate_5gram_char_fraction: float = _rule(0.15, f"{GOPHER_TABLE}: duplicate 5-gram character fraction")
    max_duplicate_6gram_char_fraction: float = _rule(0.14, f"{GOPHER_TABLE}: duplicate 6-gram character fraction")
    max_duplicate_7gram_char_fraction: float = _rule(0.13, f"{GOPHER_TABLE}: duplicate 7-gram character fraction")
    max_duplicate_8gram_char_fraction: float = _rule(0.12, f"{GOPHER_TABLE}: duplicate 8-gram character fraction")
    max_duplicate_9gram_char_fraction: float = _rule(0.11, f"{GOPHER_TABLE}: duplicate 9-gram character fraction")
    max_duplicate_10gram_char_fraction: float = _rule(0.10, f"{GOPHER_TABLE}: duplicate 10-gram character fraction")

    def top_ngram_limits(self) -> tuple[tuple[int, float], ...]:
        return tuple((n, getattr(self, f"max_top_{n}gram_char_fraction")) for n in TOP_NGRAM_SIZES)

    def duplicate_ngram_limits(self) -> tuple[tuple[int, float], ...]:
        return tuple((n, getattr(self, f"max_duplicate_{n}gram_char_fraction")) for n in DUPLICATE_NGRAM_SIZES)


TOP_NGRAM_SIZES = (2, 3, 4)
DUPLICATE_NGRAM_SIZES = (5, 6, 7, 8, 9, 10)

# Languages written without spaces between words, where the word n-gram rules (OBELICS's word
# repetition ratio, MassiveWeb's top and duplicate n-grams; all made for space-separated words) are
# skipped: with one character per "word", a repeated 5-gram is a repeated 5-character phrase (a
# two- or three-word name), which ordinary Chinese and Japanese text is full of. The character
# repetition ratio and the duplicate line and paragraph rules still apply to them.
UNSPACED_LANGUAGES = frozenset({"zh", "ja", "yue", "wuu", "th", "lo", "km", "my", "bo", "dz"})


# --- characters and words -------------------------------------------------------------------------

# BMP blocks whose letters are one word each: Han ideographs, kana. Beyond the BMP, planes 2 and 3
# (CJK extensions B-H) are all Han.
_CJK_BLOCKS = (
    (0x3005, 0x3007),
    (0x3021, 0x3029),
    (0x3031, 0x3035),
    (0x303B, 0x303C),
    (0x3040, 0x30FF),
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFF66, 0xFF9F),
)
# Outside the BMP the classes are coarse, so that `re` can still match them with a bitmap (a class
# with hundreds of astral ranges is scanned range by range, ~10x slower): plane 1 up to U+1EFFF
# (historic scripts, math letters) counts as letters; U+1F000-U+1FFFF (emoji, symbols) does not.
_PLANE_1_LETTERS = "\\U00010000-\\U0001efff"
_CJK_PLANES = "\\U00020000-\\U0003ffff"


def _class_ranges(code_points: list[int]) -> str:
    """A regex character class body (no brackets) for sorted code points, as \\U escapes."""
    parts = []
    start = previous = code_points[0]
    for cp in [*code_points[1:], -1]:
        if cp == previous + 1:
            previous = cp
            continue
        parts.append(f"\\U{start:08x}" if start == previous else f"\\U{start:08x}-\\U{previous:08x}")
        start = previous = cp
    return "".join(parts)


def _character_classes() -> tuple[str, str, str]:
    """(letters and marks, word characters outside CJK, CJK word characters), from Unicode categories.

    Built once at import (about 15 ms). Python's `\\w` leaves out combining marks, which would cut
    Hindi or Thai words apart at every vowel sign, so the classes are spelled out.
    """
    cjk = [False] * 0x10000
    for low, high in _CJK_BLOCKS:
        cjk[low : high + 1] = [True] * (high - low + 1)
    letters, word, cjk_word = [], [], []
    for cp in range(0x10000):
        kind = unicodedata.category(chr(cp))[0]
        if kind in "LM":
            letters.append(cp)
        if kind in "LMN":
            (cjk_word if cjk[cp] else word).append(cp)
    return (
        _class_ranges(letters) + _PLANE_1_LETTERS + _CJK_PLANES,
        _class_ranges(word) + _PLANE_1_LETTERS,
        _class_ranges(cjk_word) + _CJK_PLANES,
    )


_LETTERS_AND_MARKS, _WORD_CHARS, _CJK_CHARS = _character_classes()
_LETTER_RUNS = re.compile(f"[{_LETTERS_AND_MARKS}]+")
_CJK_CHAR = re.compile(f"[{_CJK_CHARS}]")
_TOKEN = re.compile(f"[{_CJK_CHARS}]|[{_WORD_CHARS}]+(?:'[{_WORD_CHARS}]+)*")
# The same for lower-cased ASCII text, whose only letters, marks and numbers are a-z and 0-9: the
# small classes match faster. (Most paragraphs of the web are ASCII.)
_ASCII_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_ASCII_LETTERS = string.ascii_letters.encode()
_APOSTROPHES = ("’", "ʼ", "＇")  # read as "'"
# Sentence punctuation: OBELICS's {. , ; : ? !} and their equivalents in other scripts (full-width
# and ideographic, Arabic and Urdu, Devanagari, Armenian, Ethiopic, Burmese, Khmer, Tibetan), and "…".
_PUNCTUATION = re.compile(
    "[.,;:?!\u2026\u3002\uff0c\u3001\uff1b\uff1a\uff1f\uff01\uff61\uff64\u060c\u061b\u061f\u06d4\u0964\u0965\u0589\u055d\u1362\u1363\u1364\u1365\u1366\u104a\u104b\u17d4\u17d5\u0f0d]"
)
_PARAGRAPH_SEPARATOR = "\n\n"


def tokens(text: str) -> list[str]:
    """Lower-cased tokens: words and numbers, each CJK character its own token."""
    if text.isascii():
        return _ASCII_TOKEN.findall(text.lower())
    return _TOKEN.findall(_straight_apostrophes(text.lower()))


@dataclass(frozen=True)
class _Split:
    tokens: tuple[str, ...]
    words: tuple[str, ...]
    cjk: int


@functools.lru_cache(maxsize=1024)
def _split(text: str) -> _Split:
    """A paragraph's tokens, words and CJK characters, split once: the paragraph rules and then the
    document rules (whose tokens are those of its paragraphs, end to end) read the same split."""
    all_tokens = tuple(tokens(text))
    return _Split(all_tokens, tuple(words_of(all_tokens)), cjk_characters(text))


def _straight_apostrophes(text: str) -> str:
    for apostrophe in _APOSTROPHES:
        if apostrophe in text:
            text = text.replace(apostrophe, "'")
    return text


def words_of(all_tokens: Sequence[str]) -> list[str]:
    """The tokens that are words: not made of digits only."""
    return list(itertools.filterfalse(str.isdigit, all_tokens))


def words(text: str) -> list[str]:
    """The words of `text` (see the module docstring for how text is split)."""
    return words_of(tokens(text))


def cjk_characters(text: str) -> int:
    """How many of the text's tokens are CJK characters (each one a token)."""
    return 0 if text.isascii() else len(_CJK_CHAR.findall(text))


def word_count(count: int, cjk: int, cjk_chars_per_word: float) -> float:
    """A token or word count with its `cjk` CJK characters counted as `cjk / cjk_chars_per_word` words."""
    return count - cjk + cjk / cjk_chars_per_word if cjk else float(count)


# --- OBELICS measures -----------------------------------------------------------------------------


def special_character_ratio(text: str) -> float:
    """Share of characters that are not letters or combining marks: digits, spaces, punctuation, symbols.

    OBELICS's special characters are ASCII punctuation, digits and whitespace plus a list of symbols
    and emoji, so spaces count: ordinary English prose scores about 0.2 against its 0.3 / 0.275.
    """
    if not text:
        return 0.0
    if text.isascii():
        return len(text.encode("ascii").translate(None, _ASCII_LETTERS)) / len(text)
    return len(_LETTER_RUNS.sub("", text)) / len(text)


def char_repetition_ratio(text: str, n: int = 10) -> float:
    """OBELICS/ROOTS: the occurrences of the k most frequent repeated character n-grams over all n-gram
    occurrences, with k = floor(sqrt(number of distinct n-grams)); only n-grams seen twice or more count."""
    return char_repetition_ratios([text], n)[0]


_HASH_MULTIPLIER = np.uint64(0x100000001B3)  # FNV-1's 64-bit prime
_TEXT_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # 2^64 / golden ratio: text numbers land far apart


def char_repetition_ratios(texts: Sequence[str], n: int = 10) -> list[float]:
    """`char_repetition_ratio` of each text, counted together: one round of numpy operations for all of
    a page's paragraphs instead of one per paragraph (their fixed cost outweighed the counting).

    N-grams are told apart by a 64-bit polynomial hash, with the text's number mixed in (a collision
    among the ~10^4 n-grams of a page has odds of about 10^-11); only n-grams wholly inside one text
    count."""
    windows = [max(len(text) - n + 1, 0) for text in texts]
    if not any(windows):
        return [0.0] * len(texts)
    lengths = np.fromiter(map(len, texts), np.int64, count=len(texts))
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), np.uint32).astype(np.uint64)
    starts = len(codes) - n + 1
    hashes = codes[:starts].copy()
    for offset in range(1, n):
        hashes *= _HASH_MULTIPLIER  # wraps around modulo 2^64
        hashes += codes[offset : offset + starts]
    text_of = np.repeat(np.arange(len(texts)), lengths)[:starts]
    inside = np.arange(starts) + n <= np.cumsum(lengths)[text_of]
    text_of = text_of[inside]
    # Each distinct (text, n-gram) is a run once sorted; its length is the n-gram's count in that text.
    keys = hashes[inside] + text_of.astype(np.uint64) * _TEXT_MULTIPLIER
    order = np.argsort(keys)
    keys = keys[order]
    run_starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    counts = np.diff(np.append(run_starts, len(keys)))
    run_text = text_of[order[run_starts]]
    top_k = np.array([math.isqrt(d) for d in np.bincount(run_text, minlength=len(texts)).tolist()])
    repeated = counts > 1
    counts, run_text = counts[repeated], run_text[repeated]
    # Within each text, counts largest first: a run ranks among the k most frequent by its position.
    order = np.lexsort((-counts, run_text))
    counts, run_text = counts[order], run_text[order]
    rank = np.arange(len(counts)) - np.searchsorted(run_text, run_text)
    counted = rank < top_k[run_text]
    top = np.bincount(run_text[counted], weights=counts[counted], minlength=len(texts))
    return [int(repeated) / total if total else 0.0 for repeated, total in zip(top.tolist(), windows, strict=True)]


def word_repetition_ratio(word_list: Sequence[str], n: int = 5) -> float:
    """OBELICS/ROOTS: share of word n-gram occurrences whose n-gram occurs more than once. (Counted
    with tuples: this runs on every paragraph, mostly a few dozen words, where numpy costs more.)"""
    if len(word_list) < n:
        return 0.0
    counts = Counter(zip(*(word_list[i:] for i in range(n)), strict=False))
    total = len(word_list) - n + 1
    return (total - list(counts.values()).count(1)) / total


def punctuation_ratio(text: str, token_count: float) -> float:
    """OBELICS: punctuation marks over (tokens + punctuation marks); 0.0 for empty text."""
    marks = len(_PUNCTUATION.findall(text))
    return marks / (token_count + marks) if token_count + marks else 0.0


# py3langid's language codes -> jusText stop-list names: every jusText language that py3langid can
# identify. Checked on the real pages of testdata (readability, trafilatura and aeb pages): the
# document ratio of ordinary articles is 0.36-0.58 in ar, cs, de, es, fi, fr, hu, id, it, ko, no, pl,
# pt and ru, and about 0.5 in English, so even agglutinative languages clear OBELICS's floors with
# these 400-word lists; the other languages are unchecked.
STOPWORD_LANGUAGES = {
    "af": "Afrikaans", "an": "Aragonese", "ar": "Arabic", "arz": "Arabic", "ary": "Arabic", "az": "Azerbaijani",
    "be": "Belarusian", "bg": "Bulgarian", "bn": "Bengali", "br": "Breton", "bs": "Bosnian", "ca": "Catalan",
    "cs": "Czech", "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek", "en": "English",
    "eo": "Esperanto", "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian", "fi": "Finnish",
    "fr": "French", "fy": "West_Frisian", "ga": "Irish", "gl": "Galician", "gu": "Gujarati", "he": "Hebrew",
    "hi": "Hindi", "hr": "Croatian", "ht": "Haitian", "hu": "Hungarian", "hy": "Armenian", "id": "Indonesian",
    "ig": "Igbo", "is": "Icelandic", "it": "Italian", "jv": "Javanese", "ka": "Georgian", "kk": "Kazakh",
    "kn": "Kannada", "ko": "Korean", "ku": "Kurdish", "ky": "Kyrgyz", "la": "Latin", "lb": "Luxembourgish",
    "lt": "Lithuanian", "lv": "Latvian", "mk": "Macedonian", "ml": "Malayalam", "mr": "Marathi", "ms": "Malay",
    "mt": "Maltese", "nb": "Norwegian_Bokmal", "ne": "Nepali", "nl": "Dutch", "nn": "Norwegian_Nynorsk",
    "no": "Norwegian_Bokmal", "oc": "Occitan", "pl": "Polish", "pt": "Portuguese", "qu": "Quechua",
    "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "sq": "Albanian", "sr": "Serbian",
    "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "tk": "Turkmen", "tl": "Tagalog",
    "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek", "vi": "Vietnamese", "vo": "Volapuk",
    "wa": "Walloon", "yo": "Yoruba",
}  # fmt: skip


@functools.cache
def stopwords(lang: str) -> frozenset[str] | None:
    """jusText's stop list for `lang` (lower-cased), or None where the rule is not applied."""
    name = STOPWORD_LANGUAGES.get(lang)
    if name is None:
        return None
    import justext  # imported on first use: only documents in a listed language need it

    return frozenset(_straight_apostrophes(word.lower()) for word in justext.get_stoplist(name))


def stopword_ratio(word_list: Sequence[str], lang: str) -> float | None:
    """Share of words in the language's stop list; None where the language has no list."""
    stoplist = stopwords(lang)
    if stoplist is None:
        return None
    if not word_list:
        return 0.0
    return sum(map(stoplist.__contains__, word_list)) / len(word_list)


# --- MassiveWeb (Gopher) measures ------------------------------------------------------------------


def duplicate_fractions(items: list[str]) -> tuple[float, float]:
    """(share of items that repeat an earlier one, share of all characters that are in those repeats).

    Gopher's duplicate line/paragraph fractions: the first occurrence is not a duplicate, each later
    one is."""
    if not items:
        return 0.0, 0.0
    seen: set[str] = set()
    duplicates = duplicate_chars = total_chars = 0
    for item in items:
        total_chars += len(item)
        if item in seen:
            duplicates += 1
            duplicate_chars += len(item)
        else:
            seen.add(item)
    return duplicates / len(items), (duplicate_chars / total_chars if total_chars else 0.0)


def top_ngram_char_fraction(token_list: list[str], n: int) -> float:
    """Gopher: characters covered by the most frequent word n-gram (all its occurrences, overlaps
    counted once) over the characters of all words. 0.0 when no n-gram occurs twice."""
    return WordNgrams(token_list).top_char_fraction(n)


def duplicate_ngram_char_fraction(token_list: list[str], n: int) -> float:
    """Gopher: characters covered by word n-grams that occur more than once (every occurrence, the
    first included; characters under overlapping n-grams counted once) over the characters of all words."""
    return WordNgrams(token_list).duplicate_char_fraction(n)


class WordNgrams:
    """The word n-grams of one token list as integer ids, equal n-grams having equal ids: the ids of
    the n-grams come from those of the (n-1)-grams and the next token, one `np.unique` per size, so
    every Gopher measure of a document shares the work and none hashes a tuple of strings."""

    def __init__(self, token_list: Sequence[str]) -> None:
        vocabulary = {token: i for i, token in enumerate(dict.fromkeys(token_list))}
        ids = np.fromiter(map(vocabulary.__getitem__, token_list), np.int64, count=len(token_list))
        self._ids = {1: ids}
        self._vocabulary_size = len(vocabulary)
        self._lengths = np.fromiter(map(len, token_list), np.int64, count=len(token_list))
        self._total_chars = int(self._lengths.sum())

    def __len__(self) -> int:
        return len(self._lengths)

    def ids(self, n: int) -> np.ndarray:
        """The id of the n-gram starting at each position (len(tokens) - n + 1 of them)."""
        if n not in self._ids:
            key = self.ids(n - 1)[:-1] * self._vocabulary_size + self._ids[1][n - 1 :]
            self._ids[n] = np.unique(key, return_inverse=True)[1]
        return self._ids[n]

    def top_char_fraction(self, n: int) -> float:
        if len(self) < n:
            return 0.0
        ids = self.ids(n)
        counts = np.bincount(ids)
        most = counts.max()
        if most < 2:
            return 0.0
        occurrences = counts[ids] == most
        top = ids[np.argmax(occurrences)]  # of n-grams tied for most frequent, the first to occur (as Counter)
        return self._covered_chars(n, np.flatnonzero(ids == top))

    def duplicate_char_fraction(self, n: int) -> float:
        if len(self) < n:
            return 0.0
        ids = self.ids(n)
        return self._covered_chars(n, np.flatnonzero(np.bincount(ids)[ids] > 1))

    def _covered_chars(self, n: int, starts: np.ndarray) -> float:
        """Share of token characters inside the n-token windows starting at `starts`."""
        if not len(starts) or not self._total_chars:
            return 0.0
        edges = np.bincount(starts, minlength=len(self) + 1) - np.bincount(starts + n, minlength=len(self) + 1)
        covered = np.cumsum(edges[:-1]) > 0
        return int(self._lengths[covered].sum()) / self._total_chars


# --- the rules ------------------------------------------------------------------------------------


def paragraph_rejection(text: str, lang: str, config: TextFilterConfig, heading_or_item: bool = False) -> str | None:
    """Why OBELICS's node-level rules drop this paragraph, or None to keep it. A heading or a list item
    is not prose: the rules on prose (a minimum of words, stop words, punctuation) pass it, so that
    "1. Define early retirement" and "2. Calculate how much you need" are judged alike."""
    return paragraph_rejections([(text, heading_or_item)], lang, config)[0]


def paragraph_rejections(
    paragraphs: Sequence[tuple[str, bool]], lang: str, config: TextFilterConfig
) -> list[str | None]:
    """`paragraph_rejection` of each (text, heading_or_item), the rules in the same order; the last and
    costliest, character repetition, is measured at once for all the paragraphs that reach it."""
    reasons: list[str | None] = []
    reaching: list[int] = []
    for text, heading_or_item in paragraphs:
        reason, decided = _rejection_before_char_repetition(text, lang, config, heading_or_item)
        if not decided:
            reaching.append(len(reasons))
        reasons.append(reason)
    ratios = char_repetition_ratios([paragraphs[i][0] for i in reaching], config.char_repetition_ngram)
    for i, ratio in zip(reaching, ratios, strict=True):
        reasons[i] = "high_char_repetition_ratio" if ratio > config.max_paragraph_char_repetition else None
    return reasons


def _rejection_before_char_repetition(
    text: str, lang: str, config: TextFilterConfig, heading_or_item: bool
) -> tuple[str | None, bool]:
    """(reason, decided): decided is False when every rule but character repetition passes."""
    if not config.paragraph_rules:
        return None, True
    split = _split(text)
    all_tokens, word_list, cjk = split.tokens, split.words, split.cjk
    count = word_count(len(word_list), cjk, config.cjk_chars_per_word)
    if count < config.min_paragraph_words and not heading_or_item:
        return "too_few_words", True
    if count > config.max_paragraph_words:
        return "too_many_words", True
    if special_character_ratio(text) > config.max_paragraph_special_char_ratio:
        return "high_special_char_ratio", True
    if not heading_or_item:
        if config.stopword_rules:
            ratio = stopword_ratio(word_list, lang)
            if ratio is not None and ratio < config.min_paragraph_stopword_ratio:
                return "low_stopword_ratio", True
        marks = len(_PUNCTUATION.findall(text))
        token_count = word_count(len(all_tokens), cjk, config.cjk_chars_per_word)
        checked = token_count + marks >= config.min_paragraph_tokens_for_punctuation
        if checked and marks / (token_count + marks) < config.min_paragraph_punctuation_ratio:
            return "low_punctuation_ratio", True
    if (
        lang not in UNSPACED_LANGUAGES
        and word_repetition_ratio(word_list, config.word_repetition_ngram) > config.max_paragraph_word_repetition
    ):
        return "high_word_repetition_ratio", True
    return None, False


def document_rejection(paragraphs: list[str], lang: str, config: TextFilterConfig) -> str | None:
    """Why the document (its kept paragraphs, in order) is rejected, or None to keep it: OBELICS's
    document-level rules first, then MassiveWeb's repetition rules."""
    return judge_document(paragraphs, lang, config)[0]


def judge_document(paragraphs: list[str], lang: str, config: TextFilterConfig) -> tuple[str | None, dict[str, float]]:
    """(the rejection reason or None, the scores measured on the way). A kept document carries every
    score of `document_scores`; a rejected one those measured before the rule that rejected it."""
    document = _Document(paragraphs, lang, config)
    reason = document.rejection()
    return reason, document.scores()


def document_scores(paragraphs: list[str], lang: str, config: TextFilterConfig | None = None) -> dict[str, float]:
    """Every document measure (rounded to 4 places), for the document's metadata. `stopword_ratio` is
    absent for languages without a stop list; the n-gram fractions for unspaced languages."""
    document = _Document(paragraphs, lang, config or TextFilterConfig())
    document.measure_all()
    return document.scores()


def repetition_rejection(paragraphs: list[str], lang: str, config: TextFilterConfig) -> str | None:
    """MassiveWeb's repetition rules alone (also part of `document_rejection`)."""
    return _Document(paragraphs, lang, config).repetition_rejection()


class _Document:
    """One document's text, measured lazily: each measure computed at most once, and only when a rule
    (or `measure_all`) needs it."""

    def __init__(self, paragraphs: list[str], lang: str, config: TextFilterConfig) -> None:
        self.paragraphs = [p.strip() for p in paragraphs if p.strip()]
        self.lang = lang
        self.config = config
        self.text = _PARAGRAPH_SEPARATOR.join(self.paragraphs)
        self._scores: dict[str, float] = {}
        self._tokens: list[str] | None = None
        self._words: list[str] | None = None
        self._cjk: int | None = None
        self._token_ngrams: WordNgrams | None = None

    @property
    def tokens(self) -> list[str]:
        if self._tokens is None:
            self._tokens = [token for paragraph in self.paragraphs for token in _split(paragraph).tokens]
        return self._tokens

    @property
    def words(self) -> list[str]:
        if self._words is None:
            self._words = [word for paragraph in self.paragraphs for word in _split(paragraph).words]
        return self._words

    @property
    def token_ngrams(self) -> WordNgrams:
        if self._token_ngrams is None:
            self._token_ngrams = WordNgrams(self.tokens)
        return self._token_ngrams

    @property
    def cjk(self) -> int:
        if self._cjk is None:
            self._cjk = sum(_split(paragraph).cjk for paragraph in self.paragraphs)
        return self._cjk

    def measure(self, name: str) -> float | None:
        if name not in self._scores:
            value = self._compute(name)
            if value is None:
                return None
            self._scores[name] = value
        return self._scores[name]

    def _compute(self, name: str) -> float | None:
        config = self.config
        if name == "words":
            return word_count(len(self.words), self.cjk, config.cjk_chars_per_word)
        if name == "special_char_ratio":
            return special_character_ratio(self.text)
        if name == "stopword_ratio":
            return stopword_ratio(self.words, self.lang)
        if name == "punctuation_ratio":
            return punctuation_ratio(self.text, word_count(len(self.tokens), self.cjk, config.cjk_chars_per_word))
        if name == "char_repetition_ratio":
            return char_repetition_ratio(self.text, config.char_repetition_ngram)
        if name in ("duplicate_paragraph_fraction", "duplicate_paragraph_char_fraction"):
            fraction, chars = duplicate_fractions(self.paragraphs)
            self._scores["duplicate_paragraph_fraction"] = fraction
            self._scores["duplicate_paragraph_char_fraction"] = chars
            return self._scores[name]
        if name in ("duplicate_line_fraction", "duplicate_line_char_fraction"):
            lines = [line.strip() for p in self.paragraphs for line in p.split("\n") if line.strip()]
            fraction, chars = duplicate_fractions(lines)
            self._scores["duplicate_line_fraction"] = fraction
            self._scores["duplicate_line_char_fraction"] = chars
            return self._scores[name]
        if self.lang in UNSPACED_LANGUAGES:
            return None  # word n-gram measures
        if name == "word_repetition_ratio":
            return word_repetition_ratio(self.words, config.word_repetition_ngram)
        size = int(name.split("_")[1].removesuffix("gram"))
        if name.startswith("top_"):
            return self.token_ngrams.top_char_fraction(size)
        return self.token_ngrams.duplicate_char_fraction(size)

    def rejection(self) -> str | None:
        if self.config.document_rules:
            reason = self.obelics_rejection()
            if reason:
                return reason
        if self.config.repetition_rules:
            return self.repetition_rejection()
        return None

    def obelics_rejection(self) -> str | None:
        config = self.config
        count = self.measure("words")
        if count < config.min_document_words:
            return "too_few_words"
        if count > config.max_document_words:
            return "too_many_words"
        if self.measure("special_char_ratio") > config.max_document_special_char_ratio:
            return "high_special_char_ratio"
        if config.stopword_rules:
            ratio = self.measure("stopword_ratio")
            if ratio is not None and ratio < config.min_document_stopword_ratio:
                return "low_stopword_ratio"
        if self.measure("punctuation_ratio") < config.min_document_punctuation_ratio:
            return "low_punctuation_ratio"
        ratio = self.measure("word_repetition_ratio")
        if ratio is not None and ratio > config.max_document_word_repetition:
            return "high_word_repetition_ratio"
        if self.measure("char_repetition_ratio") > config.max_document_char_repetition:
            return "high_char_repetition_ratio"
        return None

    def repetition_rejection(self) -> str | None:
        config = self.config
        limits = [
            ("duplicate_paragraph_fraction", config.max_duplicate_paragraph_fraction),
            ("duplicate_line_fraction", config.max_duplicate_line_fraction),
            ("duplicate_paragraph_char_fraction", config.max_duplicate_paragraph_char_fraction),
            ("duplicate_line_char_fraction", config.max_duplicate_line_char_fraction),
        ]
        limits += [(f"top_{n}gram_char_fraction", limit) for n, limit in config.top_ngram_limits()]
        limits += [(f"duplicate_{n}gram_char_fraction", limit) for n, limit in config.duplicate_ngram_limits()]
        for name, limit in limits:
            value = self.measure(name)
            if value is not None and value > limit:
                return name
        return None

    def measure_all(self) -> None:
        names = [
            "words",
            "special_char_ratio",
            "stopword_ratio",
            "punctuation_ratio",
            "word_repetition_ratio",
            "char_repetition_ratio",
            "duplicate_paragraph_fraction",
            "duplicate_line_fraction",
            *(f"top_{n}gram_char_fraction" for n in TOP_NGRAM_SIZES),
            *(f"duplicate_{n}gram_char_fraction" for n in DUPLICATE_NGRAM_SIZES),
        ]
        for name in names:
            self.measure(name)

    def scores(self) -> dict[str, float]:
        return {name: round(value, 4) for name, value in self._scores.items()}


# --- command line ---------------------------------------------------------------------------------


def add_text_filter_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per TextFilterConfig field (`--min_paragraph_words 4`; `--no_repetition_rules` for groups)."""
    group = parser.add_argument_group(
        "text rules",
        "OBELICS node (paragraph) and document rules (arXiv 2306.16527; thresholds from huggingface/OBELICS "
        "obelisc/configs/config_filter_web_documents.yaml) and MassiveWeb repetition rules (Gopher, "
        "arXiv 2112.11446, table A1)",
    )
    for item in fields(TextFilterConfig):
        source = item.metadata["source"]
        if item.type in ("bool", bool):
            group.add_argument(
                f"--no_{item.name}",
                dest=item.name,
                action="store_false",
                default=item.default,
                help=f"turn off {source}",
            )
        else:
            kind = int if item.type in ("int", int) else float
            group.add_argument(
                f"--{item.name}",
                type=kind,
                default=item.default,
                metavar=kind.__name__.upper(),
                help=f"default: %(default)s ({source})",
            )


def text_filter_config_from_args(args: argparse.Namespace) -> TextFilterConfig:
    return TextFilterConfig(**{item.name: getattr(args, item.name) for item in fields(TextFilterConfig)})
