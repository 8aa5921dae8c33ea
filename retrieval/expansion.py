"""Bridges between how people ask and how the documents are written, for the keyword signals.

- Query side: `colloquial.yaml` maps everyday wording ("犯小错", "送礼", "少交税") to the policy terms the
  clauses use ("轻微违法行为", "贿赂", "环境保护税"). The terms found for a question are scored as a
  second, down-weighted BM25 query (`RetrievalConfig.expansion_weight`); the question's own words keep
  their full weight, and the dense signal sees the question unchanged.
- Document side: a table-row chunk of 附件3 that names an industry or branch also carries that row's
  everyday names from knowledge/tables/industries.yaml ("鞋厂" for 制鞋, "免烧砖" for 非烧结砖瓦制品) in
  its keyword tokens. The chunk text shown to users is not changed.

The aliases are stamped into the persisted keyword indexes, so editing them re-tokenises the chunks;
the query-side bridges are read at start-up and need no re-index.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

COLLOQUIAL_PATH = Path(__file__).resolve().parent / "colloquial.yaml"
_TABLE_RULE = re.compile(r"^\|\s*-{3}", re.MULTILINE)


@dataclass(frozen=True)
class Bridge:
    says: tuple[str, ...]      # everyday wording, matched as substrings of the question
    means: tuple[str, ...]     # the policy terms added to the keyword query


def load_bridges(path: str | Path = COLLOQUIAL_PATH) -> list[Bridge]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    bridges = []
    for i, row in enumerate(data):
        says = tuple(str(s).strip() for s in row.get("says", []) if str(s).strip())
        means = tuple(str(s).strip() for s in row.get("means", []) if str(s).strip())
        if not says or not means:
            raise ValueError(f"{path}: entry {i + 1} needs both `says` and `means`")
        short = [s for s in says if len(s) < 2]
        if short:
            raise ValueError(f"{path}: entry {i + 1}: {short} too short (a single character matches too much)")
        bridges.append(Bridge(says, means))
    return bridges


def industry_rows(tables_dir: str | Path | None) -> list[tuple[str, tuple[str, ...]]]:
    """(name as written in 附件3, its everyday synonyms) for every industry and branch of industries.yaml."""
    path = Path(tables_dir) / "industries.yaml" if tables_dir else None
    if not path or not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for ind in data.get("industries", []) or []:
        for row in [ind, *(ind.get("branches", []) or [])]:
            out.append((str(row.get("name", "")), tuple(str(s) for s in row.get("synonyms", []) or [])))
    return out


def industry_aliases(tables_dir: str | Path | None) -> list[tuple[str, tuple[str, ...]]]:
    """The industries and branches that have everyday synonyms."""
    return [(name, synonyms) for name, synonyms in industry_rows(tables_dir) if name and synonyms]


class Vocabulary:
    """Both bridges, loaded once."""

    def __init__(self, tables_dir: str | Path | None = None, colloquial: str | Path | None = COLLOQUIAL_PATH):
        self.bridges = load_bridges(colloquial) if colloquial else []
        self.aliases = industry_aliases(tables_dir)

    @property
    def alias_stamp(self) -> str:
        """Changes when the table-row aliases change (they are part of the persisted chunk tokens)."""
        return "alias-" + hashlib.sha256(repr(self.aliases).encode("utf-8")).hexdigest()[:12]

    def query_terms(self, question: str) -> list[str]:
        """Policy terms for the everyday wording found in `question`, first occurrence order, no repeats."""
        found: dict[str, None] = {}
        for bridge in self.bridges:
            if any(s in question for s in bridge.says):
                found.update(dict.fromkeys(bridge.means))
        return list(found)

    def row_aliases(self, chunk_text: str) -> list[str]:
        """Everyday names of the industries a table chunk lists; empty for any other chunk."""
        if not _TABLE_RULE.search(chunk_text):
            return []
        found: dict[str, None] = {}
        for name, synonyms in self.aliases:
            if name in chunk_text:
                found.update(dict.fromkeys(synonyms))
        return list(found)
