"""`verify`: every sample of every shard readable and valid against schemas/, and the manifest and
stats.json in agreement with the shards (same samples, same places, same counts)."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from schemas.manifest import MANIFEST_FILE, STATS_FILE, run_of_shard
from schemas.samples import validate_sample
from schemas.version import check_format_version
from shards.manifest import image_names, manifest_row, read_manifest
from shards.reader import BrokenShard, Opener, iter_entries
from shards.tar_writer import SampleEntry

MAX_LISTED_PROBLEMS = 50


@dataclass
class Verification:
    shards: int = 0
    samples: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    notes: list[str] = field(default_factory=list)  # worth knowing, not wrong

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
    try:
        manifest = read_manifest(join(output, MANIFEST_FILE), open_file)
    except FileNotFoundError:
        result.problem(
            f"{output}: no {MANIFEST_FILE}, which a run writes last: the run did not finish (or this is not a "
            "curate output folder); run it again"
        )
        return result
    expected: dict[str, list[dict]] = {}
    for row in manifest.to_pylist():
        expected.setdefault(row["shard"], []).append(row)
    found = set(found_shards)
    runs = {run_of_shard(shard) for shard in expected}
    unfinished: dict[str, int] = {}
    for shard in sorted(found - set(expected)):
        run = run_of_shard(shard)
        if run is not None and run not in runs:
            unfinished[run] = unfinished.get(run, 0) + 1
        else:
            result.problem(f"{shard}: shard file not listed in {MANIFEST_FILE}")
    for run, count in sorted(unfinished.items()):
        result.notes.append(
            f"{count} shard(s) of run {run}, which did not finish: not part of the dataset; "
            "the next run to finish here removes them"
        )
    for shard in sorted(expected):
        if shard not in found:
            result.problem(f"{shard}: listed in {MANIFEST_FILE} but missing")
            continue
        result.shards += 1
        _verify_shard(shard, join(output, shard), sorted(expected[shard], key=lambda r: r["offset"]), open_file, result)
    _verify_stats(join(output, STATS_FILE), manifest, runs, open_file, result)
    return result


def _verify_shard(shard: str, path: str, rows: list[dict], open_file: Opener, result: Verification) -> None:
    seen, end = 0, 0
    try:
        for number, (sample, offset, size) in enumerate(iter_entries(path, open_file)):
            seen, end = seen + 1, offset + size
            result.samples += 1
            where = f"{shard} sample {sample['__key__']}"
            for problem in [*validate_sample(sample, where), *_image_problems(sample, where)]:
                result.problem(problem)
            if number < len(rows):
                for problem in _row_problems(
                    manifest_row(sample, shard, SampleEntry(sample["__key__"], offset, size)), rows[number]
                ):
                    result.problem(f"{where} (sample {number}): {problem}")
    except BrokenShard as error:
        result.problem(str(error))
        return
    if seen != len(rows):
        result.problem(f"{shard}: {seen} samples in the shard, {len(rows)} in the manifest")
    with open_file(path) as handle:
        actual = handle.seek(0, io.SEEK_END)
    archive = -(-(end + 2 * tarfile.BLOCKSIZE) // tarfile.RECORDSIZE) * tarfile.RECORDSIZE
    if actual != archive:
        what = "bytes after the end of the archive" if actual > archive else "the archive's end blocks are missing"
        result.problem(f"{shard}: {actual} bytes where the tar ends at {archive}: {what}")


def _image_problems(sample: dict, where: str) -> list[str]:
    """Every image decoded in full: a header that parses is not enough."""
    problems = []
    for name in image_names(sample):
        try:
            with Image.open(io.BytesIO(sample[name])) as image:
                image.load()
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            problems.append(f"{where}: {name} does not decode ({error})")
    return problems


def _row_problems(actual: dict, listed: dict) -> list[str]:
    """Every manifest column against what the shard holds; older manifests may lack a column."""
    problems = []
    for column, value in actual.items():
        if column not in listed:
            continue
        stored = listed[column]
        if isinstance(value, float) and stored is not None:
            same = abs(float(np.float32(value)) - stored) <= 1e-6
        else:
            same = stored == value
        if not same:
            problems.append(f"manifest {column} is {stored!r}, the shard says {value!r}")
    return problems


def _verify_stats(path: str, manifest, runs: set[str | None], open_file: Opener, result: Verification) -> None:
    try:
        with open_file(path) as handle:
            stats = json.loads(handle.read())
    except (OSError, ValueError) as error:
        result.problem(f"{path}: unreadable ({error})")
        return
    check_format_version(stats.get("format_version"), path)
    run = stats.get("provenance", {}).get("run_id")
    if run is not None and runs and runs != {run}:
        result.problem(
            f"{path}: describes run {run}, but {MANIFEST_FILE} lists the shards of run(s) "
            f"{', '.join(sorted(map(str, runs)))}: a run stopped while switching over; run it again"
        )
    per_kind = manifest.group_by("kind").aggregate([("key", "count")])
    counts = dict(zip(per_kind["kind"].to_pylist(), per_kind["key_count"].to_pylist(), strict=True))
    for kind, sizes in stats.get("sizes", {}).items():
        if sizes.get("samples") != counts.get(kind, 0):
            result.problem(
                f"{path}: sizes.{kind}.samples is {sizes.get('samples')}, the manifest has {counts.get(kind, 0)}"
            )
