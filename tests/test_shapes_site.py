"""The shapes website curated by the real `curate run` DAG: nearly every picture gives an alt pair and a
caption pair, each caption names the class that is really drawn, and the output verifies."""

from __future__ import annotations

import io
import json
import random
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import webdataset as wds
from PIL import Image
from shapes import CLASSES, COLOURS, build_shapes_site, class_phrase, curate_shapes, draw_shape, held_out_images

from pipelines.cli import main

PER_CLASS = 30


@pytest.fixture(scope="module")
def curated(tmp_path_factory) -> tuple[Path, int, float]:
    work = tmp_path_factory.mktemp("shapes")
    images = build_shapes_site(work / "site", PER_CLASS)
    started = time.monotonic()
    output = curate_shapes(work / "site", work / "out")
    return output, images, time.monotonic() - started


def drawn_class(image: Image.Image) -> int:
    """The class of a picture, read from its pixels: the strongly coloured pixels are the shape; their
    strongest channel is its colour, and how much of their bounding box they fill tells its shape
    (a triangle 1/2, a circle pi/4, a square all of it)."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    mask = pixels.max(axis=2) - pixels.min(axis=2) > 60
    colour = COLOURS[int(pixels[mask].mean(axis=0).argmax())]  # COLOURS are in channel order
    rows, cols = np.flatnonzero(mask.sum(axis=1) >= 3), np.flatnonzero(mask.sum(axis=0) >= 3)
    fill = mask.sum() / ((rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1))
    shape = "square" if fill >= 0.9 else "circle" if fill >= 0.65 else "triangle"
    return CLASSES.index((colour, shape))


def test_drawn_pictures_are_classified_by_their_pixels():
    rng = random.Random(1)
    for index, (colour, shape) in enumerate(CLASSES):
        for _ in range(10):
            image = draw_shape(colour, shape, rng)
            assert min(image.size) >= 96 and max(image.size) <= 160
            assert drawn_class(image) == index
    assert [index for _, index in held_out_images(2, seed=0)] == list(range(len(CLASSES))) * 2


def test_every_picture_becomes_an_alt_and_a_caption_pair_of_its_class(curated, capsys):
    output, images, seconds = curated
    assert images == PER_CLASS * len(CLASSES) and seconds < 60
    samples = list(wds.WebDataset(sorted(str(p) for p in output.glob("pairs/shard-*.tar")), shardshuffle=False))
    pairs: dict[str, Counter] = {"alt": Counter(), "caption": Counter()}
    phashes = {}
    for sample in samples:
        meta = json.loads(sample["json"])
        caption = sample["txt"].decode()
        index = next(i for i in range(len(CLASSES)) if caption.startswith(class_phrase(i) + " "))
        assert drawn_class(Image.open(io.BytesIO(sample["jpg"]))) == index, (meta["url"], caption)
        pairs[meta["kind"]][index] += 1
        phashes[meta["url"]] = meta["info"]["phash"]
    for kind, per_class in pairs.items():
        assert per_class.total() >= 0.95 * images, (kind, per_class)
        assert min(per_class[i] for i in range(len(CLASSES))) >= 0.9 * PER_CLASS, (kind, per_class)
    assert len(set(phashes.values())) == len(phashes)  # no two pictures are near copies
    capsys.readouterr()
    assert main(["verify", str(output)]) == 0
    assert " problem" not in capsys.readouterr().out
