"""Language identification with py3langid, whose model ships inside the package (nothing is downloaded).

The identifier is built once per process (about 0.7 s: the model is decompressed from the wheel) and
shared; each call then costs about 0.1-0.5 ms for a few hundred characters. The probability is
py3langid's normalised one (`norm_probs=True`): a softmax over its ~100 languages, in [0, 1].
"""

from __future__ import annotations

import functools
import re

from py3langid.langid import MODEL_FILE, LanguageIdentifier

# Text with no letter at all (numbers, punctuation, emoji) has no language: py3langid would answer
# with a near-uniform guess.
_LETTER = re.compile(r"[^\W\d_]")


@functools.cache
def language_identifier() -> LanguageIdentifier:
    """The process-wide py3langid identifier, with normalised probabilities."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def identify_language(text: str) -> tuple[str, float]:
    """(ISO 639-1 code such as "en", "de", "zh"; probability in [0, 1]); ("", 0.0) for text with no letters."""
    if not _LETTER.search(text):
        return "", 0.0
    language, probability = language_identifier().classify(text)
    return language, float(probability)
