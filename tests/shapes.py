"""A website of simple visual classes (a red circle, a blue square, ...), curated for real.

Each of the 9 classes (3 colours x 3 shapes) is drawn as one filled shape on a light, noisy, tinted
background; every picture sits in a `<figure>` whose alt text and figcaption both begin with its
class phrase ("a red circle ...") and go on with words that say nothing about the class, so a model
trained on the curated pairs can only tell the classes apart by looking at the images.
"""

from __future__ import annotations

import html
import itertools
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from pipelines.cli import main
from pipelines.local_server import LocalServer

COLOURS = ("red", "green", "blue")
SHAPES = ("circle", "square", "triangle")
CLASSES: list[tuple[str, str]] = [(colour, shape) for colour in COLOURS for shape in SHAPES]

_RGB = {"red": (220, 35, 35), "green": (35, 170, 55), "blue": (35, 75, 220)}
FIGURES_PER_PAGE = 9

# Caption words that carry no colour or shape: where the picture is and where it comes from.
_PLACES = (
    "on a notebook page", "on a poster", "in a school workbook", "on a gallery wall", "in a sketchbook",
    "on a greeting card", "on a postcard", "in a puzzle book", "on a paper flyer", "on a kitchen table",
    "in a children's atlas", "on a museum label", "in a library book", "on a studio desk", "on a shop window",
    "in a travel diary",
)  # fmt: skip
_ORIGINS = (
    "drawn in the morning", "sketched last week", "made by a student", "printed for a lesson",
    "found in an old archive", "photographed indoors", "scanned at home", "shared by a reader",
    "kept for reference", "painted on a rainy day", "copied from a textbook", "made for a workshop",
    "drawn by a teacher", "saved from a magazine", "prepared for an exam", "made during a holiday",
)  # fmt: skip
_DETAILS = (
    "The paper is slightly crumpled at the edges.",
    "Nothing else appears in the picture.",
    "It was part of a small collection of simple drawings.",
    "The light in the room was soft and even.",
    "A short note on the back gives the date.",
    "The ink has faded a little over the years.",
    "It is one of many pictures in the same folder.",
    "The drawing was made quickly and without a ruler.",
)
_PARAGRAPHS = (
    "This gallery collects simple drawings that visitors sent to us over the past year. Each one was "
    "scanned or photographed and is shown here with the short note that came with it.",
    "We started the collection for a class about perception, and it has grown since then. Many of the "
    "pictures were made by children, some by their parents and a few by their teachers.",
    "The pictures are kept in folders by the month in which they arrived. If you would like to send one "
    "of your own, please write to the address on the front page of the site.",
    "Some readers asked how the pictures are chosen. We keep almost everything that reaches us, as long "
    "as the drawing is clear and the sender agrees that it may be shown here.",
)


def class_phrase(index: int) -> str:
    """The words that name class `index`: "a red circle"."""
    colour, shape = CLASSES[index]
    return f"a {colour} {shape}"


def draw_shape(colour: str, shape: str, rng: random.Random) -> Image.Image:
    """One filled `shape` in a shade of `colour`, 60-85% of the shorter side, at a random place on a light
    background with a random tint, blotchy shading, faint grey pencil strokes and grain: enough variety
    that no two pictures share a perceptual hash, and none is a single colour."""
    width, height = rng.randint(112, 144), rng.randint(112, 144)
    noise = np.random.default_rng(rng.getrandbits(32))
    # The blotches: a coarse random grid of light and shade blown up smoothly, the same on every channel.
    tint = np.array([225 + rng.randint(-10, 10) for _ in range(3)], dtype=np.float32)
    blotches = Image.fromarray(noise.uniform(-30, 30, (4, 4)).astype(np.float32), "F")
    shading = np.asarray(blotches.resize((width, height), Image.Resampling.BICUBIC))
    image = Image.fromarray(np.clip(tint + shading[..., None], 0, 255).astype(np.uint8), "RGB")

    shade = rng.uniform(0.85, 1.1)
    fill = tuple(round(channel * shade) + rng.randint(-10, 10) for channel in _RGB[colour])
    side = round(min(width, height) * rng.uniform(0.6, 0.85))
    left, top = rng.randint(2, width - side - 2), rng.randint(2, height - side - 2)
    right, bottom = left + side, top + side
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(2, 4)):  # faint pencil strokes
        grey = rng.randint(150, 190)
        draw.line([(rng.randrange(width), rng.randrange(height)) for _ in range(3)], fill=(grey,) * 3, width=2)
    if shape == "circle":
        draw.ellipse((left, top, right, bottom), fill=fill)
    elif shape == "square":
        draw.rectangle((left, top, right, bottom), fill=fill)
    else:
        draw.polygon([(left, bottom), (right, bottom), ((left + right) / 2, top)], fill=fill)

    grain = noise.normal(0, rng.uniform(3, 6), (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(image, dtype=np.float32) + grain, 0, 255).astype(np.uint8), "RGB")


