"""The embedder interface: images in, one fixed-size descriptor per image out.

Two families of descriptors, told apart by `binary`:
- binary codes (perceptual hashes): packed uint8 rows, compared by Hamming distance;
- float vectors (open_clip, copy-detection models): L2-normalised float32 rows, compared by inner product.
Either way `similarity` maps a FAISS distance to a score in [0, 1] where 1 is identical, so one
threshold flag means the same thing for every embedder.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from PIL import Image


class Embedder(ABC):
    kind: ClassVar[str]
    binary: ClassVar[bool]
    dim: int  # bits for binary codes, floats otherwise
    # Used when an index carries no calibrated threshold (`curate index calibrate --write` sets one).
    default_threshold: ClassVar[float]
    # A permissive score that proposes candidates for geometric verification; None: no default, the
    # index's calibration sets one (`curate index calibrate --write`).
    default_candidate_threshold: ClassVar[float | None] = None

    @abstractmethod
    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """RGB images -> [n, dim // 8] uint8 (binary) or [n, dim] float32, L2-normalised."""

    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """JSON-serialisable settings that rebuild this embedder (saved beside every index)."""

    def similarity(self, distances: np.ndarray) -> np.ndarray:
        """FAISS distances -> scores in [0, 1]: 1 - Hamming/bits for codes, cosine for vectors."""
        if self.binary:
            return 1.0 - distances.astype(np.float32) / self.dim
        return np.clip(distances, 0.0, 1.0).astype(np.float32)


class MissingWeights(FileNotFoundError):
    """Raised before anything is loaded: weights come from local paths only, never a download."""

    def __init__(self, kind: str, path: str | None) -> None:
        where = f"{path!r} does not exist" if path else "no weights path was given"
        super().__init__(
            f"{kind} embedder: {where}. Weights are never downloaded; pass a local file "
            f"(--embedder_weights PATH){' or allow random weights for tests' if kind == 'open_clip' else ''}."
        )


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
