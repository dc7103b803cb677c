"""The real test images as the pipeline's image step leaves them, for benchmarks that write shards."""

from __future__ import annotations

import contextlib
from pathlib import Path

from pipelines.images.processing import ImageRejected, ImageRules, ProcessedImage, process_image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp")


def load_images(folder: Path) -> list[ProcessedImage]:
    """Every usable real image under `folder` (320 px, JPEG 90)."""
    images = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        with contextlib.suppress(ImageRejected):
            images.append(process_image(path.read_bytes(), ImageRules()))
    return images
