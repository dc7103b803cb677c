"""Visual features -> a fixed number of visual tokens per image or video (Flamingo section 2.1).

The Perceiver Resampler: learned latent queries cross-attend to the visual features of all frames
(plus a learned time embedding per frame) concatenated with the latents themselves, through `depth`
layers of attention and a 4x feed-forward. The ablations of the paper's table 3 replace it with a
per-token MLP or a plain Transformer over the flattened frame tokens (their output length then
grows with the frames).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

ResamplerKind = Literal["perceiver", "mlp", "transformer"]


def feed_forward(dim: int, mult: int) -> nn.Sequential:
    return nn.Sequential(
        nn.LayerNorm(dim), nn.Linear(dim, dim * mult, bias=False), nn.GELU(), nn.Linear(dim * mult, dim, bias=False)
    )


class PerceiverAttention(nn.Module):
    def __init__(self, dim: int, heads: int, dim_head: int) -> None:
        super().__init__()
        self.heads = heads
        inner = heads * dim_head
        self.norm_media = nn.LayerNorm(dim)
        self.norm_latents = nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim, inner * 2, bias=False)
        self.to_out = nn.Linear(inner, dim, bias=False)

    def forward(self, media: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        """media [M, S, D], latents [M, Q, D] -> [M, Q, D]; keys and values over (media, latents)."""
        media, latents = self.norm_media(media), self.norm_latents(latents)
        q = self.to_q(latents)
        k, v = self.to_kv(torch.cat([media, latents], dim=1)).chunk(2, dim=-1)
        q, k, v = (_split_heads(t, self.heads) for t in (q, k, v))
        return self.to_out(_merge_heads(F.scaled_dot_product_attention(q, k, v)))


class TimeEmbedding(nn.Module):
    """A learned embedding per frame; more frames at inference than in training are served by linear
    interpolation of the learned ones (the paper trains with 8 frames and evaluates with 30)."""

    def __init__(self, frames: int, dim: int) -> None:
        super().__init__()
        self.embedding = nn.Parameter(torch.randn(frames, dim) * 0.02)

    def forward(self, frames: int) -> torch.Tensor:
        if frames <= self.embedding.shape[0]:
            return self.embedding[:frames]
        stretched = F.interpolate(self.embedding.T.unsqueeze(0), size=frames, mode="linear", align_corners=True)
        return stretched.squeeze(0).T


class PerceiverResampler(nn.Module):
    def __init__(
        self, dim: int, latents: int, depth: int, heads: int, dim_head: int, ff_mult: int, max_frames: int
    ) -> None:
        super().__init__()
        self.latents = nn.Parameter(torch.randn(latents, dim) * 0.02)
        self.time = TimeEmbedding(max_frames, dim)
        self.layers = nn.ModuleList(
            nn.ModuleList([PerceiverAttention(dim, heads, dim_head), feed_forward(dim, ff_mult)]) for _ in range(depth)
        )
        self.norm = nn.LayerNorm(dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """features [M, T, P, D] (M media of T frames of P patch tokens) -> [M, latents, D]."""
        media, frames, patches, dim = features.shape
        x = (features + self.time(frames).view(1, frames, 1, dim).to(features.dtype)).reshape(
            media, frames * patches, dim
        )
        latents = self.latents.to(x.dtype).expand(media, -1, -1)
        for attention, ff in self.layers:
            latents = latents + attention(x, latents)
            latents = latents + ff(latents)
        return self.norm(latents)


class MLPResampler(nn.Module):
    """Ablation: each frame token through an MLP; output all T*P tokens."""

    def __init__(self, dim: int, ff_mult: int, max_frames: int) -> None:
        super().__init__()
        self.time = TimeEmbedding(max_frames, dim)
        self.mlp = feed_forward(dim, ff_mult)
        self.norm = nn.LayerNorm(dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        media, frames, patches, dim = features.shape
        x = (features + self.time(frames).view(1, frames, 1, dim).to(features.dtype)).reshape(
            media, frames * patches, dim
        )
        return self.norm(x + self.mlp(x))


class TransformerResampler(nn.Module):
    """Ablation: a plain Transformer encoder over all T*P frame tokens; output all of them."""

    def __init__(self, dim: int, depth: int, heads: int, ff_mult: int, max_frames: int) -> None:
        super().__init__()
        self.time = TimeEmbedding(max_frames, dim)
        layer = nn.TransformerEncoderLayer(
            dim, heads, dim * ff_mult, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        media, frames, patches, dim = features.shape
        x = (features + self.time(frames).view(1, frames, 1, dim).to(features.dtype)).reshape(
            media, frames * patches, dim
        )
        return self.norm(self.encoder(x))


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    batch, length, inner = x.shape
    return x.view(batch, length, heads, inner // heads).transpose(1, 2)


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    batch, heads, length, dim_head = x.shape
    return x.transpose(1, 2).reshape(batch, length, heads * dim_head)
