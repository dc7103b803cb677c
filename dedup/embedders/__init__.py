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
    if kind in ("open_clip", "torchscript"):
        try:
            from dedup.embedders import torch_models
        except ModuleNotFoundError as missing:
            raise ValueError(
                f"the {kind} embedder needs {missing.name}: pip install 'flamingo-curate[embed]' "
                "(or build the worker image with --build-arg EXTRAS=[embed])"
            ) from missing
        return (torch_models.OpenClipEmbedder if kind == "open_clip" else torch_models.TorchScriptEmbedder)(**settings)
    raise ValueError(f"unknown embedder {kind!r}: choose one of {', '.join(EMBEDDERS)}")
