"""MinHash near duplicates (datasketch) and paragraph keys, without Beam."""

import random

from dedup.near_duplicates import NearDuplicateRules, band_keys, paragraph_key, signature, similarity

RULES = NearDuplicateRules()
WORDS = [f"word{n}" for n in range(5000)]


def text(rng: random.Random, words: int) -> list[str]:
    return [rng.choice(WORDS) for _ in range(words)]


def true_jaccard(a: list[str], b: list[str], size: int = 13) -> float:
    shingles = [{" ".join(words[i : i + size]) for i in range(len(words) - size + 1)} for words in (a, b)]
    return len(shingles[0] & shingles[1]) / len(shingles[0] | shingles[1])


def test_the_estimate_follows_the_true_jaccard_similarity():
    rng = random.Random(0)
    for changes in (0, 2, 5, 20, 400):
        original = text(rng, 400)
        edited = list(original)
        for position in rng.sample(range(400), changes):
            edited[position] = rng.choice(WORDS)
        estimate = similarity(signature(" ".join(original), RULES), signature(" ".join(edited), RULES))
        assert abs(estimate - true_jaccard(original, edited)) < 0.12, changes


def test_near_duplicates_share_a_band_and_unrelated_texts_do_not():
    rng = random.Random(1)
    original = text(rng, 500)
    edited = [*original[:250], "inserted", *original[250:]]
    keys = [set(band_keys(signature(" ".join(words), RULES), RULES)) for words in (original, edited, text(rng, 500))]
    assert keys[0] & keys[1] and not keys[0] & keys[2]


def test_bands_default_to_datasketchs_optimum_and_can_be_set():
    bands, rows = RULES.banding()
    assert bands * rows <= RULES.permutations and bands > 1
    assert NearDuplicateRules(bands=16).banding() == (16, 8)


def test_paragraph_keys_ignore_case_spacing_and_punctuation():
    assert paragraph_key("Share this  article!") == paragraph_key("share this article")
    assert paragraph_key("Share this article") != paragraph_key("Share that article")
