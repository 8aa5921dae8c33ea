"""No table row may drift from its document: every loaded basis quote occurs in its source."""
from pathlib import Path

import pytest
import yaml

from jixiao.knowledge.basis import SOURCES_DIR, Basis, normalize, quote_found

TABLES = Path(__file__).resolve().parent.parent / "knowledge" / "tables"


def _bases(node, where):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "basis":
                for item in value if isinstance(value, list) else [value]:
                    yield where, item
            else:
                yield from _bases(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            label = value.get("id") or value.get("name") if isinstance(value, dict) else None
            yield from _bases(value, f"{where}[{label or i}]")


def _all_bases():
    for path in sorted(TABLES.glob("*.yaml")):
        for where, raw in _bases(yaml.safe_load(path.read_text(encoding="utf-8")), path.name):
            yield pytest.param(raw, id=where)


def test_tables_exist_and_carry_bases():
    assert len(list(_all_bases())) > 50


@pytest.mark.parametrize("raw", list(_all_bases()))
def test_basis_quote_is_in_its_document(raw):
    basis = Basis.model_validate(raw)
    if not basis.loaded:
        assert basis.seen_at, "a row resting on a document not loaded must say where it was seen"
        assert not (SOURCES_DIR / f"{basis.doc_id}.md").exists(), f"{basis.doc_id} is loaded now: set loaded: true"
        return
    assert (SOURCES_DIR / f"{basis.doc_id}.md").exists(), f"no source {basis.doc_id!r} in knowledge/sources"
    assert quote_found(basis), f"quote {basis.quote!r} not found in {basis.doc_id} ({basis.section})"


def test_normalize_folds_width_and_space():
    assert normalize("B（B-）级 \n 企业") == normalize("B(B-)级企业")
    assert normalize("| 铸造 | 铸件 |") == "铸造铸件"
