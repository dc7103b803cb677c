"""Views of a benchmark image stored in the index beside the image itself.

A perceptual hash of a crop shares little with the hash of the whole image, so the index holds the
crops a training copy is likely to be: centre crops at several scales and the four corner crops,
each also mirrored. A training image is searched once, as it is; it matches whichever view it copies.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from PIL import Image, ImageOps

_CORNER_NAMES = ("top_left", "top_right", "bottom_left", "bottom_right")
VIEW_SETS: dict[str, tuple[str, ...]] = {
    "full": ("full",),
    "flips": ("full", "flip"),
    "crops": (
        "full",
        "flip",
        *(f"centre{scale}" for scale in (90, 75, 60)),
        *(f"{corner}75" for corner in _CORNER_NAMES),
    ),
    # twice the rows of "crops", for benchmarks whose copies are often cropped hard
    "dense": (
        "full",
        "flip",
        *(f"centre{scale}" for scale in (90, 75, 60, 50)),
        *(f"{corner}{scale}" for corner in _CORNER_NAMES for scale in (90, 75, 60)),
    ),
}
_CORNERS = {"top_left": (0.0, 0.0), "top_right": (1.0, 0.0), "bottom_left": (0.0, 1.0), "bottom_right": (1.0, 1.0)}


def benchmark_views(image: Image.Image, names: Sequence[str]) -> Iterator[tuple[str, Image.Image]]:
    """(view name, image) for each named view; crops also yield their mirror ("NAME+flip")."""
    for name in names:
        if name == "full":
            yield name, image
        elif name == "flip":
            yield name, ImageOps.mirror(image)
        else:
            view = _crop(image, name)
            yield name, view
            yield f"{name}+flip", ImageOps.mirror(view)


def view_names(view_set: str) -> tuple[str, ...]:
    if view_set not in VIEW_SETS:
        raise ValueError(f"unknown view set {view_set!r}: choose one of {', '.join(VIEW_SETS)}")
    return VIEW_SETS[view_set]


def _crop(image: Image.Image, name: str) -> Image.Image:
    place, scale = name.rstrip("0123456789"), int(name[len(name.rstrip("0123456789")) :]) / 100
    x_anchor, y_anchor = (0.5, 0.5) if place == "centre" else _CORNERS[place]
    width, height = round(image.width * scale), round(image.height * scale)
    left = round((image.width - width) * x_anchor)
    top = round((image.height - height) * y_anchor)
    return image.crop((left, top, left + width, top + height))
