"""Criteria packs: indicator thresholds for the self-assessment (knowledge/criteria/*.yaml and
`<data_dir>/criteria/*.yaml`).

A pack holds only thresholds that were actually found; every indicator family no applicable pack covers
is asked without a threshold (see `families.py`). `industry: "*"` makes a common pack, applied to every
national (39-industry) assessment. Loading validates the pack; errors are `DataError` naming the file,
the row and the YAML line (`packcheck.py` adds the fix for each error).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from jixiao.bot.assess.families import ALL_GRADES, FAMILY_IDS
import jixiao.knowledge as knowledge_pkg
from jixiao.errors import DataError
from jixiao.knowledge.basis import Basis
from jixiao.knowledge.industries import load_industries, load_table

log = logging.getLogger(__name__)
CRITERIA_DIR = Path(knowledge_pkg.__file__).parent / "criteria"
COMMON = "*"  # industry of a common pack: every national (附件3 一、39个重点行业) industry


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Model):
    id: str
    label: str


class Requirement(_Model):
    text: str  # the requirement as worded in the source, for the result
    min: float | None = Field(default=None, ge=0, le=100)  # percent checks: value ≥ min
    must: bool | None = None  # yes/no checks: the answer must equal this (key `yes` is a YAML boolean)
    one_of: list[str] | None = None  # choice checks: the chosen option id must be one of these

    @model_validator(mode="after")
    def _one_test(self) -> "Requirement":
        if sum(x is not None for x in (self.min, self.must, self.one_of)) != 1:
            raise ValueError("give exactly one of min (percent), must (yesno) or one_of (choice)")
        return self


_TEST_OF = {"percent": "min", "yesno": "must", "choice": "one_of"}


class Check(_Model):
    id: str
    question: str
    kind: Literal["percent", "yesno", "choice"]
    grades: dict[str, Requirement] = {}  # empty: a known requirement whose grade column is not confirmed
    requirement: str | None = None  # with empty grades: the requirement text (met = answer 是)
    options: list[Option] = []  # choice checks

    @model_validator(mode="after")
    def _kind_matches(self) -> "Check":
        for g, req in self.grades.items():
            if g not in ALL_GRADES:
                raise ValueError(f"unknown grade {g!r}; valid: {', '.join(ALL_GRADES)}")
            if getattr(req, _TEST_OF[self.kind]) is None:
                raise ValueError(f"grade {g!r}: a {self.kind} check needs {_TEST_OF[self.kind]}")
            bad = set(req.one_of or ()) - {o.id for o in self.options}
            if bad:
                raise ValueError(f"grade {g!r}: one_of {sorted(bad)} not among the options' ids")
        if (self.kind == "choice") != bool(self.options):
            raise ValueError("a choice check needs options (and only a choice check has them)")
        if not self.grades and (not self.requirement or self.kind != "yesno"):
            raise ValueError("a check without grades must be kind yesno and give requirement (the known text)")
        return self


class Variant(_Model):
    id: str
    label: str
    checks: list[Check] = []  # empty: this variant is not graded on this indicator (say why in note)
    basis: list[Basis] = Field(min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _note_when_empty(self) -> "Variant":
        if not self.checks and not self.note:
            raise ValueError("a variant without checks needs a note saying why it is not graded here")
        return self


class Indicator(_Model):
    id: str
    family: str
    name: str
    evidence: str  # attachment 5 item, e.g. "2.4原辅材料"
    variant_question: str = ""  # asked when there is more than one variant
    na_label: str = "不涉及"  # the extra option of the variant question
    variants: list[Variant] = Field(min_length=1)
    not_found: str  # what is known to be missing (e.g. "C/D级要求未找到")

    @model_validator(mode="after")
    def _known_family(self) -> "Indicator":
        if self.family not in FAMILY_IDS:
            raise ValueError(f"unknown family {self.family!r}; valid: {', '.join(FAMILY_IDS)}")
        if len(self.variants) > 1 and not self.variant_question:
            raise ValueError("several variants: give variant_question (how the enterprise picks one)")
        return self


class Warnings(_Model):
    """What a grade must do in a yellow/orange/red heavy-pollution warning, where a document says it."""
    grades: dict[str, str]
    basis: list[Basis] = Field(min_length=1)

    @field_validator("grades")
    @classmethod
    def _known(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [g for g in v if g not in ALL_GRADES]
        if bad:
            raise ValueError(f"unknown grades {bad!r}; valid: {', '.join(ALL_GRADES)}")
        return v


class Pack(_Model):
    industry: str
    branches: list[str] = []  # empty: every branch of the industry
    grades: list[str]
    source: str  # one line naming the document and how it was seen
    indicators: list[Indicator] = []
    warnings: Warnings | None = None

    # Field validators (not one model validator) so an error carries the field's YAML line.
    @field_validator("industry")
    @classmethod
    def _known_industry(cls, v: str) -> str:
        if v != COMMON and load_industries().by_name(v) is None:
            raise ValueError(f"industry {v!r} is not in knowledge/tables/industries.yaml (附件3 name), nor '*'")
        return v

    @field_validator("branches")
    @classmethod
    def _known_branches(cls, v: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("industry") == COMMON and v:
            raise ValueError("a common pack (industry '*') applies to every branch: leave branches empty")
        ind = load_industries().by_name(info.data.get("industry") or "")
        names = {b.name for b in ind.branches} if ind else set()
        bad = [b for b in v if b not in names]
        if ind and bad:
            raise ValueError(f"unknown branches {bad!r}; valid: {', '.join(sorted(names))}")
        return v

    @field_validator("grades")
    @classmethod
    def _known_grades(cls, v: list[str]) -> list[str]:
        bad = [g for g in v if g not in ALL_GRADES]
        if bad or not v:
            raise ValueError(f"unknown grades {bad!r}; valid: {', '.join(ALL_GRADES)}")
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

    @model_validator(mode="after")
    def _says_something(self) -> "Pack":
        if not self.indicators and self.warnings is None:
            raise ValueError("an empty pack: give indicators, warnings or both")
        return self

    def covers(self, industry: str, branch: str | None) -> bool:
        if self.industry == COMMON:
            ind = load_industries().by_name(industry)
            return ind is not None and ind.category == "national"
        return self.industry == industry and (not self.branches or branch in self.branches)


@dataclass(frozen=True)
class Packs:
    packs: tuple[Pack, ...]
    names: tuple[str, ...] = ()  # file name of each pack (same order); where a result's row came from

    def applicable(self, industry: str | None, branch: str | None, scheme: tuple[str, ...] | None = None
                   ) -> list[Pack]:
        """Industry packs first, then common ones. With the enterprise's `scheme`: a pack whose grades miss it
        is left out, and a branch without graded tiers (管控类型“其他”: empty scheme) gets no common pack."""
        if not industry:
            return []

        def fits(p: Pack) -> bool:
            if scheme is None:
                return True
            return bool(set(p.grades) & set(scheme)) if scheme else p.industry != COMMON

        found = [p for p in self.packs if p.covers(industry, branch) and fits(p)]
        return sorted(found, key=lambda p: p.industry == COMMON)

    def find(self, industry: str, branch: str | None) -> Pack | None:
        """The industry's own pack (not a common one)."""
        return next((p for p in self.applicable(industry, branch) if p.industry != COMMON), None)

    def indicators(self, industry: str | None, branch: str | None, scheme: tuple[str, ...],
                   family: str) -> list[tuple[Pack, Indicator]]:
        seen, out = set(), []
        for p in self.applicable(industry, branch, scheme):
            for i in p.indicators:
                if i.family == family and i.id not in seen:
                    seen.add(i.id)
                    out.append((p, i))
        return out

    def warnings(self, industry: str | None, branch: str | None) -> Warnings | None:
        return next((p.warnings for p in self.applicable(industry, branch) if p.warnings), None)


