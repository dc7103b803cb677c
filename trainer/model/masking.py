"""The per-image mask φ: which image's visual tokens each text token may attend to.

Flamingo (section 2.3): a text token attends only to the visual tokens of the last `<image>` before
it (or at it); tokens before the first image attend to none, and get a zero cross-attention output,
not a uniform mix over the padding. For M3W, each document instead attends to the *next* image with
probability 1/2 (appendix A.3.2), chosen per document. The "all previous images" variant is an
ablation of the paper.
"""

from __future__ import annotations

from typing import Literal

import torch

MediaAttention = Literal["previous", "all_previous"]


def media_attention_mask(
    input_ids: torch.Tensor,
    image_id: int,
    media_valid: torch.Tensor,
    mode: MediaAttention = "previous",
    attend_next: torch.Tensor | None = None,
    images_before: torch.Tensor | None = None,
) -> torch.Tensor:
    """-> allowed[b, l, m]: text token l of sequence b may attend to the tokens of image m.

    input_ids [B, L]; media_valid [B, N] (False for padding media); attend_next [B] bool, the
    per-document "next image" choice; images_before [B], the images already seen before this chunk
    of text (incremental decoding with a cache).
    """
    batch, _ = input_ids.shape
    media = media_valid.shape[1]
    is_image = (input_ids == image_id).long()
    seen = torch.cumsum(is_image, dim=1)  # images at or before each token
    if images_before is not None:
        seen = seen + images_before.view(batch, 1)
    previous = seen.unsqueeze(-1)  # 1-based number of the last image at or before the token; 0: none yet
    positions = torch.arange(1, media + 1, device=input_ids.device).view(1, 1, media)
    allowed = (positions <= previous) if mode == "all_previous" else (positions == previous)
    if attend_next is not None:
        following = seen - is_image + 1  # the first image after the token; an <image> token is its own
        allowed_next = positions == following.unsqueeze(-1)
        allowed = torch.where(attend_next.view(batch, 1, 1), allowed_next, allowed)
    return allowed & media_valid.view(batch, 1, media)
