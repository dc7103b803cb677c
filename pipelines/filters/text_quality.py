"""Text rules for web documents: OBELICS-style node (paragraph) and document rules, and MassiveWeb's
repetition rules (Gopher, Rae et al. 2021, appendix A). Each check returns a reason or None.

Words: runs of letters/digits; each CJK, kana or hangul character counts as one word, since those
scripts put no spaces between words (otherwise every Chinese paragraph would be "one word").
"""

from __future__ import annotations

import argparse
import functools
import math
import re
from collections import Counter
from dataclasses import dataclass, fields

_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]|[^\W_]+")
_PUNCTUATION = re.compile(r"[.,;:!?…。，、！？；：()\"'«»“”‘’\-–—]")


# Word n-gram rules assume space-separated words; with one character per "word" they misfire.
UNSPACED_LANGUAGES = frozenset({"zh", "ja", "ko", "th", "lo", "km", "my"})


@dataclass(frozen=True)
class TextFilterConfig:
    """Every threshold of the text rules. The rule set is OBELICS's (Laurençon et al. 2023, arXiv
    2306.16527, section 3.3; its ratios come from BigScience ROOTS); the OBELICS cutoffs below are
    taken from the paper's description and should be checked against its published filtering
    config. The repetition rules and their cutoffs are Gopher/MassiveWeb's (arXiv 2112.11446, table A1)."""

    # paragraph (node) level
    min_paragraph_words: int = 1  # OBELICS keeps short nodes (headings, captions); documents are judged whole
    max_paragraph_words: int = 1000  # OBELICS
    paragraph_char_repetition_max: float = 0.65  # OBELICS/ROOTS: top character 10-grams' share of all 10-grams
    paragraph_word_repetition_max: float = 0.6  # OBELICS/ROOTS: share of words in repeated word 5-grams
    paragraph_special_char_max: float = 0.4  # OBELICS: share of characters that are neither letters, digits nor spaces
    paragraph_punctuation_min_words: int = 13  # OBELICS: a paragraph this long with no punctuation is a word list
    # document level
    min_document_words: int = 10  # OBELICS
    max_document_words: int = 100_000  # Gopher's cap
    document_char_repetition_max: float = 0.2  # OBELICS
    document_word_repetition_max: float = 0.3  # OBELICS
    document_special_char_max: float = 0.275  # OBELICS
    min_document_stopword_ratio: float = 0.1  # OBELICS applies a stop-word floor; languages without a list skip it
    # MassiveWeb repetition (document level)
    max_duplicate_paragraph_fraction: float = 0.30
    max_duplicate_paragraph_char_fraction: float = 0.20
    max_top_2gram_char_fraction: float = 0.20
    max_top_3gram_char_fraction: float = 0.18
    max_top_4gram_char_fraction: float = 0.16
    max_duplicate_5gram_char_fraction: float = 0.15
    max_duplicate_6gram_char_fraction: float = 0.14
    max_duplicate_7gram_char_fraction: float = 0.13
    max_duplicate_8gram_char_fraction: float = 0.12
    max_duplicate_9gram_char_fraction: float = 0.11
    max_duplicate_10gram_char_fraction: float = 0.10
    repetition_rules: bool = True


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def paragraph_rejection(text: str, lang: str, config: TextFilterConfig) -> str | None:
    tokens = words(text)
    if len(tokens) < config.min_paragraph_words:
        return "paragraph_too_few_words"
    if len(tokens) > config.max_paragraph_words:
        return "paragraph_too_many_words"
    if special_character_ratio(text) > config.paragraph_special_char_max:
        return "paragraph_special_characters"
    if character_repetition_ratio(text) > config.paragraph_char_repetition_max:
        return "paragraph_character_repetition"
    if word_repetition_ratio(tokens) > config.paragraph_word_repetition_max:
        return "paragraph_word_repetition"
    if len(tokens) >= config.paragraph_punctuation_min_words and not _PUNCTUATION.search(text):
        return "paragraph_no_punctuation"
    return None


def document_rejection(paragraphs: list[str], lang: str, config: TextFilterConfig) -> str | None:
    return judge_document(paragraphs, lang, config)[0]


def judge_document(paragraphs: list[str], lang: str, config: TextFilterConfig) -> tuple[str | None, dict[str, float]]:
    """(why the document is rejected or None, the measured scores): each measure computed once."""
    text = "\n".join(paragraphs)
    tokens = words(text)
    scores = _measure(text, tokens, lang)
    checks = [
        (len(tokens) < config.min_document_words, "document_too_few_words"),
        (len(tokens) > config.max_document_words, "document_too_many_words"),
        (scores["special_character_ratio"] > config.document_special_char_max, "document_special_characters"),
        (scores["character_repetition_ratio"] > config.document_char_repetition_max, "document_character_repetition"),
        (scores["word_repetition_ratio"] > config.document_word_repetition_max, "document_word_repetition"),
        (scores.get("stopword_ratio", 1.0) < config.min_document_stopword_ratio, "document_few_stopwords"),
    ]
    reason = next((why for failed, why in checks if failed), None)
    if reason is None and config.repetition_rules and lang not in UNSPACED_LANGUAGES:
        reason = repetition_rejection(paragraphs, tokens, config)
    return reason, {name: round(value, 4) for name, value in scores.items()}


