"""Command-line flags for the M3W documents: image counts, languages, and the text filters."""

from __future__ import annotations

import argparse

from dedup.near_duplicates import NearDuplicateRules
from pipelines.argument_types import fraction, non_negative_int, positive_int
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
    group.add_argument(
        "--article_text_only",
        action="store_true",
        help="keep the article's text alone (default: also the page's prose outside it, as M3W and OBELICS keep pages)",
    )
    group.add_argument("--languages", default="", help="comma-separated ISO 639-1 codes to keep (default: all)")
    group.add_argument(
        "--min_language_score",
        type=fraction,
        default=defaults.min_language_score,
        help="minimum language-identification probability (default: %(default)s)",
    )
    add_cross_page_arguments(parser)
    add_image_url_arguments(parser)
    add_text_filter_arguments(parser)


def add_cross_page_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("across pages")
    defaults, near = M3WConfig(), NearDuplicateRules()
    group.add_argument(
        "--max_pages_per_paragraph",
        type=non_negative_int,
        default=defaults.max_pages_per_paragraph,
        help="a paragraph on more pages of one domain than this is removed from all of them, as site boilerplate "
        "(OBELICS: 1; 0: off; default: %(default)s)",
    )
    group.add_argument(
        "--near_duplicate_threshold",
        type=fraction,
        default=near.threshold,
        help="documents whose word shingles have this Jaccard similarity are near duplicates, one is kept "
        "(Gopher: 0.8; 0: off; default: %(default)s)",
    )
    group.add_argument(
        "--shingle_words", type=positive_int, default=near.shingle_words, help="Gopher: 13; default: %(default)s"
    )
    group.add_argument(
        "--minhash_permutations", type=positive_int, default=near.permutations, help="default: %(default)s"
    )
    group.add_argument(
        "--minhash_bands",
        type=positive_int,
        help="LSH bands (default: datasketch's optimum for the threshold and permutations)",
    )


def m3w_config_from_args(args: argparse.Namespace) -> M3WConfig:
    return M3WConfig(
        text=text_filter_config_from_args(args),
        images=image_url_rules_from_args(args),
        max_images_per_document=args.max_images_per_document,
        keep_documents_without_images=args.keep_documents_without_images,
        prose_outside_article=not args.article_text_only,
        languages=tuple(code.strip() for code in args.languages.split(",") if code.strip()),
        min_language_score=args.min_language_score,
        max_pages_per_paragraph=args.max_pages_per_paragraph,
        near_duplicates=near_duplicate_rules_from_args(args),
    )


def near_duplicate_rules_from_args(args: argparse.Namespace) -> NearDuplicateRules:
    if args.minhash_bands is not None and args.minhash_bands > args.minhash_permutations:
        raise ValueError(f"--minhash_bands {args.minhash_bands} is more than --minhash_permutations")
    return NearDuplicateRules(
        threshold=args.near_duplicate_threshold,
        shingle_words=args.shingle_words,
        permutations=args.minhash_permutations,
        bands=args.minhash_bands,
    )
