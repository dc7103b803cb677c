"""The pairs DAG as Beam transforms: candidates -> caption rules -> shared-caption rule -> images."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

import apache_beam as beam

from dedup.corpus import RepetitionRules
from pipelines.filters.image_urls import ImageUrlRules
from pipelines.html.extract import HtmlParseError
from pipelines.images.repetition import MarkRepeatedImages
from pipelines.images.results import ImageResult
from pipelines.pairs.candidates import page_pairs
from pipelines.pairs.captions import CaptionRules, caption_group_key, caption_rejection
from pipelines.readers.page import RawPage
from pipelines.rejects import REJECTS, Rejects
from schemas import ImageTextPair

STAGE = "pairs"


class ExtractPairs(beam.DoFn):
    def __init__(self, image_rules: ImageUrlRules) -> None:
        self.image_rules = image_rules
        self.rejects = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.rejects.flush()

    def process(self, page: RawPage) -> Iterator[ImageTextPair]:
        self.rejects.count("pages_in")
        try:
            candidates = list(page_pairs(page, self.image_rules))
        except HtmlParseError as error:  # the page's fault, not the code's: not an extraction_error
            yield self.rejects.drop("unparseable_html", page.url, str(error))
            return
        except Exception as error:  # a page that trips a bug is one reject, never a failed job
            yield self.rejects.drop("extraction_error", page.url, f"{type(error).__name__}: {error}")
            return
        for candidate in candidates:
            if isinstance(candidate, str):
                self.rejects.count(f"image_dropped_{candidate}")
            else:
                yield candidate


class FilterCaptions(beam.DoFn):
    def __init__(self, rules: CaptionRules) -> None:
        self.rules = rules
        self.rejects = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.rejects.flush()

    def process(self, pair: ImageTextPair) -> Iterator[ImageTextPair]:
        self.rejects.count(f"candidates_{pair.kind}")
        reason = caption_rejection(pair.caption, pair.kind, self.rules)
        if reason:
            yield self.rejects.drop(reason, pair.url, pair.caption[:200])
        else:
            yield pair


class _OnePerKey(beam.DoFn):
    """The same image with the same caption on several pages is one pair (the first page by URL)."""

    def __init__(self) -> None:
        self.counts = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.counts.flush()

    def process(self, grouped: tuple[str, Iterable[ImageTextPair]]) -> Iterator[ImageTextPair]:
        _, pairs = grouped
        pairs = sorted(pairs, key=lambda p: p.page_url)
        if len(pairs) > 1:
            self.counts.count("repeated_pairs_merged", len(pairs) - 1)
        yield pairs[0]


class _DropShared(beam.DoFn):
    def __init__(self, max_images: int) -> None:
        self.max_images = max_images
        self.rejects = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.rejects.flush()

    def process(self, grouped: tuple[str, list[ImageTextPair]]) -> Iterator[ImageTextPair]:
        caption, pairs = grouped
        pairs = list(pairs)
        if len({p.url for p in pairs}) > self.max_images:
            for pair in pairs:
                yield self.rejects.drop("caption_shared_by_many_images", pair.url, caption[:200])
            return
        yield from pairs


class _AttachImage(beam.DoFn):
    def __init__(self) -> None:
        self.rejects = Rejects(STAGE)

    def finish_bundle(self) -> Iterator:
        yield from self.rejects.flush()

    def process(self, joined: tuple[str, dict]) -> Iterator[tuple[ImageTextPair, bytes]]:
        _, groups = joined
        results: list[ImageResult] = list(groups["result"])
        for pair in groups["pairs"]:
            result = results[0] if results else None
            if result is None or result.status != "ok":
                status = result.status if result else "not_fetched"
                yield self.rejects.drop(f"image_{status}", pair.url, result.detail if result else "")
                continue
            self.rejects.count(f"pairs_{pair.kind}")
            yield replace(pair, info=result.info()), result.image.jpeg


class SelectPairs(beam.PTransform):
    """Candidate pairs -> {"pairs": those passing the caption rules and the shared-caption rule, "rejects"}."""

    def __init__(self, captions: CaptionRules) -> None:
        super().__init__()
        self.captions = captions

    def expand(self, candidates):
        filtered = candidates | "CaptionRules" >> beam.ParDo(FilterCaptions(self.captions)).with_outputs(
            REJECTS, main="pairs"
        )
        distinct = (
            filtered.pairs
            | "ByKey" >> beam.Map(lambda p: (p.key, p))
            | "GroupByKey" >> beam.GroupByKey()
            | "OnePerKey" >> beam.ParDo(_OnePerKey()).with_outputs(REJECTS, main="pairs")
        )
        unshared = (
            distinct.pairs
            | "ByCaption" >> beam.Map(lambda p: (caption_group_key(p.caption), p))
            | "GroupByCaption" >> beam.GroupByKey()
            | "SharedCaptionRule"
            >> beam.ParDo(_DropShared(self.captions.max_images_per_caption)).with_outputs(REJECTS, main="pairs")
        )
        rejects = (filtered[REJECTS], distinct[REJECTS], unshared[REJECTS])
        return {"pairs": unshared.pairs, REJECTS: rejects | "Rejects" >> beam.Flatten()}


class AttachPairImages(beam.PTransform):
    """{"pairs", "results": ImageResult for (at least) their URLs} -> {"pairs": (ImageTextPair, JPEG),
    "results": the results after the repetition rule, "rejects"}."""

    def __init__(self, repetition: RepetitionRules) -> None:
        super().__init__()
        self.repetition = repetition

    def expand(self, inputs):
        pairs = inputs["pairs"]
        uses = pairs | "UsesByUrl" >> beam.Map(lambda p: (p.url, p.key))
        marked = {"uses": uses, "results": inputs["results"]} | "RepetitionRule" >> MarkRepeatedImages(self.repetition)
        results = marked["results"]
        attached = (
            {
                "pairs": pairs | "PairsByUrl" >> beam.Map(lambda p: (p.url, p)),
                "result": results | "ResultsByUrl" >> beam.Map(lambda r: (r.url, r)),
            }
            | "JoinByUrl" >> beam.CoGroupByKey()
            | "AttachImages" >> beam.ParDo(_AttachImage()).with_outputs(REJECTS, main="pairs")
        )
        rejects = (marked[REJECTS], attached[REJECTS]) | "Rejects" >> beam.Flatten()
        return {"pairs": attached.pairs, "results": results, REJECTS: rejects}
