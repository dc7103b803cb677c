"""Evaluation metrics against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from trainer.evaluation.captioning import cider_d, coco_tokens
from trainer.evaluation.classification import accuracy, roc_auc
from trainer.evaluation.vqa_accuracy import mean_vqa_accuracy, normalize_answer, vqa_accuracy


@pytest.mark.parametrize(
    ("answer", "normalized"),
    [
        ("Two", "2"),
        ("The dog.", "dog"),
        ("dont", "don't"),
        ("yes!", "yes"),
        ("1,000", "1000"),
        ("3.5", "3.5"),
        ("black-and-white", "black and white"),
        ("a red , blue", "red blue"),
    ],
)
def test_answers_are_normalised_as_the_official_script_does(answer, normalized):
    assert normalize_answer(answer) == normalized


def test_vqa_accuracy_averages_over_the_ten_leave_one_out_subsets():
    # 3 annotators said "2", 7 said "3". Predicting "two": leaving out a "2" leaves 2 matches (2/3),
    # leaving out a "3" leaves 3 (1.0): (3 * 2/3 + 7 * 1) / 10 = 0.9.
    answers = ["2"] * 3 + ["3"] * 7
    assert vqa_accuracy("two", answers) == pytest.approx(0.9)
    assert vqa_accuracy("3", answers) == pytest.approx(1.0)
    # one "dog" in ten: only the nine subsets that keep it give 1/3: 9 * (1/3) / 10 = 0.3
    assert vqa_accuracy("The dog.", ["dog"] + ["cat"] * 9) == pytest.approx(0.3)
    assert vqa_accuracy("horse", ["dog"] * 10) == 0.0
    assert mean_vqa_accuracy(["two", "horse"], [answers, ["dog"] * 10]) == pytest.approx(0.45)


def test_coco_tokens_split_clitics_and_drop_punctuation():
    assert coco_tokens("A dog runs.") == ["a", "dog", "runs"]
    assert coco_tokens("It's a man's hat, isn't it?") == ["it", "'s", "a", "man", "'s", "hat", "is", "n't", "it"]


def test_cider_d_of_hand_worked_captions():
    references = [["a dog runs"], ["a cat sleeps"]]
    # Exact copies: every n-gram but "a" (in both images: idf 0) has idf log 2; the 1-, 2- and
    # 3-gram vectors equal the references' (similarity 1), a 3-word caption has no 4-gram (0):
    # 10 * (1 + 1 + 1 + 0) / 4 = 7.5 per image.
    assert cider_d(["a dog runs", "A cat sleeps."], references) == pytest.approx(7.5)
    # The second caption shares only "a" (idf 0) with its reference: 0. Mean: 3.75.
    assert cider_d(["a dog runs", "a dog runs"], references) == pytest.approx(3.75)
    assert math.isclose(cider_d(["a dog runs"] * 2, [["a dog runs"]] * 2), 0.0)  # one image's n-grams everywhere: idf 0


def test_roc_auc_and_accuracy_by_hand():
    # positives score 0.9 and 0.4, negatives 0.5 and 0.1: of the 4 (positive, negative) pairs, 3 are
    # ordered right -> 0.75
    assert roc_auc([0.9, 0.4, 0.5, 0.1], [1, 1, 0, 0]) == pytest.approx(0.75)
    assert roc_auc([0.5, 0.5], [1, 0]) == pytest.approx(0.5)  # a tie counts half
    assert roc_auc([0.2, 0.8], [0, 1]) == 1.0
    assert accuracy([1, 0, 1, 1], [1, 1, 1, 0]) == 0.5
    with pytest.raises(ValueError, match="both classes"):
        roc_auc([0.1, 0.2], [1, 1])
