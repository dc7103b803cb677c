"""`curate m3w`: web pages -> interleaved documents (JSON lines) + rejects + stats.json."""

from __future__ import annotations

import argparse

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipelines import job
from pipelines.fetch.arguments import add_fetch_arguments, fetch_config_from_args
from pipelines.filters.image_urls import add_image_url_arguments, image_url_rules_from_args
from pipelines.filters.text_quality import add_text_filter_arguments, text_filter_config_from_args
from pipelines.images.arguments import add_dedup_arguments, add_image_arguments, image_stage_from_args
from pipelines.images.stage import FetchDocumentImages, ImageStage
from pipelines.m3w.document import M3WConfig
from pipelines.m3w.transforms import PagesToDocuments
from pipelines.options import new_pipeline
from pipelines.readers.inputs import INPUT_FORMATS, InputConfig, ReadPages, check_inputs_exist
from pipelines.readers.warc import DEFAULT_SPLIT_BYTES
from pipelines.rejects import REJECTS
from pipelines.sinks.jsonl import WriteJsonLines

DOCUMENTS_DIR = "m3w"


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "m3w",
        help="web pages -> M3W interleaved documents with <image> and <EOC>",
        description="Parse WARC files, saved HTML files or URL lists into interleaved text+image documents "
        "(Flamingo's M3W), with OBELICS/MassiveWeb text filters and image URL rules. Writes "
        "OUTPUT/m3w/*.jsonl, OUTPUT/rejects/ and OUTPUT/stats.json.",
    )
    add_input_arguments(parser)
    parser.add_argument("--output", required=True, help="output folder (any Beam FileSystems path)")
    parser.add_argument("--num_shards", type=int, default=4, help="JSON-lines files to write (default: %(default)s)")
    parser.add_argument(
        "--fetch_images",
        action="store_true",
        help="fetch, validate and resize every image; failed ones leave their documents with their tokens",
    )
    add_m3w_arguments(parser)
    add_image_arguments(parser)
    add_dedup_arguments(parser, max_uses_per_image=10)
    add_fetch_arguments(parser)
    parser.set_defaults(run=run)


def add_input_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    group = parser.add_argument_group("inputs")
    group.add_argument(
        "--input",
        action="append",
        required=required,
        default=[],
        help="file or glob (local, gs://, s3://); repeatable. WARC (.warc[.gz]), HTML (.html[.gz]) or URL list "
        "(.txt/.tsv/.csv/.parquet/.jsonl)",
    )
    group.add_argument("--input_format", choices=INPUT_FORMATS, help="override the format told by file names")
    group.add_argument("--html_base_url", help="URL that saved HTML files stand for (resolves relative links)")
    group.add_argument("--url_column", default="url", help="URL column of tabular URL lists (default: %(default)s)")
    group.add_argument(
        "--warc_split_bytes",
        type=int,
        default=DEFAULT_SPLIT_BYTES,
        help="WARC files are read in byte ranges of this size, in parallel (default: %(default)s)",
    )


def add_m3w_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("documents")
    defaults = M3WConfig()
    group.add_argument(
        "--max_images_per_document",
        type=int,
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
        type=float,
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


def input_config_from_args(args: argparse.Namespace) -> InputConfig:
    check_inputs_exist(args.input)
    return InputConfig(
        patterns=tuple(args.input),
        input_format=args.input_format,
        html_base_url=args.html_base_url,
        warc_split_bytes=args.warc_split_bytes,
        url_column=args.url_column,
        fetch=fetch_config_from_args(args),
    )


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    inputs = input_config_from_args(args)
    images = image_stage_from_args(args) if args.fetch_images else None
    if images is None and args.dedup_index:
        raise ValueError("--dedup_index needs --fetch_images: decontamination searches the fetched pixels")
    stats = run_m3w(inputs, m3w_config_from_args(args), args.output, args.num_shards, beam_args, images)
    print_m3w_summary(stats)
    return 0


def run_m3w(
    inputs: InputConfig,
    config: M3WConfig,
    output: str,
    num_shards: int,
    beam_args: list[str],
    images: ImageStage | None = None,
) -> dict:
    """The M3W job; with `images`, every image is fetched (with inputs.fetch), processed,
    decontaminated when an index is given, and put through the repetition rule."""
    pipeline = new_pipeline(beam_args)
    read = pipeline | "ReadPages" >> ReadPages(inputs)
    extracted = read["pages"] | "M3W" >> PagesToDocuments(config)
    documents, rejects = extracted["documents"], [read[REJECTS], extracted[REJECTS]]
    if images is not None:
        fetched = documents | "Images" >> FetchDocumentImages(
            inputs.fetch, images, config.keep_documents_without_images
        )
        # The JPEG bytes travel on to the shard writer; JSON lines keep each image's facts only.
        documents = fetched["documents"] | "DropPixels" >> beam.Map(lambda doc_and_jpegs: doc_and_jpegs[0])
        rejects.append(fetched[REJECTS])
        job.write_image_status(fetched["results"], output, num_shards)
    _ = documents | "WriteDocuments" >> WriteJsonLines(
        FileSystems.join(output, DOCUMENTS_DIR, "documents"),
        to_record=lambda doc: (doc.doc_id, doc.to_dict()),
        num_shards=num_shards,
    )
    job.write_rejects(rejects | "AllRejects" >> beam.Flatten(), output, "m3w")
    stats = job.stats_from_counters(job.run(pipeline))
    job.write_stats(output, stats)
    return stats


def print_m3w_summary(stats: dict) -> None:
    m3w = stats["stages"].get("m3w", {})
    images = stats["stages"].get("m3w_images", {})
    print(f"  pages read        {m3w.get('pages_in', 0)}")
    print(f"  documents kept    {m3w.get('documents_out', 0)} (with {images.get('kept', 0)} images)")
    fetched = stats["stages"].get("images")
    if fetched:
        print(
            f"  images fetched    {fetched.get('ok', 0)} ok; documents left with images: {fetched.get('documents_with_images', 0)}"
        )
    for reason, count in sorted(stats["drops"].items(), key=lambda item: -item[1]):
        print(f"    dropped {reason:<40} {count}")
