"""The interleaved prompts of Flamingo's few-shot evaluation (appendix B.1), one function per task
kind: demonstrations end with `<EOC>`, the query stops where the model continues. Zero-shot prompts
carry two text-only demonstrations, as the paper does."""

from __future__ import annotations

from collections.abc import Sequence

from schemas.tokens import EOC, IMAGE


def caption_demonstration(caption: str, with_image: bool = True) -> str:
    return f"{IMAGE if with_image else ''}Output: {caption}{EOC}"


def caption_query() -> str:
    return f"{IMAGE}Output:"


def vqa_demonstration(question: str, answer: str, with_image: bool = True) -> str:
    return f"{IMAGE if with_image else ''}Question: {question} Short answer: {answer}{EOC}"


def vqa_query(question: str) -> str:
    return f"{IMAGE}Question: {question} Short answer:"


def few_shot_prompt(demonstrations: Sequence[str], query: str) -> str:
    return "".join(demonstrations) + query
