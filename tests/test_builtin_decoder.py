"""The built-in decoder (cache, padding, hooks, grouped-query attention, size) and the Flamingo tokenizer
on a real sentencepiece model trained on MSR-VTT captions."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from schemas import EOC, IMAGE, ImageSegment, InterleavedDocument, TextSegment
from trainer.model.builtin_decoder import BuiltinDecoder, DecoderConfig
from trainer.model.language import AddedTokens
from trainer.tokenizer import FlamingoTokenizer, HuggingFaceBase, SentencePieceBase, train_sentencepiece

VOCAB = 101


def small_decoder(seed: int = 0, **overrides: object) -> BuiltinDecoder:
    torch.manual_seed(seed)
    settings = {"vocab_size": VOCAB, "hidden_size": 64, "layers": 3, "heads": 4, "kv_heads": 2, "max_positions": 64}
    return BuiltinDecoder(DecoderConfig(**(settings | overrides))).eval()


def run_logits(model: BuiltinDecoder, ids: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    hidden, _ = model(model.embed(ids), attention_mask=mask)
    return model.logits(hidden)


# --- the decoder ---


@torch.no_grad()
def test_cached_decoding_gives_the_logits_of_one_pass() -> None:
    model = small_decoder()
    ids = torch.randint(0, VOCAB, (2, 12))
    expected = run_logits(model, ids)

    prefix_hidden, cache = model(model.embed(ids[:, :5]), use_cache=True)
    steps = [model.logits(prefix_hidden)]
    for position in range(5, 12):
        hidden, cache = model(model.embed(ids[:, position : position + 1]), past_key_values=cache, use_cache=True)
        steps.append(model.logits(hidden))

    torch.testing.assert_close(torch.cat(steps, dim=1), expected, atol=1e-5, rtol=0)
    assert len(cache) == 3 and cache[0][0].shape[2] == 12


@torch.no_grad()
def test_token_by_token_from_an_empty_cache() -> None:
    model = small_decoder()
    ids = torch.randint(0, VOCAB, (1, 9))
    cache = None
    steps = []
    for position in range(9):
        hidden, cache = model(model.embed(ids[:, position : position + 1]), past_key_values=cache, use_cache=True)
        steps.append(model.logits(hidden))
    torch.testing.assert_close(torch.cat(steps, dim=1), run_logits(model, ids), atol=1e-5, rtol=0)


@torch.no_grad()
def test_no_cache_returned_without_use_cache() -> None:
    model = small_decoder()
    _, cache = model(model.embed(torch.randint(0, VOCAB, (1, 4))))
    assert cache is None


def left_padded(sequences: list[torch.Tensor], pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        ids[row, width - len(sequence) :] = sequence
        mask[row, width - len(sequence) :] = 1
    return ids, mask


@torch.no_grad()
def test_left_padded_batch_matches_the_unpadded_sequences() -> None:
    model = small_decoder()
    sequences = [torch.randint(0, VOCAB, (length,)) for length in (7, 4, 1)]
    ids, mask = left_padded(sequences)

    logits = run_logits(model, ids, mask)

    assert not logits.isnan().any()  # the padding rows attend to nothing
    for row, sequence in enumerate(sequences):
        alone = run_logits(model, sequence[None])[0]
        torch.testing.assert_close(logits[row, -len(sequence) :], alone, atol=1e-5, rtol=0)


@torch.no_grad()
def test_right_padded_batch_matches_the_unpadded_sequences() -> None:
    model = small_decoder()
    sequences = [torch.randint(0, VOCAB, (length,)) for length in (3, 6)]
    ids = torch.zeros((2, 6), dtype=torch.long)
    mask = torch.zeros((2, 6), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)], mask[row, : len(sequence)] = sequence, 1

    logits = run_logits(model, ids, mask)

    for row, sequence in enumerate(sequences):
        torch.testing.assert_close(
            logits[row, : len(sequence)], run_logits(model, sequence[None])[0], atol=1e-5, rtol=0
        )


@torch.no_grad()
def test_left_padded_generation_with_the_cache() -> None:
    model = small_decoder()
    sequences = [torch.randint(0, VOCAB, (length,)) for length in (6, 3)]
    ids, mask = left_padded(sequences)
    next_ids = torch.randint(0, VOCAB, (2, 1))

    _, cache = model(model.embed(ids), attention_mask=mask, use_cache=True)
    mask = torch.cat([mask, torch.ones((2, 1), dtype=torch.long)], dim=1)
    hidden, _ = model(model.embed(next_ids), attention_mask=mask, past_key_values=cache)
    stepped = model.logits(hidden)

    for row, sequence in enumerate(sequences):
        alone = run_logits(model, torch.cat([sequence, next_ids[row]])[None])[0, -1]
        torch.testing.assert_close(stepped[row, 0], alone, atol=1e-5, rtol=0)


def test_a_wrong_mask_shape_and_too_many_positions_are_refused() -> None:
    model = small_decoder()
    with pytest.raises(ValueError, match="attention_mask has shape"):
        model(model.embed(torch.zeros((1, 4), dtype=torch.long)), attention_mask=torch.ones((1, 3)))
    with pytest.raises(ValueError, match="max_positions 64"):
        model(model.embed(torch.zeros((1, 65), dtype=torch.long)))


@torch.no_grad()
def test_before_layer_is_called_once_per_layer_in_order() -> None:
    model = small_decoder(layers=4)
    calls: list[tuple[int, tuple[int, ...]]] = []

    def record(index: int, hidden: torch.Tensor) -> torch.Tensor:
        calls.append((index, tuple(hidden.shape)))
        return hidden

    _, cache = model(model.embed(torch.randint(0, VOCAB, (2, 5))), use_cache=True, before_layer=record)
    assert calls == [(i, (2, 5, 64)) for i in range(4)]

    calls.clear()
    model(model.embed(torch.randint(0, VOCAB, (2, 1))), past_key_values=cache, before_layer=record)
    assert calls == [(i, (2, 1, 64)) for i in range(4)]


@torch.no_grad()
def test_before_layer_output_is_what_the_layer_gets() -> None:
    model = small_decoder()
    embeds = model.embed(torch.randint(0, VOCAB, (1, 6)))
    plain, _ = model(embeds)

    identity, _ = model(embeds, before_layer=lambda index, hidden: hidden)
    shifted, _ = model(embeds, before_layer=lambda index, hidden: hidden + 1.0 if index == 2 else hidden)

    assert torch.equal(identity, plain)
    assert not torch.allclose(shifted, plain)


@pytest.mark.parametrize("kv_heads", [1, 2, 4])
@torch.no_grad()
def test_grouped_query_attention_shapes(kv_heads: int) -> None:
    model = small_decoder(kv_heads=kv_heads)
    attention = model.layers[0].attn
    assert attention.q_proj.weight.shape == (64, 64)
    assert attention.k_proj.weight.shape == attention.v_proj.weight.shape == (kv_heads * 16, 64)

    hidden, cache = model(model.embed(torch.randint(0, VOCAB, (3, 5))), use_cache=True)

    assert hidden.shape == (3, 5, 64)
    assert model.logits(hidden).shape == (3, 5, VOCAB)
    assert all(k.shape == v.shape == (3, kv_heads, 5, 16) for k, v in cache)


def test_heads_must_divide() -> None:
    with pytest.raises(ValueError, match="kv_heads 3"):
        DecoderConfig(vocab_size=VOCAB, hidden_size=64, layers=1, heads=4, kv_heads=3)
    with pytest.raises(ValueError, match="heads 5"):
        DecoderConfig(vocab_size=VOCAB, hidden_size=64, layers=1, heads=5)


def test_config_defaults() -> None:
    config = DecoderConfig(vocab_size=VOCAB, hidden_size=96, layers=2, heads=6)
    assert config.kv_heads == 6
    assert config.ffn_hidden == 256  # 8/3 * 96 = 256, already a multiple of 64
    assert DecoderConfig(vocab_size=VOCAB, hidden_size=64, layers=2, heads=4).ffn_hidden == 192  # 170.7 rounded up


@pytest.mark.parametrize("tie", [False, True])
def test_parameter_count(tie: bool) -> None:
    config = DecoderConfig(vocab_size=VOCAB, hidden_size=64, layers=3, heads=4, kv_heads=2, tie_embeddings=tie)
    hidden, kv_width, ffn = 64, 2 * 16, config.ffn_hidden
    attention = hidden * hidden * 2 + hidden * kv_width * 2  # q and o, k and v
    mlp = 3 * hidden * ffn
    block = attention + mlp + 2 * hidden  # and two norms
    head = 0 if tie else VOCAB * hidden
    expected = VOCAB * hidden + 3 * block + hidden + head

    assert BuiltinDecoder(config).num_parameters() == expected


def test_tied_head_shares_the_embedding() -> None:
    model = small_decoder(tie_embeddings=True)
    assert model.lm_head.weight is model.embed_tokens.weight


def test_initialisation_scales_the_residual_projections() -> None:
    model = small_decoder(hidden_size=256, layers=8, heads=4, kv_heads=4)
    block = model.layers[0]
    assert block.attn.q_proj.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert block.attn.o_proj.weight.std().item() == pytest.approx(0.02 / 4, rel=0.05)
    assert block.mlp.down_proj.weight.std().item() == pytest.approx(0.02 / 4, rel=0.05)
    assert torch.equal(block.attn_norm.weight, torch.ones(256))


# --- the tokenizer ---


def msrvtt_captions(testdata: Path) -> list[str]:
    with open(testdata / "annotations" / "msrvtt" / "MSRVTT_JSFUSION_test.csv", newline="") as handle:
        return [row["sentence"] for row in csv.DictReader(handle, delimiter=";")]


@pytest.fixture(scope="module")
def sentencepiece_folder(testdata: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return train_sentencepiece(msrvtt_captions(testdata), str(tmp_path_factory.mktemp("spm")), vocab_size=512)


@pytest.fixture(scope="module")
def huggingface_folder(sentencepiece_folder: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    from transformers import LlamaTokenizerFast

    folder = str(tmp_path_factory.mktemp("hf"))
    LlamaTokenizerFast.from_pretrained(sentencepiece_folder).save_pretrained(folder)
    return folder


def document_text() -> str:
    segments = (TextSegment("a man is cooking"), ImageSegment(url="https://example.com/a.jpg"), TextSegment("in pan"))
    return InterleavedDocument(doc_id="d", url="https://example.com/", segments=segments).text


ROUND_TRIPS = [
    "a man is cooking in a kitchen",
    f"{IMAGE}a man is cooking{EOC}",
    f"a dog{IMAGE}runs{EOC}{EOC}",
    f"{IMAGE}{IMAGE}{IMAGE} three pictures",
    f"before {IMAGE} after {EOC} end",
    f"héllo 世界 {IMAGE}\n\tdone",
    f"{EOC}",
    "",
]


def test_trained_model_ids(sentencepiece_folder: str) -> None:
    tokenizer = FlamingoTokenizer.from_pretrained(sentencepiece_folder)
    assert isinstance(tokenizer.base, SentencePieceBase)
    assert (Path(sentencepiece_folder) / "tokenizer.model").is_file()
    assert tokenizer.vocab_size == 512
    assert (tokenizer.image_id, tokenizer.eoc_id, tokenizer.total_size) == (512, 513, 514)
    assert (tokenizer.bos_id, tokenizer.eos_id, tokenizer.pad_id) == (1, 2, 3)


@pytest.mark.parametrize("text", [*ROUND_TRIPS, document_text()])
def test_sentencepiece_round_trip(sentencepiece_folder: str, text: str) -> None:
    tokenizer = FlamingoTokenizer.from_pretrained(sentencepiece_folder)
    ids = tokenizer.encode(text)

    assert ids[0] == tokenizer.bos_id
    assert ids.count(tokenizer.image_id) == text.count(IMAGE)
    assert ids.count(tokenizer.eoc_id) == text.count(EOC)
    assert max(ids, default=0) < tokenizer.total_size
    assert tokenizer.decode(ids) == text


def test_special_tokens_are_single_ids_and_never_split(sentencepiece_folder: str) -> None:
    tokenizer = FlamingoTokenizer.from_pretrained(sentencepiece_folder)
    image, eoc = tokenizer.image_id, tokenizer.eoc_id

    assert tokenizer.encode(IMAGE, add_bos=False) == [image]
    assert tokenizer.encode(f"{EOC}{IMAGE}{IMAGE}", add_bos=False) == [eoc, image, image]
    assert len(tokenizer.base.encode(IMAGE)) > 1  # what the base alone would make of it
    word = tokenizer.encode("cat", add_bos=False)
    assert tokenizer.encode(f"cat{IMAGE}cat", add_bos=False) == [*word, image, *word]


def test_lookalikes_are_plain_text(sentencepiece_folder: str) -> None:
    tokenizer = FlamingoTokenizer.from_pretrained(sentencepiece_folder)
    for text in ("<Image>", "<eoc>", "< image >"):
        ids = tokenizer.encode(text, add_bos=False)
        assert tokenizer.image_id not in ids and tokenizer.eoc_id not in ids
        assert tokenizer.decode(ids) == text


def test_added_ids_follow_a_larger_lm_vocabulary(sentencepiece_folder: str) -> None:
    tokenizer = FlamingoTokenizer.from_pretrained(sentencepiece_folder, lm_vocab_size=576)
    assert (tokenizer.vocab_size, tokenizer.image_id, tokenizer.eoc_id, tokenizer.total_size) == (576, 576, 577, 578)
    assert tokenizer.decode(tokenizer.encode(f"{IMAGE}a cat{EOC}")) == f"{IMAGE}a cat{EOC}"
    with pytest.raises(ValueError, match="lm_vocab_size 500"):
        FlamingoTokenizer.from_pretrained(sentencepiece_folder, lm_vocab_size=500)


def test_huggingface_folder(sentencepiece_folder: str, huggingface_folder: str) -> None:
    tokenizer = FlamingoTokenizer.from_pretrained(huggingface_folder)
    reference = FlamingoTokenizer.from_pretrained(sentencepiece_folder)
    text = f"{IMAGE}a man is cooking{EOC}{IMAGE}a dog runs{EOC}"

    assert isinstance(tokenizer.base, HuggingFaceBase)
    assert (tokenizer.vocab_size, tokenizer.image_id, tokenizer.eoc_id) == (512, 512, 513)
    assert (tokenizer.bos_id, tokenizer.eos_id) == (1, 2)
    assert tokenizer.pad_id == tokenizer.eos_id  # the saved tokenizer names no pad token
    assert tokenizer.encode(text) == reference.encode(text)
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_missing_or_empty_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        FlamingoTokenizer.from_pretrained(str(missing))
    with pytest.raises(FileNotFoundError, match=r"has none of tokenizer\.model"):
        FlamingoTokenizer.from_pretrained(str(tmp_path))


@torch.no_grad()
def test_tokenizer_and_decoder_together(sentencepiece_folder: str) -> None:
    """Token ids from the tokenizer through `AddedTokens` and the decoder, as the Flamingo model runs them."""
    tokenizer = FlamingoTokenizer.from_pretrained(sentencepiece_folder)
    model = small_decoder(vocab_size=tokenizer.vocab_size)
    added = AddedTokens(2, model.hidden_size)
    ids = torch.tensor([tokenizer.encode(document_text())])

    hidden, _ = model(added.embed(ids, model))
    logits = added.logits(hidden, model)

    assert logits.shape == (1, ids.shape[1], tokenizer.total_size)
    assert not logits.isnan().any()
