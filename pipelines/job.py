"""Running a curate job: the pipeline, its counters afterwards, and stats.json."""

from __future__ import annotations

import json

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipelines.decontamination import STAGE as CONTAMINATION
from pipelines.decontamination import contamination_report
from pipelines.job_metrics import counters
from pipelines.rejects import Reject
from pipelines.sinks.jsonl import WriteJsonLines
from schemas.manifest import REJECTS_DIR, STATS_FILE, empty_stats


def write_rejects(rejects, output: str, name: str):
    """Rejects -> `OUTPUT/rejects/NAME-*.jsonl`, one line per rejected item with its reason."""
    return rejects | f"Write{name.title()}Rejects" >> WriteJsonLines(
        FileSystems.join(output, REJECTS_DIR, name), to_record=_reject_record, num_shards=1
    )


def write_image_status(results, output: str, num_shards: int):
    """ImageResults -> `OUTPUT/images/status-*.jsonl`: each URL once, "ok" or its error class, so a
    rerun can retry only the failures."""
    return results | "WriteImageStatus" >> WriteJsonLines(
        FileSystems.join(output, "images", "status"),
        to_record=lambda r: (r.url, {"url": r.url, "status": r.status, "detail": r.detail}),
        num_shards=num_shards,
    )


def _reject_record(reject: Reject) -> tuple[str, dict]:
    return f"{reject.stage}:{reject.reason}:{reject.item}", reject.to_dict()


def run(pipeline: beam.Pipeline) -> dict[str, dict[str, int]]:
    result = pipeline.run()
    result.wait_until_finish()
    return counters(result)


def stats_from_counters(job_counters: dict[str, dict[str, int]]) -> dict:
    stats = empty_stats()
    for stage, names in sorted(job_counters.items()):
        stats["stages"][stage] = dict(sorted(names.items()))
        for name, value in names.items():
            if name.startswith("dropped_"):
                stats["drops"][f"{stage}.{name.removeprefix('dropped_')}"] = value
    stats["contamination"] = contamination_report(job_counters.get(CONTAMINATION, {}))
    return stats


def write_stats(output: str, stats: dict) -> str:
    path = FileSystems.join(output, STATS_FILE)
    with FileSystems.create(path) as out:
        out.write(json.dumps(stats, indent=2, sort_keys=True).encode("utf-8"))
    return path
