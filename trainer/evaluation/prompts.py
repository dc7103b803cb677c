"""The interleaved prompts of Flamingo's few-shot evaluation (appendix B.1), one function per task
kind: demonstrations end with `<EOC>`, the query stops where the model continues (open-ended tasks)
or where each class's text is scored (close-ended tasks). Zero-shot prompts of open-ended tasks
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


def classification_demonstration(text: str | None, answer: str, with_image: bool = True) -> str:
    query = classification_query(text, with_image)
    return f"{query}{' ' if text is not None else ''}{answer}{EOC}"


def classification_query(text: str | None, with_image: bool = True) -> str:
    """HatefulMemes asks about the meme's text. A class-folder task (ImageNet-style) has the class text
    follow the image as a caption follows it in the image-text pairs of pretraining: `<image>a red circle`."""
    image = IMAGE if with_image else ""
    if text is None:
        return image
    return f'{image}is an image with: "{text}" written on it. Is it hateful? Answer:'


def few_shot_prompt(demonstrations: Sequence[str], query: str) -> str:
    return "".join(demonstrations) + query
