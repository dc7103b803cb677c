"""Views of a benchmark image stored in the index beside the image itself.

A perceptual hash of a crop shares little with the hash of the whole image, so the index holds the
crops a training copy is likely to be: centre crops at several scales and the four corner crops,
each also mirrored. A training image is searched once, as it is; it matches whichever view it copies.
The "regional" set covers crops at any position: a grid of crops keeping 50, 60, 75 and 90% of each
side, close enough together that a crop anywhere is within a few percent of one of them (a hash
tolerates that shift); it proposes candidates for geometric verification (dedup/verification.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from PIL import Image, ImageOps

_CORNER_NAMES = ("top_left", "top_right", "bottom_left", "bottom_right")
GRID_STEPS = {50: 9, 60: 7, 75: 5, 90: 3}  # crops per side at each share kept (benchmarks/copy_detection.py)
GRID_SOURCE_SIDE = 512  # grid crops are cut from the image shrunk to this: a hash looks at 64 px
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
    # about 330 rows per image: 64 bytes each as 256-bit codes
    "regional": (
        "full",
        "flip",
        *(
            f"grid{keep}_{column}_{row}"
            for keep, steps in GRID_STEPS.items()
            for row in range(steps)
            for column in range(steps)
        ),
    ),
}
_CORNERS = {"top_left": (0.0, 0.0), "top_right": (1.0, 0.0), "bottom_left": (0.0, 1.0), "bottom_right": (1.0, 1.0)}


def benchmark_views(image: Image.Image, names: Sequence[str]) -> Iterator[tuple[str, Image.Image]]:
    """(view name, image) for each named view; crops also yield their mirror ("NAME+flip")."""
    small = None
    for name in names:
        if name == "full":
            yield name, image
        elif name == "flip":
            yield name, ImageOps.mirror(image)
        elif name.startswith("grid"):
            if small is None:
                small = image.copy()
                small.thumbnail((GRID_SOURCE_SIDE, GRID_SOURCE_SIDE), Image.Resampling.BILINEAR)
            view = _grid_crop(small, name)
            yield name, view
            yield f"{name}+flip", ImageOps.mirror(view)
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


def _grid_crop(image: Image.Image, name: str) -> Image.Image:
    """ "grid50_3_4": the crop keeping 50% of each side, 3rd of 9 positions across, 4th down."""
    keep, column, row = (int(part) for part in name.removeprefix("grid").split("_"))
    steps = GRID_STEPS[keep]
    width, height = round(image.width * keep / 100), round(image.height * keep / 100)
    left = round((image.width - width) * column / (steps - 1))
    top = round((image.height - height) * row / (steps - 1))
    return image.crop((left, top, left + width, top + height))
