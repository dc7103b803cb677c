"""Decode, validate, resize and hash: the real benchmark images, and every way an image can be bad."""

import io

import cv2
import imagehash
import numpy as np
import pytest
from PIL import Image, ImageOps

from pipelines.images.processing import ImageRejected, ImageRules, phash_of_grey, process_image

RULES = ImageRules()


def real_images(testdata):
    suffixes = (".jpg", ".jpeg", ".png", ".gif", ".webp")
    return sorted(p for p in (testdata / "images").rglob("*") if p.suffix.lower() in suffixes)


def encoded(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def photo(size=(640, 480), mode="RGB") -> Image.Image:
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient.rotate(90)))
    return image.convert(mode)


def test_real_images_are_resized_to_320_keeping_ratio(testdata):
    paths = real_images(testdata)
    assert len(paths) >= 50
    kept = 0
    for path in paths:
        try:
            result = process_image(path.read_bytes(), RULES)
        except ImageRejected as rejected:
            assert rejected.reason == "aspect_ratio", f"{path.name}: {rejected}"
            continue
        kept += 1
        assert max(result.width, result.height) == min(320, max(result.original_width, result.original_height))
        ratio_in = result.original_width / result.original_height
        assert abs(result.width / result.height - ratio_in) < 0.02
        assert Image.open(io.BytesIO(result.jpeg)).format == "JPEG"
        assert len(result.sha256) == 64 and len(result.phash) == 16
    assert kept >= len(paths) - 3


def test_identical_bytes_give_identical_hashes(testdata):
    data = real_images(testdata)[0].read_bytes()
    assert process_image(data, RULES) == process_image(data, RULES)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<html><body>not an image</body></html>", "not_an_image"),
        (encoded(photo((40, 40))), "too_small"),
        (encoded(photo((100, 400))), "aspect_ratio"),
        (encoded(Image.new("RGB", (300, 300), (120, 60, 30))), "single_colour"),
        (encoded(Image.new("1", (20_000, 20_000)), "PNG"), "decompression_bomb"),
    ],
)
def test_bad_images_are_rejected_with_a_reason(data, reason):
    with pytest.raises(ImageRejected) as rejected:
        process_image(data, RULES)
    assert rejected.value.reason == reason


def test_truncated_jpeg_is_rejected(testdata):
    data = next(p for p in real_images(testdata) if p.suffix.lower() in (".jpg", ".jpeg")).read_bytes()
    with pytest.raises(ImageRejected) as rejected:
        process_image(data[: len(data) // 3], RULES)
    assert rejected.value.reason == "truncated_or_corrupt"


def test_modes_become_rgb():
    for image, fmt in [
        (photo(mode="CMYK"), "JPEG"),
        (photo().convert("P"), "PNG"),
        (photo().convert("LA"), "PNG"),
        (photo(mode="L"), "JPEG"),
    ]:
        result = process_image(encoded(image, fmt), RULES)
        assert Image.open(io.BytesIO(result.jpeg)).mode == "RGB"


def test_transparent_pixels_become_white():
    image = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    image.paste((200, 0, 0, 255), (0, 0, 100, 200))
    result = Image.open(io.BytesIO(process_image(encoded(image, "PNG"), RULES).jpeg))
    assert result.getpixel((190, 100))[0] > 240 and result.getpixel((10, 100))[1] < 30


def test_animated_gif_takes_the_first_frame():
    frames = [photo((200, 200)), Image.new("RGB", (200, 200), (0, 0, 255))]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])
    result = Image.open(io.BytesIO(process_image(data, RULES).jpeg))
    assert result.getpixel((100, 100))[2] < 200  # not the blue second frame


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    result = process_image(encoded(photo((640, 480)), exif=exif.tobytes()), RULES)
    assert (result.width, result.height) == (240, 320)


