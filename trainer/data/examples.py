"""Shard samples -> training examples: token ids with exactly one `<image>` per real medium, and the
media themselves as uint8 pixels [N, T, 3, S, S].

- M3W: the document's text (`<EOC>` before each image, `<image>` at it, `<EOC>` at the end), a random
  window of `max_tokens` holding at least one image where the document has one, its first
  `max_images` images; the `<image>` of any image beyond those goes, with the `<EOC>` before it. A coin
  per document (probability `next_image_probability`) makes its tokens attend to the next image.
- pairs (ALIGN: kind `alt`, LTIP: kind `caption`): `<BOS><image>caption<EOC><EOS>`.
- video (VTP): `frames` consecutive frames at 1 FPS (a random start in longer clips), a clip with
  fewer frames spread over them; `<BOS><image>text<EOC><EOS>`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from schemas.samples import InvalidSample, Sample, sample_kind, sample_to_document, sample_to_pair, sample_to_video
from trainer.data.images import ImageSettings, load_image
from trainer.data.sources import DATASET_KINDS
from trainer.tokenizer import FlamingoTokenizer


class OtherKind(Exception):
    """A valid sample that belongs to another dataset (an LTIP pair in the ALIGN stream): skipped, not bad."""


@dataclass(frozen=True)
class SequenceSettings:
    max_tokens: int = 256
    max_images: int = 5  # M3W
    next_image_probability: float = 0.5  # M3W
    frames: int = 8  # VTP
    random_clip_start: bool = True  # VTP


@dataclass
class Example:
    input_ids: np.ndarray  # int64 [L]
    media: np.ndarray  # uint8 [N, T, 3, S, S]
    attend_next: bool = False


class ExampleBuilder:
    """Builds one dataset's examples; `rng` makes every random choice, so a sample and a seed give one example."""

    def __init__(
        self, dataset: str, tokenizer: FlamingoTokenizer, sequence: SequenceSettings, images: ImageSettings
    ) -> None:
        self.dataset = dataset
        self.kind, self.pair_kind = DATASET_KINDS[dataset]
        self.tokenizer = tokenizer
        self.sequence = sequence
        self.images = images
        self._augment = images.flip or images.colour_jitter > 0

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Example:
        where = f"{sample.get('__url__', 'shard')} {sample.get('__key__', '?')}"
        kind = sample_kind(sample, where)
        if kind != self.kind:
            raise OtherKind(kind)
        if kind == "m3w":
            return self._document(sample, where, rng)
        if kind == "pair":
            pair, jpeg = sample_to_pair(sample, where)
            if pair.kind != self.pair_kind:
                raise OtherKind(pair.kind)
            return self._captioned([jpeg], pair.caption, rng)
        clip, frames = sample_to_video(sample, where)
        if not frames:
            raise InvalidSample(f"{where}: clip has no frames")
        return self._captioned([frames[i] for i in self._frame_indices(len(frames), rng)], clip.text, rng)

    def _document(self, sample: Sample, where: str, rng: np.random.Generator) -> Example:
        doc, jpegs = sample_to_document(sample, where)
        tok = self.tokenizer
        ids = np.asarray(tok.encode(doc.text, add_bos=False) + _optional(tok.eos_id), dtype=np.int64)
        is_image = ids == tok.image_id
        if int(is_image.sum()) != len(jpegs):
            raise InvalidSample(f"{where}: text has {int(is_image.sum())} {'<image>'} tokens for {len(jpegs)} images")
        length = self.sequence.max_tokens - len(_optional(tok.bos_id))
        start = _window_start(is_image, length, rng)
        window = ids[start : start + length]
        first_image = int(is_image[:start].sum())
        image_positions = np.flatnonzero(window == tok.image_id)
        dropped = image_positions[self.sequence.max_images :]
        keep = np.ones(len(window), dtype=bool)
        keep[dropped] = False
        before = dropped - 1
        keep[before[(before >= 0) & (window[np.maximum(before, 0)] == tok.eoc_id)]] = False
        kept_images = min(len(image_positions), self.sequence.max_images)
        rng_for_pixels = rng if self._augment else None
        media = [load_image(jpegs[first_image + i], self.images, rng_for_pixels) for i in range(kept_images)]
        input_ids = np.concatenate([np.asarray(_optional(tok.bos_id), dtype=np.int64), window[keep]])
        attend_next = bool(rng.random() < self.sequence.next_image_probability)
        return Example(input_ids, _stack(media, self.images.size, frames=1), attend_next)

    def _captioned(self, jpegs: list[bytes], text: str, rng: np.random.Generator) -> Example:
        """One medium (an image, or a clip's frames) followed by its text."""
        tok = self.tokenizer
        head = [*_optional(tok.bos_id), tok.image_id]
        tail = [tok.eoc_id, *_optional(tok.eos_id)]
        body = tok.encode(text, add_bos=False)[: max(0, self.sequence.max_tokens - len(head) - len(tail))]
        # One seed for all of a clip's frames: they get the same flip and jitter.
        seed = int(rng.integers(2**63)) if self._augment else None
        frames = [
            load_image(jpeg, self.images, None if seed is None else np.random.default_rng(seed)) for jpeg in jpegs
        ]
        media = np.stack(frames)[None]  # [1, T, 3, S, S]
        return Example(np.asarray(head + body + tail, dtype=np.int64), media)

    def _frame_indices(self, available: int, rng: np.random.Generator) -> list[int]:
        wanted = self.sequence.frames
        if available < wanted:
            return np.linspace(0, available - 1, wanted).round().astype(int).tolist()
        start = int(rng.integers(0, available - wanted + 1)) if self.sequence.random_clip_start else 0
        return list(range(start, start + wanted))


def _window_start(is_image: np.ndarray, length: int, rng: np.random.Generator) -> int:
    """A uniformly random start among the windows of `length` tokens that hold an image (any window if none does)."""
    starts = len(is_image) - length + 1
    if starts <= 1:
        return 0
    seen = np.concatenate([[0], np.cumsum(is_image)])
    images_in_window = seen[length : length + starts] - seen[:starts]
    candidates = np.flatnonzero(images_in_window > 0)
    if len(candidates) == 0:
        return int(rng.integers(0, starts))
    return int(candidates[rng.integers(0, len(candidates))])


def _optional(token_id: int | None) -> list[int]:
    return [] if token_id is None else [token_id]


def _stack(images: list[np.ndarray], size: int, frames: int) -> np.ndarray:
    if not images:
        return np.zeros((0, frames, 3, size, size), dtype=np.uint8)
    return np.stack(images)[:, None]
