"""An evaluation's results: a JSON document with every prediction, and the table `trainer eval` prints
(metrics x100, as the paper reports CIDEr, accuracy and ROC-AUC)."""

from __future__ import annotations

import dataclasses
from collections import Counter

from trainer.evaluation.runner import Settings, ShotResult
from trainer.evaluation.tasks import Task


def results_document(
    task: Task, results: list[ShotResult], skipped: Counter, settings: Settings, checkpoint: str, step: int,
    warnings: list[str],
) -> dict:  # fmt: skip
    return {
        "task": task.name,
        "checkpoint": checkpoint,
        "step": step,
        "query_split": task.query_split,
        "support_splits": list(task.support_splits),
        "support_examples": len(task.support),
        "settings": dataclasses.asdict(settings),
        "skipped": dict(skipped),
        "decontamination_warnings": warnings,
        "results": [dataclasses.asdict(result) for result in results],
    }


def results_table(task: Task, results: list[ShotResult], rices: bool) -> str:
    header = ("task", "shots", "demonstrations", "metric", "score", "queries")
    rows = [
        (
            task.name,
            str(result.shots),
            "RICES"
            if rices and result.shots
            else "random"
            if result.shots
            else "text-only"
            if task.format.text_only_zero_shot
            else "none",
            result.metric,
            "n/a" if result.value is None else f"{100 * result.value:.2f}",
            str(result.queries),
        )
        for result in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
