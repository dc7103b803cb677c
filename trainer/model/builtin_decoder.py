"""A small decoder-only language model for tests and from-scratch ablations, in the style of nanoGPT.

Llama-shaped: token embedding, pre-norm blocks (RMSNorm -> causal self-attention with rotary
position embeddings and grouped-query attention -> residual, RMSNorm -> SwiGLU MLP -> residual),
a final RMSNorm and an output head. It implements `trainer.model.language.LanguageModel`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from trainer.model.language import BeforeLayer

KVCache = list[tuple[torch.Tensor, torch.Tensor]]  # one (keys, values) per layer, each [B, kv_heads, T, head_dim]


@dataclass
class DecoderConfig:
    vocab_size: int
    hidden_size: int
    layers: int
    heads: int
    kv_heads: int | None = None  # grouped-query attention; None: one key/value head per query head
    ffn_hidden: int | None = None  # None: about 8/3 * hidden_size, rounded up to a multiple of 64
    max_positions: int = 2048
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    tie_embeddings: bool = False

    def __post_init__(self) -> None:
        if self.kv_heads is None:
            self.kv_heads = self.heads
        if self.ffn_hidden is None:
            self.ffn_hidden = 64 * math.ceil(8 * self.hidden_size / 3 / 64)
        if self.hidden_size % self.heads:
            raise ValueError(f"hidden_size {self.hidden_size} is not a multiple of heads {self.heads}")
        if self.heads % self.kv_heads:
            raise ValueError(f"heads {self.heads} is not a multiple of kv_heads {self.kv_heads}")
        if (self.hidden_size // self.heads) % 2:
            raise ValueError(f"head size {self.hidden_size // self.heads} must be even for rotary embeddings")

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.heads


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Normalise in float32 so that bf16 activations keep their precision.
        x32 = x.float()
        normed = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return (normed * self.weight.float()).to(x.dtype)


def rotary_tables(positions: torch.Tensor, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin, [L, head_dim] in float32, for the given absolute positions."""
    inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2, device=positions.device, dtype=torch.float32) / head_dim)
    angles = positions.float()[:, None] * inv_freq[None, :]
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotates [B, heads, L, head_dim] by the position tables (the "rotate half" convention of Llama)."""
    x32 = x.float()
    first, second = x32.chunk(2, dim=-1)
    rotated = torch.cat([-second, first], dim=-1)
    return (x32 * cos + rotated * sin).to(x.dtype)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: DecoderConfig) -> None:
        super().__init__()
        self.heads = config.heads
        self.kv_heads = config.kv_heads
        self.head_dim = config.head_dim
        self.q_proj = nn.Linear(config.hidden_size, config.heads * config.head_dim, bias=False)
        self.k_proj = nn.Linear(config.hidden_size, config.kv_heads * config.head_dim, bias=False)
        self.v_proj = nn.Linear(config.hidden_size, config.kv_heads * config.head_dim, bias=False)
        self.o_proj = nn.Linear(config.heads * config.head_dim, config.hidden_size, bias=False)

    def forward(
        self,
        x: torch.Tensor,
        rotary: tuple[torch.Tensor, torch.Tensor],
        allowed: torch.Tensor | None,
        past: tuple[torch.Tensor, torch.Tensor] | None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """`allowed`: [B, 1, L, L_total] bool (True = may attend), or None for plain causal attention."""
        batch, length, _ = x.shape
        q = self.q_proj(x).view(batch, length, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rotary(q, *rotary), apply_rotary(k, *rotary)
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        cache = (k, v)
        group = self.heads // self.kv_heads
        if group > 1:
            k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        if allowed is None:
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            # A query with no key to attend to (a padding position) is a softmax over nothing, NaN on
            # some SDPA backends: let it attend anywhere, then zero its output, the same on all of them.
            has_key = allowed.any(dim=-1, keepdim=True)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed | ~has_key) * has_key
        out = out.transpose(1, 2).reshape(batch, length, self.heads * self.head_dim)
        return self.o_proj(out), cache


class SwiGLU(nn.Module):
    def __init__(self, config: DecoderConfig) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(config.hidden_size, config.ffn_hidden, bias=False)
        self.up_proj = nn.Linear(config.hidden_size, config.ffn_hidden, bias=False)
        self.down_proj = nn.Linear(config.ffn_hidden, config.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderBlock(nn.Module):
    def __init__(self, config: DecoderConfig) -> None:
        super().__init__()
        self.attn_norm = RMSNorm(config.hidden_size, config.norm_eps)
        self.attn = CausalSelfAttention(config)
        self.mlp_norm = RMSNorm(config.hidden_size, config.norm_eps)
        self.mlp = SwiGLU(config)

    def forward(
        self,
        x: torch.Tensor,
        rotary: tuple[torch.Tensor, torch.Tensor],
        allowed: torch.Tensor | None,
        past: tuple[torch.Tensor, torch.Tensor] | None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        attended, cache = self.attn(self.attn_norm(x), rotary, allowed, past)
        x = x + attended
        x = x + self.mlp(self.mlp_norm(x))
        return x, cache


class BuiltinDecoder(nn.Module):
    def __init__(self, config: DecoderConfig) -> None:
        super().__init__()
        self.config = config
        self.hidden_size = config.hidden_size
        self.vocab_size = config.vocab_size
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(DecoderBlock(config) for _ in range(config.layers))
        self.norm = RMSNorm(config.hidden_size, config.norm_eps)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.apply(self._init_weights)
        residual_std = 0.02 / math.sqrt(2 * config.layers)
        for block in self.layers:
            nn.init.normal_(block.attn.o_proj.weight, mean=0.0, std=residual_std)
            nn.init.normal_(block.mlp.down_proj.weight, mean=0.0, std=residual_std)
        if config.tie_embeddings:
            self.lm_head.weight = self.embed_tokens.weight

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_parameters(self) -> int:
        """Distinct parameters (a tied output head counts once)."""
        return sum(p.numel() for p in self.parameters())

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.embed_tokens(input_ids)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.lm_head(hidden)

    def forward(
        self,
        inputs_embeds: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        past_key_values: KVCache | None = None,
        use_cache: bool = False,
        before_layer: BeforeLayer | None = None,
    ) -> tuple[torch.Tensor, KVCache | None]:
        """`attention_mask`: [B, past + L] with 1 for real tokens, 0 for padding (left or right).

        Returns the hidden states after the final norm, and with `use_cache` the cache extended by
        these L positions (else None). Positions continue from the cache's length.
        """
        batch, length, _ = inputs_embeds.shape
        past_length = past_key_values[0][0].shape[2] if past_key_values else 0
        total = past_length + length
        if total > self.config.max_positions:
            raise ValueError(f"{total} positions exceed max_positions {self.config.max_positions}")
        positions = torch.arange(past_length, total, device=inputs_embeds.device)
        rotary = rotary_tables(positions, self.config.head_dim, self.config.rope_theta)
        allowed = self._allowed_keys(attention_mask, batch, length, past_length, inputs_embeds.device)

        hidden = inputs_embeds
        new_cache: KVCache = []
        for index, block in enumerate(self.layers):
            if before_layer is not None:
                hidden = before_layer(index, hidden)
            past = past_key_values[index] if past_key_values else None
            hidden, layer_cache = block(hidden, rotary, allowed, past)
            new_cache.append(layer_cache)
        return self.norm(hidden), new_cache if use_cache else None

    def select_cache(self, cache: KVCache, rows: torch.Tensor) -> KVCache:
        return [(keys[rows], values[rows]) for keys, values in cache]

    @staticmethod
    def _allowed_keys(
        attention_mask: torch.Tensor | None, batch: int, length: int, past_length: int, device: torch.device
    ) -> torch.Tensor | None:
        """[B, 1, L, past + L] bool: causal and not padding; None where SDPA's own causal mask is exact."""
        if attention_mask is None and past_length == 0:
            return None
        total = past_length + length
        if attention_mask is not None and tuple(attention_mask.shape) != (batch, total):
            raise ValueError(f"attention_mask has shape {tuple(attention_mask.shape)}, expected {(batch, total)}")
        query_positions = torch.arange(past_length, total, device=device)
        key_positions = torch.arange(total, device=device)
        allowed = (key_positions[None, :] <= query_positions[:, None])[None, None]
        if attention_mask is not None:
            allowed = allowed & attention_mask.to(device=device, dtype=torch.bool)[:, None, None, :]
        return allowed
