"""Running a curate job: the pipeline, its counts, and stats.json."""

from __future__ import annotations

import json

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import TestOptions
from apache_beam.portability.api import beam_runner_api_pb2
from apache_beam.runners.dataflow.dataflow_runner import DataflowRunner

from pipelines.decontamination import STAGE as CONTAMINATION
from pipelines.decontamination import contamination_report
from pipelines.job_metrics import counters
from pipelines.rejects import Reject, is_reject
from pipelines.sinks.jsonl import WriteJsonLines
from schemas.manifest import REJECTS_DIR, STATS_FILE, empty_stats


def write_rejects(accounts, output: str, name: str):
    """The rejects of stages' accounts -> `OUTPUT/rejects/NAME-*.jsonl`, one line per rejected item
    with its reason; outputs the paths written."""
    rejects = accounts | f"{name.title()}Rejects" >> beam.Filter(is_reject)
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


def read_stats(output: str) -> dict:
    with FileSystems.open(FileSystems.join(output, STATS_FILE)) as handle:
        return json.loads(handle.read())


def run(pipeline: beam.Pipeline) -> dict[str, dict[str, int]]:
    result = pipeline.run()
    result.wait_until_finish()
    return counters(result)


def submit(pipeline: beam.Pipeline) -> str:
    """Starts the job without waiting for it; its id, where the runner gives one."""
    result = pipeline.run()
    job_id = getattr(result, "job_id", None)
    return str(job_id() if callable(job_id) else job_id or "")


def translate(pipeline: beam.Pipeline) -> beam_runner_api_pb2.Pipeline:
    """The pipeline as its runner would receive it, running nothing: for Dataflow its own translation
    (Beam's dry run, which `dry_run_flags` asks for: no credentials, nothing staged or submitted), for
    any other runner the portable pipeline that a job server (Flink, Beam's own) takes."""
    if isinstance(pipeline.runner, DataflowRunner):
        if not pipeline.options.view_as(TestOptions).dry_run:
            raise ValueError("a Dataflow translation needs --dry_run=True in the pipeline's options")
        return pipeline.run().job.proto_pipeline
    return pipeline.to_runner_api()


def dry_run_flags(beam_args: list[str]) -> list[str]:
    """The Beam flags of a dry run: Dataflow stops before submitting only when its options say so."""
    return [*beam_args, "--dry_run=True"]


def describe_translation(proto: beam_runner_api_pb2.Pipeline) -> str:
    transforms = proto.components.transforms
    leaves = sum(1 for transform in transforms.values() if not transform.subtransforms)
    environments = sorted({environment.urn for environment in proto.components.environments.values()})
    return f"{leaves} steps ({len(transforms)} transforms), environments {', '.join(environments)}"


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
