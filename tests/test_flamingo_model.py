"""The Flamingo model on the tiny preset: equal to the bare LM at initialisation, gradients only where
they belong, padding media never encoded, video frames, bf16 frozen weights, cached generation, and
the parameter counts of the presets."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from trainer.model.beam_search import beam_search
from trainer.model.build import PRESETS, LanguageConfig, build_flamingo, preset_parameter_counts
from trainer.model.flamingo import Flamingo

TINY = PRESETS["tiny"]


@pytest.fixture
def model() -> Flamingo:
    torch.manual_seed(0)
    return build_flamingo(TINY)


def batch(model: Flamingo, media: int = 2, frames: int = 1, seed: int = 1):
    """Two sequences: text, <image>, text, <image>, text, <EOC>; the second has only its first image."""
    generator = torch.Generator().manual_seed(seed)
    size = model.vision.image_size
    images = torch.randn(2, media, frames, 3, size, size, generator=generator)
    I, E = model.image_id, model.eoc_id  # noqa: E741
    input_ids = torch.tensor([[5, 6, I, 7, 8, 9, I, 10, 11, E], [5, I, 7, 8, 9, 10, 11, 12, 13, E]])
    media_mask = torch.tensor([[True] * media, [True] + [False] * (media - 1)])
    return input_ids, images, media_mask


def open_gates(model: Flamingo, value: float = 1.0) -> None:
    with torch.no_grad():
        for block in model.cross_attention.values():
            block.attention_gate.fill_(value)
            block.ff_gate.fill_(value)


def test_at_initialisation_flamingo_is_the_bare_language_model(model):
    input_ids, images, media_mask = batch(model)
    out = model(input_ids, images=images, media_mask=media_mask)
    hidden, _ = model.lm.forward(model.added_tokens.embed(input_ids, model.lm))
    bare = model.lm.logits(hidden)
    torch.testing.assert_close(out.logits[..., : model.lm.vocab_size], bare, rtol=0, atol=1e-6)
    assert out.logits.shape[-1] == model.lm.vocab_size + 2


def test_images_matter_once_the_gates_open(model):
    input_ids, images, media_mask = batch(model)
    open_gates(model)
    before = model(input_ids, images=images, media_mask=media_mask).logits
    changed = images.clone()
    changed[0, 1] += 1.0  # the second image of the first sequence
    after = model(input_ids, images=changed, media_mask=media_mask).logits
    second_image_at = 6
    torch.testing.assert_close(after[0, :second_image_at], before[0, :second_image_at])  # φ: not seen before it
    assert not torch.allclose(after[0, second_image_at:], before[0, second_image_at:])
    torch.testing.assert_close(after[1], before[1])


def test_gradients_reach_only_trainable_parameters(model):
    input_ids, images, media_mask = batch(model)
    open_gates(model, 0.5)
    model(input_ids, images=images, media_mask=media_mask).logits.logsumexp(-1).mean().backward()
    frozen = [p for p in [*model.vision.parameters(), *model.lm.parameters()]]
    assert all(not p.requires_grad and p.grad is None for p in frozen)
    trainable = dict(model.named_parameters())
    assert all(p.grad is not None for name, p in trainable.items() if p.requires_grad and "output_rows" not in name)
    assert model.added_tokens.embeddings.grad[0].abs().sum() > 0  # <image> appears in the input
    names = {name.split(".")[0] for name, p in model.named_parameters() if p.requires_grad}
    assert names == {"resampler", "cross_attention", "added_tokens"}


def test_padding_media_are_never_encoded(model):
    _, images, media_mask = batch(model, media=3, frames=2)
    encoded = []
    handle = model.vision.register_forward_hook(lambda module, args, out: encoded.append(args[0].shape[0]))
    visual = model.encode_media(images, media_mask)
    handle.remove()
    assert encoded == [(3 + 1) * 2]  # the real media's frames only: 3 in the first sequence, 1 in the second
    assert torch.equal(visual[1, 1:], torch.zeros_like(visual[1, 1:]))
    assert visual.shape == (2, 3, TINY.resampler.latents, model.vision.width)


def test_video_frames_with_more_frames_than_trained(model):
    input_ids, images, media_mask = batch(model, frames=TINY.resampler.max_frames + 2)  # interpolated time embeddings
    open_gates(model)
    out = model(input_ids, images=images, media_mask=media_mask)
    assert out.visual.shape[2] == TINY.resampler.latents and torch.isfinite(out.logits).all()
    later = images.clone()
    later[0, 0, -1] += 1.0  # only the last frame of the first video
    assert not torch.allclose(model(input_ids, images=later, media_mask=media_mask).logits[0, 3:], out.logits[0, 3:])


def test_next_image_mode_changes_what_text_sees(model):
    input_ids, images, media_mask = batch(model)
    open_gates(model)
    previous = model(input_ids, images=images, media_mask=media_mask).logits
    following = model(input_ids, images=images, media_mask=media_mask, attend_next=torch.tensor([True, False])).logits
    assert not torch.allclose(previous[0, :2], following[0, :2])  # text before the first image now sees it
    torch.testing.assert_close(previous[1], following[1])


def test_frozen_parts_can_be_kept_in_bfloat16():
    torch.manual_seed(0)
    config = PRESETS["tiny"]
    model = build_flamingo(
        type(config)(
            **{**config.__dict__, "language": LanguageConfig(builtin=config.language.builtin, frozen_dtype="bfloat16")}
        )
    )
    assert {p.dtype for p in model.lm.parameters()} == {p.dtype for p in model.vision.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in model.trainable_parameters()} == {torch.float32}
    input_ids, images, media_mask = batch(model)
    assert torch.isfinite(model(input_ids, images=images, media_mask=media_mask).logits.float()).all()


def test_generation_with_the_cache_matches_step_by_step_forwards(model):
    input_ids, images, media_mask = batch(model)
    open_gates(model, 2.0)
    prompt = input_ids[:, :8]
    generated = model.generate(prompt, images=images, media_mask=media_mask, max_new_tokens=6)
    sequence = prompt
    for step in range(generated.shape[1]):
        logits = model(sequence, images=images, media_mask=media_mask).logits[:, -1].float()
        logits[:, model.image_id] = float("-inf")
        expected = logits.argmax(dim=-1)
        finished = (generated[:, :step] == model.eoc_id).any(dim=1)
        assert torch.equal(generated[~finished, step], expected[~finished])
        sequence = torch.cat([sequence, generated[:, step : step + 1]], dim=1)


def test_generation_stops_at_eoc():
    torch.manual_seed(0)
    model = build_flamingo(replace(TINY, train_output_rows=True))
    input_ids, images, media_mask = batch(model)
    prompt, images, media_mask = input_ids[:1, :8], images[:1], media_mask[:1]
    hidden, _ = model.lm.forward(model.added_tokens.embed(prompt, model.lm))
    last = hidden[0, -1]
    with torch.no_grad():
        model.added_tokens.output_rows[1] = 1000 * last / last.dot(last)  # <EOC> scores 1000 after the prompt
    assert model.generate(prompt, images=images, media_mask=media_mask, max_new_tokens=10).tolist() == [[model.eoc_id]]


def test_finished_sequences_pad_with_eoc_while_others_go_on(model):
    input_ids, images, media_mask = batch(model)
    open_gates(model, 2.0)
    generated = model.generate(input_ids[:, :8], images=images, media_mask=media_mask, max_new_tokens=12)
    for row in generated.tolist():
        if model.eoc_id in row:
            first = row.index(model.eoc_id)
            assert set(row[first:]) == {model.eoc_id}
    assert model.image_id not in generated


def test_preset_parameter_counts():
    counts = {name: preset_parameter_counts(name) for name in ("3b-like", "9b-like", "80b-like")}
    # Flamingo-3B/9B/80B: 3.2B/9.3B/80B in total, their frozen LMs 1.4B/7B/70B (paper, table 1 and appendix)
    assert 2.5e9 < counts["3b-like"]["total"] < 3.5e9 and 1.2e9 < counts["3b-like"]["language_model"] < 1.6e9
    assert 8e9 < counts["9b-like"]["total"] < 10e9 and 6e9 < counts["9b-like"]["language_model"] < 7.5e9
    assert 70e9 < counts["80b-like"]["total"] < 85e9 and 60e9 < counts["80b-like"]["language_model"] < 72e9
    for count in counts.values():
        assert count["trainable"] == count["resampler"] + count["cross_attention"] + count["added_tokens"]


def test_trainer_presets_prints_the_counts(capsys):
    from trainer.cli import main

    assert main(["presets"]) == 0
    printed = capsys.readouterr().out
    assert "| 80b-like | 7 |" in printed and "75.41B |" in printed


@pytest.fixture(scope="module")
def llama_folder(tmp_path_factory) -> str:
    """A tiny random Llama saved the way any Hugging Face checkpoint is, loaded back from disk."""
    import transformers

    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=300, hidden_size=64, intermediate_size=128, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=128, initializer_range=0.1,
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("llama")
    transformers.LlamaForCausalLM(config).save_pretrained(folder)
    return str(folder)


def hf_flamingo(folder: str) -> Flamingo:
    torch.manual_seed(0)
    return build_flamingo(replace(TINY, language=LanguageConfig(hf_path=folder)))


def test_a_hugging_face_llama_under_flamingo_is_unchanged_at_initialisation(llama_folder):
    import transformers

    model = hf_flamingo(llama_folder)
    reference = transformers.AutoModelForCausalLM.from_pretrained(llama_folder, local_files_only=True)
    input_ids, images, media_mask = batch(model)
    out = model(input_ids, images=images, media_mask=media_mask)
    embeds = model.added_tokens.embed(input_ids, model.lm)
    expected = reference(inputs_embeds=embeds).logits
    torch.testing.assert_close(out.logits[..., : model.lm.vocab_size], expected, rtol=1e-5, atol=1e-5)
    assert len(model.cross_attention) == 2 and all(not p.requires_grad for p in model.lm.parameters())


def test_generation_with_a_hugging_face_cache_matches_full_forwards(llama_folder):
    model = hf_flamingo(llama_folder)
    input_ids, images, media_mask = batch(model)
    open_gates(model, 2.0)
    prompt = input_ids[:1, :8]
    generated = model.generate(prompt, images=images[:1], media_mask=media_mask[:1], max_new_tokens=5)
    sequence = prompt
    for step in range(generated.shape[1]):
        logits = model(sequence, images=images[:1], media_mask=media_mask[:1]).logits[:, -1].float()
        logits[:, model.image_id] = float("-inf")
        assert generated[0, step] == logits.argmax(dim=-1)[0]
        sequence = torch.cat([sequence, generated[:, step : step + 1]], dim=1)


def test_the_vision_encoder_loads_local_open_clip_weights(tmp_path):
    import open_clip

    from trainer.model.vision import VisionConfig, VisionEncoder

    torch.manual_seed(2)
    reference = open_clip.create_model("ViT-B-32", pretrained=None)
    torch.save(reference.state_dict(), tmp_path / "vit.pt")
    encoder = VisionEncoder(VisionConfig(model="ViT-B-32", weights=str(tmp_path / "vit.pt")))
    assert torch.equal(encoder.tower.conv1.weight, reference.visual.conv1.weight)
    assert encoder(torch.zeros(1, 3, 224, 224)).shape == (1, 49, 768)  # patch tokens, not the pooled vector
    with pytest.raises(FileNotFoundError, match="never downloaded"):
        VisionEncoder(VisionConfig(model="ViT-B-32", weights=str(tmp_path / "missing.pt")))
    # At another input size the trained position embeddings are interpolated, so 320-px images go in as they are.
    larger = VisionEncoder(VisionConfig(model="ViT-B-32", weights=str(tmp_path / "vit.pt"), image_size=320))
    assert larger.image_size == 320 and torch.equal(larger.tower.conv1.weight, reference.visual.conv1.weight)
    assert larger(torch.zeros(1, 3, 320, 320)).shape == (1, 100, 768)
    assert larger.mean == tuple(reference.visual.image_mean) and larger.std == tuple(reference.visual.image_std)


def test_a_left_padded_prompt_decodes_as_it_would_alone(model):
    input_ids, images, media_mask = batch(model)
    open_gates(model, 2.0)
    short, long = input_ids[1:, :5], input_ids[:1, :8]  # 5 and 8 tokens
    pad = 0
    padded = torch.cat([torch.cat([torch.full((1, 3), pad), short], dim=1), long])
    attention_mask = torch.tensor([[0, 0, 0, 1, 1, 1, 1, 1], [1] * 8])
    both_images, both_media = torch.cat([images[1:], images[:1]]), torch.cat([media_mask[1:], media_mask[:1]])
    together = model(padded, images=both_images, media_mask=both_media, attention_mask=attention_mask).logits
    alone = model(short, images=images[1:], media_mask=media_mask[1:]).logits
    gap = (together[0, 3:] - alone[0]).abs().max().item()
    assert gap < 1e-5, gap
    generated = model.generate(padded, both_images, both_media, max_new_tokens=8, attention_mask=attention_mask)
    by_itself = model.generate(short, images[1:], media_mask[1:], max_new_tokens=8)
    assert generated[0, : by_itself.shape[1]].tolist() == by_itself[0].tolist()


def test_rows_without_images_decode_the_same_whether_or_not_others_have_one(model):
    input_ids, images, media_mask = batch(model)
    open_gates(model, 2.0)
    text = input_ids[:1, :2]  # no <image> token
    with_image = input_ids[1:, :2]  # 5, <image>
    no_media = torch.zeros(2, media_mask.shape[1], dtype=torch.bool)
    only_text = model.generate(torch.cat([text, text]), images=images, media_mask=no_media, max_new_tokens=5)
    mixed_media = torch.tensor([[False, False], [True, False]])
    mixed = model.generate(torch.cat([text, with_image]), images=images, media_mask=mixed_media, max_new_tokens=5)
    assert only_text.shape[0] == 2 and torch.equal(only_text[0], only_text[1])
    assert mixed[0, : only_text.shape[1]].tolist() == only_text[0].tolist()


def test_one_beam_is_greedy_decoding(model):
    input_ids, images, media_mask = batch(model)
    open_gates(model, 2.0)
    greedy = model.generate(input_ids[:, :8], images, media_mask, max_new_tokens=6)
    one_beam = beam_search(model, input_ids[:, :8], images, media_mask, beams=1, max_new_tokens=6)
    assert one_beam[:, : greedy.shape[1]].tolist() == greedy.tolist()


def test_batched_beam_search_equals_beam_search_per_prompt(model):
    input_ids, images, media_mask = batch(model)
    open_gates(model, 2.0)
    short, long = input_ids[1:, :5], input_ids[:1, :8]
    padded = torch.cat([torch.cat([torch.zeros(1, 3, dtype=torch.long), short], dim=1), long])
    attention_mask = torch.tensor([[0, 0, 0, 1, 1, 1, 1, 1], [1] * 8])
    both_images, both_media = torch.cat([images[1:], images[:1]]), torch.cat([media_mask[1:], media_mask[:1]])
    together = beam_search(model, padded, both_images, both_media, attention_mask, beams=3, max_new_tokens=7)
    for row, (prompt, image, media) in enumerate(
        [(short, images[1:], media_mask[1:]), (long, images[:1], media_mask[:1])]
    ):
        alone = beam_search(model, prompt, image, media, beams=3, max_new_tokens=7)
        assert together[row, : alone.shape[1]].tolist() == alone[0].tolist()
