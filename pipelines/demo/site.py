"""Generates the demo website: article pages with images, captions, a video, and the usual clutter.

Everything here is made by this code (text, pictures, the clip), so the demo needs no download.
The clutter is deliberate: navigation, a logo, a tracking pixel, a lazy-loaded image, a `<picture>`,
an injected `<image>` token, a too-small and a too-thin image, and a page in windows-1252.
"""

from __future__ import annotations

import html
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from dedup.video_frames import ffmpeg_executable

PARAGRAPHS = [
    "Flamingos are wading birds that live in large colonies around shallow lakes, lagoons and "
    "mudflats. Their pink colour comes from the pigments in the algae and small shrimp that they eat.",
    "A flamingo feeds with its head upside down. The bill works like a sieve: the bird pumps water "
    "through it with its tongue and keeps the tiny animals that are caught in the fine plates.",
    "The birds often stand on one leg for hours. Researchers think that this posture saves energy "
    "and keeps the body warm, because less heat is lost through the bare skin of the legs.",
    "Chicks are born grey and white. They live in a crowded creche that is watched by a few adults, "
    "and each parent finds its own chick among thousands by the sound of its call.",
    "The lesser flamingo is the most numerous species. Millions of them gather on the soda lakes of "
    "East Africa, where few other animals can survive the salty and alkaline water.",
    "Before they take off, flamingos run across the water to gain speed. In flight they stretch their "
    "long necks forward and their legs behind, and the black feathers under the wings become visible.",
    "Salt pans and coastal wetlands are important for the birds, but many of these places are now "
    "threatened by mining, new roads and the changing level of water in the lakes.",
    "Volunteers count the colonies every winter. The numbers help scientists to understand how the "
    "populations move between countries and how they respond to dry and wet years.",
    "A group display is a famous sight: dozens of birds march together, turn their heads from side to "
    "side and open their wings at the same moment, which helps them to find a partner.",
    "Photographers who visit the lagoons at dawn can see the flocks rise from the water. The light is "
    "soft at that hour and the reflections on the calm surface double every bird.",
    "Zoos keep flamingos in groups, because a single bird or a pair will rarely breed. Some keepers "
    "even place mirrors around the pond so that a small flock looks larger to the birds.",
    "The nest is a small tower of mud with a shallow cup on top. Both parents take turns to sit on the "
    "single egg, and both feed the chick with a red milk that they make in their throat.",
]

BOILERPLATE_NAV = '<nav><a href="index.html">Home</a> | <a href="about.html">About us</a> | <a href="#">Shop</a></nav>'
BOILERPLATE_FOOTER = "<footer>Copyright 2026 Lagoon Notes. All rights reserved. Cookie settings.</footer>"


@dataclass(frozen=True)
class DemoSite:
    root: Path
    pages: list[str]
    images: list[str]
    video: str


