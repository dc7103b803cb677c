"""Command-line flags for the M3W documents: image counts, languages, and the text filters."""

from __future__ import annotations

import argparse

from pipelines.argument_types import fraction, positive_int
from pipelines.filters.image_urls import add_image_url_arguments, image_url_rules_from_args
from pipelines.filters.text_quality import add_text_filter_arguments, text_filter_config_from_args
from pipelines.m3w.document import M3WConfig


def add_m3w_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("documents")
    defaults = M3WConfig()
    group.add_argument(
        "--max_images_per_document",
        type=positive_int,
        default=defaults.max_images_per_document,
        help="images after this many in one document are dropped (OBELICS: 30; default: %(default)s)",
    )
    group.add_argument(
        "--keep_documents_without_images",
        action="store_true",
        help="keep documents left with no image (dropped by default, as in M3W)",
    )
    group.add_argument("--languages", default="", help="comma-separated ISO 639-1 codes to keep (default: all)")
    group.add_argument(
        "--min_language_score",
        type=fraction,
        default=defaults.min_language_score,
        help="minimum language-identification probability (default: %(default)s)",
    )
    add_image_url_arguments(parser)
    add_text_filter_arguments(parser)


def m3w_config_from_args(args: argparse.Namespace) -> M3WConfig:
    return M3WConfig(
        text=text_filter_config_from_args(args),
        images=image_url_rules_from_args(args),
        max_images_per_document=args.max_images_per_document,
        keep_documents_without_images=args.keep_documents_without_images,
        languages=tuple(code.strip() for code in args.languages.split(",") if code.strip()),
        min_language_score=args.min_language_score,
    )
