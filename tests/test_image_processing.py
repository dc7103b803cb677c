"""Decode, validate, resize and hash: the real benchmark images, and every way an image can be bad."""

import io

import pytest
from PIL import Image

from pipelines.images.processing import ImageRejected, ImageRules, process_image

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
