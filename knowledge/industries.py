"""Industry list (附件3) and review routes: pydantic models and validated loaders.

`load_industries()` / `load_review_routes()` read knowledge/tables/*.yaml. A broken table raises
`jixiao.errors.DataError` whose message names the file, the row (path, name, line) and the field.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from jixiao.errors import DataError
from jixiao.knowledge.basis import Basis

TABLES_DIR = Path(__file__).parent / "tables"

Category = Literal["national", "local", "livelihood"]
Scheme = Literal["abcd", "leading", "other", "local_abc", "local_leading"]

CATEGORY_LABELS = {"national": "国家行业标准39个重点行业", "local": "地方行业标准10个行业", "livelihood": "民生保障类"}
SCHEME_LABELS = {
    "abcd": "A/B/C/D分级",
    "leading": "绩效引领/非绩效引领",
    "other": "其他（不分级）",
    "local_abc": "地方A/地方B/地方C分级",
    "local_leading": "地方绩效引领/地方非绩效引领",
}


def scheme_label(scheme: str, tiers) -> str:
    """"A/B/C分级" for an A/B/C/D branch without D (电解铝, 再生铝): the label never names a grade the row lacks."""
    return "/".join(tiers) + "分级" if scheme == "abcd" else SCHEME_LABELS[scheme]


FIXED_TIERS = {
    "leading": ["绩效引领", "非绩效引领"],
    "other": ["其他"],
    "local_abc": ["地方A", "地方B", "地方C"],
    "local_leading": ["地方绩效引领", "地方非绩效引领"],
}
ALL_GRADES = ("A", "B", "B-", "C", "D", "绩效引领", "非绩效引领", "其他",
              "地方A", "地方B", "地方C", "地方绩效引领", "地方非绩效引领")
_LOCAL_SCHEMES = {"local_abc", "local_leading"}


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_list(value):
    return value if isinstance(value, list) else [value]


class Branch(_Row):
    name: str
    scheme: Scheme
    tiers: list[str]
    b_minus: bool = False
    synonyms: list[str] = Field(default_factory=list)
    basis: Basis

    @model_validator(mode="after")
    def _tiers_fit_scheme(self) -> "Branch":
        if self.scheme == "abcd":
            if self.tiers not in (["A", "B", "C"], ["A", "B", "C", "D"]):
                raise ValueError(f"scheme abcd needs tiers [A, B, C] or [A, B, C, D], got {self.tiers}")
        elif self.tiers != FIXED_TIERS[self.scheme]:
            raise ValueError(f"scheme {self.scheme} needs tiers {FIXED_TIERS[self.scheme]}, got {self.tiers}")
        if self.b_minus and self.scheme != "abcd":
            raise ValueError("b_minus (B（B-）) only applies to scheme abcd")
        return self

    @property
    def grades(self) -> tuple[str, ...]:
        """Grades an enterprise of this branch can apply for (B- after B where the table shows B（B-））."""
        if self.scheme == "other":
            return ()
        out: list[str] = []
        for tier in self.tiers:
            out.append(tier)
            if tier == "B" and self.b_minus:
                out.append("B-")
        return tuple(out)

    @property
    def tiers_label(self) -> str:
        return "、".join("B（B-）" if t == "B" and self.b_minus else t for t in self.tiers)


class Industry(_Row):
    seq: int
    category: Category
    name: str
    synonyms: list[str] = Field(default_factory=list)
    note: str | None = None
    basis: list[Basis]
    branches: list[Branch]

    basis_as_list = field_validator("basis", mode="before")(_as_list)

    @model_validator(mode="after")
    def _consistent(self) -> "Industry":
        if not self.branches and self.category != "livelihood":
            raise ValueError(f"industry {self.name!r} has no branches")
        for b in self.branches:
            local = b.scheme in _LOCAL_SCHEMES
            if local != (self.category == "local"):
                raise ValueError(f"branch {b.name!r}: scheme {b.scheme} does not fit category {self.category}")
        for term in self.synonyms + [s for b in self.branches for s in b.synonyms]:
            if len(term) < 2:
                raise ValueError(f"synonym {term!r} is too short (at least 2 characters)")
        return self


class Section(_Row):
    category: Category
    title: str
    review_requirement: str
    basis: list[Basis]

    basis_as_list = field_validator("basis", mode="before")(_as_list)


class IndustryTable(_Row):
    jurisdiction: str
    doc_id: str
    sections: list[Section]
    industries: list[Industry]

    @model_validator(mode="after")
    def _unique(self) -> "IndustryTable":
        seen: set = set()
        for ind in self.industries:
            for key in ((ind.category, ind.seq), ind.name):
                if key in seen:
                    raise ValueError(f"duplicate industry {key!r}")
                seen.add(key)
        return self

    def section(self, category: str) -> Section | None:
        return next((s for s in self.sections if s.category == category), None)

    def by_name(self, name: str) -> Industry | None:
        return next((i for i in self.industries if i.name == name), None)


class Step(_Row):
    actor: str
    action: str
    basis: list[Basis]

    basis_as_list = field_validator("basis", mode="before")(_as_list)


class AppliesTo(_Row):
    category: Category
    industries: list[str] = Field(default_factory=list)  # empty: every industry of the category
    grades: list[str] = Field(default_factory=list)  # empty: any grade (民生保障)

    @field_validator("grades")
    @classmethod
    def _known(cls, grades: list[str]) -> list[str]:
        bad = [g for g in grades if g not in ALL_GRADES]
        if bad:
            raise ValueError(f"unknown grades {bad}; use one of {list(ALL_GRADES)}")
        return grades


class Route(_Row):
    id: str
    title: str
    applies_to: AppliesTo
    delegated: bool = False
    steps: list[Step]
    note: str | None = None
    basis: list[Basis]

    basis_as_list = field_validator("basis", mode="before")(_as_list)

    def matches(self, category: str, industry: str, grade: str | None) -> bool:
        a = self.applies_to
        return (a.category == category and (not a.industries or industry in a.industries)
                and (grade is None or not a.grades or grade in a.grades))


class Rule(_Row):
    id: str
    statement: str
    basis: list[Basis]

    basis_as_list = field_validator("basis", mode="before")(_as_list)


class ReviewTable(_Row):
    jurisdiction: str
    system: str
    rules: list[Rule]
    routes: list[Route]

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


# ---------------------------------------------------------------- loading

M = TypeVar("M", bound=BaseModel)


def _locate(path: Path, text: str, data, loc: tuple) -> str:
    """Human label of the row at `loc`: `industries[5] (铸造) → branches[1] (…), line N`."""
    parts, node, line = [], data, None
    try:
        mark_node = yaml.compose(text)
    except yaml.YAMLError:
        mark_node = None
    for key in loc:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            break
        label = f"[{key}]" if isinstance(key, int) else f".{key}"
        if isinstance(node, dict) and (node.get("name") or node.get("id")):
            label += f" ({node.get('name') or node.get('id')})"
        parts.append(label)
        if mark_node is not None:
            mark_node = _child(mark_node, key)
            if mark_node is not None:
                line = mark_node.start_mark.line + 1
    where = "".join(parts).lstrip(".") or "(top level)"
    return f"{where}{f', line {line}' if line else ''}"


def _child(node, key):
    if isinstance(node, yaml.MappingNode):
        return next((v for k, v in node.value if k.value == key), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        return node.value[key]
    return None


def load_table(path: Path, model: type[M]) -> M:
    """Read and validate one YAML table; errors name the file, the row and the field."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{path}: cannot read table: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            row_loc = loc[:-1] if err["type"] in ("extra_forbidden", "missing") else loc
            lines.append(f"  {path.name}: {_locate(path, text, data, row_loc)}: "
                         f"{'.'.join(map(str, loc))}: {err['msg']}")
        raise DataError(f"{path}: invalid table ({len(lines)} error(s))\n" + "\n".join(lines)) from exc


@cache
def load_industries(path: Path = TABLES_DIR / "industries.yaml") -> IndustryTable:
    return load_table(path, IndustryTable)


@cache
def load_review_routes(path: Path = TABLES_DIR / "review_routes.yaml") -> ReviewTable:
    return load_table(path, ReviewTable)
