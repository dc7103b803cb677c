"""Rejected items: counted per reason (one Beam counter each) and emitted on a tagged output.

A DoFn that drops something yields `self.rejects.drop(reason, item, detail)`; the DAG routes the
`REJECTS` output to `rejects/` and the counters to stats.json.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from apache_beam import pvalue
from apache_beam.metrics import Metrics

from pipelines import progress

REJECTS = "rejects"


@dataclass(frozen=True)
class Reject:
    stage: str  # e.g. "warc", "html", "text_filter", "image_fetch"
    reason: str  # short snake_case, also the counter name
    item: str  # what was rejected: a URL, a path, a document id
    detail: str = ""  # the human-readable why

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


class Rejects:
    """Per-stage drop counters, created lazily, and the tagged outputs that carry the rejects."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._counters: dict = {}

    def count(self, name: str, n: int = 1) -> None:
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = Metrics.counter(self.stage, name)
        counter.inc(n)
        progress.tally(self.stage, name, n)

    def drop(self, reason: str, item: str, detail: str = "") -> pvalue.TaggedOutput:
        self.count(f"dropped_{reason}")
        return pvalue.TaggedOutput(REJECTS, Reject(self.stage, reason, item, detail))
