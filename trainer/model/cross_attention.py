"""GATED XATTN-DENSE (Flamingo section 2.2, figure 4): text tokens cross-attend to the visual tokens
the mask φ allows, then go through a dense feed-forward; each of the two is added to the residual
stream through its own tanh gate, initialised at 0 so that the frozen LM's output is unchanged at
the start of training. `gated=False` is the paper's ablation without gates."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trainer.model.resampler import _merge_heads, _split_heads, feed_forward


class MaskedCrossAttention(nn.Module):
    def __init__(self, dim: int, dim_visual: int, heads: int, dim_head: int) -> None:
        super().__init__()
        self.heads = heads
        inner = heads * dim_head
        self.norm = nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim_visual, inner * 2, bias=False)
        self.to_out = nn.Linear(inner, dim, bias=False)

    def forward(self, text: torch.Tensor, visual: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        """text [B, L, D]; visual [B, N, V, Dv]; allowed [B, L, N] -> [B, L, D], zero where a token may
        attend to no image (rather than the mean over everything a fully masked softmax would give)."""
        batch, media, tokens, _ = visual.shape
        q = _split_heads(self.to_q(self.norm(text)), self.heads)
        k, v = self.to_kv(visual.reshape(batch, media * tokens, -1).to(text.dtype)).chunk(2, dim=-1)
        k, v = _split_heads(k, self.heads), _split_heads(v, self.heads)
        per_token = allowed.repeat_interleave(tokens, dim=2)  # [B, L, N*V]
        attends = allowed.any(dim=2, keepdim=True)  # [B, L, 1]
        mask = (per_token | ~attends).unsqueeze(1)  # rows with nothing allowed see everything, then are zeroed
        out = _merge_heads(F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
        return self.to_out(out) * attends.to(out.dtype)


class GatedCrossAttentionBlock(nn.Module):
    def __init__(self, dim: int, dim_visual: int, heads: int, dim_head: int, ff_mult: int, gated: bool = True) -> None:
        super().__init__()
        self.attention = MaskedCrossAttention(dim, dim_visual, heads, dim_head)
        self.ff = feed_forward(dim, ff_mult)
        self.gated = gated
        self.attention_gate = nn.Parameter(torch.zeros(1)) if gated else None
        self.ff_gate = nn.Parameter(torch.zeros(1)) if gated else None

    def forward(self, text: torch.Tensor, visual: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        attended = self.attention(text, visual, allowed)
        if self.gated:
            text = text + torch.tanh(self.attention_gate).to(text.dtype) * attended
            return text + torch.tanh(self.ff_gate).to(text.dtype) * self.ff(text)
        text = text + attended
        return text + self.ff(text)
