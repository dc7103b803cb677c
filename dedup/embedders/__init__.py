"""Image embedders for decontamination, built by kind or rebuilt from the spec saved with an index."""

from __future__ import annotations

from typing import Any

from dedup.embedders.base import Embedder, MissingWeights
from dedup.embedders.perceptual import HASHES, PerceptualHashEmbedder

EMBEDDERS: tuple[str, ...] = ("phash", "open_clip", "torchscript")

__all__ = ["EMBEDDERS", "HASHES", "Embedder", "MissingWeights", "PerceptualHashEmbedder", "embedder_from_spec"]


def embedder_from_spec(spec: dict[str, Any]) -> Embedder:
    """{"kind": ..., settings...} -> an embedder; torch is only imported for the model kinds."""
    settings = dict(spec)
    kind = settings.pop("kind", None)
    if kind == "phash":
        return PerceptualHashEmbedder(**settings)
    if kind == "open_clip":
        from dedup.embedders.torch_models import OpenClipEmbedder

        return OpenClipEmbedder(**settings)
    if kind == "torchscript":
        from dedup.embedders.torch_models import TorchScriptEmbedder

        return TorchScriptEmbedder(**settings)
    raise ValueError(f"unknown embedder {kind!r}: choose one of {', '.join(EMBEDDERS)}")
