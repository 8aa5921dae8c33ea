"""Question cards: validation, counts, every clause card resolving to a chunk, and the card index."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from jixiao.bot.tools import TOOL_NAMES, TOOLS
from jixiao.knowledge.basis import SOURCES_DIR
from jixiao.knowledge.cards import CardError, ClauseCard, OutOfScopeCard, ToolCard, load_cards, resolve_clauses
from jixiao.knowledge.ingest.model import load_sources
from jixiao.retrieval.cards import CardIndex
from jixiao.retrieval.chunks import chunk_documents
from jixiao.retrieval.embed import HashEmbedder
from jixiao.retrieval.keyword import Tokenizer
from jixiao.retrieval.pinyin import pinyin_tokens


@pytest.fixture(scope="module")
def cards():
    return load_cards(tools=TOOL_NAMES)


def test_at_least_1500_questions_of_three_kinds(cards):
    counts = cards.counts()
    assert set(counts) == {"tool", "clause", "out_of_scope"}
    assert sum(q for _, q in counts.values()) >= 1500


def test_every_tool_has_cards_with_at_least_15_questions(cards):
    per_tool = Counter()
    for c in cards.cards:
        if isinstance(c, ToolCard):
            per_tool[c.tool] += len(c.questions)
    assert set(per_tool) == set(TOOLS)
    assert min(per_tool.values()) >= 15, per_tool


def test_every_chunk_has_a_clause_card_and_no_card_is_orphaned(cards):
    chunks = chunk_documents(load_sources(SOURCES_DIR))
    resolved, orphans = resolve_clauses(cards, chunks)
    assert not orphans, [c.id for c in orphans]
    assert {c.id for c in chunks} <= set(resolved.values())  # 3–8 questions for every chunk
    assert all(3 <= len(c.questions) <= 8 for c in cards.cards if isinstance(c, ClauseCard))


def test_a_rechunk_that_drops_the_anchor_orphans_the_card(cards):
    chunks = chunk_documents(load_sources(SOURCES_DIR))
    card = next(c for c in cards.cards if isinstance(c, ClauseCard) and c.doc_id == "cq-cbza-2024")
    changed = [c if c.doc_id != card.doc_id else type(c)(c.id, c.doc_id, c.title, c.short_title, c.section_path,
                                                        c.text.replace(card.anchor, "（已删改）"), c.metadata)
               for c in chunks]
    _, orphans = resolve_clauses(cards, changed)
    assert card.id in {c.id for c in orphans}


def test_out_of_scope_cards_name_a_reply_kind_and_a_verbatim_nearest_clause(cards):
    from jixiao.bot.out_of_scope import nearest_sentence, replies

    oos = [c for c in cards.cards if isinstance(c, OutOfScopeCard)]
    assert len(oos) >= 20 and all(c.reply in replies() for c in oos)
    for c in oos:
        if c.nearest is not None:
            assert nearest_sentence(c.nearest.doc_id, c.nearest.anchor), c.id


@pytest.mark.parametrize("text, fragment", [
    ("cards:\n  - {id: x.1, kind: tool, tool: tier_scheme, questions: [a, b, c, d, e, f, g, h], colour: red}\n",
     "colour"),
    ("cards:\n  - {id: x.1, kind: clause, doc_id: d, anchor: 一二三四五, questions: [就一个问题]}\n", "3–8"),
    ("cards:\n  - {id: x.1, kind: out_of_scope, reply: weather, topic: t, questions: [a]}\n", "reply"),
    ("cards: [\n", "YAML"),
])
def test_a_bad_card_file_is_refused_naming_file_card_and_field(tmp_path, text, fragment):
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(CardError) as err:
        load_cards([tmp_path])
    assert "bad.yaml" in str(err.value) and fragment in str(err.value)


def test_unknown_tool_and_duplicate_id_are_refused(tmp_path):
    q = "[" + ", ".join(f"问法{i}" for i in range(8)) + "]"
    (tmp_path / "a.yaml").write_text(f"cards:\n  - {{id: t.1, kind: tool, tool: weather, questions: {q}}}\n",
                                     encoding="utf-8")
    with pytest.raises(CardError, match="unknown tool 'weather'"):
        load_cards([tmp_path], tools=TOOL_NAMES)
    (tmp_path / "a.yaml").write_text(f"cards:\n  - {{id: t.1, kind: tool, tool: handoff, questions: {q}}}\n",
                                     encoding="utf-8")
    (tmp_path / "b.yaml").write_text(f"cards:\n  - {{id: t.1, kind: tool, tool: handoff, questions: {q}}}\n",
                                     encoding="utf-8")
    with pytest.raises(CardError, match="already used"):
        load_cards([tmp_path], tools=TOOL_NAMES)


def _index(questions: list[tuple[str, str, str]]) -> CardIndex:
    emb, tok = HashEmbedder(), Tokenizer()
    records = [{"id": f"q{i}", "text": t, "card_id": c, "kind": k, "words": tok.tokens(t), "sounds": pinyin_tokens(t)}
               for i, (t, c, k) in enumerate(questions)]
    vectors = np.vstack([emb.embed_query(r["text"]) for r in records])
    return CardIndex(records, vectors), emb, tok


def test_a_card_scores_its_best_question_and_typos_match_by_sound():
    index, emb, tok = _index([("评上B级有什么好处", "tool.incentives", "tool"),
                              ("B级企业能享受哪些优惠", "tool.incentives", "tool"),
                              ("排污许可证到期了怎么延续", "oos.permit", "out_of_scope")])
    q = "平上B级到底有啥好处"  # 评 typed as 平 with a pinyin keyboard
    matches = index.match(emb.embed_query(q), tok.tokens(q), pinyin_tokens(q), k=5)
    assert [m.card_id for m in matches] == ["tool.incentives", "oos.permit"]
    assert matches[0].question == "评上B级有什么好处" and matches[0].lex > matches[1].lex
    assert index.match(emb.embed_query(q), tok.tokens(q), pinyin_tokens(q), kinds=("out_of_scope",))[0].kind == \
        "out_of_scope"


def test_cards_check_command_reports_counts_and_refuses_a_bad_folder(tmp_path):
    from typer.testing import CliRunner

    from jixiao.cli import _wire, app

    _wire()
    ok = CliRunner().invoke(app, ["cards", "check"])
    assert ok.exit_code == 0 and "clause " in ok.output and "tool " in ok.output
    (tmp_path / "b.yaml").write_text("cards:\n  - {id: t.1, kind: tool, tool: weather, questions: [a, b, c, d, e, f, g, h]}\n",
                                     encoding="utf-8")
    bad = CliRunner().invoke(app, ["cards", "check", str(tmp_path)])
    assert bad.exit_code == 1 and "weather" in bad.output
