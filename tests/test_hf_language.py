"""HuggingFaceLM against the Hugging Face models' own forward, on tiny random models saved to disk."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
import transformers
from torch import nn
from transformers import AutoModelForCausalLM, PretrainedConfig

from trainer.model.build import TINY_TOWER, FlamingoConfig, LanguageConfig, build_flamingo
from trainer.model.hf_language import HuggingFaceLM, _attribute, _family, _HookedLayer, _HookSlot
from trainer.model.vision import VisionConfig

VOCAB = 256
WIDTH = 64
INIT = 0.1  # larger than the default 0.02, so logits are far from zero and the comparisons bite

# Llama-style decoders take the same options.
DECODER = {
    "vocab_size": VOCAB,
    "hidden_size": WIDTH,
    "intermediate_size": 128,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "initializer_range": INIT,
}

CONFIGS: dict[str, Callable[[], PretrainedConfig]] = {
    "llama": lambda: transformers.LlamaConfig(**DECODER, num_hidden_layers=3),
    "mistral": lambda: transformers.MistralConfig(**DECODER, num_hidden_layers=2),
    "qwen2": lambda: transformers.Qwen2Config(**DECODER, num_hidden_layers=3),
    "qwen3": lambda: transformers.Qwen3Config(**DECODER, num_hidden_layers=2),
    "gemma": lambda: transformers.GemmaConfig(**DECODER, num_hidden_layers=2),
    "gemma2": lambda: transformers.Gemma2Config(**DECODER, num_hidden_layers=2, final_logit_softcapping=5.0),
    "gemma3_text": lambda: transformers.Gemma3TextConfig(**DECODER, num_hidden_layers=2),
    "gpt_neox": lambda: transformers.GPTNeoXConfig(
        vocab_size=VOCAB,
        hidden_size=WIDTH,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        initializer_range=INIT,
    ),
    "opt": lambda: transformers.OPTConfig(
        vocab_size=VOCAB,
        hidden_size=WIDTH,
        ffn_dim=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        word_embed_proj_dim=WIDTH,
        init_std=INIT,
    ),
    "mpt": lambda: transformers.MptConfig(
        vocab_size=VOCAB,
        d_model=WIDTH,
        n_heads=4,
        n_layers=2,
        max_seq_len=64,
        initializer_range=INIT,
    ),
    "gpt2": lambda: transformers.GPT2Config(
        vocab_size=VOCAB,
        n_embd=WIDTH,
        n_layer=3,
        n_head=4,
        n_positions=64,
        initializer_range=INIT,
    ),
    "gptj": lambda: transformers.GPTJConfig(
        vocab_size=VOCAB,
        n_embd=WIDTH,
        n_layer=2,
        n_head=4,
        rotary_dim=8,
        n_positions=64,
        initializer_range=INIT,
    ),
    "falcon": lambda: transformers.FalconConfig(
        vocab_size=VOCAB,
        hidden_size=WIDTH,
        num_hidden_layers=2,
        num_attention_heads=4,
        initializer_range=INIT,
    ),
}

ATOL = 1e-5


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """These models are tiny: on a busy machine, torch's worker threads only slow them down (by ~8x)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _save(config: PretrainedConfig, folder: Path) -> Path:
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lms")
    return {name: _save(make(), root / name) for name, make in CONFIGS.items()}


@pytest.fixture(params=list(CONFIGS))
def family(request: pytest.FixtureRequest, saved: dict[str, Path]) -> Path:
    return saved[request.param]


def _reference(path: Path) -> nn.Module:
    return AutoModelForCausalLM.from_pretrained(path, local_files_only=True).eval()


def _ids(*shape: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, VOCAB, shape, generator=torch.Generator().manual_seed(seed))


def _logits(lm: HuggingFaceLM, ids: torch.Tensor, **kwargs) -> torch.Tensor:
    hidden, _ = lm(lm.embed(ids), **kwargs)
    return lm.logits(hidden)


@torch.no_grad()
def test_logits_match_the_models_own_forward(family: Path) -> None:
    lm = HuggingFaceLM(family).eval()
    ids = _ids(2, 10)
    expected = _reference(family)(ids).logits
    torch.testing.assert_close(_logits(lm, ids), expected, rtol=0, atol=ATOL)
    assert expected.abs().max() > 0.1


