"""One rank of a real DDP or FSDP run (gloo on 127.0.0.1), started by tests/test_training.py with torch.multiprocessing."""

from __future__ import annotations

import os
from dataclasses import replace

import torch

from trainer.config import load_config
from trainer.data.batch import Batch
from trainer.distributed import start_processes, stop_processes
from trainer.train import Trainer


def rows(batch: Batch, rank: int, world: int) -> Batch:
    """This rank's share of a global batch: every world-th row from `rank`, padding length unchanged."""
    return replace(batch, **{name: value[rank::world] for name, value in batch._tensors().items()})


def _full(parameter: torch.nn.Parameter) -> torch.Tensor:
    """The whole parameter, gathered from every rank's shard under FSDP."""
    value = parameter.detach()
    return (value.full_tensor() if hasattr(value, "full_tensor") else value).clone()


def train(rank: int, world: int, port: int, config: dict, batches_file: str, steps: int, output: str) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world)
    )
    torch.set_num_threads(1)
    processes = start_processes("cpu")
    try:
        trainer = Trainer(load_config(None, base=config), processes)
        global_batches: dict[str, list[Batch]] = torch.load(batches_file, weights_only=False)
        trainer.loaders = {name: iter([rows(b, rank, world) for b in bs]) for name, bs in global_batches.items()}
        for _ in range(steps):
            trainer.train_step()
        trained = {n: _full(p) for n, p in trainer.model.named_parameters() if p.requires_grad}  # collective
        if processes.main:
            torch.save(trained, output)
        processes.barrier()  # no rank tears the process group down while another still uses it
    finally:
        stop_processes()
