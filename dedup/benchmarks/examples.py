"""What an example reader yields: one evaluation example (question and answers, reference captions, class label).

The readers sit next to the decontamination loaders and read the same native files; an example's `item_id` and
`path` are those of the `BenchmarkItem` the loader yields for the same image or video.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from dedup.benchmarks.items import BenchmarkItem, Media

TaskKind = Literal["captioning", "vqa", "classification"]


@dataclass(frozen=True)
class BenchmarkExample:
    """One evaluation example of a benchmark, read from its native annotation file.

    Examples with nothing to score (no answers, captions or label, as in test splits) are yielded all the same,
    and so are examples whose media file is missing: the evaluator counts both.
    """

    benchmark: str  # source.benchmark (registry name or label)
    split: str  # normalised split, as BenchmarkItem's
    example_id: str  # the benchmark's own id of the example: question id, image id for captioning, meme id
    item_id: str  # the image/video id: the BenchmarkItem.item_id the loader yields for the same media
    path: str  # local path of the image or video (resolved as the loader resolves it)
    media: Media = "image"
    question: str | None = None  # VQA tasks
    answers: tuple[str, ...] = ()  # VQA: the human answers as written; () when the file has none
    captions: tuple[str, ...] = ()  # captioning: the reference captions, plain text; () when none
    text: str | None = None  # Hateful Memes: the meme's text
    classes: tuple[str, ...] = ()  # classification: the candidate class texts
    label: int | None = None  # classification: index into classes; None when the file has no label

    @classmethod
    def of(cls, item: BenchmarkItem, example_id: str, **fields: Any) -> BenchmarkExample:
        """The example about `item`, the loader's view of its image or video."""
        return cls(
            benchmark=item.benchmark,
            split=item.split,
            example_id=example_id,
            item_id=item.item_id,
            path=item.path,
            media=item.media,
            **fields,
        )
