"""Everything a run needs, found and checked before any compute: the model configuration, the
tokenizer, and each dataset's shards with one usable sample of the right kind read from them."""

from __future__ import annotations

import os
from dataclasses import fields, replace

import numpy as np

from shards.reader import BrokenShard, iter_samples
from trainer.config import ConfigError, RunConfig
from trainer.data.examples import ExampleBuilder, OtherKind, SequenceSettings
from trainer.data.images import ImageSettings
from trainer.data.sources import DatasetError, ShardSource, open_url, resolve_shards
from trainer.model.build import DTYPES, PRESETS, FlamingoConfig, LanguageConfig
from trainer.model.flamingo import CrossAttentionConfig, ResamplerConfig
from trainer.model.vision import VisionEncoder
from trainer.tokenizer import FlamingoTokenizer

PROBE_SAMPLES = 1000  # samples read per dataset, at most, to find a usable one before training


def model_config(config: RunConfig) -> FlamingoConfig:
    model = config.model
    if model.preset not in PRESETS:
        raise ConfigError(f"model.preset {model.preset!r} is not one of {', '.join(PRESETS)}")
    preset = PRESETS[model.preset]
    if model.vision_weights is not None and not os.path.isfile(model.vision_weights):
        raise ConfigError(f"model.vision_weights: {model.vision_weights} is not a file")
    if model.language_model is not None and not os.path.isdir(model.language_model):
        raise ConfigError(f"model.language_model: {model.language_model} is not a folder")
    if config.tokenizer is not None and not os.path.isdir(config.tokenizer):
        raise ConfigError(f"tokenizer: {config.tokenizer} is not a folder")
    if model.frozen_dtype is not None and model.frozen_dtype not in DTYPES:
        raise ConfigError(f"model.frozen_dtype must be one of {', '.join(DTYPES)}; got {model.frozen_dtype!r}")
    vision = replace(
        preset.vision,
        weights=model.vision_weights or preset.vision.weights,
        image_size=model.image_size or preset.vision.image_size,
    )
    language = preset.language
    if model.language_model is not None:
        language = LanguageConfig(hf_path=model.language_model, frozen_dtype=language.frozen_dtype)
    if model.frozen_dtype is not None:
        language = replace(language, frozen_dtype=model.frozen_dtype)
    return replace(
        preset,
        vision=vision,
        language=language,
        resampler=_changed(preset.resampler, model.resampler, "model.resampler", ResamplerConfig),
        cross_attention=_changed(
            preset.cross_attention, model.cross_attention, "model.cross_attention", CrossAttentionConfig
        ),
    )


def _changed(value, changes: dict, where: str, cls: type):
    known = {f.name for f in fields(cls)}
    if unknown := sorted(set(changes) - known):
        raise ConfigError(f"unknown key {where}.{unknown[0]}; the keys there are {', '.join(sorted(known))}")
    return replace(value, **changes)


def load_tokenizer(config: RunConfig, lm_vocab_size: int) -> FlamingoTokenizer:
    folder = config.tokenizer or config.model.language_model
    if folder is None:
        raise ConfigError("tokenizer: give a tokenizer folder (the built-in decoder has none of its own)")
    try:
        tokenizer = FlamingoTokenizer.from_pretrained(folder, lm_vocab_size)
    except (FileNotFoundError, ValueError) as error:
        raise ConfigError(f"tokenizer: {error}") from error
    return tokenizer


def image_settings(config: RunConfig, vision: VisionEncoder) -> ImageSettings:
    return ImageSettings(
        size=vision.image_size,
        mean=vision.mean,
        std=vision.std,
        flip=config.data.flip,
        colour_jitter=config.data.colour_jitter,
    )


def example_builders(
    config: RunConfig, tokenizer: FlamingoTokenizer, images: ImageSettings, next_image_probability: float
) -> dict[str, ExampleBuilder]:
    builders = {}
    for name, dataset in config.datasets.items():
        sequence = SequenceSettings(
            max_tokens=config.max_tokens(name),
            max_images=dataset.max_images,
            next_image_probability=next_image_probability,
            frames=dataset.frames,
            random_clip_start=dataset.random_clip_start,
        )
        builders[name] = ExampleBuilder(name, tokenizer, sequence, images)
    return builders


def dataset_sources(config: RunConfig) -> dict[str, ShardSource]:
    """Each dataset's shards: paths that exist, manifests that list samples of its kind."""
    return {name: resolve_shards(name, dataset.paths) for name, dataset in config.datasets.items()}


def probe(source: ShardSource, builder: ExampleBuilder) -> None:
    """Read from the shards until one sample makes a training example, or say why none does."""
    problems: list[str] = []
    read = 0
    for url in source.urls:
        try:
            for sample in iter_samples(url, open_url):
                read += 1
                try:
                    builder(sample, np.random.default_rng(0))
                    return
                except OtherKind:
                    pass
                except ValueError as error:
                    problems.append(str(error))
                if read >= PROBE_SAMPLES:
                    break
        except (BrokenShard, OSError) as error:
            problems.append(str(error))
        if read >= PROBE_SAMPLES:
            break
    wanted = f"{builder.kind}" + (f" of kind {builder.pair_kind}" if builder.pair_kind else "")
    detail = f"; first problem: {problems[0]}" if problems else ""
    raise DatasetError(
        f"{source.dataset}: no usable {wanted} sample in the first {read} read from {source.urls[0]}{detail}"
    )
