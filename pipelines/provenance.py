"""Where a run's output came from, for stats.json: the project version, the command line and the
resolved options, the Beam options, when it ran, and a digest of the input files it read."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version

from apache_beam.io.filesystems import FileSystems


def input_digest(patterns: list[str]) -> dict:
    """sha256 over each matched input's path and size, in path order: equal digests, same inputs."""
    files = sorted(
        (metadata.path, metadata.size_in_bytes)
        for result in (FileSystems.match(patterns) if patterns else [])
        for metadata in result.metadata_list
    )
    digest = hashlib.sha256("".join(f"{path}\t{size}\n" for path, size in files).encode()).hexdigest()
    return {"files": len(files), "bytes": sum(size for _, size in files), "sha256": digest}


class Provenance:
    """Started when a run starts; `record()` once it has finished."""

    def __init__(self, config: object, beam_args: list[str], patterns: list[str]) -> None:
        self.config, self.beam_args, self.patterns = config, beam_args, patterns
        self.started = time.time()

    def record(self) -> dict:
        finished = time.time()
        options = dataclasses.asdict(self.config) if dataclasses.is_dataclass(self.config) else dict(self.config)
        return {
            "version": version("flamingo-curate"),
            "command": sys.argv[1:],
            "options": json.loads(json.dumps(options, default=str)),
            "beam_options": list(self.beam_args),
            "started": _iso(self.started),
            "finished": _iso(finished),
            "seconds": round(finished - self.started, 1),
            "inputs": input_digest(self.patterns),
        }


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")
