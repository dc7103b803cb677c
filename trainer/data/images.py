"""Pixels for the vision tower: decoded in DataLoader workers as uint8 (a quarter of float32's bytes to
pin and copy), normalised on the device.

As in the paper, an image keeps its aspect ratio: its longer side is scaled to the tower's input size
and it is padded to a square with the tower's mean colour, which normalises to exactly zero.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image


class BadImage(ValueError):
    pass


@dataclass(frozen=True)
class ImageSettings:
    size: int  # the vision tower's input side
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    flip: bool = False  # random horizontal flip
    colour_jitter: float = 0.0  # random brightness and contrast factors in [1 - j, 1 + j]


def load_image(jpeg: bytes, settings: ImageSettings, rng: np.random.Generator | None = None) -> np.ndarray:
    """JPEG (or any Pillow format) bytes -> [3, size, size] uint8, aspect kept, padded to a square."""
    size = settings.size
    try:
        with Image.open(io.BytesIO(jpeg)) as image:
            image.draft("RGB", (size, size))  # JPEG: decode at the smallest scale still >= the target
            if image.mode != "RGB":  # converting RGB to RGB would only copy it
                image = image.convert("RGB")
            scale = size / max(image.size)
            target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            resized = image.resize(target, Image.Resampling.BICUBIC)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise BadImage(f"undecodable image ({error})") from error
    pixels = _padded_to_square(np.asarray(resized), settings)
    if rng is not None:
        pixels = _augment(pixels, settings, rng)
    return np.ascontiguousarray(pixels)


def _padded_to_square(resized: np.ndarray, settings: ImageSettings) -> np.ndarray:
    """[h, w, 3] -> [3, size, size], centred on the mean colour: written straight in channel-first order,
    with no padded image in between to convert and transpose."""
    size, (height, width) = settings.size, resized.shape[:2]
    pixels = np.empty((3, size, size), dtype=np.uint8)
    pixels[:] = np.array([round(255 * m) for m in settings.mean], dtype=np.uint8)[:, None, None]
    top, left = (size - height) // 2, (size - width) // 2
    pixels[:, top : top + height, left : left + width] = resized.transpose(2, 0, 1)
    return pixels


def _augment(pixels: np.ndarray, settings: ImageSettings, rng: np.random.Generator) -> np.ndarray:
    if settings.flip and rng.random() < 0.5:
        pixels = pixels[:, :, ::-1]
    if settings.colour_jitter > 0:
        low, high = 1 - settings.colour_jitter, 1 + settings.colour_jitter
        brightness, contrast = rng.uniform(low, high, size=2)
        mean = pixels.mean()
        pixels = np.clip((pixels.astype(np.float32) - mean) * contrast + mean * brightness, 0, 255).astype(np.uint8)
    return pixels


def normalise(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 [..., 3, H, W] -> float32 normalised with the tower's statistics, on the images' device."""
    shape = (3, 1, 1)
    mean_t = torch.tensor(mean, device=images.device).view(shape)
    std_t = torch.tensor(std, device=images.device).view(shape)
    return (images.float() / 255 - mean_t) / std_t