def load_pack(path: Path) -> Pack:
    return load_table(path, Pack)


def load_packs(directory: Path = CRITERIA_DIR, extra: Path | None = None) -> Packs:
    """Every `*.yaml` pack of `directory` (a broken one raises `DataError`: file, row, line), then those of
    `extra` (the data directory's staff packs; a file there replaces the package file of the same name;
    a broken one is logged and skipped, so a bad file cannot stop the assistant)."""
    if not directory.is_dir():
        raise DataError(f"{directory}: criteria folder not found")
    loaded = {p.name: load_pack(p) for p in sorted(directory.glob("*.yaml"))}
    staff: dict[str, Pack] = {}
    for p in sorted(extra.glob("*.yaml")) if extra and extra.is_dir() else ():
        try:
            staff[p.name] = load_pack(p)
        except DataError as exc:
            log.error("criteria pack skipped path=%s error=%s", p, exc)
    loaded = staff | {n: pk for n, pk in loaded.items() if n not in staff}  # staff packs first: they win find()
    names = list(loaded)
    return Packs(tuple(loaded[n] for n in names), tuple(names))


@cache
def default_packs() -> Packs:
    return load_packs()


class PackSource:
    """The package packs plus `<data_dir>/criteria/`; reloaded when a file there changes (any process)."""

    def __init__(self, data_criteria: Path | None = None, directory: Path = CRITERIA_DIR) -> None:
        self.directory, self.extra = directory, data_criteria
        self._sig: tuple | None = None
        self._packs: Packs | None = None
        self.current()

    def _signature(self) -> tuple:
        if not self.extra or not self.extra.is_dir():
            return ()
        return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(self.extra.glob("*.yaml")))

    def current(self) -> Packs:
        sig = self._signature()
        if self._packs is None or sig != self._sig:
            self._packs = load_packs(self.directory, self.extra) if self.extra else default_packs()
            self._sig = sig
        return self._packs


def variant_grade(variant: Variant, answers: dict[str, object], scheme: list[str] | tuple[str, ...]
                  ) -> tuple[str | None, str | None]:
    """(grade, failed): the highest scheme grade whose requirements all hold. The walk stops at a grade where
    some check has no loaded requirement (C/D are never guessed): grade None and `failed` = the last grade
    it missed (None when the first grade already has no requirement)."""
    failed = None
    for g in scheme:
        reqs = [(c, c.grades.get(g)) for c in variant.checks if c.grades]
        if not reqs or any(r is None for _, r in reqs):
            return None, failed
        if all(_meets(answers.get(c.id), r) for c, r in reqs):
            return g, failed
        failed = g
    return None, failed


def _meets(value: object, req: Requirement) -> bool:
    if req.min is not None:
        return isinstance(value, (int, float)) and value >= req.min
    if req.one_of is not None:
        return value in req.one_of
    return value is req.must
