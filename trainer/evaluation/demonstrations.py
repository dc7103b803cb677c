"""Which support examples become a query's in-context demonstrations: drawn at random, or by RICES
(Retrieval-based In-Context Example Selection, Yang et al. 2022, as Flamingo's appendix uses it): the
support examples whose image features are most similar to the query's, the most similar placed last,
next to the query."""

from __future__ import annotations

import numpy as np


def random_demonstrations(queries: int, support: int, shots: int, seed: int = 0) -> np.ndarray:
    """-> [queries, shots] support indices, distinct within a row."""
    if shots > support:
        raise ValueError(f"{shots} shots need at least as many support examples; there are {support}")
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(support, shots, replace=False) for _ in range(queries)]).reshape(queries, shots)


def rices_demonstrations(query_features: np.ndarray, support_features: np.ndarray, shots: int) -> np.ndarray:
    """-> [queries, shots] support indices by cosine similarity of the features, least similar first."""
    if shots > len(support_features):
        raise ValueError(f"{shots} shots need at least as many support examples; there are {len(support_features)}")
    queries = _unit(np.asarray(query_features, dtype=np.float32))
    support = _unit(np.asarray(support_features, dtype=np.float32))
    similarity = queries @ support.T
    best = np.argsort(-similarity, axis=1, kind="stable")[:, :shots]
    return best[:, ::-1].copy()  # the most similar last, nearest the query


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
