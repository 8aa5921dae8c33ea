"""Sentence vectors built by `jixiao index` and read at run time (bot/sentence_vectors.py)."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from jixiao.bot.sentence_vectors import SentenceVectors, build, vectors_path


class _Embedder:
    dim = 4

    def __init__(self):
        self.calls = 0

    def embed_passages(self, texts):
        self.calls += len(texts)
        out = np.array([[len(t), t.count("园"), t.count("区"), 1.0] for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _retriever(tmp_path: Path, texts: list[str], model: str = "m"):
    records = [{"text": f"《某方案》 一、\n{t}"} for t in texts]
    return SimpleNamespace(config=SimpleNamespace(data_dir=tmp_path, embedder="hash", embedder_model=model),
                           embedder=_Embedder(), _load_bm25=lambda: SimpleNamespace(records=records))


def test_build_embeds_only_new_sentences_and_drops_gone_ones(tmp_path):
    r = _retriever(tmp_path, ["对甲园区开展改革试点并形成调研报告和工作方案。园区改革由市生态环境局某处牵头负责组织实施。区县每月调度改革试点的进展情况并报送市局。"])
    assert build(r) == 3 and r.embedder.calls == 3
    r2 = _retriever(tmp_path, ["对甲园区开展改革试点并形成调研报告和工作方案。区县每月调度改革试点的进展情况并报送市局。区县按季度向市局书面报告改革试点中发现的问题。"])
    assert build(r2) == 3 and r2.embedder.calls == 1            # two kept, one new, one dropped
    store = SentenceVectors.open(vectors_path(tmp_path))
    assert "园区改革由市生态环境局某处牵头负责组织实施。" not in store.vectors and "对甲园区开展改革试点并形成调研报告和工作方案。" in store.vectors
    assert not list(Path(tmp_path, "retrieval").glob(".sentences-*"))  # the temporary file is gone


def test_another_model_rebuilds_everything(tmp_path):
    build(_retriever(tmp_path, ["对甲园区开展改革试点。"], model="m1"))
    r = _retriever(tmp_path, ["对甲园区开展改革试点。"], model="m2")
    build(r)
    assert r.embedder.calls == 1 and SentenceVectors.open(vectors_path(tmp_path)).model == "hash:m2"


def test_cosines_need_every_candidate_in_the_file(tmp_path):
    build(_retriever(tmp_path, ["对甲园区开展改革试点。"]))
    store = SentenceVectors.open(vectors_path(tmp_path))
    q = np.array([0.0, 1.0, 0.0, 0.0], dtype=np.float32)
    assert store.cosines(q, ["对甲园区开展改革试点。"])[0] > 0
    assert store.cosines(q, ["对甲园区开展改革试点。", "区县 甲区，目标 101"]) is None  # a table row made at run time
    assert SentenceVectors.open(tmp_path / "none.npz") is None
