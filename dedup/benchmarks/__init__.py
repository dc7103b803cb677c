"""Evaluation benchmarks for decontamination: a registry of loaders for their native annotation formats."""

from dedup.benchmarks.items import BenchmarkItem, BenchmarkSource
from dedup.benchmarks.registry import BENCHMARKS, Loader, load_benchmark, load_sources_file, parse_source

__all__ = [
    "BENCHMARKS",
    "BenchmarkItem",
    "BenchmarkSource",
    "Loader",
    "load_benchmark",
    "load_sources_file",
    "parse_source",
]
