"""The Flamingo model (arXiv 2204.14198, section 2): a frozen vision encoder, a Perceiver Resampler,
GATED XATTN-DENSE blocks before the frozen LM's layers every `every` layers starting at the first,
the per-image mask φ, and trainable embeddings for `<image>` and `<EOC>`.

Images and video come as [B, N, T, C, H, W] (N media per sequence, T frames each; an image is T=1)
with `media_mask` [B, N] marking real media: padding media are never encoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from trainer.model.cross_attention import GatedCrossAttentionBlock
from trainer.model.language import AddedTokens, LanguageModel
from trainer.model.masking import MediaAttention, media_attention_mask
from trainer.model.resampler import MLPResampler, PerceiverResampler, ResamplerKind, TransformerResampler
from trainer.model.vision import VisionEncoder

ADDED_TOKENS = 2  # <image>, <EOC>


@dataclass(frozen=True)
class ResamplerConfig:
    kind: ResamplerKind = "perceiver"
    latents: int = 64
    depth: int = 6
    heads: int = 8
    dim_head: int = 64
    ff_mult: int = 4
    max_frames: int = 8  # frames with learned time embeddings; more are interpolated


@dataclass(frozen=True)
class CrossAttentionConfig:
    every: int = 4  # 1 for the 3B model, 4 for 9B, 7 for 80B
    heads: int = 8
    dim_head: int = 64
    ff_mult: int = 4
    gated: bool = True
    media_attention: MediaAttention = "previous"
    next_image_probability: float = 0.5  # M3W: per document, attend to the next image instead


@dataclass
class FlamingoOutput:
    logits: torch.Tensor  # [B, L, vocabulary + 2]
    past_key_values: Any  # the LM's cache, with use_cache
    visual: torch.Tensor | None  # [B, N, visual tokens, D]: reuse it to skip encoding the media again


def cross_attention_layers(layers: int, every: int) -> list[int]:
    return list(range(0, layers, every))


class Flamingo(nn.Module):
    def __init__(
        self,
        vision: VisionEncoder,
        lm: LanguageModel,
        image_id: int,
        eoc_id: int,
        resampler: ResamplerConfig = ResamplerConfig(),
        cross_attention: CrossAttentionConfig = CrossAttentionConfig(),
        train_output_rows: bool = False,
    ) -> None:
        super().__init__()
        if (image_id, eoc_id) != (lm.vocab_size, lm.vocab_size + 1):
            raise ValueError(f"<image> and <EOC> must follow the LM's {lm.vocab_size} tokens; got {image_id}, {eoc_id}")
        self.vision = vision.requires_grad_(False).eval()
        self.lm = lm.requires_grad_(False).eval()
        self.image_id, self.eoc_id = image_id, eoc_id
        self.cross_attention_config = cross_attention
        self.resampler = _resampler(resampler, vision.width)
        self.cross_attention = nn.ModuleDict(
            {
                str(i): GatedCrossAttentionBlock(
                    lm.hidden_size,
                    vision.width,
                    cross_attention.heads,
                    cross_attention.dim_head,
                    cross_attention.ff_mult,
                    cross_attention.gated,
                )
                for i in cross_attention_layers(len(lm.layers), cross_attention.every)
            }
        )
        self.added_tokens = AddedTokens(ADDED_TOKENS, lm.hidden_size, train_output_rows)

    def train(self, mode: bool = True) -> Flamingo:
        super().train(mode)
        self.vision.eval()  # frozen parts stay in eval mode (no dropout, fixed norms)
        self.lm.eval()
        return self

    def encode_media(self, images: torch.Tensor, media_mask: torch.Tensor | None = None) -> torch.Tensor:
        """images [B, N, T, C, H, W] -> visual tokens [B, N, V, D]; padding media stay zero, unencoded."""
        batch, media, frames = images.shape[:3]
        valid = (
            media_mask if media_mask is not None else torch.ones(batch, media, dtype=torch.bool, device=images.device)
        )
        chosen = images[valid]  # [M, T, C, H, W]
        if chosen.shape[0] == 0:  # no real media in the batch: encode one padding medium for the shape only
            return torch.zeros_like(self.encode_media(images[:1, :1])).expand(batch, media, -1, -1).contiguous()
        with torch.no_grad():  # the encoder is frozen: no graph, no activations kept
            patches = self.vision(chosen.flatten(0, 1).to(next(self.vision.parameters()).dtype))
        tokens = self.resampler(patches.view(chosen.shape[0], frames, *patches.shape[1:]).float())
        visual = tokens.new_zeros(batch, media, *tokens.shape[1:])
        visual[valid] = tokens
        return visual

    def forward(
        self,
        input_ids: torch.Tensor,
        images: torch.Tensor | None = None,
        media_mask: torch.Tensor | None = None,
        visual: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        attend_next: torch.Tensor | None = None,
        past_key_values: Any = None,
        use_cache: bool = False,
        images_before: torch.Tensor | None = None,
    ) -> FlamingoOutput:
        if visual is None and images is not None:
            visual = self.encode_media(images, media_mask)
        before_layer = None
        if visual is not None:
            valid = (
                media_mask
                if media_mask is not None
                else torch.ones(visual.shape[:2], dtype=torch.bool, device=visual.device)
            )
            allowed = media_attention_mask(
                input_ids, self.image_id, valid, self.cross_attention_config.media_attention, attend_next, images_before
            )
            before_layer = self._before_layer(visual, allowed)
        embeds = self.added_tokens.embed(input_ids, self.lm)
        hidden, cache = self.lm.forward(embeds, attention_mask, past_key_values, use_cache, before_layer)
        return FlamingoOutput(self.added_tokens.logits(hidden, self.lm), cache, visual)

    def _before_layer(self, visual: torch.Tensor, allowed: torch.Tensor):
        def before_layer(index: int, hidden: torch.Tensor) -> torch.Tensor:
            name = str(index)
            if name not in self.cross_attention:
                return hidden
            # the trainable blocks keep their own dtype when the frozen LM runs in bf16
            dtype = self.cross_attention[name].attention.to_q.weight.dtype
            return self.cross_attention[name](hidden.to(dtype), visual.to(dtype), allowed).to(hidden.dtype)

        return before_layer

    @torch.no_grad()
    def generate(
        self,
        input_ids: torch.Tensor,
        images: torch.Tensor | None = None,
        media_mask: torch.Tensor | None = None,
        max_new_tokens: int = 20,
        attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Greedy decoding with the LM's KV cache and the visual tokens computed once; each sequence
        stops at `<EOC>` (later positions are `<EOC>` too). Prompts of different lengths are
        left-padded with `attention_mask` [B, L] (0 on padding), so every row decodes as it would alone.
        Returns the new tokens [B, <= max_new_tokens]."""
        out = self.forward(
            input_ids, images=images, media_mask=media_mask, attention_mask=attention_mask, use_cache=True
        )
        images_before = (input_ids == self.image_id).sum(dim=1)
        finished = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        generated = []
        for _ in range(max_new_tokens):
            logits = out.logits[:, -1].float()
            logits[:, self.image_id] = float("-inf")  # the model must not invent an image it cannot see
            token = torch.where(finished, self.eoc_id, logits.argmax(dim=-1))
            generated.append(token)
            finished |= token == self.eoc_id
            if bool(finished.all()):
                break
            if attention_mask is not None:
                attention_mask = torch.cat([attention_mask, attention_mask.new_ones(len(token), 1)], dim=1)
            out = self.forward(
                token.unsqueeze(1),
                media_mask=media_mask,
                visual=out.visual,
                attention_mask=attention_mask,
                past_key_values=out.past_key_values,
                use_cache=True,
                images_before=images_before,
            )
        return torch.stack(generated, dim=1)

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]


def _resampler(config: ResamplerConfig, dim: int) -> nn.Module:
    if config.kind == "perceiver":
        return PerceiverResampler(
            dim, config.latents, config.depth, config.heads, config.dim_head, config.ff_mult, config.max_frames
        )
    if config.kind == "mlp":
        return MLPResampler(dim, config.ff_mult, config.max_frames)
    if config.kind == "transformer":
        return TransformerResampler(dim, config.depth, config.heads, config.ff_mult, config.max_frames)
    raise ValueError(f"unknown resampler {config.kind!r}: perceiver, mlp or transformer")
