"""The driver's side of an output folder. Before a job: check that it can be written and that the run
will not silently replace another dataset's shards. After it: merge the run's manifest parts, and
switch over to the new run by writing `manifest.parquet` last; only then remove the shards it no
longer lists (an earlier run's, a crashed run's, stray temporary files) from the folders this run
owns. Until the switch the earlier manifest and its shards stay as they were: a run killed at any
point leaves the earlier output whole."""

from __future__ import annotations

import os
import secrets
import uuid

import pyarrow.parquet as pq
from apache_beam.io.filesystem import BeamIOError
from apache_beam.io.filesystems import FileSystems

from pipelines.sinks.atomic import atomic_file
from schemas.manifest import MANIFEST_FILE, MANIFEST_PARTS_DIR
from shards.manifest import merge_parts, read_manifest

SHARD_DIRS: tuple[str, ...] = ("m3w", "pairs", "video")
_SHARD_DIR_OF_KIND = {"m3w": "m3w", "pair": "pairs", "video": "video"}  # the manifest's kind -> its folder


def check_output_location(output: str) -> None:
    """Before any work: the output is a folder, or can become one, and this process can write there."""
    if "://" not in output:
        if os.path.exists(output) and not os.path.isdir(output):
            raise ValueError(f"output {output!r} is a file, not a folder")
        try:
            os.makedirs(output, exist_ok=True)
        except OSError as error:
            raise ValueError(f"output {output!r} cannot be created: {error.strerror}") from error
    probe = FileSystems.join(output, f".write-check-{uuid.uuid4().hex}")
    try:
        with FileSystems.create(probe) as handle:
            handle.write(b"")
        FileSystems.delete([probe])
    except (OSError, BeamIOError) as error:
        raise ValueError(f"output {output!r} is not writable: {error}") from error


def new_run_id() -> str:
    """Names this run's shards, so that they sit beside an earlier run's instead of over them."""
    return secrets.token_hex(4)


def check_earlier_output(output: str, shard_dirs: tuple[str, ...], overwrite: bool) -> None:
    """An earlier run's samples of a kind this run will not write would be unlisted or lost: refuse to
    write over them unless asked to (`--overwrite`)."""
    manifest = FileSystems.join(output, MANIFEST_FILE)
    if overwrite or not FileSystems.exists(manifest):
        return
    earlier = {
        _SHARD_DIR_OF_KIND.get(kind, kind)
        for kind in read_manifest(manifest, FileSystems.open).column("kind").to_pylist()
    }
    foreign = sorted(earlier - set(shard_dirs))
    if foreign:
        raise ValueError(
            f"output {output!r} holds an earlier run's {', '.join(foreign)} shards, which this run would not "
            "rewrite: write to another folder, ask for those datasets too, or pass --overwrite to replace them"
        )


def run_manifest(output: str, run_id: str):
    """The manifest of the run `run_id`: its parts, merged."""
    parts = [m.path for m in _matches(FileSystems.join(output, MANIFEST_PARTS_DIR, run_id, "*.parquet"))]
    return merge_parts(_read(path) for path in sorted(parts))


def switch_over(output: str, manifest, shard_dirs: tuple[str, ...]) -> None:
    """Make `manifest` the folder's, then remove from `shard_dirs` (those the run owns: its own
    datasets', or all with --overwrite) every shard it does not list, and every run's manifest parts."""
    with atomic_file(FileSystems.join(output, MANIFEST_FILE)) as out:
        pq.write_table(manifest, out)
    listed = {FileSystems.join(output, shard) for shard in manifest.column("shard").to_pylist()}
    for kind_dir in shard_dirs:
        unlisted = [found.path for found in _matches(FileSystems.join(output, kind_dir, "shard-*"))]
        unlisted = [path for path in unlisted if path not in listed]
        if unlisted:
            FileSystems.delete(unlisted)
    _delete_parts(output)


def manifest_sizes(manifest) -> dict:
    """The `sizes` section of stats.json."""
    sizes: dict[str, dict[str, int]] = {}
    for row in (
        manifest.group_by("kind")
        .aggregate(
            [
                ("key", "count"),
                ("size", "sum"),
                ("shard", "count_distinct"),
                ("image_count", "sum"),
                ("token_estimate", "sum"),
            ]
        )
        .to_pylist()
    ):
        sizes[row["kind"]] = {
            "samples": row["key_count"],
            "bytes": row["size_sum"],
            "shards": row["shard_count_distinct"],
            "images": row["image_count_sum"],
            "tokens": row["token_estimate_sum"],
        }
    return dict(sorted(sizes.items()))


def _matches(pattern: str):
    result = FileSystems.match([pattern])[0]
    return result.metadata_list


def _delete_parts(output: str) -> None:
    parts = FileSystems.join(output, MANIFEST_PARTS_DIR)
    files = [m.path for m in _matches(FileSystems.join(parts, "*", "*"))]
    if files:
        FileSystems.delete(files)
    if FileSystems.exists(parts):  # a local folder; object stores have no empty folders to remove
        FileSystems.delete([parts])


def _read(path: str) -> bytes:
    with FileSystems.open(path) as handle:
        return handle.read()
