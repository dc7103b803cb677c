"""CIDEr-D for captioning, as the COCO caption evaluation computes it.

Captions are tokenised as COCO's PTB tokenizer leaves them (lower case, clitics split off, the
punctuation it removes removed), in Python: the reference tokenizer needs Java. The scorer is
pycocoevalcap's `Cider` (CIDEr-D: TF-IDF weighted n-grams 1-4 with document frequencies from the
evaluated set's references, a Gaussian length penalty, clipped counts, x10).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pycocoevalcap.cider.cider import Cider

# what COCO's PTBTokenizer drops after tokenising
_REMOVED = {"''", "'", "``", "`", "-lrb-", "-rrb-", "-lcb-", "-rcb-", ".", "?", "!", ",", ":", "-", "--", "...", ";"}
_CLITICS = re.compile(r"(?i)(\w)('s|'re|'ve|'ll|'d|'m|n't)\b")
_TOKENS = re.compile(r"\.\.\.|--|n't|'\w*|\w+(?:[-./]\w+)*|[^\w\s]")


def coco_tokens(caption: str) -> list[str]:
    text = _CLITICS.sub(r"\1 \2", caption.lower().replace("\n", " "))
    return [token for token in _TOKENS.findall(text) if token not in _REMOVED]


def cider_d(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    """The corpus CIDEr-D of the predictions (one per image) against their reference captions."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} captions for {len(references)} images")
    if not predictions:
        raise ValueError("CIDEr needs at least one image")
    tokenised = {i: [" ".join(coco_tokens(p))] for i, p in enumerate(predictions)}
    gold = {i: [" ".join(coco_tokens(r)) for r in refs] for i, refs in enumerate(references)}
    score, _ = Cider().compute_score(gold, tokenised)
    return float(score)
