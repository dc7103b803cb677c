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
    """Taken when a run is launched (command line, options, inputs); `finished()` completes it when
    the job's last step runs, on a worker or in the launcher, so it holds only plain data."""

    def __init__(self, config: object, beam_args: list[str], patterns: list[str]) -> None:
        options = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
        self.started = time.time()
        self.launched = {
            "version": version("flamingo-curate"),
            "command": sys.argv[1:],
            "options": json.loads(json.dumps(options, default=str)),
            "beam_options": list(beam_args),
            "started": _iso(self.started),
            "inputs": input_digest(patterns),
        }

    def finished(self) -> dict:
        finished = time.time()
        return {**self.launched, "finished": _iso(finished), "seconds": round(finished - self.started, 1)}


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")
