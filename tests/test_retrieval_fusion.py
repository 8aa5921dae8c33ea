"""Sound-alike keys, fusion arithmetic, the jurisdiction prior, and `jixiao bench retrieval`."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from jixiao.retrieval.embed import HashEmbedder
from jixiao.retrieval.fusion import Signals, fuse, jurisdiction_prior, minmax
from jixiao.retrieval.keyword import BM25Index
from jixiao.retrieval.pinyin import fold, pinyin_tokens
from jixiao.retrieval.search import RetrievalConfig, Retriever

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
SOURCES, TABLES = KNOWLEDGE / "sources", KNOWLEDGE / "tables"


@pytest.mark.parametrize("typed, meant", [
    ("平级", "评级"), ("B极", "B级"), ("审合", "审核"), ("资今", "资金"), ("插车", "叉车"),
    ("铸照", "铸造"),          # zh/z folded
    ("留量", "流量"),          # n/l merged
    ("评审废", "评审费"),
])
def test_homophone_typos_share_pinyin_keys(typed, meant):
    assert pinyin_tokens(typed) == pinyin_tokens(meant)


def test_pinyin_keys_keep_different_words_apart_and_split_on_punctuation():
    assert pinyin_tokens("评级") != pinyin_tokens("申报")
    assert pinyin_tokens("评级，申报") == pinyin_tokens("评级") + pinyin_tokens("申报")
    assert pinyin_tokens("B级") == ["b_ji"] and pinyin_tokens("VOCs") == ["vocs"]
    assert fold("zhong") == "zong" and fold("neng") == "len" and fold("ping") == "pin" and fold("ong") == "ong"


def test_pinyin_bm25_finds_the_clause_a_typo_names():
    texts = ["不得向企业收取评审费用", "企业通过应急管理系统注册申报", "叉车新能源化"]
    idx = BM25Index(["a", "b", "c"], [pinyin_tokens(t) for t in texts], [{}, {}, {}])
    assert int(np.argmax(idx.scores(pinyin_tokens("评级要不要交评审废")))) == 0
    assert int(np.argmax(idx.scores(pinyin_tokens("插车要电动的吗")))) == 2


def _signals(dense, words, pinyin, prior=None):
    n = len(dense)
    return Signals(np.arange(n), np.array(dense, float), np.array(words, float), np.array(pinyin, float),
                   np.zeros(n) if prior is None else np.array(prior, float))


def test_minmax_fusion_weights_scaled_signals():
    sig = _signals([1.0, 0.6, 0.0], [0.0, 4.0, 2.0], [1.0, 1.0, 3.0])
    f = fuse(sig, "minmax", dense_weight=0.5, pinyin_weight=0.5)
    # row 0: 0.5·1 + 0.5·(0.5·0 + 0.5·0) = 0.5; row 1: 0.5·0.6 + 0.5·(0.5·1 + 0.5·0) = 0.55;
    # row 2: 0.5·0 + 0.5·(0.5·0.5 + 0.5·1) = 0.375
    assert [int(r) for r in f.rows] == [1, 0, 2]
    assert f.score == pytest.approx([0.55, 0.5, 0.375])
    assert minmax(np.array([2.0, 2.0])).tolist() == [0.0, 0.0]


def test_rrf_uses_ranks_not_values_and_prior_moves_ties():
    sig = _signals([0.9, 0.0, 0.1], [0.0, 100.0, 0.5], [0.0, 0.0, 0.0])
    f = fuse(sig, "rrf", dense_weight=0.5, pinyin_weight=0.0, rrf_k=60)
    assert f.score[0] == pytest.approx(f.score[1])          # rank 1 + rank 3 either way
    nudged = fuse(_signals([0.9, 0.0, 0.1], [0.0, 100.0, 0.5], [0, 0, 0], prior=[0, 0.05, 0]),
                  "rrf", 0.5, 0.0)
    assert nudged.rows[0] == 1
    with pytest.raises(ValueError, match="valid"):
        fuse(sig, "sum")


def test_jurisdiction_prior_boosts_a_named_place_else_prefers_the_region():
    juris = ["重庆", "聊城", "开封"]
    assert jurisdiction_prior("聊城C级以下企业由谁评", juris, "重庆", 0.05, 0.1).tolist() == [0, 0.1, 0]
    assert jurisdiction_prior("C级以下企业由谁评", juris, "重庆", 0.05, 0.1).tolist() == [0, -0.05, -0.05]
    assert jurisdiction_prior("重庆C级企业", juris, "重庆", 0.05, 0.1).tolist() == [0, -0.05, -0.05]


@pytest.fixture(scope="module")
def hash_retriever(tmp_path_factory):
    data = tmp_path_factory.mktemp("fusionvar")
    r = Retriever(RetrievalConfig(data, SOURCES, TABLES, embedder="hash"), embedder=HashEmbedder())
    r.index()
    r.warm_up()
    return r


def test_retriever_scores_every_allowed_chunk_and_respects_named_jurisdiction(hash_retriever):
    r = hash_retriever
    sig = r.signals("企业申报绩效评级")
    assert sig is not None and len(sig.rows) == len(r._load_bm25()) == len(r._load_vectors())
    top = r.search("聊城 企业申报绩效评级", k=3)
    assert top[0].doc_id == "liaocheng-2020"
    juris = np.array([r._load_bm25().records[i]["metadata"]["jurisdiction"] for i in sig.rows])
    assert set(sig.prior[juris == "重庆"]) == {0.0}
    assert set(sig.prior[juris != "重庆"]) == {-r.config.region_penalty}    # soft: a penalty, not a filter
    assert r.search("企业申报绩效评级", k=3, fusion="rrf")
    assert r.signals("   ") is None


def test_typo_query_reaches_its_clause_through_pinyin(hash_retriever):
    hits = hash_retriever.search("评级要不要交评审废", k=3)
    assert any("不得向企业收取评审费用" in h.text for h in hits)


def test_index_reports_progress(tmp_path):
    src = tmp_path / "sources"
    src.mkdir()
    shutil.copy(SOURCES / "cq-cbza-2024-att5.md", src / "cq-cbza-2024-att5.md")
    seen = []
    rep = Retriever(RetrievalConfig(tmp_path / "var", src, TABLES, embedder="hash"),
                    embedder=HashEmbedder()).index(progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (rep.added, rep.added)


def test_bench_retrieval_command_writes_its_table(tmp_path, monkeypatch):
    import typer
    from typer.testing import CliRunner

    from jixiao.eval.bench_retrieval import percentile, register

    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0 and percentile([1.0, 2.0], 95) == 2.0
    src = tmp_path / "sources"
    src.mkdir()
    for name in ("cq-cbza-2024-att5.md", "cq-cbza-2024-att4.md"):
        shutil.copy(SOURCES / name, src / name)
    monkeypatch.setenv("JIXIAO_SOURCES_DIR", str(src))
    monkeypatch.setenv("JIXIAO_EMBEDDER", "hash")
    golden = tmp_path / "g.yaml"
    golden.write_text('- {id: x1, question: "申报材料大纲", category: c, style: s, expected: []}\n'
                      '- {id: x2, question: "系统登录网址", category: c, style: s, expected: []}\n', encoding="utf-8")
    app, bench = typer.Typer(), typer.Typer()

    @bench.callback()
    def _group() -> None:
        """bench"""

    register(bench)
    app.add_typer(bench, name="bench")
    out = tmp_path / "bench.md"
    res = CliRunner().invoke(app, ["bench", "retrieval", "--golden", str(golden), "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    for label in ("索引构建", "模型加载", "p50", "p95", "峰值内存"):
        assert label in text
    assert "hash-256" in text and "（2 题）" in text
    data_dir = Path(__import__("os").environ["JIXIAO_DATA_DIR"])
    assert not [p for p in data_dir.glob("bench-*")]          # the fresh build dir is removed
    res = CliRunner().invoke(app, ["bench", "retrieval", "--skip-build", "--golden", str(golden), "--out", str(out)])
    assert res.exit_code == 1 and "jixiao index" in res.output


def test_incremental_index_reuses_tokens_of_unchanged_chunks(tmp_path, monkeypatch):
    from jixiao.retrieval.keyword import Tokenizer

    src = tmp_path / "sources"
    src.mkdir()
    for name in ("cq-cbza-2024-att5.md", "cq-cbza-2024-att4.md"):
        shutil.copy(SOURCES / name, src / name)
    cfg = RetrievalConfig(tmp_path / "var", src, TABLES, embedder="hash")
    first = Retriever(cfg, embedder=HashEmbedder()).index()
    calls = []
    real = Tokenizer.tokens
    monkeypatch.setattr(Tokenizer, "tokens", lambda self, text: calls.append(text) or real(self, text))
    path = src / "cq-cbza-2024-att4.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n补充一句。\n", encoding="utf-8")
    rep = Retriever(cfg, embedder=HashEmbedder()).index()
    assert 0 < len(calls) == rep.added < first.chunks        # only the changed chunks were tokenised
    calls.clear()
    Retriever(cfg, embedder=HashEmbedder()).index(rebuild=True)
    assert len(calls) == rep.chunks + rep.cards               # --rebuild tokenises everything again (cards too)
