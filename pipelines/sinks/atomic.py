"""Whole files or nothing: written under a temporary name, renamed over the target once complete."""

from __future__ import annotations

import uuid

from apache_beam.io.filesystems import FileSystems


class atomic_file:
    """A FileSystems file written under a temporary name and renamed over `path` once complete."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.temporary = f"{path}.tmp-{uuid.uuid4().hex}"

    def __enter__(self):
        self.file = FileSystems.create(self.temporary)
        return self.file

    def __exit__(self, exc_type, exc, tb) -> None:
        self.file.close()
        if exc_type is not None:
            FileSystems.delete([self.temporary])
            return
        if FileSystems.exists(self.path):
            FileSystems.delete([self.path])
        FileSystems.rename([self.temporary], [self.path])
