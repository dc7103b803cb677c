"""The frozen vision encoder: an open_clip image tower that returns its patch tokens (not only the
pooled vector), with weights from a local file. Flamingo uses a contrastively pre-trained NFNet;
open_clip's ViTs are the open equivalent."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import open_clip
import torch
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
from open_clip.model import CLIPVisionCfg, _build_vision_tower
from torch import nn

RANDOM_WEIGHTS = "random"  # untrained weights: tests, and checks of the plumbing


@dataclass(frozen=True)
class VisionConfig:
    model: str = "ViT-L-14"  # an open_clip architecture name
    weights: str | None = None  # a local open_clip checkpoint, or "random"
    tower: dict[str, Any] = field(default_factory=dict)  # instead of `model`: CLIPVisionCfg fields of a custom tower
    # The input side in pixels; None keeps the tower's own. Another size interpolates the position
    # embeddings of loaded weights (open_clip does it), so 320-px shards need no second resize.
    image_size: int | None = None


class VisionEncoder(nn.Module):
    """pixels [M, 3, H, W], normalised with `mean`/`std` -> patch tokens [M, P, width]."""

    def __init__(self, config: VisionConfig) -> None:
        super().__init__()
        if config.image_size is not None and config.image_size < 1:
            raise ValueError(f"vision image_size must be a positive number of pixels; got {config.image_size}")
        if config.tower:
            tower = {**config.tower, **({"image_size": config.image_size} if config.image_size else {})}
            cfg = CLIPVisionCfg(**tower)
            self.tower = _build_vision_tower(embed_dim=cfg.width, vision_cfg=cfg)
        else:
            if config.weights != RANDOM_WEIGHTS and not (config.weights and os.path.isfile(config.weights)):
                where = f"{config.weights!r} does not exist" if config.weights else "no weights path was given"
                raise FileNotFoundError(
                    f"vision encoder {config.model}: {where}; weights are never downloaded, give a local "
                    f"open_clip checkpoint (or '{RANDOM_WEIGHTS}' for tests)"
                )
            # An absolute path can never be mistaken for one of open_clip's download tags.
            local = None if config.weights == RANDOM_WEIGHTS else os.path.abspath(config.weights)
            clip = open_clip.create_model(
                config.model, pretrained=local, device=torch.get_default_device(), force_image_size=config.image_size
            )
            self.tower = clip.visual
        self.tower.output_tokens = True
        self.width = self.tower.transformer.width
        size = self.tower.image_size
        self.image_size = size[0] if isinstance(size, tuple | list) else int(size)
        # The statistics the tower was trained with (open_clip records them per model); CLIP's otherwise.
        self.mean = tuple(getattr(self.tower, "image_mean", None) or OPENAI_DATASET_MEAN)
        self.std = tuple(getattr(self.tower, "image_std", None) or OPENAI_DATASET_STD)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        _, tokens = self.tower(pixels)
        return tokens
