"""Flamingo configurations, presets and the one place a model is assembled from them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

from trainer.model.builtin_decoder import BuiltinDecoder, DecoderConfig
from trainer.model.flamingo import CrossAttentionConfig, Flamingo, ResamplerConfig
from trainer.model.vision import RANDOM_WEIGHTS, VisionConfig, VisionEncoder

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class LanguageConfig:
    builtin: DecoderConfig | None = None  # the built-in decoder, or
    hf_path: str | None = None  # a Hugging Face causal LM from a local folder
    frozen_dtype: str = "float32"  # "bfloat16" keeps the frozen LM (and vision encoder) in bf16


@dataclass(frozen=True)
class FlamingoConfig:
    vision: VisionConfig
    language: LanguageConfig
    resampler: ResamplerConfig = field(default_factory=ResamplerConfig)
    cross_attention: CrossAttentionConfig = field(default_factory=CrossAttentionConfig)
    train_output_rows: bool = False  # also train the output-head rows of <image> and <EOC>


def build_flamingo(config: FlamingoConfig) -> Flamingo:
    language = config.language
    if (language.builtin is None) == (language.hf_path is None):
        raise ValueError("the language model is either the built-in decoder or a Hugging Face path, exactly one")
    if language.frozen_dtype not in DTYPES:
        raise ValueError(f"frozen_dtype must be one of {', '.join(DTYPES)}; got {language.frozen_dtype!r}")
    dtype = DTYPES[language.frozen_dtype]
    if language.builtin is not None:
        lm = BuiltinDecoder(language.builtin).to(dtype)
    else:
        from trainer.model.hf_language import HuggingFaceLM

        lm = HuggingFaceLM(language.hf_path, dtype)  # read in its frozen dtype, never float32 first
    vision = VisionEncoder(config.vision).to(dtype)
    return Flamingo(
        vision,
        lm,
        image_id=lm.vocab_size,
        eoc_id=lm.vocab_size + 1,
        resampler=config.resampler,
        cross_attention=config.cross_attention,
        train_output_rows=config.train_output_rows,
    )


def frozen_weights_are_random(config: FlamingoConfig) -> bool:
    """Whether the frozen parts are drawn at random rather than read from files: a checkpoint must then
    carry them, since no seed re-draws them alike on another device."""
    vision = config.vision
    return config.language.builtin is not None or bool(vision.tower) or vision.weights in (None, RANDOM_WEIGHTS)


TINY_TOWER = {"layers": 2, "width": 64, "head_width": 32, "patch_size": 16, "image_size": 64}


def _preset(
    vision: str, decoder: DecoderConfig, every: int, xattn_heads: int, resampler_dim_head: int = 64
) -> FlamingoConfig:
    return FlamingoConfig(
        vision=VisionConfig(model=vision, weights=RANDOM_WEIGHTS),
        language=LanguageConfig(builtin=decoder, frozen_dtype="bfloat16"),
        resampler=ResamplerConfig(latents=64, depth=6, heads=8, dim_head=resampler_dim_head, max_frames=8),
        cross_attention=CrossAttentionConfig(every=every, heads=xattn_heads, dim_head=128),
    )


# Built-in decoders shaped like the paper's frozen LMs (Chinchilla 1.4B, 7B and 70B: table 10 of the
# Chinchilla paper) with cross-attention every 1, 4 and 7 layers as in Flamingo-3B, -9B and -80B;
# open_clip ViTs stand in for the NFNet-F6 encoder. Weights are random unless given.
PRESETS: dict[str, FlamingoConfig] = {
    "tiny": FlamingoConfig(
        vision=VisionConfig(tower=TINY_TOWER),
        language=LanguageConfig(
            builtin=DecoderConfig(vocab_size=512, hidden_size=64, layers=4, heads=4, max_positions=256)
        ),
        resampler=ResamplerConfig(latents=8, depth=2, heads=2, dim_head=16, ff_mult=2, max_frames=4),
        cross_attention=CrossAttentionConfig(every=2, heads=2, dim_head=16, ff_mult=2),
    ),
    "small": replace(
        _preset(
            "ViT-B-16", DecoderConfig(vocab_size=32000, hidden_size=768, layers=12, heads=12), every=2, xattn_heads=12
        ),
        language=LanguageConfig(builtin=DecoderConfig(vocab_size=32000, hidden_size=768, layers=12, heads=12)),
    ),
    "1b": _preset(
        "ViT-L-14", DecoderConfig(vocab_size=32000, hidden_size=2048, layers=16, heads=16), every=4, xattn_heads=16
    ),
    "3b-like": _preset(
        "ViT-L-14", DecoderConfig(vocab_size=32000, hidden_size=2048, layers=24, heads=16), every=1, xattn_heads=16
    ),
    "9b-like": _preset(
        "ViT-H-14", DecoderConfig(vocab_size=32000, hidden_size=4096, layers=32, heads=32), every=4, xattn_heads=32
    ),
    "80b-like": _preset(
        "ViT-bigG-14", DecoderConfig(vocab_size=32000, hidden_size=8192, layers=80, heads=64), every=7, xattn_heads=64
    ),
}


def parameter_counts(model: Flamingo) -> dict[str, int]:
    """Parameters per part, and frozen against trainable."""
    parts = {
        "vision": model.vision,
        "language_model": model.lm,
        "resampler": model.resampler,
        "cross_attention": model.cross_attention,
        "added_tokens": model.added_tokens,
    }
    counts = {name: sum(p.numel() for p in part.parameters()) for name, part in parts.items()}
    counts["trainable"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    counts["frozen"] = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    counts["total"] = counts["trainable"] + counts["frozen"]
    return counts


def preset_parameter_counts(name: str) -> dict[str, int]:
    """Counted on the meta device: no memory, no weights, any size."""
    with torch.device("meta"):
        return parameter_counts(build_flamingo(PRESETS[name]))
