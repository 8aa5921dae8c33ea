"""Everyday names of every 附件3 industry: the made-up sentences of knowledge/tables/industry_examples.yaml
resolve to their industry (and branch), and look-alike words of another industry do not pull them there."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from jixiao.bot.industry import resolve_industry
from jixiao.knowledge.industries import load_industries

EXAMPLES = Path(__file__).resolve().parents[1] / "knowledge" / "tables" / "industry_examples.yaml"
DATA = yaml.safe_load(EXAMPLES.read_text(encoding="utf-8"))
RESOLVES = [(e["text"], e["industry"], e.get("branch")) for e in DATA["resolves"]]
NOT = [(e["text"], e["industry"]) for e in DATA["not"]]


def test_examples_name_real_industries_and_branches():
    table = load_industries()
    assert len(RESOLVES) >= 40 and len(NOT) >= 10
    for text, industry, branch in RESOLVES + [(t, i, None) for t, i in NOT]:
        ind = table.by_name(industry)
        assert ind is not None, f"{text}: unknown industry {industry}"
        assert branch is None or branch in {b.name for b in ind.branches}, f"{text}: unknown branch {branch}"
    assert len({t for t, _, _ in RESOLVES}) == len(RESOLVES), "duplicate example sentence"


def test_every_industry_has_an_example():
    named = {i for _, i, _ in RESOLVES}
    missing = [i.name for i in load_industries().industries if i.name not in named]
    assert not missing, missing


def test_every_industry_and_branch_has_everyday_names():
    """Every industry carries synonyms; every branch of a multi-branch industry carries its own, except
    the catch-all 其他… branches and those whose official name is already the everyday word."""
    for ind in load_industries().industries:
        assert ind.synonyms, ind.name
        if len(ind.branches) < 2:
            continue
        for b in ind.branches:
            assert b.synonyms or b.name.startswith("其他"), f"{ind.name} / {b.name}"


@pytest.mark.parametrize("text,industry,branch", RESOLVES, ids=[t for t, _, _ in RESOLVES])
def test_everyday_sentence_resolves(text, industry, branch):
    r = resolve_industry(text)
    assert r.found and not r.ambiguous, r.message
    assert r.best.industry == industry, r.message
    if branch is not None:
        assert r.best.branch == branch, r.message


@pytest.mark.parametrize("text,industry", NOT, ids=[t for t, _ in NOT])
def test_look_alike_word_does_not_pull_to_another_industry(text, industry):
    r = resolve_industry(text)
    assert not (r.found and not r.ambiguous and r.best.industry == industry), r.message


AMBIGUOUS = [(e["text"], e["industries"]) for e in DATA["ambiguous"]]


@pytest.mark.parametrize("text,industries", AMBIGUOUS, ids=[t for t, _ in AMBIGUOUS])
def test_shared_names_ask_back(text, industries):
    r = resolve_industry(text)
    assert r.found and r.ambiguous, r.message
    assert set(industries) <= set(r.suggestions), r.message
