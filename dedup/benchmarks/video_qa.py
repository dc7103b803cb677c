"""MSRVTT-QA and MSVD-QA (Xu et al. 2017): a JSON list [{"id", "video_id": 7010, "question", "answer"}] per split
(`test_qa.json`), the video named by its number.

MSRVTT-QA's video N is MSR-VTT's `videoN`. MSVD-QA's is `vidN`, whose file keeps its YouTube clip name
(`-4wsuPCjDBc_5_15.avi`) when the release's `youtube_mapping.txt` ("-4wsuPCjDBc_5_15 vid1" a line) lies beside
the annotation file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dedup.benchmarks.examples import BenchmarkExample
from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource, distinct
from dedup.benchmarks.readers import AnnotationError, expecting, read_json, read_lines
from dedup.benchmarks.splits import file_split
from dedup.benchmarks.video import as_list, video_paths

EXPECTED = 'a {name} JSON list [{{"id", "video_id": 7010, "question", "answer"}}]'
YOUTUBE_MAPPING = "youtube_mapping.txt"

QAs = Iterator[tuple[BenchmarkItem, dict[str, Any]]]
ItemLoader = Callable[[BenchmarkSource], Iterator[BenchmarkItem]]
ExampleReader = Callable[[BenchmarkSource], Iterator[BenchmarkExample]]


def qa_benchmark(
    name: str, prefix: str, file_names: Callable[[BenchmarkSource], dict[str, str]]
) -> tuple[ItemLoader, ExampleReader]:
    """The loader (distinct videos) and the example reader (one example per question) of one QA format."""
    expected = EXPECTED.format(name=name)

    def questions(source: BenchmarkSource) -> QAs:
        path = str(source.annotations)
        data = read_json(path, expected)
        split = file_split(source)
        with expecting(path, expected):
            records = as_list(data)
            video_ids = [f"{prefix}{int(record['video_id'])}" for record in records]
        path_of = video_paths(source, file_names(source))
        for video_id, record in zip(video_ids, records, strict=True):
            yield source.item(split, video_id, path_of(video_id), media="video"), record

    def load(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
        yield from distinct(item for item, _ in questions(source))

    def read_examples(source: BenchmarkSource) -> Iterator[BenchmarkExample]:
        path = str(source.annotations)
        for item, record in questions(source):
            with expecting(path, expected):
                question_id, question, answer = str(record["id"]), str(record["question"]), str(record["answer"])
            yield BenchmarkExample.of(item, question_id, question=question, answers=(answer,))

    return load, read_examples


def no_file_names(source: BenchmarkSource) -> dict[str, str]:
    return {}


def youtube_file_names(source: BenchmarkSource) -> dict[str, str]:
    """`vidN` -> its YouTube clip name, from `youtube_mapping.txt` beside the annotation file, if there is one."""
    mapping = Path(str(source.annotations)).with_name(YOUTUBE_MAPPING)
    if not mapping.is_file():
        return {}
    names = {}
    for line in read_lines(str(mapping)):
        parts = line.split()
        if len(parts) != 2:
            raise AnnotationError(f"{mapping}: expected lines 'YOUTUBEID_START_END vidN', got {line[:80]!r}")
        clip, video_id = parts
        names[video_id] = clip
    return names


load_msrvtt_qa, read_msrvtt_qa_examples = qa_benchmark("MSRVTT-QA", "video", no_file_names)
load_msvd_qa, read_msvd_qa_examples = qa_benchmark("MSVD-QA", "vid", youtube_file_names)
