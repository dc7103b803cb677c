"""Checkpoints: what is needed to continue a run exactly, written atomically, the newest K kept.

A checkpoint holds the trainable parameters (the frozen ones come from their own weights), the
optimiser and scheduler, every rank's RNG states and every rank's position in each dataset stream.
It is one file, `step-NNNNNNNN.pt`, written by rank 0 under a temporary name and renamed. A model whose
frozen weights were drawn at random (the built-in decoder, a tower without weights) also gets
`frozen.pt` once, so that the checkpoint can be evaluated on any device without re-drawing them.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
)

_NAME = re.compile(r"^step-(\d{8})\.pt$")
FROZEN_FILE = "frozen.pt"  # the frozen weights, when they are random (built-in decoder, untrained tower)
_FULL = StateDictOptions(full_state_dict=True, cpu_offload=True, ignore_frozen_params=True)


def rng_state() -> dict:
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def model_and_optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    """Full (unsharded) states of the trainable parameters; a collective call under DDP/FSDP."""
    return get_model_state_dict(model, options=_FULL), get_optimizer_state_dict(model, optimizer, options=_FULL)


def load_model_and_optimizer(model: nn.Module, optimizer: torch.optim.Optimizer, state: dict) -> None:
    load_trainable(model, state["model"])
    set_optimizer_state_dict(model, optimizer, state["optimizer"], options=StateDictOptions(full_state_dict=True))


def load_trainable(model: nn.Module, weights: dict) -> None:
    options = StateDictOptions(full_state_dict=True, strict=False)
    missing = set_model_state_dict(model, weights, options=options).missing_keys
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    if lost := sorted(trainable & set(missing)):
        raise ValueError(f"checkpoint lacks trainable parameters {lost[:5]}: it is of another model")


def frozen_state(model: nn.Module) -> dict:
    """The full state of the frozen parts (a collective call under DDP/FSDP): what a checkpoint needs
    beside the trainable parameters when the frozen weights were drawn at random, not read from files."""
    state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    return {name: value for name, value in state.items() if name not in trainable}


def save_frozen(folder: str, state: dict) -> Path:
    return _save_atomically(state, Path(folder) / FROZEN_FILE)


def save(folder: str, step: int, state: dict, keep: int) -> Path:
    final = _save_atomically(state, Path(folder) / f"step-{step:08d}.pt")
    for old in checkpoints(folder)[:-keep]:
        old.unlink()
    return final


def _save_atomically(state: dict, final: Path) -> Path:
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = final.with_name(final.name + ".tmp")
    torch.save(state, temporary)
    os.replace(temporary, final)
    return final


def checkpoints(folder: str) -> list[Path]:
    """Complete checkpoints in step order (a `.tmp` left by a crash is not one)."""
    directory = Path(folder)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if _NAME.match(p.name))


def latest(folder: str) -> Path | None:
    found = checkpoints(folder)
    return found[-1] if found else None


def load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)
