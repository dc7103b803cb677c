"""Video benchmarks: MSR-VTT, MSVD, VATEX, YouCook2, iVQA, NExT-QA and STAR, each in its native format, and the
captions of MSR-VTT and MSVD for evaluation.

Their annotations name videos by id without a file extension; `VideoFinder` finds the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from dedup.benchmarks.examples import BenchmarkExample
from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.paths import VideoFinder
from dedup.benchmarks.readers import AnnotationError, expecting, read_csv, read_csv_rows, read_json, read_lines
from dedup.benchmarks.splits import file_split, normalize_split, wanted

VideoIds = Iterable[tuple[str, str]]  # (video id, split)
Captions = Mapping[str, Sequence[str]]  # video id -> its captions

MSRVTT_JSON = 'an MSR-VTT JSON object {"videos": [{"video_id", "split"}]}'
MSRVTT_CAPTIONS = 'an MSR-VTT JSON object {"videos": [...], "sentences": [{"video_id", "caption"}]}'
VATEX = 'a VATEX JSON list [{"videoID", "enCap", ...}]'
YOUCOOK2 = 'a YouCook2 JSON object {"database": {VIDEO_ID: {"subset", ...}}}'
STAR = 'a STAR JSON list [{"video_id", "question", ...}]'


def video_loader(
    read_ids: Callable[[BenchmarkSource], VideoIds],
) -> Callable[[BenchmarkSource], Iterator[BenchmarkItem]]:
    def load(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
        yield from distinct(video_items(source, read_ids(source)))

    return load


def caption_reader(
    read_ids: Callable[[BenchmarkSource], VideoIds],
    read_captions: Callable[[BenchmarkSource], Captions],
) -> Callable[[BenchmarkSource], Iterator[BenchmarkExample]]:
    """One captioning example per video the loader yields, its captions in file order (() when none)."""

    def read(source: BenchmarkSource) -> Iterator[BenchmarkExample]:
        captions = read_captions(source)
        for item in distinct(video_items(source, read_ids(source))):
            yield BenchmarkExample.of(item, item.item_id, captions=tuple(captions.get(item.item_id, ())))

    return read


def video_items(
    source: BenchmarkSource, videos: VideoIds, file_names: Mapping[str, str] | None = None
) -> Iterator[BenchmarkItem]:
    """An item per video of the wanted split, repeats kept."""
    path = video_paths(source, file_names)
    for video_id, split in videos:
        if wanted(source, split):
            yield source.item(split, video_id, path(video_id), media="video")


def video_paths(source: BenchmarkSource, file_names: Mapping[str, str] | None = None) -> Callable[[str], str]:
    """Video id -> its file under the media folder; `file_names` maps an id to its file's stem where they differ."""
    finder = VideoFinder(source.media)
    names = file_names or {}
    return lambda video_id: finder.path(names[video_id], video_id) if video_id in names else finder.path(video_id)


def grouped(pairs: Iterable[tuple[str, str]]) -> Captions:
    """(video id, caption) pairs to each video's captions, in file order."""
    captions: dict[str, list[str]] = {}
    for video_id, caption in pairs:
        captions.setdefault(video_id, []).append(caption)
    return captions


def csv_ids(column: str) -> Callable[[BenchmarkSource], VideoIds]:
    """A CSV file of one split (the file name says which) whose `column` holds the video id."""

    def read_ids(source: BenchmarkSource) -> VideoIds:
        split = file_split(source)
        return ((video_id, split) for video_id in read_csv(str(source.annotations), column))

    return read_ids


def msrvtt_ids(source: BenchmarkSource) -> VideoIds:
    """`MSRVTT_JSFUSION_test.csv` style CSVs, or `train_val_videodatainfo.json` whose videos name their split."""
    path = str(source.annotations)
    if not is_json(path):
        return csv_ids("video_id")(source)
    data = read_json(path, MSRVTT_JSON)
    with expecting(path, MSRVTT_JSON):
        return [(str(video["video_id"]), normalize_split(video["split"])) for video in data["videos"]]


def msrvtt_captions(source: BenchmarkSource) -> Captions:
    """The CSV's `sentence` per row, or the JSON's "sentences" [{"video_id", "caption"}]."""
    path = str(source.annotations)
    if not is_json(path):
        return grouped((row["video_id"], row["sentence"]) for row in read_csv_rows(path, ("video_id", "sentence")))
    data = read_json(path, MSRVTT_CAPTIONS)
    with expecting(path, MSRVTT_CAPTIONS):
        return grouped((str(sentence["video_id"]), str(sentence["caption"])) for sentence in data["sentences"])


def msvd_ids(source: BenchmarkSource) -> VideoIds:
    """`annotations.txt`: "VIDEO_ID caption words" a line, the id being YouTubeID_start_end."""
    split = file_split(source)
    return ((video_id, split) for video_id, _ in msvd_lines(str(source.annotations)))


def msvd_captions(source: BenchmarkSource) -> Captions:
    return grouped(msvd_lines(str(source.annotations)))


def msvd_lines(path: str) -> Iterator[tuple[str, str]]:
    for line in read_lines(path):
        video_id, _, caption = line.partition(" ")
        if not caption:
            raise AnnotationError(f"{path}: expected MSVD lines 'VIDEO_ID caption words', got {line[:80]!r}")
        yield video_id, caption.strip()


def vatex_ids(source: BenchmarkSource) -> VideoIds:
    path = str(source.annotations)
    data = read_json(path, VATEX)
    split = file_split(source)
    with expecting(path, VATEX):
        return [(str(video["videoID"]), split) for video in as_list(data)]


def youcook2_ids(source: BenchmarkSource) -> VideoIds:
    path = str(source.annotations)
    data = read_json(path, YOUCOOK2)
    with expecting(path, YOUCOOK2):
        return [(str(video_id), normalize_split(video["subset"])) for video_id, video in data["database"].items()]


def star_ids(source: BenchmarkSource) -> VideoIds:
    path = str(source.annotations)
    data = read_json(path, STAR)
    split = file_split(source)
    with expecting(path, STAR):
        return [(str(question["video_id"]), split) for question in as_list(data)]


def is_json(path: str) -> bool:
    return Path(path).suffix.lower() == ".json"


def as_list(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise TypeError(f"got a JSON {type(data).__name__}")
    return data


load_msrvtt = video_loader(msrvtt_ids)
load_msvd = video_loader(msvd_ids)
read_msrvtt_examples = caption_reader(msrvtt_ids, msrvtt_captions)
read_msvd_examples = caption_reader(msvd_ids, msvd_captions)
load_vatex = video_loader(vatex_ids)
load_youcook2 = video_loader(youcook2_ids)
load_ivqa = video_loader(csv_ids("video_id"))
load_nextqa = video_loader(csv_ids("video"))
load_star = video_loader(star_ids)
