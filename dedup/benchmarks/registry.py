"""The benchmark registry: names to loaders (decontamination) and to example readers (evaluation), and the two
spellings of a source (CLI text and YAML)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from dedup.benchmarks.coco import load_coco, read_coco_examples
from dedup.benchmarks.examples import BenchmarkExample, TaskKind
from dedup.benchmarks.flickr30k import load_flickr30k, read_flickr30k_examples
from dedup.benchmarks.folder import load_folder, read_folder_examples
from dedup.benchmarks.gqa import load_gqa
from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource
from dedup.benchmarks.memes import load_hatefulmemes, read_hatefulmemes_examples
from dedup.benchmarks.nlvr2 import load_nlvr2
from dedup.benchmarks.snli_ve import load_snli_ve
from dedup.benchmarks.textvqa import load_textvqa, read_textvqa_examples
from dedup.benchmarks.vgqa import load_vgqa
from dedup.benchmarks.video import (
    load_ivqa,
    load_msrvtt,
    load_msvd,
    load_nextqa,
    load_star,
    load_vatex,
    load_youcook2,
    read_msrvtt_examples,
    read_msvd_examples,
)
from dedup.benchmarks.video_qa import load_msrvtt_qa, load_msvd_qa, read_msrvtt_qa_examples, read_msvd_qa_examples
from dedup.benchmarks.visdial import load_visdial
from dedup.benchmarks.vizwiz import load_vizwiz, read_vizwiz_examples
from dedup.benchmarks.vqa import load_vqa, read_vqa_examples

Loader = Callable[[BenchmarkSource], Iterator[BenchmarkItem]]
ExampleReader = Callable[[BenchmarkSource], Iterator[BenchmarkExample]]

FOLDER = "folder"

BENCHMARKS: dict[str, Loader] = {
    "coco": load_coco,
    "flickr30k": load_flickr30k,
    "vqav2": load_vqa,
    "okvqa": load_vqa,
    "textvqa": load_textvqa,
    "vizwiz": load_vizwiz,
    "hatefulmemes": load_hatefulmemes,
    "visdial": load_visdial,
    "gqa": load_gqa,
    "nlvr2": load_nlvr2,
    "snli_ve": load_snli_ve,
    "vgqa": load_vgqa,
    "msrvtt": load_msrvtt,
    "msvd": load_msvd,
    "msrvtt_qa": load_msrvtt_qa,
    "msvd_qa": load_msvd_qa,
    "vatex": load_vatex,
    "youcook2": load_youcook2,
    "ivqa": load_ivqa,
    "nextqa": load_nextqa,
    "star": load_star,
    FOLDER: load_folder,
}

# The benchmarks that can be evaluated, by the kind of task; each reads its examples from the same native file.
TASKS: dict[str, TaskKind] = {
    "coco": "captioning",
    "flickr30k": "captioning",
    "vqav2": "vqa",
    "okvqa": "vqa",
    "textvqa": "vqa",
    "vizwiz": "vqa",
    "hatefulmemes": "classification",
    "msrvtt": "captioning",
    "msvd": "captioning",
    "msrvtt_qa": "vqa",
    "msvd_qa": "vqa",
    FOLDER: "classification",
}

EXAMPLE_READERS: dict[str, ExampleReader] = {
    "coco": read_coco_examples,
    "flickr30k": read_flickr30k_examples,
    "vqav2": read_vqa_examples,
    "okvqa": read_vqa_examples,
    "textvqa": read_textvqa_examples,
    "vizwiz": read_vizwiz_examples,
    "hatefulmemes": read_hatefulmemes_examples,
    "msrvtt": read_msrvtt_examples,
    "msvd": read_msvd_examples,
    "msrvtt_qa": read_msrvtt_qa_examples,
    "msvd_qa": read_msvd_qa_examples,
    FOLDER: read_folder_examples,
}

FIELDS = ("annotations", "answers", "media", "split", "label")
SEPARATE_ANSWERS = ("vqav2", "okvqa")  # whose human answers lie in a file of their own


def check_source(source: BenchmarkSource) -> None:
    """ValueError for an unknown name or a field the name needs and lacks (or must not have)."""
    if source.name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {source.name!r}; known: {', '.join(sorted(BENCHMARKS))}")
    if not source.media:
        raise ValueError(f"benchmark {source.name!r} needs media=DIR")
    if source.name == FOLDER:
        if not source.label:
            raise ValueError("a folder benchmark needs label=NAME, the benchmark name to report")
        if source.annotations is not None:
            raise ValueError("a folder benchmark takes no annotations: its items are the files under media")
    elif not source.annotations:
        raise ValueError(f"benchmark {source.name!r} needs annotations=PATH, its native annotation file")
    if source.answers is not None and source.name not in SEPARATE_ANSWERS:
        raise ValueError(
            f"benchmark {source.name!r} takes no answers=PATH: only {', '.join(SEPARATE_ANSWERS)} keep their answers "
            "in a file of their own"
        )


def check_paths(source: BenchmarkSource) -> None:
    """FileNotFoundError for an annotation or answers file, or a media folder, that is not there."""
    for kind, path in (("annotation", source.annotations), ("answers", source.answers)):
        if path is not None and not Path(path).is_file():
            raise FileNotFoundError(f"{source.benchmark}: {kind} file not found: {path}")
    if not Path(source.media).is_dir():
        raise FileNotFoundError(f"{source.benchmark}: media folder not found: {source.media}")


def load_benchmark(source: BenchmarkSource) -> Iterator[BenchmarkItem]:
    """The benchmark's distinct images/videos; the source and its paths are checked before this returns."""
    check_source(source)
    check_paths(source)
    return BENCHMARKS[source.name](source)


