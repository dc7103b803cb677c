"""Examples -> a padded batch, and where in its stream the batch came from."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np
import torch

from trainer.data.examples import Example

IGNORE_INDEX = -100  # targets the loss skips: padding, and `<image>` (the model never has to predict one)


@dataclass
class Batch:
    dataset: str
    input_ids: torch.Tensor  # int64 [B, L], right-padded
    attention_mask: torch.Tensor  # bool [B, L]
    labels: torch.Tensor  # int64 [B, L]: input_ids, IGNORE_INDEX on padding and `<image>`
    images: torch.Tensor  # uint8 [B, N, T, 3, S, S]; zeros where media_mask is False
    media_mask: torch.Tensor  # bool [B, N]
    attend_next: torch.Tensor  # bool [B]
    index: int = 0  # the batch's number in its dataset's stream (over all DataLoader workers)
    worker: int = 0
    position: int = 0  # samples the worker had read from its shard stream once this batch was made
    skipped: dict[str, int] = field(default_factory=dict)  # samples skipped since the worker's last batch, by reason

    def _tensors(self) -> dict[str, torch.Tensor]:
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), torch.Tensor)}

    def pin_memory(self) -> Batch:
        return replace(self, **{name: t.pin_memory() for name, t in self._tensors().items()})

    def to(self, device: torch.device | str) -> Batch:
        return replace(self, **{name: t.to(device, non_blocking=True) for name, t in self._tensors().items()})

    @property
    def targets(self) -> int:
        """Tokens the loss covers (each predicted from the one before it)."""
        return int((self.labels[:, 1:] != IGNORE_INDEX).sum())


def collate(examples: list[Example], dataset: str, pad_id: int, image_id: int) -> Batch:
    length = max(len(e.input_ids) for e in examples)
    media = max(len(e.media) for e in examples)
    frames, channels, height, width = next((e.media.shape[1:] for e in examples if len(e.media)), (1, 3, 1, 1))
    input_ids = np.full((len(examples), length), pad_id, dtype=np.int64)
    attention = np.zeros((len(examples), length), dtype=bool)
    images = np.zeros((len(examples), media, frames, channels, height, width), dtype=np.uint8)
    media_mask = np.zeros((len(examples), media), dtype=bool)
    for row, example in enumerate(examples):
        input_ids[row, : len(example.input_ids)] = example.input_ids
        attention[row, : len(example.input_ids)] = True
        images[row, : len(example.media)] = example.media
        media_mask[row, : len(example.media)] = True
    image_tokens = ((input_ids == image_id) & attention).sum(axis=1)
    if not np.array_equal(image_tokens, media_mask.sum(axis=1)):
        # Cross-attention would silently look at the wrong pictures: never train on such a batch.
        raise AssertionError(f"{dataset}: <image> tokens {image_tokens.tolist()} != media {media_mask.sum(1).tolist()}")
    labels = np.where(attention & (input_ids != image_id), input_ids, IGNORE_INDEX)
    return Batch(
        dataset=dataset,
        input_ids=torch.from_numpy(input_ids),
        attention_mask=torch.from_numpy(attention),
        labels=torch.from_numpy(labels),
        images=torch.from_numpy(images),
        media_mask=torch.from_numpy(media_mask),
        attend_next=torch.tensor([e.attend_next for e in examples]),
    )
