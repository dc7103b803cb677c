"""VQA accuracy as the official VQA evaluation computes it (Antol et al. 2015, vqaEval.py).

Answers are normalised first: lower case, punctuation removed (or turned into a space where it
separates words), periods kept only inside numbers, number words made digits, articles dropped,
and contractions written without an apostrophe restored ("dont" -> "don't"). A prediction then
scores, against each of the ten human answers in turn, min(1, matches among the other nine / 3),
and these ten scores are averaged: 1.0 when at least four annotators gave it (three of any nine).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_PUNCTUATION = (
    ";",
    "/",
    "[",
    "]",
    '"',
    "{",
    "}",
    "(",
    ")",
    "=",
    "+",
    "\\",
    "_",
    "-",
    ">",
    "<",
    "@",
    "`",
    ",",
    "?",
    "!",
)
_COMMA_IN_NUMBER = re.compile(r"(\d)(,)(\d)")
_PERIOD_OUTSIDE_NUMBER = re.compile(r"(?!<=\d)(\.)(?!\d)")
_NUMBER_WORDS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                 "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}  # fmt: skip
_ARTICLES = {"a", "an", "the"}
# contractions as annotators type them without the apostrophe -> the spelling answers are compared in
_CONTRACTIONS = {
    word.replace("'", ""): word
    for word in (
        "ain't", "aren't", "can't", "could've", "couldn't", "couldn't've", "didn't", "doesn't", "don't", "hadn't",
        "hasn't", "haven't", "he'd", "he'd've", "he's", "how'd", "how'll", "how's", "i'd", "i'd've", "i'm", "i've",
        "isn't", "it'd", "it'd've", "it'll", "let's", "ma'am", "mightn't", "might've", "mustn't", "must've",
        "needn't", "not've", "o'clock", "oughtn't", "shan't", "she'd", "she'd've", "she'll", "she's", "should've",
        "shouldn't", "shouldn't've", "somebody'd", "somebody'll", "somebody's", "someone'd", "someone'll",
        "someone's", "something'd", "something'll", "that's", "there'd", "there're", "there's", "they'd",
        "they'd've", "they'll", "they're", "they've", "twas", "wasn't", "we'd", "we'd've", "we'll", "we're", "we've",
        "weren't", "what'll", "what're", "what's", "what've", "when's", "where'd", "where's", "where've", "who'd",
        "who'll", "who's", "who've", "why'll", "why're", "why's", "won't", "would've", "wouldn't", "wouldn't've",
        "y'all", "you'd", "you'd've", "you'll", "you're", "you've",
    )
}  # fmt: skip


def normalize_answer(answer: str) -> str:
    text = answer.replace("\n", " ").replace("\t", " ").strip().lower()
    text = _strip_punctuation(text)
    words = []
    for word in text.split():
        word = _NUMBER_WORDS.get(word, word)
        if word in _ARTICLES:
            continue
        words.append(_CONTRACTIONS.get(word, word))
    return " ".join(words)


def _strip_punctuation(original: str) -> str:
    """A mark next to a space (or any mark, in text with a comma inside a number) is dropped; one
    inside a word splits it. The conditions look at the original text, as the official script does."""
    text = original
    drop_all = _COMMA_IN_NUMBER.search(original) is not None
    for mark in _PUNCTUATION:
        if drop_all or f"{mark} " in original or f" {mark}" in original:
            text = text.replace(mark, "")
        else:
            text = text.replace(mark, " ")
    return _PERIOD_OUTSIDE_NUMBER.sub("", text)


def vqa_accuracy(prediction: str, answers: Sequence[str]) -> float:
    """One question: the prediction against its (usually ten) human answers."""
    if not answers:
        raise ValueError("a VQA question needs at least one human answer")
    predicted = normalize_answer(prediction)
    normalized = [normalize_answer(answer) for answer in answers]
    scores = []
    for left_out in range(len(normalized)):
        others = normalized[:left_out] + normalized[left_out + 1 :]
        scores.append(min(1.0, sum(answer == predicted for answer in others) / 3))
    return sum(scores) / len(scores)


def mean_vqa_accuracy(predictions: Sequence[str], answers: Sequence[Sequence[str]]) -> float:
    if len(predictions) != len(answers):
        raise ValueError(f"{len(predictions)} predictions for {len(answers)} questions")
    return sum(vqa_accuracy(p, a) for p, a in zip(predictions, answers, strict=True)) / max(len(predictions), 1)


def exact_match_accuracy(predictions: Sequence[str], answers: Sequence[Sequence[str]]) -> float:
    """Top-1 accuracy for one-answer questions (MSRVTT-QA, MSVD-QA): the normalised prediction equals
    one of the normalised answers."""
    if len(predictions) != len(answers):
        raise ValueError(f"{len(predictions)} predictions for {len(answers)} questions")
    hits = sum(
        normalize_answer(p) in {normalize_answer(a) for a in gold} for p, gold in zip(predictions, answers, strict=True)
    )
    return hits / max(len(predictions), 1)
