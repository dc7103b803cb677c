"""Edits that turn a benchmark image into the copy a web page would carry, for threshold calibration.

Each augmentation is `(image, rng) -> image`: RGB in, RGB out, deterministic for a given numpy
Generator state, and never the identity (the unmodified copy is calibrated separately as "original").
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

Augmentation = Callable[[Image.Image, np.random.Generator], Image.Image]

CAPTIONS: tuple[str, ...] = (
    "when you finally understand the assignment",
    "© stock photos 2019 - all rights reserved",
    "nobody: ... absolutely nobody:",
    "Click here for more pictures like this",
    "me trying to explain my weekend",
    "SAMPLE - do not copy",
)


def random_crop(image: Image.Image, rng: np.random.Generator, keep: float) -> Image.Image:
    """A crop keeping `keep` of each side, at a random position."""
    width, height = max(1, round(image.width * keep)), max(1, round(image.height * keep))
    left = int(rng.integers(0, image.width - width + 1))
    top = int(rng.integers(0, image.height - height + 1))
    return image.crop((left, top, left + width, top + height))


def resize(image: Image.Image, rng: np.random.Generator, scale: float) -> Image.Image:
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BICUBIC)


def jpeg(image: Image.Image, rng: np.random.Generator, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


def colour_shift(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Brightness, contrast and saturation each scaled by 1 ± 0.1-0.3; hue rotated by 7-18° either way."""
    for enhancer in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
        image = enhancer(image).enhance(_away_from_one(rng, 0.1, 0.3))
    hue, saturation, value = image.convert("HSV").split()
    shift = int(rng.integers(5, 14)) * int(rng.choice((-1, 1)))  # 256 steps per turn: 5-13 is 7-18°
    hue = hue.point(lambda h: (h + shift) % 256)
    return Image.merge("HSV", (hue, saturation, value)).convert("RGB")


def greyscale(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    return image.convert("L").convert("RGB")


def flip(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    return ImageOps.mirror(image)


def overlay_text(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A caption band across the top or bottom (meme / watermark style), 12-20% of the height."""
    image = image.copy()
    band = max(8, round(image.height * rng.uniform(0.12, 0.20)))
    top = 0 if rng.random() < 0.5 else image.height - band
    draw = ImageDraw.Draw(image)
    background = _random_colour(rng)
    draw.rectangle((0, top, image.width, top + band), fill=background)
    caption = str(rng.choice(CAPTIONS))
    font = _fitting_font(draw, caption, max_width=0.95 * image.width, max_height=0.7 * band)
    ink = (0, 0, 0) if sum(background) > 3 * 128 else (255, 255, 255)
    draw.text((image.width / 2, top + band / 2), caption, font=font, fill=ink, anchor="mm")
    return image


def border(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Padding of one solid colour, 5-15% of the side on each edge independently."""
    left, right = (round(image.width * rng.uniform(0.05, 0.15)) for _ in range(2))
    top, bottom = (round(image.height * rng.uniform(0.05, 0.15)) for _ in range(2))
    padded = Image.new("RGB", (image.width + left + right, image.height + top + bottom), _random_colour(rng))
    padded.paste(image, (left, top))
    return padded


def combined(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The usual repost: cropped a little, shrunk, colour-adjusted and recompressed."""
    image = random_crop(image, rng, keep=rng.uniform(0.8, 0.95))
    image = resize(image, rng, scale=rng.uniform(0.4, 0.8))
    image = colour_shift(image, rng)
    return jpeg(image, rng, quality=int(rng.integers(40, 81)))


AUGMENTATIONS: dict[str, Augmentation] = {
    **{f"crop{keep}": partial(random_crop, keep=keep / 100) for keep in (90, 75, 60, 50)},
    "resize_half": partial(resize, scale=0.5),
    "resize_quarter": partial(resize, scale=0.25),
    "jpeg30": partial(jpeg, quality=30),
    "jpeg60": partial(jpeg, quality=60),
    "colour": colour_shift,
    "greyscale": greyscale,
    "flip": flip,
    "text": overlay_text,
    "border": border,
    "combined": combined,
}


def augment(image: Image.Image, name: str, rng: np.random.Generator) -> Image.Image:
    if name not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {name!r}: choose among {', '.join(AUGMENTATIONS)}")
    return AUGMENTATIONS[name](image.convert("RGB"), rng)


def _away_from_one(rng: np.random.Generator, low: float, high: float) -> float:
    """A factor 1 ± [low, high]: a shift too small to see would not test anything."""
    return 1.0 + float(rng.uniform(low, high)) * float(rng.choice((-1.0, 1.0)))


def _random_colour(rng: np.random.Generator) -> tuple[int, int, int]:
    red, green, blue = (int(value) for value in rng.integers(0, 256, size=3))
    return red, green, blue


def _fitting_font(
    draw: ImageDraw.ImageDraw, text: str, max_width: float, max_height: float
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's default font (FreeType, so it scales) at the largest size that fits the band."""
    size = max(6, int(max_height))
    font = ImageFont.load_default(size)
    width = draw.textlength(text, font=font)
    if width > max_width:  # text width grows in proportion to the font size
        font = ImageFont.load_default(max(6, int(size * max_width / width)))
    return font
