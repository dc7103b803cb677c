"""What the Flamingo model needs from a language model, whichever it is (the built-in decoder or a
Hugging Face causal LM from a local path):

- `embed(input_ids)`: the frozen token embeddings of the original vocabulary;
- `forward(inputs_embeds, attention_mask, past_key_values, use_cache, before_layer)`: the decoder
  stack, calling `before_layer(i, hidden)` before decoder layer i and using what it returns (this is
  where Flamingo's gated cross-attention goes in); returns the final hidden states, after the final
  norm, and the new cache;
- `logits(hidden)`: the frozen output head over the original vocabulary;
- `select_cache(cache, rows)`: the cache of the given batch rows, in that order (beam search);
- `layers`: the decoder layers, listed explicitly, in order.

The two special tokens Flamingo adds (`<image>`, `<EOC>`) live outside the LM, in `AddedTokens`:
the only trainable parameters on the language side, so the frozen tables never need a gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import torch
from torch import nn

BeforeLayer = Callable[[int, torch.Tensor], torch.Tensor]


class LanguageModel(Protocol):
    hidden_size: int
    vocab_size: int  # of the original vocabulary, without the added tokens
    layers: nn.ModuleList

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor: ...

    def forward(
        self,
        inputs_embeds: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        past_key_values: Any = None,
        use_cache: bool = False,
        before_layer: BeforeLayer | None = None,
    ) -> tuple[torch.Tensor, Any]: ...

    def logits(self, hidden: torch.Tensor) -> torch.Tensor: ...

    def select_cache(self, cache: Any, rows: torch.Tensor) -> Any: ...


class AddedTokens(nn.Module):
    """Embeddings (and optionally output rows) of tokens appended after the LM's vocabulary."""

    def __init__(self, count: int, hidden_size: int, train_output_rows: bool = False, init_std: float = 0.02) -> None:
        super().__init__()
        self.count = count
        self.embeddings = nn.Parameter(torch.randn(count, hidden_size) * init_std)
        self.output_rows = nn.Parameter(torch.zeros(count, hidden_size)) if train_output_rows else None

    def embed(self, input_ids: torch.Tensor, lm: LanguageModel) -> torch.Tensor:
        added = input_ids >= lm.vocab_size
        base = lm.embed(input_ids.masked_fill(added, 0))
        extra = self.embeddings.to(base.dtype)[(input_ids - lm.vocab_size).clamp(min=0)]
        return torch.where(added.unsqueeze(-1), extra, base)

    def logits(self, hidden: torch.Tensor, lm: LanguageModel) -> torch.Tensor:
        """Scores over vocabulary + added tokens; without trained output rows the added tokens score
        by their input embeddings (tied), so the model can still emit `<EOC>`."""
        rows = self.output_rows if self.output_rows is not None else self.embeddings
        return torch.cat([lm.logits(hidden), hidden @ rows.to(hidden.dtype).T], dim=-1)