@torch.no_grad()
def test_before_layer_is_called_once_per_layer_in_order(family: Path) -> None:
    lm = HuggingFaceLM(family).eval()
    ids = _ids(2, 7)
    plain = _logits(lm, ids)
    calls: list[int] = []

    def identity(index: int, hidden: torch.Tensor) -> torch.Tensor:
        calls.append(index)
        assert hidden.shape == (2, 7, lm.hidden_size)
        return hidden

    assert torch.equal(_logits(lm, ids, before_layer=identity), plain)
    assert calls == list(range(len(lm.layers)))

    offset = torch.randn(lm.hidden_size, generator=torch.Generator().manual_seed(5))  # not uniform: norms remove that
    shifted = _logits(lm, ids, before_layer=lambda index, hidden: hidden + offset if index == 1 else hidden)
    assert (shifted - plain).abs().max() > 1e-3
    assert torch.equal(_logits(lm, ids), plain)  # the hook lasted one call only


@torch.no_grad()
def test_incremental_decoding_matches_the_full_forward(family: Path) -> None:
    lm = HuggingFaceLM(family).eval()
    ids = _ids(2, 9)

    def hook(index: int, hidden: torch.Tensor) -> torch.Tensor:
        return hidden * 1.5 if index == 0 else hidden

    full = _logits(lm, ids, before_layer=hook)
    hidden, cache = lm(lm.embed(ids[:, :5]), use_cache=True, before_layer=hook)
    torch.testing.assert_close(lm.logits(hidden), full[:, :5], rtol=0, atol=ATOL)
    for position in range(5, 9):
        hidden, cache = lm(
            lm.embed(ids[:, position : position + 1]), past_key_values=cache, use_cache=True, before_layer=hook
        )
        torch.testing.assert_close(lm.logits(hidden)[:, -1], full[:, position], rtol=0, atol=ATOL)


@torch.no_grad()
def test_left_padding_gives_the_unpadded_outputs(family: Path) -> None:
    lm = HuggingFaceLM(family).eval()
    long, short = _ids(1, 8, seed=2), _ids(1, 5, seed=3)
    pads = torch.zeros(1, 3, dtype=torch.long)
    ids = torch.cat([long, torch.cat([pads, short], dim=1)])
    mask = torch.ones_like(ids)
    mask[1, :3] = 0

    hidden, cache = lm(lm.embed(ids), attention_mask=mask, use_cache=True)
    padded = lm.logits(hidden)
    torch.testing.assert_close(padded[0], _logits(lm, long)[0], rtol=0, atol=ATOL)
    torch.testing.assert_close(padded[1, 3:], _logits(lm, short)[0], rtol=0, atol=ATOL)

    # one more token each, through the cache, with the mask grown by one column
    step = _ids(2, 1, seed=4)
    mask = torch.cat([mask, torch.ones(2, 1, dtype=torch.long)], dim=1)
    hidden, _ = lm(lm.embed(step), attention_mask=mask, past_key_values=cache, use_cache=True)
    torch.testing.assert_close(
        lm.logits(hidden)[1, -1], _logits(lm, torch.cat([short, step[1:]], dim=1))[0, -1], rtol=0, atol=ATOL
    )


def test_layers_are_the_original_decoder_layers(family: Path) -> None:
    lm = HuggingFaceLM(family)
    reference = _reference(family)
    reference_layers = _attribute(reference, _family(reference).layers)
    assert isinstance(lm.layers, nn.ModuleList)
    assert len(lm.layers) == lm.model.config.num_hidden_layers
    assert [type(layer) for layer in lm.layers] == [type(layer) for layer in reference_layers]
    hooked = [module for module in lm.model.modules() if isinstance(module, _HookedLayer)]
    assert all(wrapper.layer is layer for wrapper, layer in zip(hooked, lm.layers, strict=True))
    reference_norm = _attribute(reference, _family(reference).final_norm)
    assert reference_norm is not None and type(lm.final_norm) is type(reference_norm)


def test_sizes_and_frozen_weights(family: Path) -> None:
    lm = HuggingFaceLM(family)
    assert lm.hidden_size == WIDTH
    assert lm.vocab_size == VOCAB
    assert not any(parameter.requires_grad for parameter in lm.parameters())
    assert lm.embed(_ids(1, 3)).shape == (1, 3, WIDTH)


def test_gradients_reach_what_before_layer_adds(saved: dict[str, Path]) -> None:
    lm = HuggingFaceLM(saved["llama"])
    gate = nn.Parameter(torch.zeros(()))
    hidden, _ = lm(lm.embed(_ids(1, 4)), before_layer=lambda index, hidden: hidden + gate)
    lm.logits(hidden).sum().backward()
    assert gate.grad is not None and gate.grad.abs() > 0


