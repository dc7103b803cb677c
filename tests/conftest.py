"""Shared fixtures: the real third-party test data, and static HTTP servers on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipelines.local_server import LocalServer

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTDATA_ENV = "CURATE_TESTDATA"


def testdata_root() -> Path:
    """Where the real third-party test data lives: $CURATE_TESTDATA, else ../shared/testdata."""
    return Path(os.environ.get(TESTDATA_ENV, REPO_ROOT.parent / "shared" / "testdata"))


@pytest.fixture(scope="session")
def testdata() -> Path:
    root = testdata_root()
    if not (root / "files.tsv").is_file():
        reason = f"real test data not found at {root} (set {TESTDATA_ENV} to its folder)"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI always has it: a skip there would hide a broken path
        pytest.skip(reason)
    return root


@pytest.fixture
def serve_folder() -> Iterator[Callable[[Path], str]]:
    """Call with a folder to serve it on 127.0.0.1; returns the base URL (ending in /)."""
    servers: list[LocalServer] = []

    def serve(root: Path) -> str:
        servers.append(LocalServer(root))
        return servers[-1].url

    yield serve
    for server in servers:
        server.close()
