"""A batch of interleaved prompts through the model: generated text (greedy or beam search) for
open-ended tasks, the log-likelihood of each candidate text for close-ended ones, and the image
features RICES compares. Prompts are left-padded with an attention mask, so every row reads as it
would alone."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from schemas.tokens import IMAGE
from trainer.data.images import normalise
from trainer.evaluation.loading import LoadedModel
from trainer.model.beam_search import beam_search


@dataclass
class Prompt:
    text: str  # with one <image> per medium
    media: list[torch.Tensor]  # uint8 [T, 3, S, S] each, in the order of the prompt's <image> tokens


@dataclass
class EncodedBatch:
    input_ids: torch.Tensor  # [B, L], left-padded
    attention_mask: torch.Tensor  # [B, L]
    images: torch.Tensor  # [B, N, T, 3, S, S], normalised
    media_mask: torch.Tensor  # [B, N]


def encode_batch(loaded: LoadedModel, prompts: Sequence[Prompt]) -> EncodedBatch:
    tokenizer = loaded.tokenizer
    rows = [tokenizer.encode(prompt.text) for prompt in prompts]
    for prompt, ids in zip(prompts, rows, strict=True):
        if ids.count(tokenizer.image_id) != len(prompt.media):
            raise ValueError(
                f"prompt {prompt.text[:60]!r} has {ids.count(tokenizer.image_id)} <image> for {len(prompt.media)} media"
            )
    length = max(len(ids) for ids in rows)
    input_ids = torch.full((len(rows), length), tokenizer.pad_id, dtype=torch.long)
    attention_mask = torch.zeros(len(rows), length, dtype=torch.long)
    for row, ids in enumerate(rows):
        input_ids[row, length - len(ids) :] = torch.tensor(ids)
        attention_mask[row, length - len(ids) :] = 1
    media = max(len(prompt.media) for prompt in prompts)
    lengths = {m.shape[0] for prompt in prompts for m in prompt.media}
    if len(lengths) > 1:
        raise ValueError(f"the media of one batch must have as many frames each; got {sorted(lengths)}")
    frames = lengths.pop() if lengths else 1
    size = loaded.images.size
    images = torch.zeros(len(prompts), media, frames, 3, size, size, dtype=torch.uint8)
    media_mask = torch.zeros(len(prompts), media, dtype=torch.bool)
    for row, prompt in enumerate(prompts):
        for i, pixels in enumerate(prompt.media):
            images[row, i, : pixels.shape[0]] = pixels
            media_mask[row, i] = True
    device = loaded.device
    return EncodedBatch(
        input_ids.to(device),
        attention_mask.to(device),
        normalise(images.to(device), loaded.images.mean, loaded.images.std),
        media_mask.to(device),
    )


def generate(
    loaded: LoadedModel, prompts: Sequence[Prompt], max_new_tokens: int, beams: int = 3, length_penalty: float = 1.0
) -> list[str]:
    """The text each prompt continues with, up to `<EOC>` (or the LM's end of sequence), stripped."""
    batch = encode_batch(loaded, prompts)
    model = loaded.model
    with _autocast(loaded.device):
        if beams > 1:
            tokens = beam_search(
                model, batch.input_ids, batch.images, batch.media_mask, batch.attention_mask,
                beams=beams, max_new_tokens=max_new_tokens, length_penalty=length_penalty,
            )  # fmt: skip
        else:
            tokens = model.generate(
                batch.input_ids, batch.images, batch.media_mask, max_new_tokens, attention_mask=batch.attention_mask
            )
    return [_text(loaded, row) for row in tokens.tolist()]


def _text(loaded: LoadedModel, ids: list[int]) -> str:
    tokenizer = loaded.tokenizer
    ends = {tokenizer.eoc_id, tokenizer.eos_id, tokenizer.image_id}
    cut = next((i for i, token in enumerate(ids) if token in ends), len(ids))
    return tokenizer.decode(ids[:cut]).strip()


@torch.no_grad()
def continuation_log_likelihoods(
    loaded: LoadedModel, prompts: Sequence[Prompt], continuations: Sequence[Sequence[str]]
) -> list[list[float]]:
    """[prompt][candidate]: log P(candidate's tokens | prompt) for the text `prompt + " " + candidate`
    (no space after a prompt that ends with `<image>`).

    The candidate's tokens are those after the longest common prefix of the two encodings, so a
    tokenizer that merges across the boundary is scored on the whole merged piece. The media of
    each prompt are encoded once and shared by its candidates.
    """
    tokenizer, model, device = loaded.tokenizer, loaded.model, loaded.device
    batch = encode_batch(loaded, prompts)
    with _autocast(device):
        visual = model.encode_media(batch.images, batch.media_mask)
    rows, starts, owners = [], [], []
    for p, (prompt, candidates) in enumerate(zip(prompts, continuations, strict=True)):
        context = tokenizer.encode(prompt.text)
        for candidate in candidates:
            space = "" if prompt.text.endswith(IMAGE) else " "
            ids = tokenizer.encode(f"{prompt.text}{space}{candidate}")
            shared = _common_prefix(context, ids)
            rows.append(ids)
            starts.append(max(shared, 1))
            owners.append(p)
    length = max(len(ids) for ids in rows)
    input_ids = torch.full((len(rows), length), tokenizer.pad_id, dtype=torch.long)
    scored = torch.zeros(len(rows), length, dtype=torch.bool)  # positions whose token is scored
    attention_mask = torch.zeros(len(rows), length, dtype=torch.long)
    for row, (ids, start) in enumerate(zip(rows, starts, strict=True)):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention_mask[row, : len(ids)] = 1
        scored[row, start : len(ids)] = True
    owner = torch.tensor(owners, device=device)
    input_ids, attention_mask, scored = input_ids.to(device), attention_mask.to(device), scored.to(device)
    with _autocast(device):
        logits = model(
            input_ids, visual=visual[owner], media_mask=batch.media_mask[owner], attention_mask=attention_mask
        ).logits.float()
    log_probs = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, input_ids[:, 1:, None]).squeeze(-1)
    totals = (log_probs * scored[:, 1:]).sum(dim=1).tolist()
    out: list[list[float]] = [[] for _ in prompts]
    for p, total in zip(owners, totals, strict=True):
        out[p].append(total)
    return out


def _common_prefix(left: list[int], right: list[int]) -> int:
    length = min(len(left), len(right))
    return next((i for i in range(length) if left[i] != right[i]), length)


@torch.no_grad()
def image_features(loaded: LoadedModel, media: Sequence[torch.Tensor], batch_size: int = 64) -> np.ndarray:
    """[M, width]: the frozen vision encoder's patch tokens averaged (over frames too), as RICES compares."""
    features = []
    vision = loaded.model.vision
    dtype = next(vision.parameters()).dtype
    for start in range(0, len(media), batch_size):
        chunk = media[start : start + batch_size]
        frames = torch.cat(list(chunk)).to(loaded.device)
        tokens = vision(normalise(frames, loaded.images.mean, loaded.images.std).to(dtype)).float().mean(dim=1)
        counts = [m.shape[0] for m in chunk]
        features.extend(part.mean(dim=0) for part in tokens.split(counts))
    return torch.stack(features).cpu().numpy() if features else np.zeros((0, vision.width), dtype=np.float32)


def _autocast(device: torch.device):
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