@pytest.mark.parametrize(
    ("mode", "size"), [("keep_ratio", (320, 240)), ("center_crop", (320, 320)), ("pad", (320, 320))]
)
def test_resize_modes(mode, size):
    result = process_image(encoded(photo((800, 600))), ImageRules(resize_mode=mode))
    assert (result.width, result.height) == size


def test_small_images_are_not_upscaled_unless_asked():
    assert process_image(encoded(photo((200, 150))), RULES).width == 200
    assert process_image(encoded(photo((200, 150))), ImageRules(upscale=True)).width == 320


def decoded(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=np.float64)


def psnr(ours: np.ndarray, reference: np.ndarray) -> float:
    return 10 * np.log10(255**2 / max(np.mean((ours - reference) ** 2), 1e-9))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_gives_the_pixels_pillow_shows(orientation):
    """The JPEG fast path decodes with libjpeg-turbo, which ignores EXIF: it must turn the pixels as Pillow does."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    image = photo((900, 600))
    image.paste((255, 0, 0), (0, 0, 150, 100))  # a red top-left corner shows any turn or flip
    data = encoded(image, quality=95, exif=exif.tobytes())
    result = process_image(data, RULES)
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    assert (result.width, result.height) == tuple(round(side * 320 / 900) for side in upright.size)
    reference = np.asarray(upright.resize((result.width, result.height), Image.Resampling.LANCZOS), dtype=np.float64)
    assert psnr(decoded(result.jpeg), reference) > 30


def test_output_size_follows_the_stored_picture_not_the_reduced_decode():
    """A JPEG decoded at a DCT scale has rounded sides (4001 / 8 -> 501); the output keeps the source's ratio."""
    result = process_image(encoded(photo((4001, 2999))), RULES)
    assert (result.width, result.height) == (320, round(2999 * 320 / 4001))
    assert (result.original_width, result.original_height) == (4001, 2999)


def test_a_jpeg_that_libjpeg_only_warns_about_is_kept():
    """Extraneous bytes before the end marker: a libjpeg warning, which Pillow accepts and so do we."""
    data = encoded(photo((640, 480)))
    assert data.endswith(b"\xff\xd9")
    result = process_image(data[:-2] + b"\x00" * 16 + data[-2:], RULES)
    assert (result.width, result.height) == (320, 240)


def test_reduced_decoding_loses_nothing_against_decoding_every_pixel(testdata):
    """Against a Lanczos resize of the full decode, ours (a DCT-scaled decode, then area averaging) is as close
    as area averaging of the full decode (img2dataset's method) is."""
    ours, full_area = [], []
    for path in real_images(testdata):
        data = path.read_bytes()
        try:
            result = process_image(data, RULES)
        except ImageRejected:
            continue
        upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
        size = (result.width, result.height)
        reference = np.asarray(upright.resize(size, Image.Resampling.LANCZOS), dtype=np.float64)
        area = cv2.resize(np.asarray(upright), size, interpolation=cv2.INTER_AREA)
        ours.append(psnr(decoded(result.jpeg), reference))
        full_area.append(psnr(decoded(encoded(Image.fromarray(area), quality=90)), reference))
    assert len(ours) >= 50
    assert np.mean(ours) > np.mean(full_area) - 0.5, (np.mean(ours), np.mean(full_area))


def test_the_perceptual_hash_is_imagehashs(testdata):
    for path in real_images(testdata)[:12]:
        grey = Image.open(path).convert("L").resize((32, 32), Image.Resampling.LANCZOS)
        assert phash_of_grey(np.asarray(grey)) == str(imagehash.phash(grey))


def test_a_reencoded_copy_keeps_its_perceptual_hash(testdata):
    """The repetition rule counts an image and its re-encoded copies as one through this hash."""
    same = total = 0
    for path in real_images(testdata):
        try:
            original = process_image(path.read_bytes(), RULES).phash
        except ImageRejected:
            continue
        for quality in (50, 75):
            total += 1
            same += process_image(encoded(Image.open(path).convert("RGB"), quality=quality), RULES).phash == original
    assert same >= 0.9 * total, f"{same} of {total}"
