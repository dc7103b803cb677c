"""What a benchmark loader reads (a source) and yields (one item per distinct image or video)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

Media = Literal["image", "video"]


@dataclass(frozen=True)
class BenchmarkItem:
    """One distinct image or video of an evaluation benchmark, and where it lies on local disk."""

    benchmark: str  # registry name, e.g. "vqav2", or the label of a custom folder benchmark
    split: str  # "train" | "val" | "test" | "testdev" | ... as the benchmark names it
    item_id: str  # the benchmark's own id of the image/video (e.g. "458752" COCO image id, "video9770")
    path: str  # local path of the image or video file
    media: Media = "image"


@dataclass(frozen=True)
class BenchmarkSource:
    """Where one benchmark's annotation file and media folder are.

    `split` replaces the split a file-wide format takes from its file name; for formats whose entries
    each name their split (Karpathy JSON, TextVQA, VizWiz, NLVR2, MSR-VTT JSON, YouCook2) it keeps only
    the entries of that split. `answers` matters only to the example readers of VQAv2 and OK-VQA, whose human
    answers lie in a file of their own beside the questions file.
    """

    name: str  # registry key ("coco", "vqav2", ..., "folder")
    media: str  # local folder with the images / videos
    annotations: str | None = None  # the native annotation file (None only for "folder")
    split: str | None = None  # override when the file does not say
    label: str | None = None  # the benchmark name to report (required for "folder")
    answers: str | None = None  # VQAv2/OK-VQA: the annotations file with the human answers (evaluation only)

    @property
    def benchmark(self) -> str:
        """The name its items report: the label when one is given, else the registry name."""
        return self.label or self.name

    def item(self, split: str, item_id: str, path: str, media: Media = "image") -> BenchmarkItem:
        return BenchmarkItem(benchmark=self.benchmark, split=split, item_id=item_id, path=path, media=media)


def distinct(items: Iterable[BenchmarkItem]) -> Iterator[BenchmarkItem]:
    """Each item id once, at its first occurrence (many questions share one image)."""
    seen: set[str] = set()
    for item in items:
        if item.item_id not in seen:
            seen.add(item.item_id)
            yield item
