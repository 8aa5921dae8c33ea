"""The golden sets stay true to the loaded documents: every expected snippet occurs where it says."""
from pathlib import Path

import pytest
import yaml

from jixiao.knowledge.basis import normalize, source_text

GOLDEN = Path(__file__).resolve().parent.parent / "eval" / "golden"


def _load(name):
    return yaml.safe_load((GOLDEN / name).read_text(encoding="utf-8"))


RETRIEVAL_SETS = ["retrieval.yaml", "retrieval_holdout.yaml", "retrieval_holdout2.yaml"]


@pytest.mark.parametrize("name, at_least", [("retrieval.yaml", 150), ("retrieval_holdout.yaml", 100),
                                            ("retrieval_holdout2.yaml", 150)])
def test_retrieval_sets_are_large_and_unique(name, at_least):
    cases = _load(name)
    assert len(cases) >= at_least
    assert len({c["id"] for c in cases}) == len(cases)
    assert len({c["question"] for c in cases}) == len(cases)


@pytest.mark.parametrize("case", [c for name in RETRIEVAL_SETS for c in _load(name)], ids=lambda c: c["id"])
def test_retrieval_snippet_in_expected_document(case):
    for expected in case["expected"]:
        text = source_text(expected["doc_id"])
        assert text is not None, f"unknown doc_id {expected['doc_id']!r}"
        assert normalize(expected["contains"]) in text


def test_answer_set_covers_groups():
    cases = _load("answers.yaml")
    groups = {}
    for case in cases:
        groups[case["group"]] = groups.get(case["group"], 0) + 1
    assert len({c["id"] for c in cases}) == len(cases)
    assert groups["out_of_scope"] >= 40 and sum(groups.values()) >= 150


@pytest.mark.parametrize("case", [c for c in _load("answers.yaml") if c["expect"].get("quote")],
                         ids=lambda c: c["id"])
def test_answer_quote_in_cited_document(case):
    expect = case["expect"]
    assert normalize(expect["quote"]) in (source_text(expect["doc_id"]) or "")