def build_shapes_site(root: Path, per_class: int, seed: int = 0) -> int:
    """Write the site under `root`: index.html, pages of figures (`per_class` JPEGs of every class, in a
    shuffled order) and robots.txt. Returns the number of images."""
    combinations = list(itertools.product(_PLACES, _ORIGINS))
    if per_class > len(combinations):
        raise ValueError(f"per_class is at most {len(combinations)} (distinct captions); got {per_class}")
    rng = random.Random(seed)
    figures = []
    for index, (colour, shape) in enumerate(CLASSES):
        for place, origin in rng.sample(combinations, per_class):
            phrase = class_phrase(index)
            alt = f"{phrase} {place} {origin}"
            caption = f"{phrase} {origin} {place}. {rng.choice(_DETAILS)}"
            figures.append((draw_shape(colour, shape, rng), alt, caption))
    rng.shuffle(figures)

    (root / "img").mkdir(parents=True, exist_ok=True)
    pages = []
    for start in range(0, len(figures), FIGURES_PER_PAGE):
        blocks = [f"<p>{html.escape(rng.choice(_PARAGRAPHS))}</p>"]
        for number, (image, alt, caption) in enumerate(figures[start : start + FIGURES_PER_PAGE], start + 1):
            src = f"img/{number:05d}.jpg"
            image.save(root / src, quality=90)
            blocks.append(
                f'<figure><img src="{src}" alt="{html.escape(alt)}" width="{image.width}" height="{image.height}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
        pages.append(f"page-{len(pages) + 1:03d}.html")
        _write_page(root / pages[-1], f"Drawings, part {len(pages)}", "\n".join(blocks))
    links = "".join(f'<li><a href="{name}">{name.removesuffix(".html")}</a></li>' for name in pages)
    _write_page(root / "index.html", "A gallery of simple drawings", f"<ul>{links}</ul>")
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="utf-8")
    return len(figures)


SITE_HOST = "shapes.test"  # the site's name in every URL: keys and shard order do not depend on a port


def curate_shapes(site_root: Path, output: Path) -> Path:
    """Run the whole `curate run` DAG (pairs only) on the site's pages, given as a URL list of
    http://shapes.test/... (written to output/input/pages.txt) and fetched from a mirror of the site
    on 127.0.0.1; returns `output`."""
    url_list = output / "input" / "pages.txt"
    url_list.parent.mkdir(parents=True, exist_ok=True)
    url_list.write_text("".join(f"http://{SITE_HOST}/{page.name}\n" for page in sorted(site_root.glob("page-*.html"))))
    mirror = output / "mirror"
    mirror.mkdir()
    (mirror / SITE_HOST).symlink_to(site_root.resolve())
    with LocalServer(mirror) as server:
        code = main(
            ["run", "--input", str(url_list), "--output", str(output), "--datasets", "pairs", "--allow_loopback",
             "--fetch_mirror", server.url, "--per_host_delay=0", "--direct_running_mode=in_memory",
             "--direct_num_workers=1"]
        )  # fmt: skip
    assert code == 0, f"curate run on {site_root} exited with {code}"
    return output


def held_out_images(per_class: int, seed: int) -> list[tuple[Image.Image, int]]:
    """`per_class` fresh pictures of every class with their class index, drawn from a random stream that
    the site never uses, so none of them can have been curated."""
    rng = random.Random(f"held-out:{seed}")
    return [
        (draw_shape(colour, shape, rng), index)
        for _ in range(per_class)
        for index, (colour, shape) in enumerate(CLASSES)
    ]


def _write_page(path: Path, title: str, body: str) -> None:
    path.write_text(
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><article><h1>{title}</h1>\n{body}\n</article></body></html>",
        encoding="utf-8",
    )
