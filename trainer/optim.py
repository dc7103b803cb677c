"""AdamW over the trainable parameters only, and the paper's schedule: linear warm-up, then constant."""

from __future__ import annotations

import torch
from torch import nn

from trainer.config import OptimConfig


def decayed(name: str, parameter: nn.Parameter) -> bool:
    """Weight decay goes on the weight matrices of the cross-attention blocks, never on the Perceiver
    Resampler (as in the paper), nor on gates, norms, biases or the added token embeddings."""
    return parameter.ndim >= 2 and name.startswith("cross_attention.") and "gate" not in name


def build_optimizer(model: nn.Module, config: OptimConfig) -> torch.optim.AdamW:
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for name, p in trainable if decayed(name, p)], "weight_decay": config.weight_decay},
        {"params": [p for name, p in trainable if not decayed(name, p)], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.lr, betas=tuple(config.betas), eps=config.eps)


def warmup_then_constant(optimizer: torch.optim.Optimizer, warmup_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Step s (from 0) uses lr * min(1, (s + 1) / warmup_steps)."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 1.0 if warmup_steps == 0 else min(1.0, (step + 1) / warmup_steps)
    )
