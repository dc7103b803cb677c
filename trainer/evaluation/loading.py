"""A trained model back from its checkpoint, ready to generate: `trainer train` saved its run config
in every checkpoint, so the model, the tokenizer and the image settings are rebuilt from it alone."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from trainer import checkpoint
from trainer.config import ConfigError, RunConfig, load_config
from trainer.data.images import ImageSettings
from trainer.model.build import build_flamingo, frozen_weights_are_random
from trainer.model.flamingo import Flamingo
from trainer.prepare import load_tokenizer, model_config
from trainer.tokenizer import FlamingoTokenizer


@dataclass
class LoadedModel:
    model: Flamingo
    tokenizer: FlamingoTokenizer
    images: ImageSettings
    config: RunConfig
    checkpoint: Path
    step: int
    device: torch.device
    frames: int  # per video: as the run trained VTP, else as many as the resampler has time embeddings for


def find_checkpoint(path: str) -> Path:
    """A checkpoint file, or the newest complete one in a checkpoint folder."""
    if os.path.isfile(path):
        return Path(path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"checkpoint {path}: no such file or folder")
    found = checkpoint.latest(path)
    if found is None:
        raise FileNotFoundError(f"checkpoint folder {path} holds no step-NNNNNNNN.pt")
    return found


def load_model(path: str, device: str = "auto") -> LoadedModel:
    """The model of a checkpoint (file or folder), in eval mode on `device` (auto: CUDA when there is one)."""
    file = find_checkpoint(path)
    state = checkpoint.load(file)
    if "config" not in state:
        raise ValueError(f"checkpoint {file} carries no run config: it was not written by `trainer train`")
    try:
        config = load_config(None, base=state["config"])
        flamingo = model_config(config)
    except ConfigError as error:
        raise ConfigError(f"checkpoint {file}: its run config no longer holds here: {error}") from error
    model = build_flamingo(flamingo)
    if frozen_weights_are_random(flamingo):
        frozen = file.parent / checkpoint.FROZEN_FILE
        if not frozen.is_file():
            raise FileNotFoundError(
                f"checkpoint {file}: the model's frozen weights were random and {frozen} is missing, "
                "so they cannot be restored"
            )
        result = model.load_state_dict(checkpoint.load(frozen), strict=False)
        trainable = {name for name, p in model.named_parameters() if p.requires_grad}
        if result.unexpected_keys or set(result.missing_keys) - trainable:
            raise ValueError(f"{frozen} does not hold the frozen weights of this checkpoint's model")
    checkpoint.load_trainable(model, state["model"])
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    model = model.to(device).eval()
    tokenizer = load_tokenizer(config, model.lm.vocab_size)
    vision = model.vision
    images = ImageSettings(size=vision.image_size, mean=vision.mean, std=vision.std)
    vtp = config.datasets.get("vtp")
    frames = vtp.frames if vtp is not None else flamingo.resampler.max_frames
    return LoadedModel(model, tokenizer, images, config, file, int(state["step"]), torch.device(device), frames)
