"""A stage's account of its work: rejected items and counts, on one tagged output.

A DoFn that drops something yields `self.rejects.drop(reason, item, detail)`; anything it counts
(`self.rejects.count(name)`) goes to a Beam counter, for the runner's monitoring, and is also
emitted as data at the end of each bundle (`yield from self.rejects.flush()` in `finish_bundle`),
so that the job itself totals its counts into stats.json: a detached job (Dataflow, a Flex
template) has no launcher waiting to read the counters, and a retried bundle's data, unlike an
attempted counter, is counted once. The DAG routes the `REJECTS` output's `Reject`s to `rejects/`
and its `StageCounts` to stats.json.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from apache_beam import pvalue
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue

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


@dataclass(frozen=True)
class StageCounts:
    """What one stage counted in one bundle."""

    stage: str
    counts: dict[str, int]


class Rejects:
    """Per-stage counters, created lazily, and the tagged outputs that carry the rejects and counts."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._counters: dict = {}
        self._bundle: Counter[str] = Counter()

    def count(self, name: str, n: int = 1) -> None:
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = Metrics.counter(self.stage, name)
        counter.inc(n)
        self._bundle[name] += n
        progress.tally(self.stage, name, n)

    def flush(self) -> Iterator[pvalue.TaggedOutput]:
        """This bundle's counts as one element of the REJECTS output; for `finish_bundle`."""
        if self._bundle:
            counts = StageCounts(self.stage, dict(self._bundle))
            self._bundle = Counter()
            yield pvalue.TaggedOutput(REJECTS, WindowedValue(counts, MIN_TIMESTAMP, [GlobalWindow()]))

    def drop(self, reason: str, item: str, detail: str = "") -> pvalue.TaggedOutput:
        self.count(f"dropped_{reason}")
        return pvalue.TaggedOutput(REJECTS, Reject(self.stage, reason, item, detail))


def flush_all(*accounts: Rejects) -> Iterator[pvalue.TaggedOutput]:
    for account in accounts:
        yield from account.flush()


def is_reject(element: Reject | StageCounts) -> bool:
    """For `beam.Filter`: the rejects of a REJECTS output, without its counts."""
    return isinstance(element, Reject)
