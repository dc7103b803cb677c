"""A Hugging Face causal LM from a local folder, frozen, behind the `LanguageModel` protocol.

Wrapped by composition: the model's own forward runs unchanged; each decoder layer in the model's
layer list is put inside a `_HookedLayer`, which calls the current `before_layer` on the hidden states
and then the original layer. No class or method of transformers is replaced.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import AutoModelForCausalLM, PreTrainedModel

from trainer.model.language import BeforeLayer


@dataclass(frozen=True)
class _Family:
    layers: str  # attribute path, from the causal LM, of the decoder layers' ModuleList
    final_norm: str


_LLAMA_STYLE = _Family(layers="model.layers", final_norm="model.norm")
_TRANSFORMER_H = _Family(layers="transformer.h", final_norm="transformer.ln_f")

# Keyed by `config.model_type`.
_FAMILIES: dict[str, _Family] = {
    "llama": _LLAMA_STYLE,
    "mistral": _LLAMA_STYLE,
    "qwen2": _LLAMA_STYLE,
    "qwen3": _LLAMA_STYLE,
    "gemma": _LLAMA_STYLE,
    "gemma2": _LLAMA_STYLE,
    "gemma3_text": _LLAMA_STYLE,
    "gpt_neox": _Family(layers="gpt_neox.layers", final_norm="gpt_neox.final_layer_norm"),
    "opt": _Family(layers="model.decoder.layers", final_norm="model.decoder.final_layer_norm"),
    "mpt": _Family(layers="transformer.blocks", final_norm="transformer.norm_f"),
    "gpt2": _TRANSFORMER_H,
    "gptj": _TRANSFORMER_H,
    "falcon": _TRANSFORMER_H,
}


class _HookSlot:
    """The `before_layer` of the call in progress, shared by the wrappers of one model."""

    def __init__(self) -> None:
        self.current_hook: BeforeLayer | None = None


class _HookedLayer(nn.Module):
    """Sits in the model's own layer list in place of decoder layer `index`."""

    def __init__(self, layer: nn.Module, index: int, owner: _HookSlot) -> None:
        super().__init__()
        self.layer = layer
        self.index = index
        self.owner = owner

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        hook = self.owner.current_hook
        if hook is not None:
            if args:
                args = (hook(self.index, args[0]), *args[1:])
            else:
                kwargs["hidden_states"] = hook(self.index, kwargs["hidden_states"])
        return self.layer(*args, **kwargs)


def _attribute(root: nn.Module, path: str) -> Any:
    value: Any = root
    for name in path.split("."):
        value = getattr(value, name)
    return value


def _family(model: nn.Module) -> _Family:
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if model_type not in _FAMILIES:
        name = model_type or type(model).__name__
        raise ValueError(f"unsupported language model architecture {name!r}; supported: {', '.join(_FAMILIES)}")
    return _FAMILIES[model_type]


def _load_local(path: str | os.PathLike[str], dtype: torch.dtype | None) -> PreTrainedModel:
    if not Path(path).is_dir():
        raise FileNotFoundError(f"language model folder not found: {path}")
    # transformers 5 names the option `dtype` (`torch_dtype` is deprecated there).
    return AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=dtype)


def _position_ids(attention_mask: torch.Tensor, new_tokens: int) -> torch.Tensor:
    """Positions counted over real tokens only, so a left-padded sequence gets the positions it would
    have unpadded (absolute position embeddings such as GPT-2's depend on it)."""
    positions = attention_mask.long().cumsum(-1) - 1
    return positions.clamp(min=0)[:, -new_tokens:]


class HuggingFaceLM(nn.Module):
    """A frozen Hugging Face causal LM loaded from `path` (never downloaded), as a `LanguageModel`."""

    def __init__(self, path: str | os.PathLike[str], dtype: torch.dtype | None = None) -> None:
        super().__init__()
        model = _load_local(path, dtype)
        self._family = _family(model)
        self.hidden_size: int = model.config.hidden_size
        self.vocab_size: int = model.get_output_embeddings().weight.shape[0]
        embedding_width = model.get_input_embeddings().weight.shape[1]
        if embedding_width != self.hidden_size:
            raise ValueError(
                f"{path}: embeddings of width {embedding_width} are projected to the decoder's {self.hidden_size} "
                "(e.g. OPT-350m); unsupported"
            )
        model.requires_grad_(False)
        self.model = model
        self._slot = _HookSlot()
        decoder_layers = _attribute(model, self._family.layers)
        for index, layer in enumerate(decoder_layers):
            decoder_layers[index] = _HookedLayer(layer, index, self._slot)

    @property
    def layers(self) -> nn.ModuleList:
        """The original decoder layers, in order (built on access so they are not registered twice)."""
        return nn.ModuleList(hooked.layer for hooked in _attribute(self.model, self._family.layers))

    @property
    def final_norm(self) -> nn.Module | None:
        return _attribute(self.model, self._family.final_norm)

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model.get_input_embeddings()(input_ids)

    def forward(
        self,
        inputs_embeds: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        past_key_values: Any = None,
        use_cache: bool = False,
        before_layer: BeforeLayer | None = None,
    ) -> tuple[torch.Tensor, Any]:
        """`attention_mask` covers the cached tokens and the new ones (1 = real token), as in Hugging Face."""
        position_ids = None if attention_mask is None else _position_ids(attention_mask, inputs_embeds.shape[1])
        self._slot.current_hook = before_layer
        try:
            output = self.model.base_model(
                inputs_embeds=inputs_embeds,
                attention_mask=attention_mask,
                position_ids=position_ids,
                past_key_values=past_key_values,
                use_cache=use_cache,
            )
        finally:
            self._slot.current_hook = None
        return output.last_hidden_state, output.past_key_values

    def select_cache(self, cache: Any, rows: torch.Tensor) -> Any:
        cache.reorder_cache(rows)  # a transformers Cache reorders its layers in place
        return cache

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        logits = self.model.get_output_embeddings()(hidden)
        cap = getattr(self.model.config, "final_logit_softcapping", None)
        if cap is not None:  # Gemma 2/3 squash their logits in the causal LM's forward
            logits = torch.tanh(logits / cap) * cap
        return logits