def test_hook_is_cleared_when_a_layer_raises(saved: dict[str, Path]) -> None:
    lm = HuggingFaceLM(saved["llama"]).eval()
    ids = _ids(1, 4)
    plain = _logits(lm, ids)

    def failing(index: int, hidden: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        _logits(lm, ids, before_layer=failing)
    assert torch.equal(_logits(lm, ids), plain)


def test_dtype_option(saved: dict[str, Path]) -> None:
    lm = HuggingFaceLM(saved["qwen2"], dtype=torch.bfloat16)
    embeddings = lm.embed(_ids(1, 4))
    assert embeddings.dtype == torch.bfloat16
    hidden, _ = lm(embeddings)
    assert lm.logits(hidden).dtype == torch.bfloat16


def _class_attributes() -> dict[tuple[type, str], object]:
    """Every attribute of every class defined in the imported transformers modules, and nn.Module's."""
    classes = [nn.Module]
    for name, module in list(sys.modules.items()):
        if name.startswith("transformers."):
            # vars(), not getattr: the lazy modules of transformers import on attribute access
            classes += [
                value for value in vars(module).values() if isinstance(value, type) and value.__module__ == name
            ]
    return {(cls, attribute): value for cls in classes for attribute, value in vars(cls).items()}


@torch.no_grad()
def test_no_transformers_class_is_changed(saved: dict[str, Path]) -> None:
    for path in saved.values():  # import every family's modules before the snapshot
        _reference(path)
    before = _class_attributes()
    llama_layer_forward = transformers.models.llama.modeling_llama.LlamaDecoderLayer.forward

    for path in saved.values():
        lm = HuggingFaceLM(path)
        lm(lm.embed(_ids(1, 3)), before_layer=lambda index, hidden: hidden)

    after = _class_attributes()
    assert after.keys() == before.keys()
    assert [key for key, value in before.items() if after[key] is not value] == []
    assert transformers.models.llama.modeling_llama.LlamaDecoderLayer.forward is llama_layer_forward
    assert type(HuggingFaceLM(saved["llama"]).layers[0]) is transformers.models.llama.modeling_llama.LlamaDecoderLayer


@pytest.mark.parametrize("name", ["does-not-exist", "meta-llama/Llama-2-7b-hf"])
def test_missing_path_is_reported_without_a_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=name):
        HuggingFaceLM(name)


def test_unknown_architecture_lists_the_supported_ones(tmp_path: Path) -> None:
    config = transformers.BloomConfig(vocab_size=VOCAB, hidden_size=WIDTH, n_layer=2, n_head=4)
    with pytest.raises(ValueError, match=r"'bloom'.*supported: llama, mistral"):
        HuggingFaceLM(_save(config, tmp_path / "bloom"))
    with pytest.raises(ValueError, match="'Module'"):
        _family(nn.Module())


def test_hooked_layer_passes_keyword_hidden_states_and_other_arguments_unchanged() -> None:
    class Layer(nn.Module):
        def forward(self, hidden_states: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
            return hidden_states * scale

    slot = _HookSlot()
    wrapper = _HookedLayer(Layer(), 3, slot)
    hidden = torch.ones(1, 2, 4)
    assert torch.equal(wrapper(hidden_states=hidden, scale=2.0), hidden * 2)
    slot.current_hook = lambda index, states: states + index
    assert torch.equal(wrapper(hidden_states=hidden, scale=2.0), (hidden + 3) * 2)
    assert torch.equal(wrapper(hidden, 2.0), (hidden + 3) * 2)


def test_flamingo_reads_a_frozen_lm_in_its_dtype_not_float32_first(saved: dict[str, Path]) -> None:
    config = FlamingoConfig(
        vision=VisionConfig(tower=TINY_TOWER),
        language=LanguageConfig(hf_path=str(saved["llama"]), frozen_dtype="bfloat16"),
    )
    lm = build_flamingo(config).lm
    assert {p.dtype for p in lm.parameters()} == {torch.bfloat16}
    assert lm.model.config.dtype == torch.bfloat16  # loaded so: a float32 model cast afterwards still says float32


@torch.no_grad()
def test_a_selected_cache_continues_the_selected_rows(family: Path) -> None:
    lm = HuggingFaceLM(family).eval()
    ids = _ids(2, 6, seed=5)
    _, cache = lm(lm.embed(ids[:, :5]), use_cache=True)
    swapped = lm.select_cache(cache, torch.tensor([1, 1]))  # beam search: both beams continue row 1
    hidden, _ = lm(lm.embed(ids[1:, 5:].expand(2, 1)), past_key_values=swapped, use_cache=True)
    expected = _logits(lm, ids[1:])[0, -1]
    for row in range(2):
        torch.testing.assert_close(lm.logits(hidden)[row, -1], expected, rtol=0, atol=ATOL)
