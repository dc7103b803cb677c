"""The last step of `curate run`, inside the job: once every shard, manifest part, reject and match
record is written, the counts of every stage are totalled into stats.json and the manifest parts
merged into manifest.parquet, written last (the switch-over). So a job that nobody waits for (a
Dataflow job launched detached, a Flex template) leaves the same complete output folder as one run
from a terminal, and a job that fails before this step leaves the earlier output as it was.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.transforms.combiners import ToList

from pipelines import job
from pipelines.decontamination import read_match_records
from pipelines.outputs import manifest_sizes, run_manifest, switch_over
from pipelines.provenance import Provenance
from pipelines.rejects import StageCounts


@dataclass(frozen=True)
class Finish:
    output: str
    run_id: str
    owned_dirs: tuple[str, ...]  # the shard folders this run replaces
    provenance: Provenance
    matches_prefix: str | None  # where decontamination wrote its match records (None: no index)


class FinishRun(beam.PTransform):
    """{"accounts": every stage's rejects and StageCounts, "written": the paths of the other files
    written (rejects, image status)} -> the stats written, as one dict."""

    def __init__(self, finish: Finish) -> None:
        super().__init__()
        self.finish = finish

    def expand(self, inputs):
        totals = (
            inputs["accounts"]
            | "Counts" >> beam.Filter(lambda element: isinstance(element, StageCounts))
            | "Total" >> beam.CombineGlobally(TotalCounts())
        )
        written = inputs["written"] | "AllWritten" >> ToList()
        return (
            inputs["accounts"].pipeline
            | "Once" >> beam.Create([None])
            | "StatsAndManifest"
            >> beam.Map(finish_run, self.finish, beam.pvalue.AsSingleton(totals), beam.pvalue.AsSingleton(written))
        )


class TotalCounts(beam.CombineFn):
    """StageCounts -> {stage: {name: total}}."""

    def create_accumulator(self) -> defaultdict[str, Counter]:
        return defaultdict(Counter)

    def add_input(self, totals: defaultdict[str, Counter], element: StageCounts) -> defaultdict[str, Counter]:
        totals[element.stage].update(element.counts)
        return totals

    def merge_accumulators(self, accumulators: Iterable[defaultdict[str, Counter]]) -> defaultdict[str, Counter]:
        merged: defaultdict[str, Counter] = defaultdict(Counter)
        for totals in accumulators:
            for stage, counts in totals.items():
                merged[stage].update(counts)
        return merged

    def extract_output(self, totals: defaultdict[str, Counter]) -> dict[str, dict[str, int]]:
        return {stage: dict(counts) for stage, counts in totals.items()}


def finish_run(_, finish: Finish, totals: dict[str, dict[str, int]], written: list) -> dict:
    """stats.json, then manifest.parquet (the switch-over); `written` is only waited for."""
    stats = job.stats_from_counters(totals)
    if finish.matches_prefix is not None:
        stats["contaminated"], stats["contaminated_total"] = read_match_records(finish.matches_prefix)
    manifest = run_manifest(finish.output, finish.run_id)
    stats["sizes"] = manifest_sizes(manifest)
    stats["provenance"] = {"run_id": finish.run_id, **finish.provenance.finished()}
    job.write_stats(finish.output, stats)
    switch_over(finish.output, manifest, finish.owned_dirs)
    return stats