def repetition_rejection(paragraphs: list[str], tokens: list[str], config: TextFilterConfig) -> str | None:
    """MassiveWeb's rules: duplicated paragraphs, and text taken up by frequent or repeated n-grams."""
    fraction, char_fraction = duplicate_paragraph_fractions(paragraphs)
    if fraction > config.max_duplicate_paragraph_fraction:
        return "duplicate_paragraph_fraction"
    if char_fraction > config.max_duplicate_paragraph_char_fraction:
        return "duplicate_paragraph_char_fraction"
    for n in (2, 3, 4):
        if top_ngram_char_fraction(tokens, n) > getattr(config, f"max_top_{n}gram_char_fraction"):
            return f"top_{n}gram_char_fraction"
    for n in range(5, 11):
        if duplicate_ngram_char_fraction(tokens, n) > getattr(config, f"max_duplicate_{n}gram_char_fraction"):
            return f"duplicate_{n}gram_char_fraction"
    return None


def _measure(text: str, tokens: list[str], lang: str) -> dict[str, float]:
    scores = {
        "words": float(len(tokens)),
        "special_character_ratio": special_character_ratio(text),
        "character_repetition_ratio": character_repetition_ratio(text),
        "word_repetition_ratio": word_repetition_ratio(tokens),
    }
    ratio = stopword_ratio(tokens, lang)
    if ratio is not None:
        scores["stopword_ratio"] = ratio
    return scores


def special_character_ratio(text: str) -> float:
    if not text:
        return 0.0
    special = sum(1 for ch in text if not (ch.isalnum() or ch.isspace()))
    return special / len(text)


def character_repetition_ratio(text: str, n: int = 10) -> float:
    """ROOTS: the share of character n-gram occurrences held by the sqrt(#distinct) most frequent ones."""
    counts = Counter(text[i : i + n] for i in range(len(text) - n + 1))
    if not counts:
        return 0.0
    frequencies = sorted(counts.values(), reverse=True)
    top = int(math.sqrt(len(frequencies)))
    repeated = sum(f for f in frequencies[:top] if f > 1)
    return repeated / sum(frequencies)


def word_repetition_ratio(tokens: list[str], n: int = 5) -> float:
    """ROOTS: the share of word n-gram occurrences that occur more than once."""
    grams = Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    total = sum(grams.values())
    return sum(c for c in grams.values() if c > 1) / total if total else 0.0


def duplicate_paragraph_fractions(paragraphs: list[str]) -> tuple[float, float]:
    """(share of paragraphs that repeat an earlier one, share of characters in those repeats)."""
    if not paragraphs:
        return 0.0, 0.0
    seen: set[str] = set()
    duplicates = duplicate_chars = 0
    for paragraph in paragraphs:
        if paragraph in seen:
            duplicates += 1
            duplicate_chars += len(paragraph)
        seen.add(paragraph)
    total_chars = sum(len(p) for p in paragraphs)
    return duplicates / len(paragraphs), duplicate_chars / total_chars if total_chars else 0.0


def top_ngram_char_fraction(tokens: list[str], n: int) -> float:
    """Characters of the most frequent word n-gram (counting every occurrence) over all word characters."""
    grams = Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    if not grams:
        return 0.0
    gram, count = grams.most_common(1)[0]
    if count < 2:
        return 0.0
    return count * sum(len(w) for w in gram) / sum(len(w) for w in tokens)


def duplicate_ngram_char_fraction(tokens: list[str], n: int) -> float:
    """Characters of words covered by any word n-gram that occurs more than once, over all word characters."""
    if len(tokens) < n:
        return 0.0
    grams = Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    covered = [False] * len(tokens)
    for i in range(len(tokens) - n + 1):
        if grams[tuple(tokens[i : i + n])] > 1:
            covered[i : i + n] = [True] * n
    total = sum(len(w) for w in tokens)
    return sum(len(w) for w, c in zip(tokens, covered, strict=True) if c) / total if total else 0.0


def stopword_ratio(tokens: list[str], lang: str) -> float | None:
    """Share of words in the language's stop-word list (justext's lists); None where there is no list."""
    stopwords = _stopwords(lang)
    if stopwords is None or not tokens:
        return None
    return sum(1 for t in tokens if t in stopwords) / len(tokens)


# ISO 639-1 -> justext stop-list names, for the languages with lists.
_STOPLIST_NAMES = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech", "cy": "Welsh",
    "da": "Danish", "de": "German", "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian",
    "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French", "ga": "Irish", "gl": "Galician",
    "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "is": "Icelandic",
    "it": "Italian", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "mk": "Macedonian", "ms": "Malay",
    "nl": "Dutch", "no": "Norwegian_Bokmal", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian",
    "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "sr": "Serbian", "sv": "Swedish", "sw": "Swahili",
    "ta": "Tamil", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese",
}  # fmt: skip


@functools.cache
def _stopwords(lang: str) -> frozenset[str] | None:
    name = _STOPLIST_NAMES.get(lang)
    if name is None:
        return None
    import justext  # imported late: only documents in a listed language need it

    return frozenset(word.lower() for word in justext.get_stoplist(name))


def add_text_filter_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("text rules (OBELICS node/document rules, MassiveWeb repetition)")
    for item in fields(TextFilterConfig):
        flag = f"--{item.name}"
        if item.type in ("bool", bool):
            group.add_argument(
                f"--no_{item.name}",
                dest=item.name,
                action="store_false",
                help=f"turn off the {item.name.replace('_', ' ')}",
            )
        else:
            kind = int if item.type in ("int", int) else float
            group.add_argument(flag, type=kind, default=item.default, help="default: %(default)s")


def text_filter_config_from_args(args: argparse.Namespace) -> TextFilterConfig:
    return TextFilterConfig(**{item.name: getattr(args, item.name) for item in fields(TextFilterConfig)})
