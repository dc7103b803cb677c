"""Reading a finished Beam job's counters back as plain dicts."""

from __future__ import annotations

from collections import defaultdict

from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.runner import PipelineResult


def counters(result: PipelineResult) -> dict[str, dict[str, int]]:
    """{namespace: {counter name: committed value}} summed over steps."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for counter in result.metrics().query(MetricsFilter())["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[counter.key.metric.namespace][counter.key.metric.name] += value or 0
    return {namespace: dict(names) for namespace, names in totals.items()}
