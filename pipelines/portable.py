"""Beam's portable path on one machine: Beam's Python job service and an external SDK worker pool,
each its own process. A job submitted with `flags()` goes through the same protocol that Flink's
and Spark's job servers speak, its pipeline crossing as a runner API proto and its DoFns running in
worker processes the pool starts, as the worker pool beside each Flink TaskManager does in an
EXTERNAL environment. For trying a job the way a cluster runs it, and for the tests.

Beam's local job service asks the pool for one worker per job (its FnApiRunner is built without a
worker count, and only private attributes change that): the portable path here runs one SDK worker.
The job service listens on localhost and the pool on every interface (Beam chooses both); run it in
a private network namespace (`unshare -n`) to keep everything on loopback.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START_TIMEOUT_S = 60.0


class PortableServices:
    """`with PortableServices() as services: curate run ... *services.flags()`; both servers are
    stopped by their process ids on leaving, with the workers the pool started."""

    def __init__(self, python: str = sys.executable) -> None:
        self.python = python
        self.processes: list[subprocess.Popen] = []
        self.job_port = self.pool_port = 0

    def __enter__(self) -> PortableServices:
        self.folder = folder = Path(tempfile.mkdtemp(prefix="beam-portable-"))
        # the pool starts its workers as `python -c ...`: this environment's python must come first
        env = {**os.environ, "PATH": f"{Path(self.python).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        try:
            port_file = folder / "job_port"
            self._start(
                [self.python, "-m", "apache_beam.runners.portability.local_job_service_main", "--port", "0",
                 "--port_file", str(port_file), "--staging_dir", str(folder / "staging")],
                env, folder / "job_service.log",
            )  # fmt: skip
            self.pool_port = _free_port()
            self._start(
                [
                    self.python,
                    "-m",
                    "apache_beam.runners.worker.worker_pool_main",
                    "--service_port",
                    str(self.pool_port),
                ],
                env,
                folder / "worker_pool.log",
            )
            self.job_port = int(self._wait_for(lambda: port_file.exists() and port_file.read_text().strip()))
            self._wait_for(lambda: _accepts(self.pool_port))
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_) -> None:
        self.stop()

    def flags(self) -> list[str]:
        return [
            "--runner=PortableRunner",
            f"--job_endpoint=localhost:{self.job_port}",
            "--environment_type=EXTERNAL",
            f"--environment_config=localhost:{self.pool_port}",
        ]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # its own session: the workers it started go too
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = []
        shutil.rmtree(self.folder, ignore_errors=True)

    def _wait_for(self, ready):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if found := ready():
                return found
            if any(process.poll() is not None for process in self.processes):
                break
            time.sleep(0.1)
        logs = "\n".join(f"{log.name}: {log.read_text(errors='replace')[-2000:]}" for log in self.folder.glob("*.log"))
        raise RuntimeError(f"Beam's job service or worker pool did not start within {START_TIMEOUT_S:.0f} s\n{logs}")

    def _start(self, command: list[str], env: dict, log: Path) -> None:
        with open(log, "wb") as out:
            self.processes.append(
                subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
