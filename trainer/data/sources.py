"""Where a dataset's shards are, found before any compute.

A path is a `curate` output folder (local, `gs://`, `s3://` or any URL webdataset opens), whose
manifest lists the shards of each kind, or else a webdataset shard spec: a `.tar` file, a brace
pattern (`data/shard-{00000..00099}.tar`), a `pipe:` command, or a local folder of `.tar` files.
"""

from __future__ import annotations

import glob
import os
import posixpath
from dataclasses import dataclass
from typing import IO

import webdataset as wds

from schemas.manifest import MANIFEST_FILE
from schemas.version import UnsupportedFormatVersion
from shards.manifest import read_manifest

# Each training dataset of the paper, and the shard samples it is made of: (sample kind, pair kind).
DATASET_KINDS: dict[str, tuple[str, str | None]] = {
    "m3w": ("m3w", None),
    "align": ("pair", "alt"),
    "ltip": ("pair", "caption"),
    "vtp": ("video", None),
}


class DatasetError(ValueError):
    """A dataset that cannot be trained on: named, with the reason, before any compute."""


@dataclass(frozen=True)
class ShardSource:
    dataset: str
    urls: tuple[str, ...]
    manifest_samples: int | None  # samples of the dataset's sample kind the manifests list; None: no manifest


def webdataset_url(url: str) -> str:
    """The URL as webdataset opens it: `s3://` goes through the AWS CLI (webdataset has no s3 handler)."""
    return f"pipe:aws s3 cp {url} -" if url.startswith("s3://") else url


def open_url(url: str) -> IO[bytes]:
    """Bytes of a local path or of any URL webdataset opens."""
    if "://" not in url and not url.startswith("pipe:"):
        return open(url, "rb")
    return wds.gopen(webdataset_url(url), "rb")


def resolve_shards(dataset: str, paths: list[str]) -> ShardSource:
    if dataset not in DATASET_KINDS:
        raise DatasetError(f"unknown dataset {dataset!r}; one of {', '.join(DATASET_KINDS)}")
    if not paths:
        raise DatasetError(f"{dataset}: no paths given")
    kind = DATASET_KINDS[dataset][0]
    urls: list[str] = []
    counted: int | None = None
    for path in paths:
        manifest = _manifest_of(path)
        if manifest is not None:
            rows = [row for row in manifest.select(["kind", "shard"]).to_pylist() if row["kind"] == kind]
            urls.extend(_join(path, shard) for shard in sorted({row["shard"] for row in rows}))
            counted = (counted or 0) + len(rows)
        else:
            found = _shard_spec(path)
            if not found:
                raise DatasetError(f"{dataset}: {path} is neither a curate output folder nor a shard file or pattern")
            urls.extend(found)
    if not urls:
        raise DatasetError(f"{dataset}: no {kind} samples in {', '.join(paths)} (their manifests list none)")
    return ShardSource(dataset, tuple(urls), counted)


def _manifest_of(path: str):
    url = _join(path, MANIFEST_FILE)
    if "://" not in path and not path.startswith("pipe:"):
        return read_manifest(url) if os.path.isfile(url) else None
    if path.startswith("pipe:") or path.endswith(".tar"):
        return None
    try:
        return read_manifest(url, open_url)
    except UnsupportedFormatVersion:
        raise
    except (OSError, ValueError):  # no manifest there: a shard spec
        return None


def _shard_spec(path: str) -> list[str]:
    if os.path.isdir(path):
        return sorted(glob.glob(os.path.join(path, "**", "*.tar"), recursive=True))
    if "://" in path or path.startswith("pipe:"):
        return list(wds.shardlists.expand_urls(path))
    expanded = list(wds.shardlists.expand_urls(path))
    missing = [p for p in expanded if not os.path.isfile(p)]
    if missing:
        raise DatasetError(
            f"shard file {missing[0]} does not exist" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
        )
    return expanded


def _join(folder: str, name: str) -> str:
    return posixpath.join(folder.rstrip("/"), name) if "://" in folder else os.path.join(folder, name)
