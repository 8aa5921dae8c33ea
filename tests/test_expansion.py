"""Everyday-wording bridges (query side) and table-row aliases (document side) of the keyword signals."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from jixiao.knowledge.ingest.model import load_sources
from jixiao.retrieval.embed import HashEmbedder
from jixiao.retrieval.expansion import COLLOQUIAL_PATH, Vocabulary, load_bridges
from jixiao.retrieval.search import RetrievalConfig, Retriever

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
SOURCES, TABLES = KNOWLEDGE / "sources", KNOWLEDGE / "tables"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    cfg = RetrievalConfig(tmp_path_factory.mktemp("expansion") / "var", SOURCES, TABLES, embedder="hash")
    r = Retriever(cfg, embedder=HashEmbedder())
    r.index()
    return r


def _row_of(retriever: Retriever, needle: str) -> int:
    bm25 = retriever._load_bm25()
    rows = [i for i, rec in enumerate(bm25.records) if needle in rec["text"]]
    assert len(rows) == 1, (needle, len(rows))
    return rows[0]


def test_every_policy_term_of_the_bridges_occurs_in_the_documents():
    corpus = "\n".join(doc.body for doc in load_sources(SOURCES))
    bridges = load_bridges()
    assert len(bridges) >= 30
    missing = sorted({t for b in bridges for t in b.means if t not in corpus})
    assert not missing, f"colloquial.yaml points at terms no document uses: {missing}"


@pytest.mark.parametrize("text, error", [
    ("- says: [罚]\n  means: [处罚]\n", "too short"),
    ("- says: [罚款]\n  means: []\n", "needs both"),
    ("- means: [处罚]\n", "needs both"),
])
def test_bad_bridge_files_are_refused_with_the_entry_named(tmp_path, text, error):
    path = tmp_path / "colloquial.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=f"entry 1.*{error}|{error}"):
        load_bridges(path)


def test_query_terms_follow_the_everyday_wording():
    vocab = Vocabulary(TABLES)
    terms = vocab.query_terms("B级企业第一次犯小错会不会直接罚款？")
    assert {"首违不罚", "轻微", "处罚"} <= set(terms)
    assert len(terms) == len(set(terms))
    assert "贿赂" in vocab.query_terms("给专家送礼会怎么样")
    assert vocab.query_terms("申报材料大纲第一项是什么") == []


def test_row_aliases_only_for_table_chunks_naming_the_industry():
    vocab = Vocabulary(TABLES)
    table = "| 序号 | 行业类型 | 行业分支 | 管控类型 |\n| --- | --- | --- | --- |\n| 35 | 制鞋 | 制鞋工业 | 绩效引领 |"
    assert {"鞋厂", "做鞋"} <= set(vocab.row_aliases(table))
    assert vocab.row_aliases("鼓励引导制鞋、家具等行业企业开展深度治理") == []
    assert vocab.row_aliases(table.replace("制鞋", "某某")) == []


def test_aliases_reach_the_keyword_index_but_not_the_chunk_text(indexed):
    row = _row_of(indexed, "制鞋工业")
    words, sounds = indexed.keyword_scores("鞋厂属于什么管控类型")
    assert "鞋厂" not in indexed._load_bm25().records[row]["text"]
    assert int(np.argmax(words)) == row
    assert sounds[row] > 0


def test_expansion_lifts_the_clause_the_everyday_words_mean(indexed):
    question = "B级企业第一次犯小错会不会直接罚款？"
    target = _row_of(indexed, "首违不罚。对于绩效评级B级")
    plain = dataclasses.replace(indexed.config, expansion_weight=0.0)
    without = Retriever(plain, embedder=indexed.embedder)
    w0, _ = without.keyword_scores(question)
    w1, _ = indexed.keyword_scores(question)
    assert w1[target] > w0[target]
    assert (w1 >= w0 - 1e-12).all()          # expansion only adds
    assert int((w1 > w1[target]).sum()) < int((w0 > w0[target]).sum())   # the clause moves up


def test_changing_the_aliases_retokenises_without_reembedding(tmp_path):
    tables = tmp_path / "tables"
    tables.mkdir()
    text = (TABLES / "industries.yaml").read_text(encoding="utf-8")
    (tables / "industries.yaml").write_text(text, encoding="utf-8")
    cfg = RetrievalConfig(tmp_path / "var", SOURCES, tables, embedder="hash")
    first = Retriever(cfg, embedder=HashEmbedder())
    first.index()
    row = _row_of(first, "制鞋工业")
    assert first.keyword_scores("布鞋作坊")[0][row] == 0

    edited = re.sub(r"synonyms: \[鞋厂,", "synonyms: [布鞋作坊, 鞋厂,", text, count=1)
    assert edited != text
    (tables / "industries.yaml").write_text(edited, encoding="utf-8")
    second = Retriever(cfg, embedder=HashEmbedder())
    report = second.index()
    assert report.added == 0 and second.embedder.passages_embedded == 0
    assert second.keyword_scores("布鞋作坊")[0][row] > 0


def test_packaged_bridge_file_is_the_default():
    assert COLLOQUIAL_PATH.name == "colloquial.yaml" and COLLOQUIAL_PATH.is_file()
