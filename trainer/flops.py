"""FLOPs of one Flamingo training step, for tokens/s and MFU (as nanoGPT estimates them, extended to
frozen parts).

A matrix multiply costs 2 FLOPs per weight per token forward. Backward costs 4 for a trainable
weight (gradients of the input and of the weight) but 2 for a frozen one that gradients still flow
through (the frozen LM under the cross-attention blocks), and nothing for the frozen vision encoder,
which runs without a graph. Attention scores add 12 * layers * hidden * context per token (forward
and backward) for the causal self-attention.
"""

from __future__ import annotations

from dataclasses import dataclass

from trainer.model.flamingo import Flamingo

# Dense bf16 peak of one GPU, without sparsity, for the MFU denominator.
PEAK_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12}


@dataclass(frozen=True)
class StepShape:
    sequences: int
    tokens_per_sequence: int
    media: int  # real media encoded in the step (padding media are not)
    frames_per_media: int


@dataclass(frozen=True)
class ModelSizes:
    """The sizes FLOPs depend on, counted once per model (not per step)."""

    lm: int  # parameters in matrix multiplies (embeddings are lookups)
    cross_attention: int
    vision: int
    resampler: int
    layers: int
    hidden: int
    patches: int  # per frame

    @classmethod
    def of(cls, model: Flamingo) -> ModelSizes:
        return cls(
            lm=_parameters(model.lm) - _embedding_parameters(model),
            cross_attention=_parameters(model.cross_attention),
            vision=_parameters(model.vision),
            resampler=_parameters(model.resampler),
            layers=len(model.lm.layers),
            hidden=model.lm.hidden_size,
            patches=(model.vision.image_size // _patch(model)) ** 2,
        )


def step_flops(model: Flamingo | ModelSizes, shape: StepShape) -> float:
    sizes = model if isinstance(model, ModelSizes) else ModelSizes.of(model)
    tokens = shape.sequences * shape.tokens_per_sequence
    attention = 12 * sizes.layers * sizes.hidden * shape.tokens_per_sequence * tokens
    text = (2 + 2) * sizes.lm * tokens + (2 + 4) * sizes.cross_attention * tokens + attention
    frames = shape.media * shape.frames_per_media
    vision = 2 * sizes.vision * sizes.patches * frames
    resampler = (2 + 4) * sizes.resampler * sizes.patches * frames
    return float(text + vision + resampler)


def mfu(flops_per_step: float, seconds_per_step: float, peak_flops: float) -> float:
    return flops_per_step / seconds_per_step / peak_flops


def _parameters(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _embedding_parameters(model: Flamingo) -> int:
    """Token embeddings are a lookup, not a matrix multiply."""
    return model.lm.vocab_size * model.lm.hidden_size


def _patch(model: Flamingo) -> int:
    size = model.vision.tower.patch_size
    return size[0] if isinstance(size, tuple | list) else int(size)
