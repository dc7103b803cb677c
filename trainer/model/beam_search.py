"""Beam search for Flamingo, as the paper evaluates open-ended tasks (3 beams).

Each prompt keeps `beams` hypotheses. Its visual tokens are computed once and shared by its beams;
the LM's cache follows the beams as they are reordered. A hypothesis that emits `<EOC>` is finished:
it keeps its score and its place (it can only be followed by `<EOC>`, at no cost) until better ones
push it out. The answer is the hypothesis with the best log-probability divided by its length to
the power `length_penalty` (1: the mean log-probability per token; 0: the plain sum). Prompts of
different lengths are left-padded with an `attention_mask`, as for greedy decoding.
"""

from __future__ import annotations

import torch

from trainer.model.flamingo import Flamingo


@torch.no_grad()
def beam_search(
    model: Flamingo,
    input_ids: torch.Tensor,
    images: torch.Tensor | None = None,
    media_mask: torch.Tensor | None = None,
    attention_mask: torch.Tensor | None = None,
    beams: int = 3,
    max_new_tokens: int = 20,
    length_penalty: float = 1.0,
) -> torch.Tensor:
    """-> the best hypothesis of each prompt, [B, <= max_new_tokens], `<EOC>` after its end."""
    batch = input_ids.shape[0]
    visual = model.encode_media(images, media_mask) if images is not None else None
    expand = lambda tensor: None if tensor is None else tensor.repeat_interleave(beams, dim=0)  # noqa: E731
    media_mask, attention_mask = expand(media_mask), expand(attention_mask)
    out = model.forward(
        expand(input_ids), media_mask=media_mask, visual=expand(visual), attention_mask=attention_mask, use_cache=True
    )
    visual = out.visual
    images_before = expand((input_ids == model.image_id).sum(dim=1))
    scores = torch.full((batch, beams), float("-inf"), device=input_ids.device)
    scores[:, 0] = 0.0  # the beams start identical: only the first one may expand at the first step
    lengths = torch.zeros(batch, beams, device=input_ids.device)
    finished = torch.zeros(batch, beams, dtype=torch.bool, device=input_ids.device)
    tokens = input_ids.new_zeros(batch, beams, 0)
    for _ in range(max_new_tokens):
        log_probs = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
        log_probs[:, model.image_id] = float("-inf")
        vocabulary = log_probs.shape[-1]
        log_probs = log_probs.view(batch, beams, vocabulary)
        done = torch.full_like(log_probs[0, 0], float("-inf"))
        done[model.eoc_id] = 0.0  # a finished hypothesis continues with <EOC>, free
        log_probs = torch.where(finished.unsqueeze(-1), done, log_probs)
        candidates = (scores.unsqueeze(-1) + log_probs).view(batch, beams * vocabulary)
        scores, chosen = candidates.topk(beams, dim=-1)
        origin, token = chosen // vocabulary, chosen % vocabulary
        rows = (origin + torch.arange(batch, device=origin.device).unsqueeze(1) * beams).view(-1)
        was_finished = finished.gather(1, origin)
        lengths = lengths.gather(1, origin) + (~was_finished).float()
        finished = was_finished | (token == model.eoc_id)
        tokens = torch.cat(
            [tokens.gather(1, origin.unsqueeze(-1).expand(-1, -1, tokens.shape[-1])), token.unsqueeze(-1)], -1
        )
        if bool(finished.all()):
            break
        if attention_mask is not None:  # the rows of one prompt share its padding: only the cache moves
            attention_mask = torch.cat([attention_mask, attention_mask.new_ones(len(rows), 1)], dim=1)
        out = model.forward(
            token.view(-1, 1),
            media_mask=media_mask,
            visual=visual,
            attention_mask=attention_mask,
            past_key_values=model.lm.select_cache(out.past_key_values, rows),
            use_cache=True,
            images_before=images_before,
        )
    normalized = scores / lengths.clamp(min=1.0) ** length_penalty
    best = normalized.argmax(dim=-1)
    return tokens[torch.arange(batch, device=best.device), best]
