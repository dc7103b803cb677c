"""Language identification with py3langid, whose model ships inside the package (no download)."""

from __future__ import annotations

import functools

from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier


@functools.cache
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def identify_language(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability in [0, 1]); ("", 0.0) for text with no letters."""
    if not any(ch.isalpha() for ch in text):
        return "", 0.0
    language, probability = _identifier().classify(text)
    return language, float(probability)
