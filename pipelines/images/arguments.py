"""Command-line flags for the image rules, resizing, decontamination and the repetition rule."""

from __future__ import annotations

import argparse

from apache_beam.io.filesystems import FileSystems

from dedup.corpus import RepetitionRules
from pipelines.argument_types import at_least_one, fraction, jpeg_quality, non_negative_int, positive_int
from pipelines.decontamination import DecontaminationConfig, check_index
from pipelines.images.cache import IMAGE_CACHE_DIR, ImageCache
from pipelines.images.processing import RESIZE_MODES, ImageRules
from pipelines.images.stage import ImageStage


def add_image_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("images (after fetching)")
    defaults = ImageRules()
    group.add_argument(
        "--min_image_side", type=non_negative_int, default=defaults.min_side, help="Flamingo: 64; default: %(default)s"
    )
    group.add_argument(
        "--max_aspect_ratio",
        type=at_least_one,
        default=defaults.max_aspect_ratio,
        help="Flamingo: 3; default: %(default)s",
    )
    group.add_argument(
        "--image_size",
        type=positive_int,
        default=defaults.target_size,
        help="resize target in px; default: %(default)s",
    )
    group.add_argument("--resize_mode", choices=RESIZE_MODES, default=defaults.resize_mode, help="default: %(default)s")
    group.add_argument("--jpeg_quality", type=jpeg_quality, default=defaults.jpeg_quality, help="default: %(default)s")
    group.add_argument(
        "--max_image_pixels",
        type=positive_int,
        default=defaults.max_pixels,
        help="decompression-bomb guard; default: %(default)s",
    )
    group.add_argument(
        "--resume",
        action="store_true",
        help=f"reuse the images earlier runs into --output fetched (OUTPUT/{IMAGE_CACHE_DIR}); fetch only the rest "
        "and the failures that may go another way (timeouts, 5xx, 429, ...)",
    )
    group.add_argument(
        "--no_image_cache",
        action="store_true",
        help=f"do not keep what this run fetches in OUTPUT/{IMAGE_CACHE_DIR} (it holds every usable image's JPEG)",
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


def add_dedup_arguments(parser: argparse.ArgumentParser, max_uses_per_image: int | None) -> None:
    """Decontamination flags, and the repetition rule's unless `max_uses_per_image` is None."""
    group = parser.add_argument_group("deduplication")
    group.add_argument(
        "--dedup_index",
        help="benchmark index folder (`curate index build`): images and frames matching an evaluation benchmark "
        "are dropped",
    )
    group.add_argument(
        "--dedup_threshold",
        type=fraction,
        help="match score in [0, 1] at or above which an image is a copy without verification "
        "(default: the index's calibrated threshold, else its embedder's default)",
    )
    group.add_argument(
        "--dedup_candidate_threshold",
        type=fraction,
        help="match score in [0, 1] at or above which an image is verified with local features (SIFT + RANSAC) "
        "against its candidates (default: as for --dedup_threshold)",
    )
    group.add_argument(
        "--dedup_min_inliers",
        type=positive_int,
        help="RANSAC inliers that make a verified copy (default: the index's calibrated count, else 12)",
    )
    if max_uses_per_image is None:
        return
    group.add_argument(
        "--max_uses_per_image",
        type=non_negative_int,
        default=max_uses_per_image,
        help="drop images used more often than this across the corpus, logos and ads (0: off; default: %(default)s)",
    )
    group.add_argument(
        "--exact_copies_only",
        action="store_true",
        help="count only byte-identical copies as the same image (default: near copies too, by pHash)",
    )


def image_stage_from_args(args: argparse.Namespace) -> ImageStage:
    cache = ImageCache(
        FileSystems.join(args.output, IMAGE_CACHE_DIR), write=not args.no_image_cache, resume=args.resume
    )
    return ImageStage(
        image_rules_from_args(args), decontamination_from_args(args), repetition_rules_from_args(args), cache
    )


def decontamination_from_args(args: argparse.Namespace) -> DecontaminationConfig | None:
    if not args.dedup_index:
        return None
    for flag in ("dedup_threshold", "dedup_candidate_threshold"):
        value = getattr(args, flag)
        if value is not None and not 0.0 < value <= 1.0:
            raise ValueError(f"--{flag} must be in (0, 1]; got {value}")
    check_index(args.dedup_index)
    return DecontaminationConfig(
        index=args.dedup_index,
        threshold=args.dedup_threshold,
        candidate_threshold=args.dedup_candidate_threshold,
        min_inliers=args.dedup_min_inliers,
    )


def repetition_rules_from_args(args: argparse.Namespace) -> RepetitionRules:
    return RepetitionRules(max_uses_per_image=args.max_uses_per_image, near=not args.exact_copies_only)
