"""The trained model really looks at the images: the whole chain, curated for real and trained for real.

A website of drawn classes (a red circle, a blue square, ...) is served on 127.0.0.1 and curated by the
`curate run` DAG into ALIGN and LTIP pairs whose captions begin with the class phrase; the tiny preset
trains on those shards; on held-out drawings the class phrase is chosen by likelihood. Text alone
cannot tell the classes apart, so accuracy far above chance means image, `<image>` token, mask and
labels are aligned end to end, and it must fall to chance when the images are swapped between
examples or the cross-attention gates are closed.
"""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
import torch
from shapes import CLASSES, class_phrase, held_out_images

from trainer.data.images import ImageSettings, load_image, normalise
from trainer.metrics import read_metrics

CHANCE = 1 / len(CLASSES)


@pytest.fixture(scope="module")
def trained(shapes_model):
    return shapes_model.trainer


def class_log_likelihoods(trainer, pixels: torch.Tensor) -> torch.Tensor:
    """[images, classes]: log P(class phrase | <BOS><image>) for each held-out image and class."""
    tok = trainer.tokenizer
    phrases = [tok.encode(class_phrase(i), add_bos=False) for i in range(len(CLASSES))]
    length = 2 + max(len(p) for p in phrases)
    ids = torch.full((len(phrases), length), tok.pad_id)
    mask = torch.zeros_like(ids, dtype=torch.bool)
    for row, phrase in enumerate(phrases):
        sequence = [tok.bos_id, tok.image_id, *phrase]
        ids[row, : len(sequence)] = torch.tensor(sequence)
        mask[row, : len(sequence)] = True
    scores = []
    model = trainer.model.eval()
    with torch.no_grad():
        for image in pixels:
            images = image.expand(len(phrases), 1, 1, *image.shape)
            logits = model(ids, images=images, attention_mask=mask).logits.float()
            logp = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, ids[:, 1:, None]).squeeze(-1)
            scores.append((logp * mask[:, 1:] * (torch.arange(1, length) >= 2)).sum(dim=1))
    return torch.stack(scores)


def accuracy(scores: torch.Tensor, labels: list[int]) -> float:
    return float((scores.argmax(dim=1) == torch.tensor(labels)).float().mean())


@pytest.fixture(scope="module")
def held_out(trained):
    vision = trained.model.vision
    settings = ImageSettings(vision.image_size, vision.mean, vision.std)
    pixels, labels = [], []
    for image, label in held_out_images(per_class=10, seed=1):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=90)
        pixels.append(torch.from_numpy(load_image(buffer.getvalue(), settings)))
        labels.append(label)
    return normalise(torch.stack(pixels), settings.mean, settings.std), labels


def test_the_trained_model_names_the_class_of_images_it_never_saw(trained, held_out):
    pixels, labels = held_out
    with_images = accuracy(class_log_likelihoods(trained, pixels), labels)
    order = list(range(len(labels)))
    random.Random(0).shuffle(order)
    swapped = accuracy(class_log_likelihoods(trained, pixels[order]), labels)
    gates = [p for name, p in trained.model.named_parameters() if name.endswith("_gate")]
    saved = [g.detach().clone() for g in gates]
    with torch.no_grad():
        for gate in gates:
            gate.zero_()
    try:
        closed = accuracy(class_log_likelihoods(trained, pixels), labels)
    finally:
        with torch.no_grad():
            for gate, value in zip(gates, saved, strict=True):
                gate.copy_(value)
    print(f"\naccuracy over {len(labels)} held-out images: with images {with_images:.3f}, images swapped "
          f"{swapped:.3f}, gates at 0 {closed:.3f}, chance {CHANCE:.3f}")  # fmt: skip
    assert with_images >= 4 * CHANCE
    assert swapped <= CHANCE + 0.12
    assert closed <= CHANCE + 0.1


def test_the_loss_falls_on_both_pair_datasets(trained):
    records = read_metrics(f"{trained.config.log.dir}/metrics.jsonl")
    for dataset in ("align", "ltip"):
        first = np.mean([r[f"loss/{dataset}"] for r in records[:10]])
        last = np.mean([r[f"loss/{dataset}"] for r in records[-10:]])
        assert last < first - 1.0, (dataset, first, last)
