"""Legal basis carried by every table row, and the check that its quote is in the document."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator

SOURCES_DIR = Path(__file__).parent / "sources"

_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "〔": "[", "〕": "]", "—": "-", "－": "-"})


def normalize(text: str) -> str:
    """Fold width, quotes and all white space so a quote survives re-formatting of its source."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = re.sub(r"[|#*>`]", "", text)  # markdown table pipes, headings, emphasis
    return re.sub(r"\s+", "", text)


class Basis(BaseModel):
    """Where a rule comes from: document id, clause, and the sentence that states it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    doc_id: str
    section: str
    quote: str
    loaded: bool = True
    seen_at: str | None = None
    secondary: bool = False

    @model_validator(mode="after")
    def _not_loaded_names_where_seen(self) -> "Basis":
        if not self.loaded and not self.seen_at:
            raise ValueError(f"basis for {self.doc_id!r} is not loaded: give seen_at (where it was seen)")
        return self

    def cite(self) -> str:
        return f"{self.doc_id} {self.section}"


@lru_cache(maxsize=64)
def source_text(doc_id: str, sources_dir: Path = SOURCES_DIR) -> str | None:
    """The normalised body of a loaded source, or None when the document is not in the corpus."""
    from jixiao.knowledge.ingest.model import read_source  # late: ingestion imports normalize from here

    doc = read_source(doc_id, sources_dir)
    return normalize(doc.body) if doc is not None else None


def quote_found(basis: Basis, sources_dir: Path = SOURCES_DIR) -> bool:
    text = source_text(basis.doc_id, sources_dir)
    return text is not None and normalize(basis.quote) in text


class QuotedRule(BaseModel):
    """A clause quoted next to what the documents do not give (knowledge/tables/quoted_rules.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    basis: Basis


class _QuotedRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[QuotedRule, ...]


QUOTED_RULES = Path(__file__).parent / "tables" / "quoted_rules.yaml"


@lru_cache(maxsize=4)
def quoted_rules(path: Path = QUOTED_RULES) -> dict[str, Basis]:
    """The quoted rules by id."""
    import yaml

    table = _QuotedRules.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    return {r.id: r.basis for r in table.rules}


def quoted_rule(rule_id: str) -> Basis:
    return quoted_rules()[rule_id]
