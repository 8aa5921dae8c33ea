"""Retrieval evaluation: metric arithmetic, relevance rule, modes, and the `eval retrieval` command."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from jixiao.eval.cli import register
from jixiao.eval.retrieval_eval import (
    GOLDEN_PATH, MODES, CaseResult, Expected, _ModeHit, build_report, first_relevant_rank, format_table,
    beats_baselines, langchain_baseline, load_golden, metrics_from_ranks, run_eval, search_mode,
)
from jixiao.retrieval.embed import HashEmbedder
from jixiao.retrieval.search import RetrievalConfig, Retriever

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
SOURCES, TABLES = KNOWLEDGE / "sources", KNOWLEDGE / "tables"


def test_metric_arithmetic_on_hand_made_ranks():
    m = metrics_from_ranks([1, 3, None])
    assert m.n == 3
    assert m.r1 == pytest.approx(1 / 3)
    assert m.r5 == pytest.approx(2 / 3)
    assert m.r10 == pytest.approx(2 / 3)
    assert m.mrr == pytest.approx((1 + 1 / 3) / 3)
    assert m.ndcg == pytest.approx((1 + 1 / math.log2(4)) / 3)
    # beyond k counts as a miss; empty list is all zeros
    assert metrics_from_ranks([11], k=10).r10 == 0.0
    assert metrics_from_ranks([]).mrr == 0.0


def test_report_groups_by_style_and_category_and_table_lists_modes():
    cases = [CaseResult("a", "q", "campaign", "policy", {"hybrid": 1, "bm25": 3, "dense": None}),
             CaseResult("b", "q", "campaign", "typo", {"hybrid": 3, "bm25": None, "dense": 1}),
             CaseResult("c", "q", "system", "typo", {"hybrid": None, "bm25": None, "dense": None})]
    rep = build_report(cases)
    assert rep.overall["hybrid"].mrr == pytest.approx((1 + 1 / 3) / 3)
    assert rep.by_style["typo"]["dense"].r1 == pytest.approx(1 / 2)
    assert rep.by_category["campaign"]["bm25"].r5 == pytest.approx(1 / 2)
    table = format_table(rep)
    for mode in ("hybrid", "bm25", "dense"):
        assert f"| {mode} |" in table
    assert "| rrf |" not in table          # only the modes the cases were ranked in
    # bm25: R@1 1/3 > 0 and MRR 4/9 > 1/9; dense ties hybrid on R@1 (1/3), and a tie is not a win
    assert beats_baselines(rep) == {"bm25": True, "dense": False}
    assert "| typo |" in table and "| system |" in table and "missed by every mode (1): c" in table
    assert json.loads(json.dumps(rep.to_json()))["overall"]["hybrid"]["n"] == 3


def test_relevance_needs_doc_id_and_normalised_snippet():
    exp = [Expected("doc-a", "一、", "2024年8月1日—12月31日")]
    hits = [_ModeHit("1", "doc-b", "", "2024年8月1日—12月31日", 1.0),       # wrong document
            _ModeHit("2", "doc-a", "", "别的内容", 0.9),
            _ModeHit("3", "doc-a", "一、", "时间 2024 年 8 月 1 日－12 月 31 日", 0.8)]  # spaces, other dash
    assert first_relevant_rank(hits, exp) == 3
    assert first_relevant_rank(hits, exp, k=2) is None


def test_golden_set_loads():
    cases = load_golden(GOLDEN_PATH)
    assert len(cases) == 228
    assert all(c.expected and c.style and c.category for c in cases)


@pytest.fixture(scope="module")
def hash_index(tmp_path_factory):
    data = tmp_path_factory.mktemp("evalvar")
    r = Retriever(RetrievalConfig(data, SOURCES, TABLES, embedder="hash"), embedder=HashEmbedder())
    r.index()
    return data


def test_modes_and_run_eval_on_real_sources(hash_index):
    r = Retriever(RetrievalConfig(hash_index, SOURCES, TABLES, embedder="hash"), embedder=HashEmbedder())
    r.warm_up()
    cases = [c for c in load_golden() if c.style == "policy"][:12]
    baseline = langchain_baseline(r)
    for mode in MODES:
        hits = search_mode(r, cases[0].question, 10, mode, baseline=baseline)
        assert 0 < len(hits) <= 10
        assert all(h.doc_id and h.text for h in hits)
    bm = search_mode(r, cases[0].question, 10, "bm25")
    assert [h.score for h in bm] == sorted((h.score for h in bm), reverse=True)
    rep = run_eval(r, cases, k=10, baseline=baseline)
    assert set(rep.overall) == set(MODES) and rep.overall["hybrid"].n == 12
    assert rep.overall["bm25"].r10 > 0  # policy wording shares terms with the text
    with pytest.raises(ValueError):
        search_mode(r, "x", 5, "nope")


def test_cli_prints_table_with_three_modes(hash_index, tmp_path, monkeypatch):
    monkeypatch.setenv("JIXIAO_DATA_DIR", str(hash_index))
    monkeypatch.setenv("JIXIAO_SOURCES_DIR", str(SOURCES))
    monkeypatch.setenv("JIXIAO_EMBEDDER", "hash")
    golden = tmp_path / "g.yaml"
    golden.write_text(GOLDEN_PATH.read_text(encoding="utf-8").split("\n- id: r011")[0] + "\n", encoding="utf-8")
    app = typer.Typer()
    register(app)
    out = tmp_path / "res.md"
    res = CliRunner().invoke(app, ["eval", "retrieval", "--golden", str(golden), "--out", str(out)])
    assert res.exit_code == 0, res.output
    for mode in MODES:
        assert f"| {mode} |" in res.output
    assert "R@1" in res.output and "nDCG@10" in res.output
    assert out.read_text(encoding="utf-8").startswith("## 检索评测")
    res = CliRunner().invoke(app, ["eval", "retrieval", "--golden", str(golden), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert len(data["cases"]) == 10 and set(data["overall"]) == set(MODES)


def test_cli_without_index_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("JIXIAO_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("JIXIAO_EMBEDDER", "hash")
    app = typer.Typer()
    register(app)
    res = CliRunner().invoke(app, ["eval", "retrieval"])
    assert res.exit_code == 1
    assert "jixiao index" in res.output and "未找到检索索引" in res.output


def test_langchain_baseline_maps_hits_by_source_span(tmp_path):
    from jixiao.retrieval.langchain_baseline import CHUNK_SIZE, LangChainBaseline

    base = LangChainBaseline(SOURCES, tmp_path / "lc", HashEmbedder()).build()
    splits = base.splits()
    assert all(len(d.page_content) <= CHUNK_SIZE for d in splits)
    body = base._bodies["cq-cbza-2024"]
    for d in splits[:20]:                     # start_index points at the split's own text
        if d.metadata["doc_id"] == "cq-cbza-2024":
            assert body[d.metadata["start_index"]:].startswith(d.page_content)
    hits = base.search("创B争A工作时段 2024年8月1日", k=10)
    assert hits and all(h.doc_id and h.end > h.start for h in hits)
    exp = (Expected("cq-cbza-2024", "一、", "2024年8月1日—12月31日"),)
    (s, e), = base._locate("cq-cbza-2024", exp[0].contains)
    assert "2024年8月1日" in body[s:e]
    from jixiao.retrieval.langchain_baseline import BaselineHit
    cut = BaselineHit("x", "cq-cbza-2024", "", body[s + 3:e + 50], 1.0, s + 3, e + 50, base._locate)
    assert cut.relevant(exp)                 # a split that cuts the snippet still covers it
    elsewhere = BaselineHit("y", "cq-cbza-2024", "", "", 1.0, e + 10, e + 300, base._locate)
    other_doc = BaselineHit("z", "kaifeng-2020", "", "", 1.0, s, e, base._locate)
    assert not elsewhere.relevant(exp) and not other_doc.relevant(exp)
    assert LangChainBaseline(SOURCES, tmp_path / "lc", HashEmbedder()).build()._store._collection.count() == len(splits)
