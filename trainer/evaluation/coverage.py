"""Was the training data decontaminated against the task being evaluated? A score on a benchmark
whose images may sit in the training data means less: `trainer eval` says so. Each dataset folder of
the run is a `curate` output whose `stats.json` names the benchmark index its media were searched
against (in its provenance options), and that index's `index.json` lists the benchmarks it holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trainer.config import RunConfig

STATS_FILE = "stats.json"
INDEX_META = "index.json"


def coverage_warnings(config: RunConfig, benchmark: str) -> list[str]:
    """One line per training folder whose decontamination does not cover `benchmark` (or cannot be told)."""
    warnings: list[str] = []
    folders = dict.fromkeys(path for dataset in config.datasets.values() for path in dataset.paths)
    for folder in folders:
        stats = Path(folder) / STATS_FILE
        if not stats.is_file():
            warnings.append(
                f"{folder}: no {STATS_FILE}, so which benchmarks its data was decontaminated against is unknown"
            )
            continue
        try:
            indexes = sorted(set(_indexes(json.loads(stats.read_text(encoding="utf-8")))))
        except (OSError, json.JSONDecodeError) as error:
            warnings.append(f"{stats}: unreadable ({error})")
            continue
        if not indexes:
            warnings.append(f"{folder} was curated without decontamination: {benchmark} images may be in it")
        for index in indexes:
            covered = _benchmarks(index, Path(folder))
            if covered is None:
                warnings.append(f"{folder} was decontaminated against the index {index}, which is not here to read")
            elif benchmark not in covered:
                holds = ", ".join(sorted(covered)) or "nothing"
                warnings.append(
                    f"{folder} was decontaminated against {index}, which holds {holds} but not {benchmark}: "
                    f"{benchmark} images may be in the training data"
                )
    return warnings


def _indexes(node: Any) -> Iterator[str]:
    """Every `{"decontamination": {"index": PATH}}` in the run's options (images, video frames, ...)."""
    if isinstance(node, dict):
        found = node.get("decontamination")
        if isinstance(found, dict) and isinstance(found.get("index"), str):
            yield found["index"]
        for value in node.values():
            yield from _indexes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _indexes(value)


def _benchmarks(index: str, folder: Path) -> set[str] | None:
    """The benchmarks of the index, found as written (relative to where curate ran) or beside the folder."""
    for candidate in (Path(index), folder.parent / index, folder / index):
        meta = candidate / INDEX_META
        if meta.is_file():
            try:
                return set(json.loads(meta.read_text(encoding="utf-8")).get("benchmarks", {}))
            except (OSError, json.JSONDecodeError):
                return None
    return None
