"""Evaluation benchmarks: a registry of loaders for their native annotation formats, which yield their images and
videos (for decontamination) and their evaluation examples (for the trainer's evaluation)."""

from dedup.benchmarks.examples import BenchmarkExample, TaskKind
from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource
from dedup.benchmarks.readers import AnnotationError
from dedup.benchmarks.registry import (
    BENCHMARKS,
    EXAMPLE_READERS,
    TASKS,
    ExampleReader,
    Loader,
    load_benchmark,
    load_examples,
    load_sources_file,
    parse_source,
)

__all__ = [
    "BENCHMARKS",
    "EXAMPLE_READERS",
    "TASKS",
    "AnnotationError",
    "BenchmarkExample",
    "BenchmarkItem",
    "BenchmarkSource",
    "ExampleReader",
    "Loader",
    "TaskKind",
    "load_benchmark",
    "load_examples",
    "load_sources_file",
    "parse_source",
]
