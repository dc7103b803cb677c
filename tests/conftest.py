"""Shared fixtures: the real third-party test data, static HTTP servers on 127.0.0.1, and the tiny
Flamingo trained on a curated website of drawn shapes (tests/shapes.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="session")
def allennlp(testdata: Path) -> tuple[Path, Path]:
    """The small real benchmark fixtures: (annotation files, their images)."""
    return testdata / "annotations" / "allennlp_benchmarks", testdata / "images" / "allennlp_benchmarks"


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


SHAPES_STEPS = 400  # about 45 s on 2 cores; colour is learnt within 100 steps, shape takes longer


@dataclass
class ShapesModel:
    trainer: Any  # trainer.train.Trainer, after fit()
    checkpoints: Path  # its checkpoint folder (one checkpoint, at the last step)
    curated: Path  # the curate output it trained on


@pytest.fixture(scope="session")
def shapes_model(tmp_path_factory) -> ShapesModel:
    """The tiny preset trained on ALIGN and LTIP pairs curated (by `curate run`) from a website of drawn
    classes, with a checkpoint: the model that must have learnt to look at its images."""
    import torch
    from shapes import build_shapes_site, curate_shapes

    from trainer.config import load_config
    from trainer.distributed import Processes
    from trainer.tokenizer import train_sentencepiece
    from trainer.tokenizer_command import shard_texts
    from trainer.train import Trainer

    work = tmp_path_factory.mktemp("shapes-model")
    build_shapes_site(work / "site", per_class=30)
    curated = curate_shapes(work / "site", work / "curated")
    tokenizer = train_sentencepiece(shard_texts([str(curated)]), str(work / "tokenizer"), vocab_size=512)
    config = load_config(
        None,
        base={
            "tokenizer": tokenizer,
            "model": {"preset": "tiny"},
            "datasets": {
                "align": {"paths": [str(curated)], "batch_size": 16},
                "ltip": {"paths": [str(curated)], "batch_size": 16},
            },
            "data": {"workers": 1, "shuffle_buffer": 200},
            "optim": {"lr": 3e-3, "warmup_steps": 20},
            "train": {"steps": SHAPES_STEPS, "seed": 0},
            "checkpoint": {"dir": str(work / "checkpoints"), "every": SHAPES_STEPS},
            "log": {"dir": str(work / "logs"), "tensorboard": False, "progress": False},
        },
    )
    trainer = Trainer(config, Processes(0, 1, torch.device("cpu")))
    trainer.fit()
    return ShapesModel(trainer, work / "checkpoints", curated)
