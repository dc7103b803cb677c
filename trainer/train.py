"""The training loop of the paper (appendix B.1.2): every optimiser step takes a batch of every dataset
and back-propagates λ_d · loss_d for each, accumulating gradients across datasets; the global norm is
clipped once, after all of them; AdamW with linear warm-up then a constant learning rate.

Each dataset's loss is the mean over its target tokens across all ranks and micro-batches (the token
count is summed over ranks first), so N ranks compute exactly what one process does on their
concatenated batches. A step whose loss or gradient norm is not finite is skipped whole.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from trainer import checkpoint
from trainer.config import RunConfig, to_dict
from trainer.data.batch import IGNORE_INDEX, Batch
from trainer.data.images import normalise
from trainer.data.stream import DatasetLoader, StreamPosition, StreamSettings
from trainer.distributed import Processes, parallelize
from trainer.flops import PEAK_FLOPS, ModelSizes, StepShape, step_flops
from trainer.metrics import MetricsLogger
from trainer.model.build import build_flamingo, frozen_weights_are_random
from trainer.model.flamingo import Flamingo
from trainer.optim import build_optimizer, warmup_then_constant
from trainer.prepare import dataset_sources, example_builders, image_settings, load_tokenizer, model_config, probe

log = logging.getLogger(__name__)


class NonFiniteLoss(RuntimeError):
    pass


@dataclass
class StepResult:
    losses: dict[str, float]  # per dataset: mean loss per target token over all ranks
    skipped: bool
    grad_norm: float
    tokens: int  # over all ranks
    samples: int
    flops: float  # over all ranks


class Trainer:
    def __init__(self, config: RunConfig, processes: Processes, resume: bool = False) -> None:
        self.config, self.processes = config, processes
        device = processes.device
        self.bf16 = config.train.precision == "bf16" or (config.train.precision == "auto" and device.type == "cuda")
        flamingo = model_config(config)
        self.sources = dataset_sources(config)
        torch.manual_seed(config.train.seed)  # the same initial trainable weights on every rank
        with torch.device(device):
            self.model: Flamingo = build_flamingo(flamingo)
        self.tokenizer = load_tokenizer(config, self.model.lm.vocab_size)
        images = image_settings(config, self.model.vision)
        builders = example_builders(config, self.tokenizer, images, flamingo.cross_attention.next_image_probability)
        for name, source in self.sources.items():
            probe(source, builders[name])
        self.model.train()
        self.module, self.sync = parallelize(
            self.model, processes, config.train.parallelism, config.train.activation_checkpointing, self.bf16
        )
        self.optimizer = build_optimizer(self.model, config.optim)
        self.scheduler = warmup_then_constant(self.optimizer, config.optim.warmup_steps)
        self.step = 0
        self.nonfinite_in_row = 0
        self.skipped_steps = 0
        positions: dict[str, StreamPosition] = {}
        if resume:
            positions = self._resume()
        self.loaders = {
            name: DatasetLoader(
                self.sources[name],
                builders[name],
                StreamSettings(
                    batch_size=dataset.batch_size,
                    seed=config.train.seed,
                    rank=processes.rank,
                    world_size=processes.world_size,
                    resample=config.data.resample,
                    shuffle_buffer=config.data.shuffle_buffer,
                ),
                config.data.workers,
                positions.get(name),
                pin_memory=device.type == "cuda",
            )
            for name, dataset in config.datasets.items()
        }
        self.mean, self.std = images.mean, images.std
        self.peak_flops = _peak_flops(device)
        self.model_sizes = ModelSizes.of(self.model)
        self.frozen_to_save = frozen_weights_are_random(flamingo)

    # -- one step --------------------------------------------------------------------------------

    def train_step(self) -> StepResult:
        device = self.processes.device
        taken = {
            name: [next(self.loaders[name]) for _ in range(dataset.micro_batches)]
            for name, dataset in self.config.datasets.items()
        }
        names = list(taken)
        # Counted on the host, before the copy to the device: no synchronisation in the step.
        every = [b for name in names for b in taken[name]]
        targets = torch.tensor([sum(b.targets for b in taken[n]) for n in names], dtype=torch.float64)
        tokens = sum(int(b.attention_mask.sum()) for b in every) * self.processes.world_size
        samples = sum(len(b.input_ids) for b in every) * self.processes.world_size
        flops = sum(step_flops(self.model_sizes, _shape(b)) for b in every) * self.processes.world_size
        batches = {name: [b.to(device) for b in taken[name]] for name in names}
        targets = self.processes.sum(targets.to(device))
        passes = [(i, batch) for i, name in enumerate(names) for batch in batches[name]]
        loss_sums = torch.zeros(len(names), dtype=torch.float64, device=device)
        self.optimizer.zero_grad(set_to_none=True)
        for number, (i, batch) in enumerate(passes):
            with self.sync(number == len(passes) - 1):
                loss_sum = self._loss_sum(batch)
                # DDP and FSDP average gradients over ranks; the world size undoes that, the global count divides.
                scale = self.config.weight(names[i]) * self.processes.world_size / targets[i].clamp(min=1)
                (loss_sum * scale.to(loss_sum.dtype)).backward()
            loss_sums[i] += loss_sum.detach().double()
        self.processes.sum(loss_sums)
        losses = loss_sums / targets.clamp(min=1)
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.trainable_parameters(), self.config.optim.grad_clip)
        finite = bool(torch.isfinite(losses).all()) and bool(torch.isfinite(grad_norm))
        if finite:
            self.optimizer.step()
            self.scheduler.step()
            self.nonfinite_in_row = 0
        else:
            self.optimizer.zero_grad(set_to_none=True)  # nothing of this step reaches the weights
            self.skipped_steps += 1
            self.nonfinite_in_row += 1
            log.warning("step %d: non-finite loss or gradient (%s); step skipped", self.step + 1, losses.tolist())
            if self.nonfinite_in_row >= self.config.train.max_nonfinite_in_row:
                raise NonFiniteLoss(
                    f"{self.nonfinite_in_row} steps in a row had a non-finite loss or gradient (last losses "
                    f"{dict(zip(names, losses.tolist(), strict=True))}); lower optim.lr or check the data"
                )
        self.step += 1
        return StepResult(
            dict(zip(names, losses.tolist(), strict=True)), not finite, float(grad_norm), tokens, samples, flops
        )

    def _loss_sum(self, batch: Batch) -> torch.Tensor:
        autocast = (
            torch.autocast(self.processes.device.type, dtype=torch.bfloat16) if self.bf16 else contextlib.nullcontext()
        )
        with autocast:
            logits = self.module(
                batch.input_ids,
                images=normalise(batch.images, self.mean, self.std),
                media_mask=batch.media_mask,
                attention_mask=batch.attention_mask,
                attend_next=batch.attend_next if batch.dataset == "m3w" else None,
            ).logits
        return F.cross_entropy(
            logits[:, :-1].flatten(0, 1).float(),
            batch.labels[:, 1:].flatten(),
            ignore_index=IGNORE_INDEX,
            reduction="sum",
        )

    # -- the run ---------------------------------------------------------------------------------

    def fit(self) -> None:
        config = self.config
        metrics = None
        if self.processes.main:
            metrics = MetricsLogger(
                config.log.dir, config.log.tensorboard, config.log.progress, config.train.steps, self.step
            )
        try:
            window = defaultdict(float)
            started = time.perf_counter()
            while self.step < config.train.steps:
                result = self.train_step()
                elapsed = time.perf_counter() - started
                for key, value in (("tokens", result.tokens), ("samples", result.samples), ("flops", result.flops)):
                    window[key] += value
                if metrics is not None:
                    metrics.advance()
                if self.step % config.log.every == 0 or self.step == config.train.steps:
                    values = self._metrics(
                        result, window, elapsed
                    )  # every rank: gathering gates and counts is collective
                    if metrics is not None:
                        metrics.log(self.step, values)
                    window, started = defaultdict(float), time.perf_counter()
                if config.checkpoint.dir and (
                    self.step % config.checkpoint.every == 0 or self.step == config.train.steps
                ):
                    self.save()
        finally:
            for loader in self.loaders.values():
                loader.close()
            if metrics is not None:
                metrics.close()

    def _metrics(self, result: StepResult, window: dict[str, float], elapsed: float) -> dict:
        values: dict[str, float | int | None] = {f"loss/{name}": loss for name, loss in result.losses.items()}
        values["loss/weighted"] = sum(self.config.weight(n) * loss for n, loss in result.losses.items())
        values["lr"] = self.scheduler.get_last_lr()[0]
        values["grad_norm"] = result.grad_norm
        values["skipped_steps"] = self.skipped_steps
        values["tokens_per_s"] = window["tokens"] / elapsed
        values["samples_per_s"] = window["samples"] / elapsed
        peak = self.peak_flops
        values["mfu"] = window["flops"] / elapsed / (peak * self.processes.world_size) if peak else None
        for name, block in self.model.cross_attention.items():
            if block.gated:
                values[f"gate/attention_{name}"] = _gate(block.attention_gate)
                values[f"gate/ff_{name}"] = _gate(block.ff_gate)
        skipped: Counter = Counter()
        for counts in self.processes.gather({n: dict(d.position.skipped) for n, d in self.loaders.items()}):
            skipped.update(
                {f"skipped_samples/{n}/{reason}": c for n, per in counts.items() for reason, c in per.items()}
            )
        values.update(skipped)
        return values

    # -- checkpoints -----------------------------------------------------------------------------

    def save(self) -> None:
        if self.frozen_to_save:
            frozen = checkpoint.frozen_state(self.model)
            if self.processes.main:
                checkpoint.save_frozen(self.config.checkpoint.dir, frozen)
            self.frozen_to_save = False
        model_state, optimizer_state = checkpoint.model_and_optimizer_state(self.model, self.optimizer)
        positions = self.processes.gather({name: loader.position.state_dict() for name, loader in self.loaders.items()})
        rngs = self.processes.gather(checkpoint.rng_state())
        if self.processes.main:
            state = {
                "step": self.step,
                "model": model_state,
                "optimizer": optimizer_state,
                "scheduler": self.scheduler.state_dict(),
                "rng": rngs,
                "data": positions,
                "counters": {"skipped_steps": self.skipped_steps, "nonfinite_in_row": self.nonfinite_in_row},
                "config": to_dict(self.config),
            }
            path = checkpoint.save(self.config.checkpoint.dir, self.step, state, self.config.checkpoint.keep)
            log.info("checkpoint %s", path)
        self.processes.barrier()

    def _resume(self) -> dict[str, StreamPosition]:
        folder = self.config.checkpoint.dir
        if not folder:
            raise ValueError("--resume needs checkpoint.dir")
        path = checkpoint.latest(folder)
        if path is None:
            log.info("no checkpoint in %s: starting from step 0", folder)
            return {}
        state = checkpoint.load(path)
        if len(state["data"]) != self.processes.world_size:
            raise ValueError(
                f"{path} was written by {len(state['data'])} ranks; resume with as many, not {self.processes.world_size}"
            )
        checkpoint.load_model_and_optimizer(self.model, self.optimizer, state)
        self.scheduler.load_state_dict(state["scheduler"])
        checkpoint.set_rng_state(state["rng"][self.processes.rank])
        self.step = state["step"]
        self.skipped_steps = state["counters"]["skipped_steps"]
        self.nonfinite_in_row = state["counters"]["nonfinite_in_row"]
        positions = state["data"][self.processes.rank]
        missing = sorted(set(self.config.datasets) - set(positions))
        if missing:
            raise ValueError(f"{path} has no stream position for {', '.join(missing)}: it was another set of datasets")
        log.info("resumed from %s at step %d", path, self.step)
        return {name: StreamPosition.from_state_dict(positions[name]) for name in self.config.datasets}


def _shape(batch: Batch) -> StepShape:
    return StepShape(
        sequences=len(batch.input_ids),
        tokens_per_sequence=batch.input_ids.shape[1],
        media=int(batch.media_mask.sum()),
        frames_per_media=batch.images.shape[2],
    )


def _gate(parameter: torch.nn.Parameter) -> float:
    value = parameter.full_tensor() if hasattr(parameter, "full_tensor") else parameter
    return float(torch.tanh(value.detach().float()).abs().mean())


def _peak_flops(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((flops for gpu, flops in PEAK_FLOPS.items() if gpu in name), None)
