"""Embedders backed by PyTorch models from local files: open_clip image towers and TorchScript
copy-detection descriptors (SSCD / ISC-style). Nothing is ever downloaded: a missing file fails
before any model code runs."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image
from torchvision import transforms

from dedup.embedders.base import Embedder, MissingWeights, l2_normalise

RANDOM_WEIGHTS = "random"  # open_clip only: untrained weights, for tests and plumbing checks
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _device(requested: str | None) -> torch.device:
    return torch.device(requested or ("cuda" if torch.cuda.is_available() else "cpu"))


class _TorchEmbedder(Embedder):
    binary: ClassVar[bool] = False
    batch_size = 64

    model: torch.nn.Module
    preprocess: Callable[[Image.Image], torch.Tensor]
    device: torch.device

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        outputs = [np.zeros((0, self.dim), dtype=np.float32)]
        for start in range(0, len(images), self.batch_size):
            batch = torch.stack(
                [self.preprocess(image.convert("RGB")) for image in images[start : start + self.batch_size]]
            )
            with torch.inference_mode():
                outputs.append(self._forward(batch.to(self.device)).float().cpu().numpy())
        return l2_normalise(np.concatenate(outputs))

    def _forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self.model(batch)


class OpenClipEmbedder(_TorchEmbedder):
    kind: ClassVar[str] = "open_clip"
    default_threshold: ClassVar[float] = 0.95

    def __init__(self, model: str = "ViT-B-32", weights: str | None = None, device: str | None = None) -> None:
        if weights != RANDOM_WEIGHTS and not (weights and os.path.isfile(weights)):
            raise MissingWeights(self.kind, weights)
        import open_clip

        self.model_name, self.weights = model, weights
        self.device = _device(device)
        # An absolute path can never be mistaken for one of open_clip's download tags.
        local = None if weights == RANDOM_WEIGHTS else os.path.abspath(weights)
        clip = open_clip.create_model(model, pretrained=local, device=self.device)
        clip.eval().requires_grad_(False)
        self.model = clip
        self.preprocess = open_clip.image_transform(clip.visual.image_size, is_train=False)
        self.dim = int(clip.visual.output_dim)

    def _forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(batch)

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "model": self.model_name, "weights": self.weights}


class TorchScriptEmbedder(_TorchEmbedder):
    """Any TorchScript image descriptor: [B, 3, H, W] ImageNet-normalised -> [B, D].

    SSCD's published models take the shorter side resized to 288 (their `--size` default), which
    is the default here.
    """

    kind: ClassVar[str] = "torchscript"
    # SSCD's authors: cosine similarity 0.75 gives about 90% precision on DISC2021.
    default_threshold: ClassVar[float] = 0.75

    def __init__(self, weights: str | None, image_size: int = 288, device: str | None = None) -> None:
        if not (weights and os.path.isfile(weights)):
            raise MissingWeights(self.kind, weights)
        self.weights, self.image_size = weights, image_size
        self.device = _device(device)
        try:
            self.model = torch.jit.load(weights, map_location=self.device).eval()
        except RuntimeError as error:
            raise ValueError(f"torchscript embedder: {weights!r} is not a TorchScript model: {error}") from None
        self.preprocess = transforms.Compose(
            [
                transforms.Resize(image_size),
                transforms.CenterCrop(image_size),
                transforms.ToTensor(),
                transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
            ]
        )
        with torch.inference_mode():
            probe = self.model(torch.zeros(1, 3, image_size, image_size, device=self.device))
        if probe.ndim != 2:
            raise ValueError(f"torchscript embedder: {weights!r} returns shape {tuple(probe.shape)}, expected [B, D]")
        self.dim = int(probe.shape[1])

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "weights": self.weights, "image_size": self.image_size}