def build_demo_site(root: Path, seed: int = 0) -> DemoSite:
    """Write the site under `root` and return what it holds (paths relative to `root`)."""
    rng = random.Random(seed)
    (root / "img").mkdir(parents=True, exist_ok=True)
    (root / "media").mkdir(parents=True, exist_ok=True)

    photos = [f"img/photo{i}.jpg" for i in range(8)]
    for name in photos:
        size = rng.choice([(640, 480), (480, 360), (800, 500), (360, 480)])
        _synthetic_photo(size, rng).save(root / name, quality=90)
    Image.new("RGB", (40, 40), (200, 30, 90)).save(root / "img/logo-small.png")
    _synthetic_photo((100, 400), rng).save(root / "img/thin-strip.jpg")
    Image.new("RGB", (300, 300), (128, 128, 128)).save(root / "img/flat-grey.jpg")
    Image.new("RGB", (1, 1), (255, 255, 255)).save(root / "img/pixel.gif")
    video = "media/flamingo-clip.mp4"
    _synthetic_video(root / video, seconds=4)

    pages = {
        "lagoon.html": _article(
            "Life on the lagoon",
            [
                _p(0),
                _figure(photos[0], "A flock of flamingos", "A flock feeding in the shallow water of the lagoon."),
                _p(1),
                _p(2),
                f'<img src="{photos[1]}" alt="Flamingo standing on one leg" width="640" height="480">',
                _p(3),
                '<img src="img/logo-small.png" alt="logo" class="site-logo">',
                '<img src="img/pixel.gif" width="1" height="1" alt="">',
            ],
        ),
        "chicks.html": _article(
            "How flamingo chicks grow up",
            [
                _p(3),
                f'<img data-src="{photos[2]}" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="Grey chicks in a creche" class="lazy">',
                _p(11),
                _figure(photos[3], "A nest of mud", "The mud nest keeps the egg above the flood line."),
                _p(4),
                '<img src="img/thin-strip.jpg" alt="a thin strip">',
            ],
        ),
        "flight.html": _article(
            "Watching flamingos fly",
            [
                _p(5),
                "<picture>"
                f'<source srcset="{photos[4]} 1x, {photos[5]} 2x" type="image/jpeg">'
                f'<img src="{photos[4]}" alt="Flamingos taking off from the water">'
                "</picture>",
                _p(9),
                "<p>Some pages try to smuggle model tokens into text, such as &lt;image&gt; or &lt;EOC&gt;, "
                "and the curation must neutralise them before training.</p>",
                f'<figure><video src="{video}" controls></video>'
                "<figcaption>A short clip of flamingos marching together in a group display.</figcaption></figure>",
                _p(8),
                '<img src="img/flat-grey.jpg" alt="placeholder">',
            ],
        ),
        "conservation.html": _article(
            "Protecting the wetlands",
            [_p(6), _p(7), f'<img src="{photos[6]}" alt="Volunteers counting birds at a salt pan">', _p(10)],
        ),
        "zoo.html": _article(
            "Flamingos in zoos",
            [_p(10), f'<img src="{photos[7]}" title="A zoo flock by the pond">', _p(1)],
            charset="windows-1252",
            extra_text="<p>The keepers’ notes say that the “mirrors” around the flock’s café-style pond help the birds to breed.</p>",
        ),
        "about.html": _article("About Lagoon Notes", ["<p>Contact us.</p>"]),
    }
    for name, (body, charset) in pages.items():
        (root / name).write_bytes(body.encode(charset))
    links = "".join(f'<li><a href="{name}">{name[:-5]}</a></li>' for name in pages)
    (root / "index.html").write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Lagoon Notes</title></head>"
        f"<body>{BOILERPLATE_NAV}<h1>Lagoon Notes</h1><ul>{links}</ul>{BOILERPLATE_FOOTER}</body></html>",
        encoding="utf-8",
    )
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n", encoding="utf-8")
    return DemoSite(root=root, pages=["index.html", *pages], images=[*photos], video=video)


def _p(index: int) -> str:
    return f"<p>{html.escape(PARAGRAPHS[index])}</p>"


def _figure(src: str, alt: str, caption: str) -> str:
    return f'<figure><img src="{src}" alt="{alt}"><figcaption>{caption}</figcaption></figure>'


def _article(title: str, blocks: list[str], charset: str = "utf-8", extra_text: str = "") -> tuple[str, str]:
    body = "\n".join(blocks)
    page = (
        f'<!doctype html><html><head><meta charset="{charset}"><title>{title}</title>'
        "<script>var tracker = 1;</script><style>body{font-family:serif}</style></head><body>"
        f"{BOILERPLATE_NAV}<article><h1>{title}</h1>\n{body}\n{extra_text}</article>"
        f'<aside class="ads">Buy cheap binoculars now!</aside>{BOILERPLATE_FOOTER}</body></html>'
    )
    return page, charset


def _synthetic_photo(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A smooth two-colour gradient with a few ellipses: distinct, compressible, never single-coloured."""
    width, height = size
    top = tuple(rng.randrange(256) for _ in range(3))
    bottom = tuple(rng.randrange(256) for _ in range(3))
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), gradient)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(8, max(9, min(width, height) // 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    return image


def _synthetic_video(path: Path, seconds: int) -> None:
    """A short H.264 clip from ffmpeg's own test source, with a tone as audio."""
    subprocess.run(
        [
            ffmpeg_executable(), "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=duration={seconds}:size=320x240:rate=15",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path),
        ],
        check=True,
    )  # fmt: skip
