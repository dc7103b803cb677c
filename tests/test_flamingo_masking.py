"""The mask φ on hand-built sequences (I = <image>, t = text), and the cross-attention that uses it."""

from __future__ import annotations

import torch

from trainer.model.cross_attention import GatedCrossAttentionBlock, MaskedCrossAttention
from trainer.model.masking import media_attention_mask

I = 99  # the image token id in these tests  # noqa: E741


def ids(*tokens: int) -> torch.Tensor:
    return torch.tensor([tokens])


def attended(mask: torch.Tensor) -> list[list[int]]:
    """For each token, the images (0-based) it may attend to."""
    return [torch.nonzero(row).flatten().tolist() for row in mask[0]]


def test_each_token_sees_only_the_last_image_before_it():
    mask = media_attention_mask(ids(1, 2, I, 3, 4, I, 5), I, torch.ones(1, 2, dtype=torch.bool))
    assert attended(mask) == [[], [], [0], [0], [0], [1], [1]]


def test_tokens_before_the_first_image_see_none():
    mask = media_attention_mask(ids(1, 2, 3), I, torch.ones(1, 3, dtype=torch.bool))
    assert attended(mask) == [[], [], []]


def test_next_image_mode_links_text_to_the_image_after_it():
    mask = media_attention_mask(
        ids(1, I, 2, 3, I, 4), I, torch.ones(1, 2, dtype=torch.bool), attend_next=torch.tensor([True])
    )
    # an <image> token is its own image's; text after the last image has no next image
    assert attended(mask) == [[0], [0], [1], [1], [1], []]


def test_the_next_image_choice_is_per_document():
    input_ids = torch.tensor([[1, I, 2, I, 3], [1, I, 2, I, 3]])
    mask = media_attention_mask(
        input_ids, I, torch.ones(2, 2, dtype=torch.bool), attend_next=torch.tensor([False, True])
    )
    assert [torch.nonzero(r).flatten().tolist() for r in mask[0]] == [[], [0], [0], [1], [1]]
    assert [torch.nonzero(r).flatten().tolist() for r in mask[1]] == [[0], [0], [1], [1], []]


def test_all_previous_images_ablation():
    mask = media_attention_mask(ids(1, I, 2, I, 3), I, torch.ones(1, 2, dtype=torch.bool), mode="all_previous")
    assert attended(mask) == [[], [0], [0], [0, 1], [0, 1]]


def test_padding_media_are_never_attended():
    mask = media_attention_mask(ids(I, 2, I, 3), I, torch.tensor([[True, False]]))
    assert attended(mask) == [[0], [0], [], []]


def test_images_seen_before_a_cached_chunk_count():
    """Decoding with a cache: the new token continues after the prompt's two images."""
    mask = media_attention_mask(ids(7), I, torch.ones(1, 3, dtype=torch.bool), images_before=torch.tensor([2]))
    assert attended(mask) == [[1]]


def test_text_with_no_image_gets_zero_cross_attention_output():
    torch.manual_seed(0)
    attention = MaskedCrossAttention(dim=16, dim_visual=8, heads=2, dim_head=4)
    text, visual = torch.randn(1, 4, 16), torch.randn(1, 2, 3, 8)
    mask = media_attention_mask(ids(1, I, 2, I), I, torch.ones(1, 2, dtype=torch.bool))
    out = attention(text, visual, mask)
    assert torch.equal(out[0, 0], torch.zeros(16)) and not torch.isnan(out).any()
    assert out[0, 1:].abs().sum(dim=-1).min() > 0
    # token 2 attends image 0 only: changing image 1 must not change it, and must change token 3
    other = visual.clone()
    other[0, 1] += 1.0
    changed = attention(text, other, mask)
    assert torch.allclose(changed[0, :3], out[0, :3]) and not torch.allclose(changed[0, 3], out[0, 3])


def test_gates_start_closed_and_the_ablation_has_none():
    torch.manual_seed(0)
    gated = GatedCrossAttentionBlock(16, 8, 2, 4, 4)
    text, visual = torch.randn(1, 4, 16), torch.randn(1, 2, 3, 8)
    mask = media_attention_mask(ids(I, 2, I, 3), I, torch.ones(1, 2, dtype=torch.bool))
    assert torch.equal(gated(text, visual, mask), text)  # tanh(0) = 0: the LM's residual stream untouched
    ungated = GatedCrossAttentionBlock(16, 8, 2, 4, 4, gated=False)
    assert not torch.allclose(ungated(text, visual, mask), text) and ungated.attention_gate is None
