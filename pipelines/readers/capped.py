"""Reading a file decompressed, but never more than a cap: Beam's own decompression inflates whole
compressed chunks (16 MB of a bomb is tens of GB), so files named .gz, .bz2 or .xz are inflated
here by streaming decompressors told how much output they may make."""

from __future__ import annotations

import bz2
import lzma
import zlib

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

_CHUNK = 1 << 16
_DECOMPRESSORS = {
    CompressionTypes.GZIP: lambda: zlib.decompressobj(zlib.MAX_WBITS | 16),
    CompressionTypes.BZIP2: bz2.BZ2Decompressor,
    CompressionTypes.LZMA: lzma.LZMADecompressor,
}


def read_capped(path: str, limit: int) -> bytes:
    """The file's content, decompressed by its name's suffix, up to `limit` + 1 bytes: a result longer
    than `limit` means the content is larger. Raises ValueError for a compression it cannot cap."""
    compression = CompressionTypes.detect_compression_type(path)
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
        if compression == CompressionTypes.UNCOMPRESSED:
            return raw.read(limit + 1)
        if compression not in _DECOMPRESSORS:
            raise ValueError(f"{path}: {compression} files cannot be read with a size cap; decompress it first")
        return _inflate(raw, _DECOMPRESSORS[compression], limit + 1)


def _inflate(raw, new_decompressor, wanted: int) -> bytes:
    out = bytearray()
    decompressor = new_decompressor()
    pending = b""
    while len(out) < wanted:
        if not pending and getattr(decompressor, "needs_input", True):
            pending = raw.read(_CHUNK)
            if not pending:
                break
        out += decompressor.decompress(pending, wanted - len(out))
        pending = getattr(decompressor, "unconsumed_tail", b"")  # zlib hands back unread input; bz2/lzma keep it
        if decompressor.eof:  # concatenated members or streams, as `cat a.gz b.gz` makes
            pending, decompressor = decompressor.unused_data + pending, new_decompressor()
    return bytes(out)
