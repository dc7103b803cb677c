"""`verify`: every sample of every shard readable and valid against schemas/, and the manifest and
stats.json in agreement with the shards (same samples, same places, same counts)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from schemas.manifest import MANIFEST_FILE, STATS_FILE
from schemas.samples import validate_sample
from schemas.version import check_format_version
from shards.manifest import image_count, read_manifest
from shards.reader import BrokenShard, Opener, iter_entries

MAX_LISTED_PROBLEMS = 50


@dataclass
class Verification:
    shards: int = 0
    samples: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(text)


def verify_output(
    output: str, found_shards: Iterable[str], open_file: Opener, join: Callable[[str, str], str]
) -> Verification:
    """`found_shards`: the shard files present under `output`, relative to it (e.g. "m3w/shard-...tar")."""
    result = Verification()
    manifest = read_manifest(join(output, MANIFEST_FILE), open_file)
    expected: dict[str, list[tuple[str, int, int, int]]] = {}
    for row in manifest.select(["shard", "key", "offset", "size", "image_count"]).to_pylist():
        expected.setdefault(row["shard"], []).append((row["key"], row["offset"], row["size"], row["image_count"]))
    found = set(found_shards)
    for shard in sorted(found - set(expected)):
        result.problem(f"{shard}: shard file not listed in {MANIFEST_FILE}")
    for shard in sorted(expected):
        if shard not in found:
            result.problem(f"{shard}: listed in {MANIFEST_FILE} but missing")
            continue
        result.shards += 1
        _verify_shard(shard, join(output, shard), sorted(expected[shard], key=lambda r: r[1]), open_file, result)
    _verify_stats(join(output, STATS_FILE), manifest, open_file, result)
    return result


def _verify_shard(
    shard: str, path: str, rows: list[tuple[str, int, int, int]], open_file: Opener, result: Verification
) -> None:
    seen = 0
    try:
        for number, (sample, offset, size) in enumerate(iter_entries(path, open_file)):
            seen += 1
            result.samples += 1
            for problem in validate_sample(sample, f"{shard} sample {sample['__key__']}"):
                result.problem(problem)
            if number >= len(rows):
                continue
            key, row_offset, row_size, images = rows[number]
            actual_images = image_count(sample)
            if (sample["__key__"], offset, size, actual_images) != (key, row_offset, row_size, images):
                result.problem(
                    f"{shard}: sample {number} is {sample['__key__']} at {offset} (+{size}, {actual_images} images); "
                    f"the manifest says {key} at {row_offset} (+{row_size}, {images} images)"
                )
    except BrokenShard as error:
        result.problem(str(error))
    if seen != len(rows):
        result.problem(f"{shard}: {seen} samples in the shard, {len(rows)} in the manifest")


def _verify_stats(path: str, manifest, open_file: Opener, result: Verification) -> None:
    try:
        with open_file(path) as handle:
            stats = json.loads(handle.read())
    except (OSError, ValueError) as error:
        result.problem(f"{path}: unreadable ({error})")
        return
    check_format_version(stats.get("format_version"), path)
    per_kind = manifest.group_by("kind").aggregate([("key", "count")])
    counts = dict(zip(per_kind["kind"].to_pylist(), per_kind["key_count"].to_pylist(), strict=True))
    for kind, sizes in stats.get("sizes", {}).items():
        if sizes.get("samples") != counts.get(kind, 0):
            result.problem(
                f"{path}: sizes.{kind}.samples is {sizes.get('samples')}, the manifest has {counts.get(kind, 0)}"
            )
