"""Vector store: a Chroma collection fed with our own embeddings — embedded on disk (PersistentClient, the
default) or on a Chroma server (`chroma run`) through HttpClient when a URL is given (JIXIAO_CHROMA_URL)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from jixiao.errors import ConfigError
from jixiao.retrieval.chunks import Chunk
from jixiao.retrieval.embed import Embedder

COLLECTION = "jixiao_chunks"
REBUILD_HINT = "re-index with `jixiao index --rebuild`"


class _ChromaEF:
    """Chroma-facing embedding function so Chroma never falls back to its downloading default."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __call__(self, input: list[str]) -> list[np.ndarray]:
        if self._embedder is None:
            raise ConfigError(f"no embedder bound to this collection; {REBUILD_HINT}")
        return list(self._embedder.embed_passages(list(input)))

    def embed_query(self, input: list[str]) -> list[np.ndarray]:
        return [self._embedder.embed_query(t) for t in input]

    ef_name = "jixiao"

    @classmethod
    def name(cls) -> str:
        return cls.ef_name

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self._embedder.name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "_ChromaEF":
        # Chroma rebuilds persisted functions on get(); ours is always passed in, so hand back an
        # unbound one that refuses to embed (it is never called: we pass embeddings explicitly).
        return _ChromaEF(None)  # type: ignore[arg-type]

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def validate_config(self, config: dict[str, Any]) -> None:
        return None

    def validate_config_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        return None


class VectorStore:
    def __init__(self, path: str | Path, embedder: Embedder, collection: str = COLLECTION,
                 url: str | None = None) -> None:
        self.path, self.embedder, self.collection_name = Path(path), embedder, collection
        self.url = url or None
        self._client = None
        self._col = None

    @property
    def where(self) -> str:
        """Where the vectors live, for messages: the server URL or the folder."""
        return self.url or str(self.path)

    def _http_client(self, settings):
        import chromadb
        from urllib.parse import urlsplit

        parts = urlsplit(self.url if "://" in self.url else f"http://{self.url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"JIXIAO_CHROMA_URL={self.url!r} is not an http(s) URL; e.g. http://127.0.0.1:8100")
        ssl = parts.scheme == "https"
        try:
            return chromadb.HttpClient(host=parts.hostname, port=parts.port or (443 if ssl else 80), ssl=ssl,
                                       settings=settings)
        except Exception as exc:  # connection refused, wrong server
            raise ConfigError(f"cannot reach the Chroma server at JIXIAO_CHROMA_URL={self.url!r} ({exc}); "
                              "start it with `chroma run --path <dir> --port <port>` or unset the variable") from exc

    def reopen(self) -> None:
        """Read again what another process wrote: the next use opens the collection afresh.

        A Chroma server serves every client the current data. The embedded store does not see another
        process's writes through a client it already has (its in-process system caches segments), so the
        cached system for this folder is dropped and a new client is made; another client on this folder in
        this process must not be in use meanwhile (indexing jobs make their own and finish first)."""
        self._col = None
        if self.url or self._client is None:
            return
        from chromadb.api.shared_system_client import SharedSystemClient

        identifier = getattr(self._client, "_identifier", None)
        SharedSystemClient._identifier_to_system.pop(identifier, None)
        SharedSystemClient._identifier_to_refcount.pop(identifier, None)
        self._client = None

    def _client_(self):
        if self._client is None:
            import warnings

            import chromadb
            from chromadb.config import Settings as ChromaSettings

            # Chroma tries to rebuild our (always passed-in) function when reading results; harmless.
            warnings.filterwarnings("ignore", message="Could not reconstruct embedding function jixiao-")

            settings = ChromaSettings(anonymized_telemetry=False)
            if self.url:
                self._client = self._http_client(settings)
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(self.path), settings=settings)
        return self._client

    def open(self) -> "VectorStore":
        if self._col is not None:
            return self
        client = self._client_()
        names = {getattr(c, "name", c) for c in client.list_collections()}
        # a subclass per embedder: Chroma calls name() on the class and stores it in the collection
        ef_cls = type("_ChromaEF", (_ChromaEF,), {"ef_name": f"jixiao-{self.embedder.name}"})
        ef = ef_cls(self.embedder)
        if self.collection_name in names:
            try:
                col = client.get_collection(self.collection_name, embedding_function=ef)
            except (ValueError, ConfigError) as exc:
                raise ConfigError(f"vector index at {self.where!r} was built with another embedder "
                                  f"(current: {self.embedder.name!r}); {REBUILD_HINT}. ({exc})") from exc
            built_with = (col.metadata or {}).get("embedder")
            if built_with != self.embedder.name:
                raise ConfigError(f"vector index at {self.where!r} was built with embedder {built_with!r}, "
                                  f"but the current embedder is {self.embedder.name!r}; {REBUILD_HINT}")
        else:
            col = client.create_collection(self.collection_name, embedding_function=ef,
                                           metadata={"embedder": self.embedder.name, "dim": self.embedder.dim,
                                                     "hnsw:space": "cosine"})
        self._col = col
        return self

    def drop(self) -> None:
        client = self._client_()
        names = {getattr(c, "name", c) for c in client.list_collections()}
        if self.collection_name in names:
            client.delete_collection(self.collection_name)
        self._col = None

    def ids(self) -> set[str]:
        return set(self.open()._col.get(include=[])["ids"])

    def count(self) -> int:
        return self.open()._col.count()

    def add(self, chunks: list[Chunk], batch: int = 32, progress=None) -> int:
        """Embed and add chunks (the caller passes only new ones); returns how many were added.

        `progress(done, total)` is called after each batch."""
        col = self.open()._col
        for i in range(0, len(chunks), batch):
            part = chunks[i:i + batch]
            vectors = self.embedder.embed_passages([c.text for c in part])
            col.add(ids=[c.id for c in part], embeddings=[v.tolist() for v in vectors],
                    documents=[c.text for c in part], metadatas=[_scalar_meta(c.metadata) for c in part])
            if progress is not None:
                progress(min(i + batch, len(chunks)), len(chunks))
        return len(chunks)

    def put(self, ids: list[str], vectors, documents: list[str], metadatas: list[dict]) -> None:
        """Add entries whose vectors the caller computed (card questions, embedded as queries)."""
        if ids:
            self.open()._col.add(ids=list(ids), embeddings=[np.asarray(v, dtype=np.float32).tolist() for v in vectors],
                                 documents=list(documents), metadatas=[_scalar_meta(m) for m in metadatas])

    def vectors(self) -> tuple[list[str], np.ndarray]:
        """Every stored id and its vector, (n, dim) float32."""
        res = self.open()._col.get(include=["embeddings"])
        emb = res.get("embeddings")
        if emb is None or len(res["ids"]) == 0:
            return [], np.zeros((0, self.embedder.dim), dtype=np.float32)
        return list(res["ids"]), np.asarray(emb, dtype=np.float32)

    def delete(self, ids: list[str]) -> None:
        if ids:
            self.open()._col.delete(ids=list(ids))

    def query(self, vector: np.ndarray, n: int, where: dict | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) best first."""
        col = self.open()._col
        total = col.count()
        if not total:
            return []
        res = col.query(query_embeddings=[np.asarray(vector, dtype=np.float32).tolist()],
                        n_results=min(n, total), where=where or None, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0])]


def _scalar_meta(meta: dict) -> dict:
    return {k: (v if isinstance(v, (str, int, float, bool)) else str(v)) for k, v in meta.items() if v is not None}
