"""Which support examples become a query's in-context demonstrations: drawn at random, or by RICES
(Retrieval-based In-Context Example Selection, Yang et al. 2022, as Flamingo's appendix uses it): the
support examples whose image features are most similar to the query's, the most similar placed last,
next to the query. `excluded[q]` lists support indices query q must not see (its own image, when
queries and support come from one split; support media that failed to decode)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np


def random_demonstrations(
    queries: int, support: int, shots: int, seed: int = 0, excluded: Sequence[Collection[int]] | None = None
) -> np.ndarray:
    """-> [queries, shots] support indices, distinct within a row; row q depends only on (seed, q)."""
    rows = []
    for q in range(queries):
        allowed = _allowed(support, excluded[q] if excluded else ())
        if shots > len(allowed):
            raise ValueError(f"{shots} shots need at least as many support examples; there are {len(allowed)}")
        rows.append(np.random.default_rng([seed, q]).choice(allowed, shots, replace=False))
    return np.array(rows, dtype=np.int64).reshape(queries, shots)


def rices_demonstrations(
    query_features: np.ndarray,
    support_features: np.ndarray,
    shots: int,
    excluded: Sequence[Collection[int]] | None = None,
) -> np.ndarray:
    """-> [queries, shots] support indices by cosine similarity of the features, least similar first."""
    queries = _unit(np.asarray(query_features, dtype=np.float32))
    support = _unit(np.asarray(support_features, dtype=np.float32))
    similarity = queries @ support.T
    for q, indices in enumerate(excluded or ()):
        similarity[q, list(indices)] = -np.inf
    available = int(np.isfinite(similarity).sum(axis=1).min()) if len(similarity) else len(support)
    if shots > available:
        raise ValueError(f"{shots} shots need at least as many support examples; there are {available}")
    best = np.argsort(-similarity, axis=1, kind="stable")[:, :shots]
    return best[:, ::-1].copy()  # the most similar last, nearest the query


def _allowed(support: int, excluded: Collection[int]) -> np.ndarray:
    if not excluded:
        return np.arange(support)
    return np.setdiff1d(np.arange(support), np.fromiter(excluded, dtype=np.int64))


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
