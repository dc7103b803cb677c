"""Command-line flags for the image rules and resizing."""

from __future__ import annotations

import argparse

from pipelines.images.processing import RESIZE_MODES, ImageRules


def add_image_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("images (after fetching)")
    defaults = ImageRules()
    group.add_argument(
        "--min_image_side", type=int, default=defaults.min_side, help="Flamingo: 64; default: %(default)s"
    )
    group.add_argument(
        "--max_aspect_ratio", type=float, default=defaults.max_aspect_ratio, help="Flamingo: 3; default: %(default)s"
    )
    group.add_argument(
        "--image_size", type=int, default=defaults.target_size, help="resize target in px; default: %(default)s"
    )
    group.add_argument("--resize_mode", choices=RESIZE_MODES, default=defaults.resize_mode, help="default: %(default)s")
    group.add_argument("--jpeg_quality", type=int, default=defaults.jpeg_quality, help="default: %(default)s")
    group.add_argument(
        "--max_image_pixels",
        type=int,
        default=defaults.max_pixels,
        help="decompression-bomb guard; default: %(default)s",
    )


def image_rules_from_args(args: argparse.Namespace) -> ImageRules:
    return ImageRules(
        min_side=args.min_image_side,
        max_aspect_ratio=args.max_aspect_ratio,
        target_size=args.image_size,
        resize_mode=args.resize_mode,
        jpeg_quality=args.jpeg_quality,
        max_pixels=args.max_image_pixels,
    )
