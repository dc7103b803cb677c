"""Reading what the shard writer wrote: samples of a tar in order, one sample by its manifest offset,
and the shard files of an output folder. `open_file` lets callers read through Beam's FileSystems
(gs://, s3://) without this module knowing about Beam."""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections.abc import Callable, Iterator
from typing import IO

from schemas.samples import Sample

Opener = Callable[[str], IO[bytes]]


class BrokenShard(ValueError):
    pass


def _local(path: str) -> IO[bytes]:
    return open(path, "rb")


def iter_samples(path: str, open_file: Opener = _local) -> Iterator[Sample]:
    """Samples of a shard in file order, grouped as webdataset groups them (key = name up to its first dot)."""
    for sample, _, _ in iter_entries(path, open_file):
        yield sample


def iter_entries(path: str, open_file: Opener = _local) -> Iterator[tuple[Sample, int, int]]:
    """(sample, offset of its first header, bytes it spans) for each sample of a shard, in file order."""
    with open_file(path) as handle:
        try:
            with tarfile.open(fileobj=handle, mode="r|") as tar:
                sample: Sample = {}
                start = end = 0
                for member in tar:
                    if not member.isfile():
                        continue
                    key, _, extension = posixpath.basename(member.name).partition(".")
                    if sample and sample["__key__"] != key:
                        yield sample, start, end - start
                        sample = {}
                    if not sample:
                        sample["__key__"], start = key, member.offset
                    sample[extension] = tar.extractfile(member).read()
                    end = member.offset_data + -(-member.size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE
                if sample:
                    yield sample, start, end - start
        except (tarfile.TarError, EOFError, OSError) as error:
            raise BrokenShard(f"{path}: not a readable tar ({error})") from error


def read_sample_at(path: str, offset: int, size: int, open_file: Opener = _local) -> Sample:
    """One sample by its manifest (offset, size): read those bytes only and parse them as a small tar."""
    with open_file(path) as handle:
        handle.seek(offset)
        data = handle.read(size)
    if len(data) != size:
        raise BrokenShard(f"{path}: {size} bytes at {offset} asked, {len(data)} there")
    samples = list(iter_samples(path, lambda _: io.BytesIO(data + b"\0" * 1024)))
    if len(samples) != 1:
        raise BrokenShard(f"{path}: bytes {offset}..{offset + size} hold {len(samples)} samples, not one")
    return samples[0]
