"""Bytes of a fetched image -> a validated, resized JPEG with its hashes, or the reason it is rejected.

Flamingo's rules (drop a side under 64 px, aspect ratio over 3, a single colour), Pillow's
protections (decompression bombs, truncated files), EXIF orientation, every mode to RGB, the first
frame of animations.

Speed: a JPEG (most of the web's photos) is decoded by libjpeg-turbo through simplejpeg at the
smallest of its eighth-step DCT scales that still covers twice the output, so a 2000 px photo bound
for 320 px is never decoded at full size; the last step is an area resize in OpenCV. Other formats, and
a JPEG libjpeg-turbo complains about, go through Pillow, which decides whether it is truncated.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, replace
from typing import Literal

import cv2
import numpy as np
import simplejpeg
from PIL import Image, ImageOps, UnidentifiedImageError

ResizeMode = Literal["keep_ratio", "center_crop", "pad"]
RESIZE_MODES: tuple[str, ...] = ("keep_ratio", "center_crop", "pad")
# A JPEG is decoded at a DCT scale of at least twice the output, then area-averaged down: as close to a
# Lanczos resize of the full decode (PSNR 38.6 dB on the real test images) as area-averaging the full
# decode is (38.9), where decoding right at the output size costs 5.5 dB (33.1).
DECODE_OVERSAMPLING = 2
# Bumped whenever the pixels or hashes of a processed image change, so cached rows are remade.
PROCESSING_VERSION = 2
_EXIF_ORIENTATION = 0x0112
# The first 8 rows of the unnormalised DCT-II matrix of size 32, as scipy.fftpack.dct (which imagehash uses).
_DCT_LOW = 2 * np.cos(np.pi * np.arange(8)[:, None] * (2 * np.arange(32)[None, :] + 1) / 64)
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_SIDES = frozenset({5, 6, 7, 8})


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
    # One thread per call, as img2dataset's resizer does: the stage runs many images side by side, and
    # OpenCV's own pool would only contend with them.
    cv2.setNumThreads(1)
    sha256 = hashlib.sha256(data).hexdigest()
    image = _open(data, rules)
    width, height = image.size
    if min(width, height) < rules.min_side:
        raise ImageRejected("too_small", f"{width}x{height} has a side under {rules.min_side} px")
    if max(width, height) / min(width, height) > rules.max_aspect_ratio:
        raise ImageRejected("aspect_ratio", f"{width}x{height} is more than {rules.max_aspect_ratio}:1")
    orientation = image.getexif().get(_EXIF_ORIENTATION)
    picture = (height, width) if orientation in _SWAPS_SIDES else (width, height)
    width_out, height_out = scaled_size(picture, rules)
    pixels = _decode_rgb(image, data, orientation, (DECODE_OVERSAMPLING * width_out, DECODE_OVERSAMPLING * height_out))
    resized = resize(pixels, picture, rules)
    # A 64x64 area-averaged thumbnail serves the single-colour rule and the perceptual hash.
    thumbnail = cv2.resize(resized, (64, 64), interpolation=cv2.INTER_AREA)
    if _is_single_colour(thumbnail, rules.single_colour_tolerance):
        raise ImageRejected("single_colour", "every pixel has the same colour")
    whole = None
    if rules.keep_whole_for_search and rules.resize_mode != "keep_ratio":
        whole = _jpeg(resize(pixels, picture, replace(rules, resize_mode="keep_ratio")), rules)
    return ProcessedImage(
        jpeg=_jpeg(resized, rules),
        width=resized.shape[1],
        height=resized.shape[0],
        original_width=width,
        original_height=height,
        sha256=sha256,
        phash=phash(thumbnail),
        whole_jpeg=whole,
    )


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


def _decode_rgb(image: Image.Image, data: bytes, orientation: int | None, needed: tuple[int, int]) -> np.ndarray:
    """RGB pixels, EXIF-oriented; a JPEG comes at the smallest DCT scale at least `needed` (oriented) big."""
    if image.format == "JPEG" and image.mode in ("RGB", "L"):
        min_width, min_height = needed[::-1] if orientation in _SWAPS_SIDES else needed
        try:
            pixels = simplejpeg.decode_jpeg(data, colorspace="RGB", min_width=min_width, min_height=min_height)
        except ValueError:
            pass  # libjpeg-turbo's warnings are errors in strict mode: let Pillow judge the file
        else:
            if orientation not in _ORIENTATION_TRANSPOSE:
                return pixels
            return np.asarray(Image.fromarray(pixels).transpose(_ORIENTATION_TRANSPOSE[orientation]))
    return np.asarray(_decode_with_pillow(image))


def _decode_with_pillow(image: Image.Image) -> Image.Image:
    try:
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


def _is_single_colour(thumbnail: np.ndarray, tolerance: int) -> bool:
    """Every channel's range within `tolerance` (OpenCV's min/max: ten times NumPy's on so small an array)."""
    return all(high - low <= tolerance for low, high, *_ in map(cv2.minMaxLoc, cv2.split(thumbnail)))


def scaled_size(picture: tuple[int, int], rules: ImageRules) -> tuple[int, int]:
    """The whole picture's size once scaled: its longer side at the target size, or for center_crop its shorter."""
    width, height = picture
    scale = rules.target_size / (min(picture) if rules.resize_mode == "center_crop" else max(picture))
    if scale >= 1 and not rules.upscale:
        return picture
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize(pixels: np.ndarray, picture: tuple[int, int], rules: ImageRules) -> np.ndarray:
    """Decoded pixels of a picture (size as stored, oriented) -> the training image of the rules' mode."""
    scaled = _scaled(pixels, scaled_size(picture, rules))
    height, width = scaled.shape[:2]
    if rules.resize_mode == "center_crop":
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
        return np.ascontiguousarray(scaled[top : top + side, left : left + side])
    if rules.resize_mode == "pad":
        canvas = np.full((max(rules.target_size, height), max(rules.target_size, width), 3), 255, dtype=np.uint8)
        top, left = (canvas.shape[0] - height) // 2, (canvas.shape[1] - width) // 2
        canvas[top : top + height, left : left + width] = scaled
        return canvas
    return scaled


def _scaled(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if size == (pixels.shape[1], pixels.shape[0]):
        return pixels
    shrinking = size[0] * size[1] < pixels.shape[0] * pixels.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LANCZOS4  # area: no aliasing when shrinking
    return cv2.resize(pixels, size, interpolation=interpolation)


def _jpeg(pixels: np.ndarray, rules: ImageRules) -> bytes:
    return simplejpeg.encode_jpeg(pixels, quality=rules.jpeg_quality, colorspace="RGB", colorsubsampling="420")


def phash(thumbnail: np.ndarray) -> str:
    """imagehash's pHash (the low 8x8 DCT coefficients of a 32x32 greyscale thumbnail against their median),
    the 32x32 Lanczos-resized from a 64x64 RGB thumbnail: Lanczos keeps more hashes of a re-encoded copy
    equal than area averaging (156 of 168 real images at JPEG quality 50 and 75, against 144)."""
    grey = Image.fromarray(cv2.cvtColor(thumbnail, cv2.COLOR_RGB2GRAY)).resize((32, 32), Image.Resampling.LANCZOS)
    return phash_of_grey(np.asarray(grey))


def phash_of_grey(grey: np.ndarray) -> str:
    low = _DCT_LOW @ grey.astype(np.float64) @ _DCT_LOW.T
    middle = np.sort(low, axis=None)[31:33]  # np.median's two middle values; the call alone cost more than a sort
    return np.packbits(low > (middle[0] + middle[1]) / 2).tobytes().hex()
