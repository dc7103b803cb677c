"""A family of perceptual hashes concatenated into one binary code: the embedded default, no weights.

Each hash is 64 bits from a small greyscale thumbnail:
- phash: signs of the low 8x8 DCT coefficients of a 32x32 thumbnail against their median;
- dhash: whether each pixel is brighter than its right neighbour (9x8 thumbnail);
- dhash_v: the same downwards (8x9);
- ahash: each pixel of an 8x8 thumbnail against the mean.
The four see different things (frequency, horizontal and vertical gradients, brightness layout), so a
re-encode or colour shift that flips bits of one rarely flips the same share of the others; their
concatenation separates copies from distinct images better than any one of them (see
`curate index calibrate`). Solid borders (letterboxing, frames added by a re-poster) are trimmed
before hashing. Hashes are not crop-invariant: the index stores crops of each benchmark image
instead (dedup/views.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, ClassVar

import numpy as np
from PIL import Image, ImageChops

from dedup.embedders.base import Embedder

HASHES: tuple[str, ...] = ("phash", "dhash", "dhash_v", "ahash")
THUMBNAIL = 64  # every hash is taken from one shared greyscale thumbnail of this size
BORDER_TOLERANCE = 12  # grey levels a border pixel may differ from the corner colour and still be border
MIN_CONTENT = 0.3  # a trim that would keep less than this share of a side is not a border but content


class PerceptualHashEmbedder(Embedder):
    kind: ClassVar[str] = "phash"
    binary: ClassVar[bool] = True
    # Without a calibration saved in the index (benchmarks/copy_detection.py (a), "regional" views): outright at 0.84
    # (no false positive among the distractors), verified from 0.73 (about 1 in 6 distractors proposed).
    default_threshold: ClassVar[float] = 0.84
    default_candidate_threshold: ClassVar[float | None] = 0.73

    def __init__(self, hashes: Sequence[str] = HASHES) -> None:
        unknown = sorted(set(hashes) - set(HASHES))
        if unknown or not hashes:
            raise ValueError(f"perceptual hashes must be among {', '.join(HASHES)}; got {', '.join(hashes)}")
        self.hashes = tuple(hashes)
        self.dim = 64 * len(self.hashes)

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "hashes": list(self.hashes)}

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim // 8), dtype=np.uint8)
        bits = np.stack([self._bits(image) for image in images])
        return np.packbits(bits, axis=1)

    def _bits(self, image: Image.Image) -> np.ndarray:
        thumbnail = _greyscale_thumbnail(image)
        return np.concatenate([_HASH_FUNCTIONS[name](thumbnail) for name in self.hashes])


def _greyscale_thumbnail(image: Image.Image) -> Image.Image:
    image = _trim_border(image.convert("L"))
    # reduce() by an integer factor is a cheap box filter; the last step to the exact size is Lanczos.
    factor = min(image.width, image.height) // (2 * THUMBNAIL)
    if factor > 1:
        image = image.reduce(factor)
    return image.resize((THUMBNAIL, THUMBNAIL), Image.Resampling.LANCZOS)


def _trim_border(image: Image.Image) -> Image.Image:
    """Crop away a solid frame of the top-left corner's colour on opposite sides (a border or
    letterboxing); one plain side alone is more likely sky or a wall than a frame, and stays."""
    background = Image.new("L", image.size, image.getpixel((0, 0)))
    difference = ImageChops.difference(image, background).point(lambda level: 255 if level > BORDER_TOLERANCE else 0)
    box = difference.getbbox()
    if box is None:
        return image
    left, top, right, bottom = box
    if not (left and right < image.width):
        left, right = 0, image.width
    if not (top and bottom < image.height):
        top, bottom = 0, image.height
    if (right - left) < MIN_CONTENT * image.width or (bottom - top) < MIN_CONTENT * image.height:
        return image
    return image.crop((left, top, right, bottom)) if (right - left, bottom - top) != image.size else image


def _pixels(thumbnail: Image.Image, width: int, height: int) -> np.ndarray:
    return np.asarray(thumbnail.resize((width, height), Image.Resampling.BOX), dtype=np.float32)


def _phash(thumbnail: Image.Image) -> np.ndarray:
    dct = _dct_matrix(32)
    coefficients = (dct @ _pixels(thumbnail, 32, 32) @ dct.T)[:8, :8].ravel()
    # the DC term only measures mean brightness; the median is taken without it, as imagehash does
    return coefficients > np.median(coefficients[1:])


def _dhash(thumbnail: Image.Image) -> np.ndarray:
    pixels = _pixels(thumbnail, 9, 8)
    return (pixels[:, 1:] > pixels[:, :-1]).ravel()


def _dhash_vertical(thumbnail: Image.Image) -> np.ndarray:
    pixels = _pixels(thumbnail, 8, 9)
    return (pixels[1:, :] > pixels[:-1, :]).ravel()


def _ahash(thumbnail: Image.Image) -> np.ndarray:
    pixels = _pixels(thumbnail, 8, 8)
    return (pixels > pixels.mean()).ravel()


@cache
def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    matrix = np.sqrt(2.0 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    matrix[0] /= np.sqrt(2.0)
    return matrix.astype(np.float32)


_HASH_FUNCTIONS = {"phash": _phash, "dhash": _dhash, "dhash_v": _dhash_vertical, "ahash": _ahash}
