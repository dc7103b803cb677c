"""Processes, devices and the parallel wrapping of the model; the model code knows none of it.

Under torchrun (WORLD_SIZE > 1) each process joins the process group (NCCL on GPUs, gloo on CPU).
DDP replicates the trainable parameters; FSDP2 (`fully_shard`) shards every decoder layer,
cross-attention block, the resampler and the vision tower, then the rest, for the large presets.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from trainer.model.cross_attention import GatedCrossAttentionBlock
from trainer.model.flamingo import Flamingo


@dataclass(frozen=True)
class Processes:
    rank: int
    world_size: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.world_size > 1:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def gather(self, value: object) -> list[object]:
        """Every rank's value, on every rank."""
        if self.world_size == 1:
            return [value]
        values: list[object] = [None] * self.world_size
        dist.all_gather_object(values, value)
        return values

    def barrier(self) -> None:
        if self.world_size > 1:
            dist.barrier()


def start_processes(device: str) -> Processes:
    """Join torchrun's process group when there is one, and pick this process's device."""
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if use_cuda and not torch.cuda.is_available():
        raise RuntimeError("train.device is cuda but no CUDA device is available")
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    rank = dist.get_rank() if dist.is_initialized() else 0
    if use_cuda:
        torch.cuda.set_device(local_rank)
    return Processes(rank, world_size, torch.device("cuda", local_rank) if use_cuda else torch.device("cpu"))


def stop_processes() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


SyncContext = Callable[[bool], contextlib.AbstractContextManager]


def parallelize(
    model: Flamingo, processes: Processes, parallelism: str, activation_checkpointing: bool, bf16: bool
) -> tuple[nn.Module, SyncContext]:
    """-> (the module to call, `sync(last)`: a context for one forward/backward that reduces gradients
    across ranks only when `last` is true, so accumulated micro-steps communicate once)."""
    if activation_checkpointing:
        _checkpoint_activations(model)
    if parallelism == "auto":
        parallelism = "ddp" if processes.world_size > 1 else "none"
    if parallelism == "none":
        return model, lambda last: contextlib.nullcontext()
    if processes.world_size == 1 and not dist.is_initialized():
        raise RuntimeError(f"train.parallelism {parallelism} needs a process group: start the run with torchrun")
    if parallelism == "ddp":
        from torch.nn.parallel import DistributedDataParallel

        ids = [processes.device.index] if processes.device.type == "cuda" else None
        wrapped = DistributedDataParallel(model, device_ids=ids, broadcast_buffers=False)
        return wrapped, lambda last: contextlib.nullcontext() if last else wrapped.no_sync()
    if parallelism == "fsdp":
        _fully_shard(model, bf16)

        @contextlib.contextmanager
        def sync(last: bool):
            model.set_requires_gradient_sync(last)
            yield

        return model, sync
    raise ValueError(f"unknown parallelism {parallelism!r}: none, ddp or fsdp")


def _fully_shard(model: Flamingo, bf16: bool) -> None:
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    policy = MixedPrecisionPolicy(param_dtype=torch.bfloat16 if bf16 else None, reduce_dtype=torch.float32)
    for layer in model.lm.layers:
        fully_shard(layer, mp_policy=policy)
    for block in model.cross_attention.values():
        fully_shard(block, mp_policy=policy)
    fully_shard(model.resampler, mp_policy=policy)
    fully_shard(model.vision, mp_policy=policy)
    fully_shard(model, mp_policy=policy)


def _checkpoint_activations(model: Flamingo) -> None:
    """Recompute each decoder layer and cross-attention block in the backward pass instead of keeping
    its activations."""
    from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (
        CheckpointImpl,
        apply_activation_checkpointing,
        checkpoint_wrapper,
    )

    targets = {id(layer) for layer in model.lm.layers}
    apply_activation_checkpointing(
        model,
        checkpoint_wrapper_fn=functools.partial(checkpoint_wrapper, checkpoint_impl=CheckpointImpl.NO_REENTRANT),
        check_fn=lambda module: id(module) in targets or isinstance(module, GatedCrossAttentionBlock),
    )
