"""`curate index`: build, describe and calibrate the evaluation-benchmark index used for decontamination."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace

from apache_beam.io.filesystems import FileSystems

from dedup.benchmarks.items import BenchmarkSource
from dedup.benchmarks.registry import BENCHMARKS, load_benchmark, load_sources_file, parse_source
from dedup.build import BENCHMARK_FRAMES, build_index, file_sha256
from dedup.calibration import CANDIDATE_SHARE, calibrate, index_images
from dedup.embedders import EMBEDDERS, embedder_from_spec
from dedup.embedders.perceptual import HASHES
from dedup.index import INDEX_TYPES
from dedup.natural_pairs import NaturalPairs, natural_pairs
from dedup.views import VIEW_SETS
from pipelines.argument_types import fraction, positive_float, positive_int
from pipelines.decontamination import load_index
from pipelines.options import refuse_beam_flags


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "index",
        help="build, describe or calibrate the evaluation-benchmark index (decontamination)",
        description="The FAISS index of evaluation-benchmark images and video frames that `--dedup_index` "
        "searches every training image against.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    _add_build(actions)
    _add_info(actions)
    _add_calibrate(actions)


def _add_build(actions) -> None:
    build = actions.add_parser(
        "build",
        help="embed benchmark images (and video frames) into an index folder",
        description="Known benchmarks: " + ", ".join(sorted(BENCHMARKS)) + ". Spell each as "
        "NAME:annotations=FILE,media=DIR[,answers=FILE][,split=S][,label=L] (a custom set: folder:media=DIR,label=NAME), "
        "or list them in a YAML file under `benchmarks:`.",
    )
    build.add_argument("--benchmark", action="append", default=[], help="a benchmark source; repeatable")
    build.add_argument("--benchmarks", help="YAML file listing benchmark sources")
    build.add_argument("--output", required=True, help="index folder to write (any Beam FileSystems path)")
    build.add_argument("--embedder", choices=EMBEDDERS, default="phash", help="default: %(default)s (needs no weights)")
    build.add_argument("--hashes", default=",".join(HASHES), help="phash: hashes to concatenate (default: %(default)s)")
    build.add_argument("--embedder_model", default="ViT-B-32", help="open_clip architecture (default: %(default)s)")
    build.add_argument(
        "--embedder_weights",
        help="local weights: an open_clip checkpoint or a TorchScript descriptor file ('random' for open_clip tests)",
    )
    build.add_argument(
        "--views",
        choices=sorted(VIEW_SETS),
        default="regional",
        help="views of each benchmark image to index: 'crops' adds flips and centre/corner crops, 'regional' a grid "
        "of crops keeping 50-90%% of each side, which proposes strong crops for verification (default: %(default)s)",
    )
    build.add_argument("--index_type", choices=INDEX_TYPES, default="auto", help="default: %(default)s (by size)")
    build.add_argument("--video_fps", type=positive_float, default=BENCHMARK_FRAMES.fps, help="default: %(default)s")
    build.add_argument(
        "--max_frames", type=positive_int, default=BENCHMARK_FRAMES.max_frames, help="per video; default: %(default)s"
    )
    build.add_argument("--workers", type=positive_int, help="processes embedding hashes (default: every core)")
    build.set_defaults(run=_run_build)


def _add_info(actions) -> None:
    info = actions.add_parser("info", help="print what an index holds")
    info.add_argument("index", help="index folder")
    info.set_defaults(run=_run_info)


def _add_calibrate(actions) -> None:
    calibrate = actions.add_parser(
        "calibrate",
        help="precision/recall by threshold on augmented copies of the index's own images",
        description="Makes augmented copies (crops, resizes, JPEG re-encodes, colour shifts, flips, overlaid "
        "text, borders) of the indexed benchmark images, mixes them with distinct real images, searches all "
        "of them and prints precision and recall by threshold, recommending the lowest threshold that meets "
        "the target precision.",
    )
    calibrate.add_argument("index", help="index folder")
    calibrate.add_argument(
        "--distractors", action="append", required=True, help="folder of real images not in any benchmark; repeatable"
    )
    calibrate.add_argument(
        "--sample", type=positive_int, default=500, help="benchmark items to copy (default: %(default)s)"
    )
    calibrate.add_argument("--target_precision", type=fraction, default=0.99, help="default: %(default)s")
    calibrate.add_argument(
        "--candidate_share",
        type=fraction,
        default=CANDIDATE_SHARE,
        help="share of distractor queries to propose for verification: the candidate threshold (default: %(default)s)",
    )
    calibrate.add_argument(
        "--natural_videos",
        action="append",
        default=[],
        help="folder of real videos: consecutive 1-FPS frames are natural copies, reported per video; repeatable",
    )
    calibrate.add_argument("--seed", type=int, default=0)
    calibrate.add_argument(
        "--write", action="store_true", help="save the recommended threshold in the index (used by --dedup_index)"
    )
    calibrate.set_defaults(run=_run_calibrate)


def _run_build(args: argparse.Namespace, beam_args: list[str]) -> int:
    refuse_beam_flags(beam_args)
    sources = [parse_source(text) for text in args.benchmark]
    if args.benchmarks:
        sources += load_sources_file(args.benchmarks)
    if not sources:
        raise ValueError("give at least one --benchmark or a --benchmarks YAML file")
    embedder = embedder_from_spec(_embedder_spec(args))
    frames = replace(BENCHMARK_FRAMES, fps=args.video_fps, max_frames=args.max_frames)
    started = time.monotonic()
    index, counts = build_index(sources, embedder, args.views, args.index_type, frames, args.workers)
    index.save(args.output, open_file=FileSystems.create)
    seconds = time.monotonic() - started
    print(
        f"curate index build: {index.index.ntotal} rows ({index.meta['index_type']}) in {seconds:.1f} s -> {args.output}"
    )
    print(f"  {'benchmark':<20} {'items':>8} {'indexed':>8} {'missing':>8} {'unreadable':>10} {'rows':>9}")
    for name, tally in sorted(counts.items()):
        print(
            f"  {name:<20} {tally.items:>8} {tally.indexed:>8} {tally.missing:>8} {tally.unreadable:>10} {tally.rows:>9}"
        )
        for problem in tally.problems:
            print(f"      {problem}")
    return 0


def _embedder_spec(args: argparse.Namespace) -> dict:
    if args.embedder == "phash":
        return {"kind": "phash", "hashes": [name.strip() for name in args.hashes.split(",") if name.strip()]}
    if args.embedder == "open_clip":
        return {"kind": "open_clip", "model": args.embedder_model, "weights": args.embedder_weights}
    return {"kind": "torchscript", "weights": args.embedder_weights}


def _run_info(args: argparse.Namespace, beam_args: list[str]) -> int:
    refuse_beam_flags(beam_args)
    index = load_index(args.index)
    info = index.info()
    in_use = {"threshold_in_use": index.threshold}
    if index.features is not None:
        in_use.update(candidate_threshold_in_use=index.candidate_threshold, min_inliers_in_use=index.min_inliers)
    print(json.dumps({**info, **in_use}, indent=2, sort_keys=True))
    return 0


def _run_calibrate(args: argparse.Namespace, beam_args: list[str]) -> int:
    refuse_beam_flags(beam_args)
    if not 0.0 < args.target_precision <= 1.0:
        raise ValueError(f"--target_precision must be in (0, 1]; got {args.target_precision}")
    index = load_index(args.index)
    distractors, in_index = _distractor_paths(index, args.distractors)
    started = time.monotonic()
    result = calibrate(
        index,
        index_images(index, args.sample, args.seed),
        distractors,
        target_precision=args.target_precision,
        seed=args.seed,
        candidate_share=args.candidate_share,
    )
    print(f"curate index calibrate: {args.index}, {time.monotonic() - started:.1f} s")
    if in_index:
        print(f"  {in_index} distractor file(s) skipped: byte-identical to an indexed benchmark image")
    print(result.format_table())
    natural = _natural_pairs(index, result, args.natural_videos)
    if args.write and result.threshold is not None:
        saved = asdict(result.two_stage) if result.two_stage else {"threshold": result.threshold}
        index.meta.update(saved, calibration={**result.to_dict(), "natural_pairs": [r.to_dict() for r in natural]})
        index.save(args.index, open_file=FileSystems.create)
        print(f"saved in {args.index}: " + ", ".join(f"{key} {value:g}" for key, value in saved.items()))
    return 0 if result.threshold is not None else 1


def _natural_pairs(index, result, folders: list[str]) -> list[NaturalPairs]:
    if not folders:
        return []
    videos = [item.path for folder in folders for item in load_benchmark(BenchmarkSource("folder", media=folder, label="v"))
              if item.media == "video"]  # fmt: skip
    if not videos:
        raise ValueError(f"no video in {', '.join(folders)}")
    if result.two_stage is None:
        raise ValueError(
            "natural pairs need an index with local features (built by this version of `curate index build`)"
        )
    found = natural_pairs(videos, index, result.threshold, result.two_stage)
    print("\nnatural pairs: frame t+1 of each video searched among the frames before it")
    print("\n| video | pairs | found, stage one | found, two stages |")
    print("|:--|--:|--:|--:|")
    for row in [
        *found,
        NaturalPairs("all", *(sum(getattr(r, f) for r in found) for f in ("pairs", "stage_one", "two_stage"))),
    ]:
        print(f"| {row.source} | {row.pairs} | {row.stage_one} ({row.stage_one / max(row.pairs, 1):.2f}) | "
              f"{row.two_stage} ({row.two_stage / max(row.pairs, 1):.2f}) |")  # fmt: skip
    return found


def _distractor_paths(index, folders: list[str]) -> tuple[list[str], int]:
    """Every image under the folders, less those that are byte-identical to a benchmark file."""
    paths, in_index = [], 0
    for folder in folders:
        for item in load_benchmark(BenchmarkSource("folder", media=folder, label="distractors")):
            if item.media != "image":
                continue
            if index.match_exact(file_sha256(item.path)) is not None:
                in_index += 1
            else:
                paths.append(item.path)
    return paths, in_index
