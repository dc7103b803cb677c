"""Video benchmarks: MSR-VTT, MSVD, VATEX, YouCook2, iVQA, NExT-QA and STAR, each in its native format.

Their annotations name videos by id without a file extension; `VideoFinder` finds the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.paths import VideoFinder
from dedup.benchmarks.readers import AnnotationError, expecting, read_csv, read_json, read_lines
from dedup.benchmarks.splits import file_split, normalize_split, wanted

VideoIds = Iterable[tuple[str, str]]  # (video id, split)

MSRVTT_JSON = 'an MSR-VTT JSON object {"videos": [{"video_id", "split"}]}'
VATEX = 'a VATEX JSON list [{"videoID", "enCap", ...}]'
YOUCOOK2 = 'a YouCook2 JSON object {"database": {VIDEO_ID: {"subset", ...}}}'
STAR = 'a STAR JSON list [{"video_id", "question", ...}]'


def video_loader(
    read_ids: Callable[[BenchmarkSource], VideoIds],
) -> Callable[[BenchmarkSource], Iterator[BenchmarkItem]]:
    def load(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
        videos = read_ids(source)
        finder = VideoFinder(source.media)
        yield from distinct(
            source.item(split, video_id, finder.path(video_id), media="video")
            for video_id, split in videos
            if wanted(source, split)
        )

    return load


def csv_ids(column: str) -> Callable[[BenchmarkSource], VideoIds]:
    """A CSV file of one split (the file name says which) whose `column` holds the video id."""

    def read_ids(source: BenchmarkSource) -> VideoIds:
        split = file_split(source)
        return ((video_id, split) for video_id in read_csv(str(source.annotations), column))

    return read_ids


def msrvtt_ids(source: BenchmarkSource) -> VideoIds:
    """`MSRVTT_JSFUSION_test.csv` style CSVs, or `train_val_videodatainfo.json` whose videos name their split."""
    path = str(source.annotations)
    if Path(path).suffix.lower() != ".json":
        return csv_ids("video_id")(source)
    data = read_json(path, MSRVTT_JSON)
    with expecting(path, MSRVTT_JSON):
        return [(str(video["video_id"]), normalize_split(video["split"])) for video in data["videos"]]


def msvd_ids(source: BenchmarkSource) -> VideoIds:
    """`annotations.txt`: "VIDEO_ID caption words" a line, the id being YouTubeID_start_end."""
    path = str(source.annotations)
    split = file_split(source)
    for line in read_lines(path):
        video_id, _, caption = line.partition(" ")
        if not caption:
            raise AnnotationError(f"{path}: expected MSVD lines 'VIDEO_ID caption words', got {line[:80]!r}")
        yield video_id, split


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


def as_list(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise TypeError(f"got a JSON {type(data).__name__}")
    return data


load_msrvtt = video_loader(msrvtt_ids)
load_msvd = video_loader(msvd_ids)
load_vatex = video_loader(vatex_ids)
load_youcook2 = video_loader(youcook2_ids)
load_ivqa = video_loader(csv_ids("video_id"))
load_nextqa = video_loader(csv_ids("video"))
load_star = video_loader(star_ids)
