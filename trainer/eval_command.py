"""`trainer eval --checkpoint DIR --task coco --benchmarks benchmarks.yaml --shots 0,4,32 [--rices]`:
few-shot evaluation of a trained checkpoint on a benchmark read from its native files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "eval",
        help="few-shot evaluation of a checkpoint on a benchmark",
        description="Evaluates a checkpoint of `trainer train` as Flamingo is evaluated: interleaved few-shot "
        "prompts, demonstrations drawn at random or by RICES from the benchmark's training split, beam search "
        "for open-ended tasks and log-likelihood ranking for close-ended ones. The benchmark is read from "
        "its native annotation files, given as the same source list `curate index build` takes.",
    )
    parser.add_argument("--checkpoint", required=True, help="a checkpoint file or folder (its newest step is used)")
    parser.add_argument("--task", required=True, help="the benchmark: coco, flickr30k, vqav2, okvqa, textvqa, ...")
    parser.add_argument("--benchmarks", help="a YAML file of benchmark sources, as `curate index build` reads")
    parser.add_argument(
        "--source", action="append", default=[], metavar="SPEC",
        help="a benchmark source NAME:annotations=PATH,media=DIR[,answers=PATH][,split=S]; repeatable",
    )  # fmt: skip
    parser.add_argument("--split", help="the split to score (default: test, else testdev, val, ...)")
    parser.add_argument("--shots", default="0,4,32", type=_shot_list, help="comma-separated shot counts")
    parser.add_argument("--rices", action="store_true", help="demonstrations by image similarity (RICES)")
    parser.add_argument("--limit", type=int, help="score at most this many queries (quick runs)")
    parser.add_argument("--batch_size", type=int, default=8, help="prompts per forward pass")
    parser.add_argument("--beams", type=int, default=3, help="beam search width for open-ended tasks; 1: greedy")
    parser.add_argument("--length_penalty", type=float, default=1.0, help="beam score = log P / length^penalty")
    parser.add_argument("--max_new_tokens", type=int, help="default: 20 for captioning, 5 for VQA")
    parser.add_argument("--seed", type=int, default=0, help="of the random demonstrations")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    parser.add_argument("--output", help="results JSON (default: CHECKPOINT_FOLDER/eval/TASK-stepN.json)")
    parser.add_argument("--no_progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def _shot_list(text: str) -> list[int]:
    try:
        shots = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated shot counts such as 0,4,32; got {text!r}") from None
    if any(shot < 0 for shot in shots):
        raise argparse.ArgumentTypeError(f"shot counts must not be negative; got {text!r}")
    return shots


def run(args: argparse.Namespace) -> int:
    # Imported here: `trainer --help` must not wait for PyTorch.
    from dedup.benchmarks import load_sources_file, parse_source
    from dedup.benchmarks.readers import AnnotationError
    from trainer.config import ConfigError
    from trainer.evaluation.coverage import coverage_warnings
    from trainer.evaluation.loading import load_model
    from trainer.evaluation.report import results_document, results_table
    from trainer.evaluation.runner import Settings, evaluate
    from trainer.evaluation.tasks import read_task

    if not args.benchmarks and not args.source:
        print("trainer eval: give the benchmark's files with --benchmarks FILE or --source SPEC", file=sys.stderr)
        return 2
    settings = Settings(
        shots=args.shots, rices=args.rices, limit=args.limit, batch_size=args.batch_size, beams=args.beams,
        length_penalty=args.length_penalty, max_new_tokens=args.max_new_tokens, seed=args.seed,
        progress=not args.no_progress,
    )  # fmt: skip
    try:
        sources = load_sources_file(args.benchmarks) if args.benchmarks else []
        sources += [parse_source(spec) for spec in args.source]
        task = read_task(args.task, sources, args.split)
        loaded = load_model(args.checkpoint, args.device)
        warnings = coverage_warnings(loaded.config, args.task)
        for warning in warnings:
            print(f"trainer eval: warning: {warning}; its scores would mean less", file=sys.stderr)
        results, skipped = evaluate(loaded, task, settings)
    except (AnnotationError, ConfigError, FileNotFoundError, ValueError) as error:
        print(f"trainer eval: {error}", file=sys.stderr)
        return 2
    output = Path(args.output or loaded.checkpoint.parent / "eval" / f"{task.name}-step{loaded.step}.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    document = results_document(task, results, skipped, settings, str(loaded.checkpoint), loaded.step, warnings)
    output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    left_out = ", ".join(f"{count} {reason}" for reason, count in skipped.items())
    print(
        f"trainer eval: {loaded.checkpoint} (step {loaded.step}) on {task.name} split {task.query_split}, "
        f"demonstrations from split {'/'.join(task.support_splits)} ({len(task.support)} examples)"
        + (f"; left out: {left_out}" if left_out else "")
    )
    print(results_table(task, results, args.rices))
    print(f"trainer eval: predictions and scores -> {output}")
    return 0
