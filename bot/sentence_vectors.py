"""Vectors of the quotable sentences, for picking which sentence of a retrieved clause answers the question.

`jixiao index` embeds every quotable sentence of every chunk once (`build`, about 30 ms a sentence on this machine's
CPU) into `<data_dir>/retrieval/sentences.npz`; at run time the file is only read (`SentenceVectors.open`), so every
worker sees the same vectors and a turn embeds nothing but the question. Without the file (an index built by an older
version, or a test's own index) sentences are picked by their words alone.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

FILE = "sentences.npz"


def vectors_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / "retrieval" / FILE


def quotable(records) -> list[str]:
    """The sentences `passages.best_sentences` can quote, over the chunk records of the keyword index."""
    from jixiao.bot.passages import body, unit_sentences

    out: dict[str, None] = {}
    for rec in records:
        for x in unit_sentences(body(rec.get("text") or "")):
            if 4 <= len(x) <= 300:
                out[x] = None
    return list(out)


def build(retriever, progress=None) -> int:
    """Embed the sentences the file lacks (all of them the first time) and drop those no chunk holds any more;
    written to a temporary file and renamed, so a reader never sees half a file. Returns the sentence count."""
    path = vectors_path(retriever.config.data_dir)
    wanted = quotable(retriever._load_bm25().records)
    known = SentenceVectors.open(path)
    have = known.vectors if known is not None and known.model == _model(retriever) else {}  # another model: all anew
    todo = [x for x in wanted if x not in have]
    fresh = {}
    for i in range(0, len(todo), 64):
        part = todo[i:i + 64]
        fresh.update(zip(part, retriever.embedder.embed_passages(part)))
        if progress:
            progress(min(i + 64, len(todo)), len(todo))
    texts = [x for x in wanted if x in have or x in fresh]
    matrix = np.stack([fresh.get(x, have.get(x)) for x in texts]).astype(np.float32) if texts else \
        np.zeros((0, retriever.embedder.dim), dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".sentences-", suffix=".npz", dir=path.parent)
    os.close(fd)
    try:
        np.savez(tmp, texts=np.array(texts, dtype=object), vectors=matrix, model=np.array(_model(retriever)))
        os.chmod(tmp, 0o644)  # readable like the rest of the index (mkstemp makes it owner-only)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return len(texts)


def _model(retriever) -> str:
    cfg = retriever.config
    return f"{cfg.embedder}:{cfg.embedder_model}"


class SentenceVectors:
    """The sentence → vector map of one index (read-only)."""

    def __init__(self, vectors: dict[str, np.ndarray], model: str = "") -> None:
        self.vectors, self.model = vectors, model

    @classmethod
    def open(cls, path: str | Path) -> "SentenceVectors | None":
        path = Path(path)
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=True) as data:
            texts, matrix = list(data["texts"]), data["vectors"]
            model = str(data["model"]) if "model" in data else ""
        return cls(dict(zip(texts, matrix)), model)

    def cosines(self, query_vector: np.ndarray, sentences: list[str]) -> list[float] | None:
        """Cosine of each sentence to the question; None when one of them is not in the file (a sentence made up
        at run time, such as a table row): the words alone then decide, for every candidate alike."""
        rows = [self.vectors.get(x) for x in sentences]
        if any(r is None for r in rows):
            return None
        return [float(np.dot(r, query_vector)) for r in rows]
