"""Text rules: each on hand-made good and bad text, the n-gram measures by hand, defaults on real pages."""

import argparse

import lxml.html
import pytest

from pipelines.filters.language import identify_language
from pipelines.filters.text_quality import (
    TextFilterConfig,
    add_text_filter_arguments,
    character_repetition_ratio,
    document_rejection,
    duplicate_ngram_char_fraction,
    duplicate_paragraph_fractions,
    paragraph_rejection,
    stopword_ratio,
    text_filter_config_from_args,
    top_ngram_char_fraction,
    word_repetition_ratio,
    words,
)

CONFIG = TextFilterConfig()
PROSE = (
    "Flamingos are wading birds that live in large colonies around shallow lakes and lagoons. "
    "Their pink colour comes from the pigments in the algae and the small shrimp that they eat, "
    "and a chick is grey until it has eaten enough of them."
)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (PROSE, None),
        (
            "Home | About | Contact | Login | Shop | Cart | Help | Blog | Jobs | Press | Terms | Privacy | Cookies",
            "paragraph_no_punctuation",
        ),
        ("Price: $$$ 100% off!!! ***** #deal @store ~~~ ^^^ <<<>>>", "paragraph_special_characters"),
        ("!!!!!!!! $$$$ #### @@@@ ???", "paragraph_too_few_words"),
        ("a" * 60 + " wow", "paragraph_character_repetition"),
        ("buy cheap pills " * 20, "paragraph_word_repetition"),
        (
            "shoes boots sandals sneakers heels loafers slippers clogs mules pumps flats wedges oxfords brogues",
            "paragraph_no_punctuation",
        ),
        ("", "paragraph_too_few_words"),
    ],
)
def test_paragraph_rules(text, reason):
    assert paragraph_rejection(text, "en", CONFIG) == reason


def test_document_rules():
    other = "Herons hunt alone at the edge of the water, standing still for minutes before they strike at a fish."
    assert document_rejection([PROSE, other], "en", CONFIG) is None
    assert document_rejection([PROSE, PROSE.replace("Flamingos", "Herons")], "en", CONFIG) == "document_word_repetition"
    assert document_rejection(["Contact us."], "en", CONFIG) == "document_too_few_words"
    assert (
        document_rejection([PROSE, "Read more.", "Read more.", "Read more.", "Read more."], "en", CONFIG)
        == "duplicate_paragraph_fraction"
    )
    german_words = "Flamingo Pelikan Kormoran Reiher Storch Kranich Ibis Löffler Ente Gans Schwan Möwe Kiebitz"
    assert document_rejection([german_words], "de", CONFIG) == "document_few_stopwords"


def test_ngram_measures_by_hand():
    tokens = words("a b a b a b c")
    # top 2-gram ("a","b") occurs 3 times, 2 characters each -> 6 of 7 word characters
    assert top_ngram_char_fraction(tokens, 2) == pytest.approx(6 / 7)
    # 5-grams: (a b a b a) and (b a b a b), (a b a b c): none repeats
    assert duplicate_ngram_char_fraction(tokens, 5) == 0
    tokens = words("one two three four five one two three four five six")
    # the repeated 5-gram covers 10 of 11 words: 38 of 41 characters
    assert duplicate_ngram_char_fraction(tokens, 5) == pytest.approx(38 / 41)
    assert duplicate_paragraph_fractions(["x", "yy", "x"]) == (pytest.approx(1 / 3), pytest.approx(1 / 4))
    assert word_repetition_ratio(words("a b c d e a b c d e")) == pytest.approx(2 / 6)
    assert character_repetition_ratio("abcdefghijk") == 0.0


def test_cjk_is_counted_per_character():
    assert len(words("新华网北京电 今天")) == 8
    assert paragraph_rejection("新华网北京电，今天天气很好，我们去公园散步。", "zh", CONFIG) is None


def test_language_identification():
    assert identify_language(PROSE)[0] == "en"
    assert identify_language("Die Flamingos leben in großen Kolonien an flachen Seen und Lagunen.")[0] == "de"
    assert identify_language("火烈鸟是一种生活在浅水湖泊和泻湖周围的涉禽。")[0] == "zh"
    _, probability = identify_language(PROSE)
    assert 0.9 < probability <= 1.0
    assert identify_language("1234 5678") == ("", 0.0)
    assert stopword_ratio(words(PROSE), "en") > 0.3 and stopword_ratio(words(PROSE), "xx") is None


def test_every_threshold_is_a_flag():
    parser = argparse.ArgumentParser()
    add_text_filter_arguments(parser)
    args = parser.parse_args(
        ["--min_document_words", "50", "--paragraph_special_char_max", "0.5", "--no_repetition_rules"]
    )
    config = text_filter_config_from_args(args)
    assert (
        config.min_document_words == 50
        and config.paragraph_special_char_max == 0.5
        and config.repetition_rules is False
    )
    assert text_filter_config_from_args(parser.parse_args([])) == TextFilterConfig()


def test_defaults_keep_real_article_text(testdata):
    kept = total = documents_kept = 0
    pages = sorted((testdata / "web/html/readability").glob("*/expected.html"))
    for path in pages:
        paragraphs = [
            " ".join(p.text_content().split()) for p in lxml.html.fromstring(path.read_text(encoding="utf-8")).iter("p")
        ]
        paragraphs = [p for p in paragraphs if len(words(p)) >= 10]
        language = identify_language(" ".join(paragraphs)[:4000])[0]
        passing = [p for p in paragraphs if paragraph_rejection(p, language, CONFIG) is None]
        kept, total = kept + len(passing), total + len(paragraphs)
        documents_kept += bool(passing) and document_rejection(passing, language, CONFIG) is None
    assert kept / total >= 0.95
    assert documents_kept >= len(pages) - 2
