"""Few-shot prompts as the paper writes them, and the choice of their demonstrations."""

from __future__ import annotations

import numpy as np
import pytest

from trainer.evaluation.demonstrations import random_demonstrations, rices_demonstrations
from trainer.evaluation.prompts import (
    caption_demonstration,
    caption_query,
    few_shot_prompt,
    vqa_demonstration,
    vqa_query,
)


def test_prompts_interleave_images_and_end_demonstrations_with_eoc():
    prompt = few_shot_prompt([caption_demonstration("A dog."), caption_demonstration("Two cats.")], caption_query())
    assert prompt == "<image>Output: A dog.<EOC><image>Output: Two cats.<EOC><image>Output:"
    zero_shot = few_shot_prompt([vqa_demonstration("What?", "yes", with_image=False)], vqa_query("How many?"))
    assert zero_shot == "Question: What? Short answer: yes<EOC><image>Question: How many? Short answer:"


def test_rices_picks_the_most_similar_support_examples_the_most_similar_last():
    support = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7], [-1.0, 0.0], [0.9, 0.1]])
    query = np.array([[1.0, 0.05], [0.0, 2.0]])
    chosen = rices_demonstrations(query, support, shots=3)
    # query 0 is nearest [1, 0], then [0.9, 0.1], then [0.7, 0.7]: least similar first
    assert chosen.tolist()[0] == [2, 4, 0]
    assert chosen.tolist()[1][-1] == 1  # [0, 1] is the nearest of query 1: last
    with pytest.raises(ValueError, match="6 shots"):
        rices_demonstrations(query, support, shots=6)


def test_random_demonstrations_are_distinct_and_seeded():
    first = random_demonstrations(queries=4, support=10, shots=8, seed=3)
    assert first.shape == (4, 8) and all(len(set(row)) == 8 for row in first.tolist())
    assert np.array_equal(first, random_demonstrations(4, 10, 8, seed=3))
