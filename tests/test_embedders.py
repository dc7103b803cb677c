"""Embedders on real images: the perceptual-hash family, open_clip (random weights, as no weights can be
downloaded here) and a real TorchScript model saved by the test; missing weights fail before any load."""

from __future__ import annotations

import hashlib
from pathlib import Path

import imagehash
import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance

from dedup.embedders import MissingWeights, PerceptualHashEmbedder, embedder_from_spec
from dedup.embedders.torch_models import RANDOM_WEIGHTS, OpenClipEmbedder, TorchScriptEmbedder


@pytest.fixture(scope="module")
def photos(testdata: Path) -> list[Image.Image]:
    """24 distinct real photos (the folder also holds byte-identical copies under other names)."""
    by_content = {}
    for path in sorted((testdata / "images" / "allennlp_benchmarks").rglob("*.jpg")):
        by_content.setdefault(hashlib.sha256(path.read_bytes()).digest(), path)
    return [Image.open(path).convert("RGB") for path in list(by_content.values())[:24]]


def hash_scores(embedder: PerceptualHashEmbedder, a: list[Image.Image], b: list[Image.Image]) -> np.ndarray:
    bits_a = np.unpackbits(embedder.embed(a), axis=1)
    bits_b = np.unpackbits(embedder.embed(b), axis=1)
    return 1.0 - (bits_a != bits_b).mean(axis=1)


def test_perceptual_codes_have_the_declared_size_and_are_deterministic(photos):
    embedder = PerceptualHashEmbedder()
    codes = embedder.embed(photos)
    assert embedder.dim == 256 and codes.shape == (len(photos), 32) and codes.dtype == np.uint8
    np.testing.assert_array_equal(codes, embedder.embed(photos))
    assert embedder.embed([]).shape == (0, 32)


def test_the_phash_part_agrees_with_imagehash(photos):
    """Our batched DCT hash is imagehash's pHash (same thumbnail size, same median rule)."""
    ours = np.unpackbits(PerceptualHashEmbedder(("phash",)).embed(photos), axis=1)
    theirs = np.stack([imagehash.phash(photo).hash.ravel() for photo in photos])
    assert (ours == theirs).mean() > 0.95


def test_copies_score_high_and_distinct_photos_low(photos):
    embedder = PerceptualHashEmbedder()
    resized = [photo.resize((photo.width // 2, photo.height // 2)) for photo in photos]
    brighter = [ImageEnhance.Brightness(photo).enhance(1.2) for photo in photos]
    assert hash_scores(embedder, photos, resized).min() > 0.9
    assert hash_scores(embedder, photos, brighter).min() > 0.85
    shifted = photos[1:] + photos[:1]
    distinct = hash_scores(embedder, photos, shifted)
    assert distinct.max() < 0.8 and 0.4 < distinct.mean() < 0.65


def test_unknown_hash_names_are_refused():
    with pytest.raises(ValueError, match="perceptual hashes must be among"):
        PerceptualHashEmbedder(("phash", "colorhash"))


def test_open_clip_with_random_weights_gives_normalised_vectors(photos):
    embedder = OpenClipEmbedder("ViT-B-32", RANDOM_WEIGHTS, device="cpu")
    vectors = embedder.embed(photos[:3])
    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(vectors, embedder.embed(photos[:3]), atol=1e-5)
    assert embedder_from_spec(embedder.spec()).dim == 512


def test_model_embedders_never_download_missing_weights(tmp_path):
    missing = str(tmp_path / "nothing.pt")
    with pytest.raises(MissingWeights, match="never downloaded"):
        OpenClipEmbedder("ViT-B-32", None)
    with pytest.raises(MissingWeights, match=r"nothing\.pt"):
        OpenClipEmbedder("ViT-B-32", missing)
    with pytest.raises(MissingWeights, match=r"nothing\.pt"):
        TorchScriptEmbedder(missing)


class TinyDescriptor(torch.nn.Module):
    """A copy-detection-shaped model: image batch in, one descriptor per image out."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 16, 5, stride=4)
        self.project = torch.nn.Linear(16, 48)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.project(self.conv(images).relu().mean(dim=(2, 3)))


def test_torchscript_descriptor_loads_from_a_local_file(tmp_path, photos):
    torch.manual_seed(0)
    path = tmp_path / "descriptor.pt"
    torch.jit.script(TinyDescriptor()).save(str(path))
    embedder = TorchScriptEmbedder(str(path), image_size=128, device="cpu")
    vectors = embedder.embed(photos[:4])
    assert embedder.dim == 48 and vectors.shape == (4, 48)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    rebuilt = embedder_from_spec(embedder.spec())
    np.testing.assert_allclose(rebuilt.embed(photos[:4]), vectors, atol=1e-5)


def test_a_file_that_is_not_torchscript_is_a_clear_error(tmp_path):
    path = tmp_path / "weights.pt"
    path.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="is not a TorchScript model"):
        TorchScriptEmbedder(str(path))


def test_unknown_embedder_kinds_are_refused():
    with pytest.raises(ValueError, match="unknown embedder 'sift'"):
        embedder_from_spec({"kind": "sift"})


def test_open_clip_weights_load_from_a_local_file_even_named_like_a_download_tag(tmp_path, monkeypatch):
    """ "openai" is also one of open_clip's download tags: a local file of that name must be read, not
    taken as the tag (HF_HUB_OFFLINE is set, so a download attempt would fail this test)."""
    import open_clip

    torch.manual_seed(1)
    reference = open_clip.create_model("ViT-B-32", pretrained=None)
    torch.save(reference.state_dict(), tmp_path / "openai")
    monkeypatch.chdir(tmp_path)
    embedder = OpenClipEmbedder("ViT-B-32", "openai", device="cpu")
    assert torch.equal(embedder.model.visual.conv1.weight, reference.visual.conv1.weight)
