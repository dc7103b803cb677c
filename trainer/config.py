"""One YAML file describes a training run; `--set key.path=value` overrides any entry of it.

Every key is checked: a misspelt one is an error that names it and lists the keys allowed there,
never a silent default. Relative paths are taken from the current directory.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

DATASETS = ("m3w", "align", "ltip", "vtp")
# The paper's per-dataset loss weights λ (Flamingo appendix B.1.2) and sequence lengths.
DEFAULT_WEIGHTS = {"m3w": 1.0, "align": 0.2, "ltip": 0.2, "vtp": 0.03}
DEFAULT_MAX_TOKENS = {"m3w": 256, "align": 32, "ltip": 64, "vtp": 64}


class ConfigError(ValueError):
    pass


@dataclass
class DatasetConfig:
    paths: list[str]
    weight: float | None = None  # λ; None: the paper's value for this dataset
    batch_size: int = 8  # sequences per micro-batch, per rank
    micro_batches: int = 1  # micro-batches of this dataset accumulated per optimiser step
    max_tokens: int | None = None  # None: 256 for M3W, 32 for ALIGN, 64 for LTIP and VTP
    max_images: int = 5  # M3W: images per sequence
    frames: int = 8  # VTP: frames per clip
    random_clip_start: bool = True  # VTP


@dataclass
class DataConfig:
    workers: int = 2  # DataLoader workers per dataset
    shuffle_buffer: int = 1000
    resample: bool = True  # endless random shards; False: epochs over the shard list split by rank and worker
    flip: bool = False
    colour_jitter: float = 0.0


@dataclass
class ModelConfig:
    preset: str = "tiny"  # one of `trainer presets`
    vision_weights: str | None = None  # a local open_clip checkpoint; presets use random weights otherwise
    image_size: int | None = None  # the vision tower's input side; None: the tower's own
    language_model: str | None = None  # a local Hugging Face causal LM folder instead of the built-in decoder
    frozen_dtype: str | None = None  # float32 or bfloat16; None: the preset's
    resampler: dict[str, Any] = field(default_factory=dict)  # fields of ResamplerConfig to change
    cross_attention: dict[str, Any] = field(default_factory=dict)  # fields of CrossAttentionConfig to change


@dataclass
class OptimConfig:
    lr: float = 1e-4
    weight_decay: float = 0.1  # not on the resampler, gates, norms, biases or the added embeddings
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    eps: float = 1e-8
    warmup_steps: int = 5000  # linear warm-up from 0, then constant
    grad_clip: float = 1.0  # global norm, once per step after all datasets


@dataclass
class TrainConfig:
    steps: int = 1000
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["auto", "bf16", "float32"] = "auto"  # auto: bf16 autocast on GPU, float32 on CPU
    parallelism: Literal["auto", "none", "ddp", "fsdp"] = "auto"  # auto: DDP under torchrun with several ranks
    activation_checkpointing: bool = False
    max_nonfinite_in_row: int = 10  # steps with a non-finite loss are skipped; this many in a row stop the run


@dataclass
class CheckpointConfig:
    dir: str | None = None
    every: int = 1000  # steps
    keep: int = 3  # the newest K are kept


@dataclass
class LogConfig:
    dir: str = "train-logs"  # metrics.jsonl and TensorBoard events
    every: int = 1
    tensorboard: bool = True
    progress: bool = True


@dataclass
class RunConfig:
    datasets: dict[str, DatasetConfig]
    tokenizer: str | None = None  # a local tokenizer folder; None: the language model's folder
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    log: LogConfig = field(default_factory=LogConfig)

    def weight(self, dataset: str) -> float:
        value = self.datasets[dataset].weight
        return DEFAULT_WEIGHTS[dataset] if value is None else value

    def max_tokens(self, dataset: str) -> int:
        value = self.datasets[dataset].max_tokens
        return DEFAULT_MAX_TOKENS[dataset] if value is None else value


def load_config(path: str | None, overrides: list[str] = (), base: dict | None = None) -> RunConfig:
    """The run described by the YAML file at `path` (or `base`), with `key.path=value` overrides applied."""
    where = path or "config"
    data: dict = copy.deepcopy(base or {})  # overrides write into nested sections: never into the caller's
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text())
        except OSError as error:
            raise ConfigError(f"config file {path}: {error.strerror}") from error
        except yaml.YAMLError as error:
            raise ConfigError(f"config file {path} is not valid YAML: {error}") from error
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path}: expected a mapping at the top, got {type(loaded).__name__}")
        data.update(loaded)
    for override in overrides:
        _apply_override(data, override)
    config = _build(RunConfig, data, where, "")
    _check(config, where)
    return config


def to_dict(config: RunConfig) -> dict:
    return dataclasses.asdict(config)


def _apply_override(data: dict, override: str) -> None:
    key, sep, raw = override.partition("=")
    if not sep or not key:
        raise ConfigError(f"override {override!r} is not key.path=value")
    *parents, leaf = key.split(".")
    node = data
    for name in parents:
        node = node.setdefault(name, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {override!r}: {name} is not a section")
    node[leaf] = yaml.safe_load(raw)


def _build(cls: type, data: Any, where: str, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: {prefix or 'the top'} must be a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key {prefix + unknown[0]!r}; the keys there are {', '.join(known)}")
    values = {}
    for name, f in known.items():
        if name in data:
            values[name] = _value(hints[name], data[name], where, prefix + name)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}: {prefix + name} is required")
    return cls(**values)


def _value(hint: Any, value: Any, where: str, key: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where, key + ".")
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        return _value(next(o for o in options if o is not type(None)), value, where, key)
    if origin is Literal:
        if value not in typing.get_args(hint):
            raise ConfigError(
                f"{where}: {key} must be one of {', '.join(map(str, typing.get_args(hint)))}; got {value!r}"
            )
        return value
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {key} must be a mapping, got {value!r}")
        value_hint = typing.get_args(hint)[1]
        return {str(k): _value(value_hint, v, where, f"{key}.{k}") for k, v in value.items()}
    if origin is list:
        items = value if isinstance(value, list) else [value]
        return [_value(typing.get_args(hint)[0], item, where, key) for item in items]
    if hint is Any:
        return value
    if hint is float and isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return float(value)  # YAML 1.1 reads 5e-3 (no dot) as a string
        except ValueError:
            pass
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: {key} must be a {hint.__name__}, got {value!r}")
    return value


def _check(config: RunConfig, where: str) -> None:
    """Numbers in range and names known; paths are checked when the run is prepared."""
    if not config.datasets:
        raise ConfigError(f"{where}: datasets is empty; give at least one of {', '.join(DATASETS)}")
    for name, dataset in config.datasets.items():
        if name not in DATASETS:
            raise ConfigError(f"{where}: unknown dataset datasets.{name}; one of {', '.join(DATASETS)}")
        for key in ("batch_size", "micro_batches", "max_images", "frames"):
            _positive(getattr(dataset, key), where, f"datasets.{name}.{key}")
        if config.max_tokens(name) < 8:
            raise ConfigError(f"{where}: datasets.{name}.max_tokens must be at least 8")
        if config.weight(name) < 0:
            raise ConfigError(f"{where}: datasets.{name}.weight must not be negative")
    for key in ("steps", "max_nonfinite_in_row"):
        _positive(getattr(config.train, key), where, f"train.{key}")
    for key in ("every", "keep"):
        _positive(getattr(config.checkpoint, key), where, f"checkpoint.{key}")
    _positive(config.log.every, where, "log.every")
    if config.data.workers < 0 or config.optim.warmup_steps < 0:
        raise ConfigError(f"{where}: data.workers and optim.warmup_steps must not be negative")
    if config.optim.lr <= 0 or config.optim.grad_clip <= 0:
        raise ConfigError(f"{where}: optim.lr and optim.grad_clip must be positive")
    if len(config.optim.betas) != 2:
        raise ConfigError(f"{where}: optim.betas must be two numbers")


def _positive(value: int, where: str, key: str) -> None:
    if value < 1:
        raise ConfigError(f"{where}: {key} must be at least 1, got {value}")
