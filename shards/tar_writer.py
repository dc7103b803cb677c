"""Samples -> one webdataset tar, byte-for-byte deterministic, with each sample's offset and size.

Members are `KEY.EXT` in the order webdataset expects (a sample's members together), extensions in
natural order (`0.jpg, 1.jpg, ..., 10.jpg, json, txt`), headers with fixed owner, mode and mtime so
the same samples always make the same bytes. Plain USTAR: any tar reader, and `webdataset.WebDataset`
with no project code, reads the result.
"""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from schemas.samples import Sample

BLOCK = tarfile.BLOCKSIZE
_NUMBER = re.compile(r"(\d+)")


@dataclass(frozen=True)
class SampleEntry:
    key: str
    offset: int  # of the sample's first tar header in the shard
    size: int  # bytes the sample's members (headers and padded data) take


def write_samples(samples: Iterable[Sample], out: BinaryIO) -> list[SampleEntry]:
    """Write `samples` (in the given order) as a tar to `out`; returns where each one landed."""
    entries, offset = [], 0
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.USTAR_FORMAT) as tar:
        for sample in samples:
            key = sample["__key__"]
            start = offset
            for extension in sorted((name for name in sample if not name.startswith("__")), key=_natural):
                data = sample[extension]
                tar.addfile(_header(f"{key}.{extension}", len(data)), io.BytesIO(data))
                offset += BLOCK + -(-len(data) // BLOCK) * BLOCK
            entries.append(SampleEntry(key, start, offset - start))
    return entries


def _header(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o444
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _natural(name: str) -> list[int | str]:
    return [int(part) if part.isdigit() else part for part in _NUMBER.split(name)]
