"""Whether a finished run did what it was asked: a dataset asked for that came out empty, or code
failures (pages whose extraction raised) past the error budget, make the command exit non-zero.
Also the flags that say how a run is launched and reports: its error budget, how often it prints
progress, whether the launcher waits for the job, or only translates it."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from pipelines.argument_types import fraction, non_negative_float

DEFAULT_MAX_ERROR_RATE = 0.05
DEFAULT_PROGRESS_EVERY_S = 10.0


@dataclass(frozen=True)
class Launch:
    progress_every: float = DEFAULT_PROGRESS_EVERY_S
    detached: bool = False  # submit and return: the job writes its own manifest.parquet and stats.json
    dry_run: bool = False  # translate for the runner and exit, running nothing


def launch_from_args(args: argparse.Namespace) -> Launch:
    return Launch(args.progress_every, args.detached, args.dry_run)


class FailedRun(RuntimeError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


_SIZE_KINDS = {"m3w": "m3w", "pairs": "pair", "video": "video"}
_ERROR_STAGES = ("m3w", "pairs")  # stages whose `extraction_error` drops are failures of the code, not of the data


def run_problems(stats: dict, datasets: tuple[str, ...], max_error_rate: float) -> list[str]:
    """Why the run failed, as readable lines; empty when it did its job."""
    problems = []
    for dataset in datasets:
        if stats.get("sizes", {}).get(_SIZE_KINDS[dataset], {}).get("samples", 0) == 0:
            problems.append(f"{dataset} was asked for but no sample was written{_top_drops(stats)}")
    for stage in _ERROR_STAGES:
        counts = stats["stages"].get(stage, {})
        pages, errors = counts.get("pages_in", 0), counts.get("dropped_extraction_error", 0)
        if pages and errors / pages > max_error_rate:
            problems.append(
                f"{errors} of {pages} pages failed in {stage} extraction ({errors / pages:.0%}, over "
                f"--max_error_rate {max_error_rate:.0%}); rejects/ has each error"
            )
    return problems


def documents_problems(stats: dict, max_error_rate: float) -> list[str]:
    """The text-only M3W job: documents instead of shards."""
    problems = run_problems({**stats, "sizes": {}}, (), max_error_rate)
    if stats["stages"].get("m3w", {}).get("documents_kept", 0) == 0:
        problems.insert(0, f"no document was written{_top_drops(stats)}")
    return problems


def _top_drops(stats: dict) -> str:
    drops = sorted(stats.get("drops", {}).items(), key=lambda item: -item[1])[:3]
    if not drops:
        return " (nothing was read: check the inputs and --allow_loopback / --allow_private_addresses)"
    return " (most dropped: " + ", ".join(f"{reason} {count}" for reason, count in drops) + ")"


def add_run_report_arguments(parser) -> None:
    parser.add_argument(
        "--max_error_rate",
        type=fraction,
        default=DEFAULT_MAX_ERROR_RATE,
        help="fail the run when more than this share of pages raise during extraction (default: %(default)s)",
    )
    parser.add_argument(
        "--progress_every",
        type=non_negative_float,
        default=DEFAULT_PROGRESS_EVERY_S,
        help="seconds between progress lines on stderr while the job runs (0: none; default: %(default)s)",
    )
    parser.add_argument(
        "--detached",
        action="store_true",
        help="submit the job and return without waiting (Dataflow, a portable job server); the job itself "
        "writes manifest.parquet and stats.json when it finishes (runners inside this process finish first)",
    )
    parser.add_argument(
        "--dry_run",
        action="store_true",
        help="translate the job for the runner and exit without running it or touching --output "
        "(Dataflow: Beam's own dry run, which needs no credentials)",
    )
