"""Near-duplicate documents by MinHash LSH (datasketch's MinHash), and paragraph keys for the
per-domain boilerplate rule. No Beam here: `pipelines/m3w/cross_page.py` spreads the work.

Defaults follow Gopher's MassiveWeb deduplication (Rae et al. 2021, appendix A.1): documents whose
13-word shingles have a Jaccard similarity of 0.8 or more are near duplicates. The signature has
`permutations` hash values, cut into `bands` bands of `rows` values: two documents become
candidates when one band is equal, and a candidate pair is a duplicate when its estimated Jaccard
similarity reaches the threshold. Bands default to datasketch's optimum for the threshold.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass

import numpy as np

_WORDS = re.compile(r"\w+")
SEED = 1


@dataclass(frozen=True)
class NearDuplicateRules:
    threshold: float = 0.8  # Jaccard similarity; 0: off
    shingle_words: int = 13
    permutations: int = 128
    bands: int | None = None  # None: datasketch's optimum for the threshold

    def banding(self) -> tuple[int, int]:
        """(bands, rows per band)."""
        if self.bands is not None:
            return self.bands, self.permutations // self.bands
        return _optimal_banding(self.threshold, self.permutations)


@functools.cache
def _optimal_banding(threshold: float, permutations: int) -> tuple[int, int]:
    """datasketch's optimum integrates the false positive and negative rates: 15 ms, once per setting,
    not once per document."""
    from datasketch import MinHashLSH  # imports scipy: 0.6 s that every `curate --help` would pay

    lsh = MinHashLSH(threshold=threshold, num_perm=permutations)
    return lsh.b, lsh.r


def signature(text: str, rules: NearDuplicateRules) -> np.ndarray:
    """The MinHash of the text's word shingles (the whole text when it is shorter than one)."""
    from datasketch import MinHash  # see banding()

    words = _WORDS.findall(text.lower())
    size = rules.shingle_words
    shingles = {" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))}
    minhash = MinHash(num_perm=rules.permutations, seed=SEED)
    minhash.update_batch([shingle.encode("utf-8") for shingle in shingles])
    return minhash.hashvalues


def band_keys(values: np.ndarray, rules: NearDuplicateRules) -> list[tuple[int, str]]:
    """One key per band: documents sharing any key are candidates."""
    bands, rows = rules.banding()
    return [
        (band, hashlib.blake2b(values[band * rows : (band + 1) * rows].tobytes(), digest_size=12).hexdigest())
        for band in range(bands)
    ]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The estimated Jaccard similarity of two signatures."""
    return float(np.count_nonzero(a == b)) / len(a)


def paragraph_key(text: str) -> str:
    """Paragraphs that differ only in case, spacing and punctuation have one key."""
    normalised = " ".join(_WORDS.findall(text.lower()))
    return hashlib.blake2b(normalised.encode("utf-8"), digest_size=12).hexdigest()
