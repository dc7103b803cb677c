"""Bytes of a fetched image -> a validated, resized JPEG with its hashes, or the reason it is rejected.

Flamingo's rules (drop a side under 64 px, aspect ratio over 3, a single colour), Pillow's
protections (decompression bombs, truncated files), EXIF orientation, every mode to RGB, the first
frame of animations; JPEG draft decoding so large photos are decoded at a fraction of their size.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, replace
from typing import Literal

import imagehash
from PIL import Image, ImageOps, UnidentifiedImageError

ResizeMode = Literal["keep_ratio", "center_crop", "pad"]
RESIZE_MODES: tuple[str, ...] = ("keep_ratio", "center_crop", "pad")
# Shrink by an integer factor first (box filter), then Lanczos over the last factor of 3 or less:
# several times faster than Lanczos all the way, and indistinguishable at these sizes.
REDUCING_GAP = 3.0


@dataclass(frozen=True)
class ImageRules:
    min_side: int = 64  # Flamingo: images with a side under 64 px are dropped
    max_aspect_ratio: float = 3.0  # Flamingo: and those with an aspect ratio over 3
    single_colour_tolerance: int = 2  # max-min of every channel at or under this: one colour
    max_pixels: int = 40_000_000  # decompression-bomb guard, checked before decoding
    target_size: int = 320  # the paper feeds 320x320
    resize_mode: ResizeMode = "keep_ratio"  # keep_ratio: the longer side becomes target_size
    jpeg_quality: int = 90
    upscale: bool = False  # small images are kept at their size unless asked
    # Also keep the whole picture at target size when the training image is cropped or padded, for
    # decontamination to search what was fetched: a benchmark image's copy is the whole picture.
    keep_whole_for_search: bool = False


@dataclass(frozen=True)
class ProcessedImage:
    jpeg: bytes
    width: int
    height: int
    original_width: int
    original_height: int
    sha256: str  # of the source bytes
    phash: str  # 64-bit perceptual hash of the processed image, hex
    whole_jpeg: bytes | None = None  # the uncropped, unpadded picture (see ImageRules.keep_whole_for_search)

    @property
    def search_jpeg(self) -> bytes:
        """What decontamination searches: the whole picture as fetched (EXIF-rotated, scaled)."""
        return self.whole_jpeg if self.whole_jpeg is not None else self.jpeg


class ImageRejected(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def process_image(data: bytes, rules: ImageRules) -> ProcessedImage:
    sha256 = hashlib.sha256(data).hexdigest()
    image = _open(data, rules)
    width, height = image.size
    if min(width, height) < rules.min_side:
        raise ImageRejected("too_small", f"{width}x{height} has a side under {rules.min_side} px")
    if max(width, height) / min(width, height) > rules.max_aspect_ratio:
        raise ImageRejected("aspect_ratio", f"{width}x{height} is more than {rules.max_aspect_ratio}:1")
    image = _decode_rgb(image, rules)
    if _is_single_colour(image, rules.single_colour_tolerance):
        raise ImageRejected("single_colour", "every pixel has the same colour")
    resized = resize(image, rules)
    whole = None
    if rules.keep_whole_for_search and rules.resize_mode != "keep_ratio":
        whole = _jpeg(resize(image, replace(rules, resize_mode="keep_ratio")), rules)
    return ProcessedImage(
        jpeg=_jpeg(resized, rules),
        width=resized.width,
        height=resized.height,
        original_width=width,
        original_height=height,
        sha256=sha256,
        phash=str(imagehash.phash(resized)),
        whole_jpeg=whole,
    )


def _jpeg(image: Image.Image, rules: ImageRules) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=rules.jpeg_quality, optimize=False)
    return out.getvalue()


def _open(data: bytes, rules: ImageRules) -> Image.Image:
    """Identify the format from the bytes themselves (never the Content-Type) and check the size."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        reason = "not_an_image" if isinstance(error, UnidentifiedImageError) else "decompression_bomb"
        raise ImageRejected(reason, str(error)) from error
    if image.width * image.height > rules.max_pixels:
        raise ImageRejected("decompression_bomb", f"{image.width}x{image.height} is over {rules.max_pixels} pixels")
    return image


def _decode_rgb(image: Image.Image, rules: ImageRules) -> Image.Image:
    try:
        if image.format == "JPEG":
            # Decode at the smallest power-of-two scale that is still at least the target size.
            image.draft("RGB", (rules.target_size, rules.target_size))
        image.seek(0)  # the first frame of an animation
        image.load()
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ImageRejected("truncated_or_corrupt", str(error)) from error
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB") if image.mode != "RGB" else image


def _is_single_colour(image: Image.Image, tolerance: int) -> bool:
    # On a box-reduced copy of about 32 px a side: cheap, and a single colour stays single.
    small = image.reduce(max(1, min(image.size) // 32))
    return all(high - low <= tolerance for low, high in small.getextrema())


def resize(image: Image.Image, rules: ImageRules) -> Image.Image:
    size = rules.target_size
    if rules.resize_mode == "center_crop":
        side = min(image.size)
        if side < size and not rules.upscale:
            size = side
        left, top = (image.width - side) // 2, (image.height - side) // 2
        square = image.crop((left, top, left + side, top + side))
        return square.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
    scale = size / max(image.size)
    if scale >= 1 and not rules.upscale:
        scaled = image
    else:
        target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        scaled = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
    if rules.resize_mode == "pad":
        canvas = Image.new("RGB", (max(size, scaled.width), max(size, scaled.height)), (255, 255, 255))
        canvas.paste(scaled, ((canvas.width - scaled.width) // 2, (canvas.height - scaled.height) // 2))
        return canvas
    return scaled
