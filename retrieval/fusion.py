"""Score fusion: per-signal scores over the allowed chunks → one ranking.

Measured on eval/golden/retrieval.yaml (docs/retrieval.md): weighted min-max beats reciprocal-rank
fusion at every k tried, so min-max is the default and RRF stays selectable for the comparison.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FUSIONS = ("minmax", "rrf")


@dataclass(frozen=True)
class Signals:
    """Raw scores of one query, aligned with `rows` (positions of the allowed chunks in the index)."""
    rows: np.ndarray
    dense: np.ndarray        # cosine similarity
    words: np.ndarray        # BM25 over jieba words
    pinyin: np.ndarray       # BM25 over sound-alike bigrams (retrieval/pinyin.py)
    prior: np.ndarray        # additive jurisdiction prior (0 for most chunks)


@dataclass(frozen=True)
class Fused:
    rows: np.ndarray         # best first
    score: np.ndarray
    dense: np.ndarray        # min-max dense part, for display
    sparse: np.ndarray       # min-max keyword part (words and pinyin mixed), for display
    # Raw per-query signals in the same (fused) order; they do not take part in the ranking.
    dense_raw: np.ndarray | None = None   # cosine similarity
    words_raw: np.ndarray | None = None   # word BM25 score
    dense_rank: np.ndarray | None = None  # 1-based rank by dense alone among the allowed chunks
    words_rank: np.ndarray | None = None  # 1-based rank by word BM25 alone
    agree: bool = False                   # dense and word-BM25 rank the same chunk first
    dense_base: float = 0.0               # median cosine over the allowed chunks: this query's baseline


def minmax(values: np.ndarray) -> np.ndarray:
    if values.size == 0:
        return values.astype(np.float64)
    lo, hi = float(values.min()), float(values.max())
    return np.zeros_like(values, dtype=np.float64) if hi - lo < 1e-12 else (values - lo) / (hi - lo)


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based rank of each value, ties broken by position (stable)."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.arange(1, len(values) + 1)
    return ranks


def fuse(sig: Signals, method: str = "minmax", dense_weight: float = 0.5, pinyin_weight: float = 0.5,
         rrf_k: int = 60) -> Fused:
    """Keyword score = (1-p)·words + p·pinyin; fused = w·dense + (1-w)·keyword + jurisdiction prior.

    minmax: each signal scaled to [0, 1] over the allowed chunks before weighting.
    rrf:    each signal replaced by 1/(rrf_k + rank) before the same weighting.
    """
    if method == "minmax":
        scale = minmax
    elif method == "rrf":
        def scale(v: np.ndarray) -> np.ndarray:
            return 1.0 / (rrf_k + _ranks(v))
    else:
        raise ValueError(f"unknown fusion {method!r}; valid: {list(FUSIONS)}")
    d = scale(sig.dense)
    s = (1 - pinyin_weight) * scale(sig.words) + pinyin_weight * scale(sig.pinyin)
    fused = dense_weight * d + (1 - dense_weight) * s
    if method == "minmax":
        fused = fused + sig.prior
    else:   # RRF scores are ~1/60: the prior is applied as a rank-equivalent nudge
        fused = fused + sig.prior * (1.0 / rrf_k)
    order = np.argsort(-fused, kind="stable")
    dense_rank, words_rank = _ranks(sig.dense), _ranks(sig.words)
    agree = bool(len(order)) and int(np.argmin(dense_rank)) == int(np.argmin(words_rank))
    return Fused(sig.rows[order], fused[order], d[order], s[order], sig.dense[order], sig.words[order],
                 dense_rank[order].astype(np.int64), words_rank[order].astype(np.int64), agree,
                 float(np.median(sig.dense)) if len(sig.dense) else 0.0)


def jurisdiction_prior(query: str, jurisdictions: list[str], region: str, penalty: float,
                       boost: float) -> np.ndarray:
    """Additive prior per chunk from where its document applies.

    A question that names a jurisdiction of the corpus (聊城, 开封, …) lifts that jurisdiction's chunks
    by `boost`; a question that names none is about the deployment's region, so chunks of other
    jurisdictions lose `penalty` (soft: a clearly better match elsewhere still wins).
    """
    juris = np.array(jurisdictions, dtype=object)
    named = sorted({j for j in set(jurisdictions) if j and j != region and j in query})
    if named:
        return boost * np.isin(juris, named).astype(np.float64)
    return -penalty * (juris != region).astype(np.float64)
