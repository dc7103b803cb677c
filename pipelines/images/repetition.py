"""The within-corpus repetition rule as a Beam transform: images whose content (exact or near copy)
is used by more than N documents or pairs are marked "repeated_image", with counters for the
duplicates seen on the way."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import apache_beam as beam

from dedup.corpus import RepetitionRules, content_key
from pipelines.images.results import ImageResult
from pipelines.rejects import REJECTS, Rejects

STAGE = "corpus_dedup"
REPEATED = "repeated_image"


class MarkRepeatedImages(beam.PTransform):
    """{"uses": (url, user id), "results": ImageResult} -> {"results": ImageResult, one per URL, REJECTS}.

    A user is whatever the image appears in: a document id, a pair key.
    """

    def __init__(self, rules: RepetitionRules) -> None:
        super().__init__()
        self.rules = rules

    def expand(self, inputs):
        rules = self.rules
        per_url = (
            {"uses": inputs["uses"], "result": inputs["results"] | "ByUrl" >> beam.Map(lambda r: (r.url, r))}
            | "JoinUsesByUrl" >> beam.CoGroupByKey()
            | "KeyByContent" >> beam.FlatMap(_key_by_content, rules.near)
        )
        return (
            per_url
            | "GroupByContent" >> beam.GroupByKey()
            | "ApplyRepetitionRule"
            >> beam.ParDo(_ApplyRule(rules.max_uses_per_image)).with_outputs(REJECTS, main="results")
        )


def _key_by_content(joined: tuple[str, dict], near: bool) -> Iterator[tuple[str, tuple[ImageResult, frozenset]]]:
    url, groups = joined
    users = frozenset(groups["uses"])
    for result in groups["result"]:
        if result.status == "ok":
            yield content_key(result.image.sha256, result.image.phash, near), (result, users)
        else:
            yield f"u:{url}", (result, users)  # failures are not content: they pass through alone


class _ApplyRule(beam.DoFn):
    def __init__(self, max_uses: int) -> None:
        self.max_uses = max_uses
        self.counts = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.counts.flush()

    def process(self, grouped: tuple[str, list]) -> Iterator[ImageResult]:
        _, members = grouped
        members = list(members)
        ok = [result for result, _ in members if result.status == "ok"]
        if len(ok) > 1:
            self.counts.count("urls_with_copies", len(ok))
            if len({result.image.sha256 for result in ok}) < len(ok):
                self.counts.count("exact_copy_groups")
        users = frozenset().union(*(users for _, users in members))
        repeated = bool(ok) and 0 < self.max_uses < len(users)
        for result, _ in members:
            if repeated and result.status == "ok":
                self.counts.count("dropped_images")
                yield replace(result, status=REPEATED, detail=f"{result.url}: its content is used {len(users)} times")
            else:
                yield result