def load_examples(source: BenchmarkSource) -> Iterator[BenchmarkExample]:
    """The benchmark's evaluation examples, read from the same native file as its items; the source and its
    paths are checked before this returns, as `load_benchmark` checks them."""
    check_source(source)
    if source.name not in EXAMPLE_READERS:
        raise ValueError(
            f"benchmark {source.name!r} cannot be evaluated; evaluable: {', '.join(sorted(EXAMPLE_READERS))}"
        )
    check_paths(source)
    return EXAMPLE_READERS[source.name](source)


def parse_source(text: str) -> BenchmarkSource:
    """The CLI spelling: NAME:annotations=PATH,media=DIR[,split=S][,label=L][,answers=PATH], or
    folder:media=DIR,label=L."""
    name, colon, rest = text.partition(":")
    if not colon:
        raise ValueError(
            f"benchmark source {text!r}: expected NAME:annotations=PATH,media=DIR[,split=S][,label=L][,answers=PATH]"
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, equals, value = (s.strip() for s in part.partition("="))
        if not equals or key not in FIELDS or key in fields or not value:
            raise ValueError(
                f"benchmark source {text!r}: bad field {part!r}; expected distinct KEY=VALUE with KEY in {', '.join(FIELDS)}"
            )
        fields[key] = value
    return make_source({"name": name.strip(), **fields}, base=None)


def load_sources_file(path: str) -> list[BenchmarkSource]:
    """A YAML file {"benchmarks": [{"name", "annotations", "media", "split", "label", "answers"}, ...]}.

    Relative paths in it are relative to the YAML file's folder, so a config travels with its data.
    """
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML ({error})") from error
    entries = data.get("benchmarks") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f'{path}: expected a YAML mapping {{"benchmarks": [{{"name", "media", "annotations", ...}}]}}')
    sources = []
    for number, entry in enumerate(entries, start=1):
        try:
            sources.append(make_source(entry, base=Path(path).parent))
        except ValueError as error:
            raise ValueError(f"{path}: benchmark {number}: {error}") from error
    return sources


def make_source(entry: Any, base: Path | None) -> BenchmarkSource:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ValueError(f"expected a mapping with a name, got {entry!r}")
    unknown = set(entry) - {"name", *FIELDS}
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}; expected name, {', '.join(FIELDS)}")
    values = {key: str(entry[key]) for key in FIELDS if entry.get(key) is not None}
    for key in ("annotations", "answers", "media"):
        if key in values:
            values[key] = resolve(values[key], base)
    source = BenchmarkSource(name=entry["name"], media=values.pop("media", ""), **values)
    check_source(source)
    return source


def resolve(path: str, base: Path | None) -> str:
    expanded = os.path.expanduser(path)
    return expanded if base is None or os.path.isabs(expanded) else str(base / expanded)
