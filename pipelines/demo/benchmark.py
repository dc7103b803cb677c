"""The demo's evaluation benchmark: a mirrored, cropped copy of one of the site's photos, indexed, so
the demo shows decontamination catching a benchmark image that a web page carries."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps

from dedup.benchmarks.items import BenchmarkSource
from dedup.build import build_index
from dedup.embedders import PerceptualHashEmbedder

BENCHMARK_LABEL = "demo_benchmark"


def build_demo_index(site_root: Path, photo: str, folder: Path) -> str:
    """Write the benchmark's image under `folder`/images, index it in `folder`/index; returns the index path."""
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    with Image.open(site_root / photo) as original:
        w, h = original.size
        ImageOps.mirror(original.crop((w // 20, h // 20, w - w // 20, h - h // 20))).save(images / "eval-0001.jpg")
    index, _ = build_index(
        [BenchmarkSource("folder", media=str(images), label=BENCHMARK_LABEL)], PerceptualHashEmbedder()
    )
    index.save(str(folder / "index"))
    return str(folder / "index")
