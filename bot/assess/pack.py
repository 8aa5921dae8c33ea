"""Criteria packs: per-industry indicator thresholds for the self-assessment (knowledge/criteria/*.yaml).

A pack holds only thresholds that were actually found; every indicator family it does not cover is
asked without a threshold (see `families.py`). Loading validates the pack; errors are `DataError`
naming the file, the row and the YAML line (via `jixiao.knowledge.industries.load_table`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from jixiao.bot.assess.families import FAMILY_IDS, GRADE_ORDER
import jixiao.knowledge as knowledge_pkg
from jixiao.errors import DataError
from jixiao.knowledge.basis import Basis
from jixiao.knowledge.industries import load_industries, load_table

CRITERIA_DIR = Path(knowledge_pkg.__file__).parent / "criteria"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Requirement(_Model):
    text: str  # the requirement as worded in the source, for the result
    min: float | None = Field(default=None, ge=0, le=100)  # percent checks: value ≥ min
    must: bool | None = None  # yes/no checks: the answer must equal this (key `yes` is a YAML boolean)

    @model_validator(mode="after")
    def _one_test(self) -> "Requirement":
        if (self.min is None) == (self.must is None):
            raise ValueError("give exactly one of min (percent) or must (yes/no)")
        return self


class Check(_Model):
    id: str
    question: str
    kind: Literal["percent", "yesno"]
    grades: dict[str, Requirement]

    @model_validator(mode="after")
    def _kind_matches(self) -> "Check":
        for g, req in self.grades.items():
            if g not in GRADE_ORDER:
                raise ValueError(f"unknown grade {g!r}; valid: {', '.join(GRADE_ORDER)}")
            if (self.kind == "percent") != (req.min is not None):
                raise ValueError(f"grade {g!r}: a {self.kind} check needs {'min' if self.kind == 'percent' else 'must'}")
        return self


class Variant(_Model):
    id: str
    label: str
    checks: list[Check] = Field(min_length=1)
    basis: list[Basis] = Field(min_length=1)
    note: str | None = None


class Indicator(_Model):
    id: str
    family: str
    name: str
    evidence: str  # attachment 5 item, e.g. "2.4原辅材料"
    variant_question: str
    variants: list[Variant] = Field(min_length=1)
    not_found: str  # what is known to be missing (e.g. "C/D级要求未找到")

    @model_validator(mode="after")
    def _known_family(self) -> "Indicator":
        if self.family not in FAMILY_IDS:
            raise ValueError(f"unknown family {self.family!r}; valid: {', '.join(FAMILY_IDS)}")
        return self


class Pack(_Model):
    industry: str
    branches: list[str] = []  # empty: every branch of the industry
    grades: list[str]
    source: str  # one line naming the document and how it was seen
    indicators: list[Indicator]

    # Field validators (not one model validator) so an error carries the field's YAML line.
    @field_validator("industry")
    @classmethod
    def _known_industry(cls, v: str) -> str:
        if load_industries().by_name(v) is None:
            raise ValueError(f"industry {v!r} is not in knowledge/tables/industries.yaml (附件3 name)")
        return v

    @field_validator("branches")
    @classmethod
    def _known_branches(cls, v: list[str], info: ValidationInfo) -> list[str]:
        ind = load_industries().by_name(info.data.get("industry") or "")
        names = {b.name for b in ind.branches} if ind else set()
        bad = [b for b in v if b not in names]
        if ind and bad:
            raise ValueError(f"unknown branches {bad!r}; valid: {', '.join(sorted(names))}")
        return v

    @field_validator("grades")
    @classmethod
    def _known_grades(cls, v: list[str]) -> list[str]:
        bad = [g for g in v if g not in GRADE_ORDER]
        if bad or not v:
            raise ValueError(f"unknown grades {bad!r}; valid: {', '.join(GRADE_ORDER)}")
        return v

    @field_validator("indicators")
    @classmethod
    def _consistent(cls, v: list[Indicator], info: ValidationInfo) -> list[Indicator]:
        ids = [i.id for i in v]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate indicator id {dup!r}")
        grades = set(info.data.get("grades") or ())
        for i in v:
            for var in i.variants:
                for c in var.checks:
                    extra = set(c.grades) - grades
                    if grades and extra:
                        raise ValueError(f"{i.id}/{var.id}/{c.id}: grades {sorted(extra)} not in pack grades")
        return v

    def covers(self, branch: str | None) -> bool:
        return not self.branches or branch in self.branches

    def indicator_for(self, family: str) -> Indicator | None:
        return next((i for i in self.indicators if i.family == family), None)


@dataclass(frozen=True)
class Packs:
    packs: tuple[Pack, ...]

    def find(self, industry: str, branch: str | None) -> Pack | None:
        return next((p for p in self.packs if p.industry == industry and p.covers(branch)), None)


def load_pack(path: Path) -> Pack:
    return load_table(path, Pack)


def load_packs(directory: Path = CRITERIA_DIR) -> Packs:
    """Every `*.yaml` pack of `directory`; a broken pack raises `DataError` (file, row, line)."""
    if not directory.is_dir():
        raise DataError(f"{directory}: criteria folder not found")
    return Packs(tuple(load_pack(p) for p in sorted(directory.glob("*.yaml"))))


@cache
def default_packs() -> Packs:
    return load_packs()


def variant_grade(variant: Variant, answers: dict[str, object], grades: list[str]) -> str | None:
    """Highest grade whose requirements all hold; None when the next grade down has no loaded threshold."""
    for g in grades:
        reqs = [(c, c.grades.get(g)) for c in variant.checks]
        if any(r is None for _, r in reqs):
            return None
        if all(_meets(answers.get(c.id), r) for c, r in reqs):
            return g
    return None


def _meets(value: object, req: Requirement) -> bool:
    if req.min is not None:
        return isinstance(value, (int, float)) and value >= req.min
    return value is req.must
