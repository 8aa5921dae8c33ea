"""Rule tables (incentives, procedures, policy register): pydantic models and validating loaders.

Every loader raises `DataError` naming the file, the row (index, id and YAML line) and the field
to fix. Nothing is read at import time; loaders are cached per path.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from jixiao.errors import DataError
from jixiao.knowledge.basis import Basis

TABLES_DIR = Path(__file__).parent / "tables"

Grade = Literal["A", "B", "B-", "绩效引领"]
Jurisdiction = Literal["重庆", "聊城", "开封", "全国", "四川", "山东"]
Status = Literal["loaded", "cited-not-loaded", "secondary"]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


class Number(_Row):
    """One figure of a measure, e.g. 0.3 % extra quota for grade B."""

    key: str
    label: str
    value: float
    unit: str
    grade: Grade | None = None
    below_standard_pct: float | None = None


class Measure(_Row):
    id: str
    seq: int = Field(ge=1, le=10)
    name: str
    title: str
    scope: Literal["grade", "pursuit", "all", "district"]
    grades: tuple[Grade, ...] = ()
    inferred_grades: tuple[Grade, ...] = ()
    grade_notes: dict[Grade, str] = {}
    summary: str
    condition: str | None = None
    numbers: tuple[Number, ...] = ()
    basis: tuple[Basis, ...] = Field(min_length=1)

    _list_basis = field_validator("basis", mode="before")(_as_list)

    @model_validator(mode="after")
    def _grades_match_scope(self) -> "Measure":
        if self.scope == "grade" and not self.grades:
            raise ValueError("scope 'grade' needs a non-empty 'grades'")
        if self.scope != "grade" and (self.grades or self.inferred_grades):
            raise ValueError(f"scope {self.scope!r} must not list grades")
        for number in self.numbers:
            if number.grade and number.grade not in self.grades:
                raise ValueError(f"number {number.key!r} names grade {number.grade} not in 'grades'")
        return self


class BasisGroup(_Row):
    note: str | None = None
    basis: tuple[Basis, ...] = Field(min_length=1)

    _list_basis = field_validator("basis", mode="before")(_as_list)


class IncentiveTable(_Row):
    doc_id: str
    region: Literal["重庆"]
    measures: tuple[Measure, ...]
    names: BasisGroup
    grade_equivalence: BasisGroup

    @model_validator(mode="after")
    def _ten_measures(self) -> "IncentiveTable":
        if sorted(m.seq for m in self.measures) != list(range(1, 11)):
            raise ValueError("measures must be numbered 1..10, each once")
        return self


class ProcedureFact(_Row):
    id: str
    topic: str
    jurisdiction: Jurisdiction
    statement: str
    items: tuple[str, ...] = ()
    numbers: dict[str, str | int | float] = {}
    loaded: bool = True
    secondary: bool = False
    seen_at: str | None = None
    basis: tuple[Basis, ...] = Field(min_length=1)

    _list_basis = field_validator("basis", mode="before")(_as_list)

    @model_validator(mode="after")
    def _secondary_says_where(self) -> "ProcedureFact":
        if (not self.loaded or self.secondary) and not self.seen_at:
            raise ValueError("a secondary / not-loaded fact needs 'seen_at'")
        if self.loaded and any(not b.loaded for b in self.basis):
            raise ValueError("a basis is not loaded: set 'loaded: false', 'secondary: true' and 'seen_at' on the row")
        return self


class PolicyDoc(_Row):
    id: str
    title: str
    short_title: str | None = None
    number: str | None = None
    number_note: str | None = None
    date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    date_note: str | None = None
    issuer: str | None = None
    jurisdiction: Jurisdiction
    status: Status
    parent: str | None = None
    cited_by: tuple[str, ...] = ()
    changes: str
    secondary: bool = False
    seen_at: str | None = None
    newer_than_seeds: bool = False
    basis: tuple[Basis, ...] = Field(min_length=1)

    _list_basis = field_validator("basis", mode="before")(_as_list)

    @model_validator(mode="after")
    def _status_consistent(self) -> "PolicyDoc":
        if self.status == "secondary":
            if not (self.secondary and self.seen_at):
                raise ValueError("status 'secondary' needs 'secondary: true' and 'seen_at'")
            if any(b.loaded or b.doc_id != self.id for b in self.basis):
                raise ValueError("a secondary document's basis must be its own, with 'loaded: false'")
        elif self.secondary:
            raise ValueError(f"'secondary: true' contradicts status {self.status!r}")
        if self.status == "loaded" and not any(b.doc_id == self.id for b in self.basis):
            raise ValueError("a loaded document's basis must quote the document itself")
        if self.status == "cited-not-loaded":
            if not self.cited_by:
                raise ValueError("status 'cited-not-loaded' needs 'cited_by'")
            if any(b.doc_id not in self.cited_by for b in self.basis):
                raise ValueError("basis of a cited document must quote a document in 'cited_by'")
        return self


class Rules(_Row):
    incentives: IncentiveTable
    procedures: tuple[ProcedureFact, ...]
    policy_register: tuple[PolicyDoc, ...]


# ---------------------------------------------------------------- loading

def _read(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path}: cannot read rule table ({exc})") from exc
    try:
        return yaml.safe_load(text), yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise DataError(f"{path}{where}: YAML syntax error: {getattr(exc, 'problem', exc)}") from exc


def _row_lines(node: yaml.Node | None, key: str) -> list[int]:
    """YAML line (1-based) of each item of the list under top-level `key`."""
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key and isinstance(v, yaml.SequenceNode):
                return [item.start_mark.line + 1 for item in v.value]
    return []


def _explain(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(row)'}: {e['msg']}" for e in exc.errors())


def _rows(path: Path, key: str, model: type[_Row]) -> tuple[Any, tuple]:
    data, node = _read(path)
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise DataError(f"{path}: expected a mapping with a list under {key!r}")
    lines = _row_lines(node, key)
    rows, seen = [], set()
    for i, raw in enumerate(data[key]):
        rid = raw.get("id") if isinstance(raw, dict) else None
        where = f"{path} {key}[{i}] (id={rid!r}, line {lines[i] if i < len(lines) else '?'})"
        try:
            row = model.model_validate(raw)
        except ValidationError as exc:
            raise DataError(f"{where}: {_explain(exc)}") from exc
        if row.id in seen:
            raise DataError(f"{where}: duplicate id {row.id!r}")
        seen.add(row.id)
        rows.append(row)
    return data, tuple(rows)


@cache
def load_register(path: Path = TABLES_DIR / "policy_register.yaml") -> tuple[PolicyDoc, ...]:
    _, docs = _rows(Path(path), "documents", PolicyDoc)
    ids = {d.id for d in docs}
    for d in docs:
        for ref in (d.parent, *d.cited_by):
            if ref and ref not in ids:
                raise DataError(f"{path} documents[id={d.id!r}]: refers to unknown document {ref!r}")
    return docs


@cache
def load_incentives(path: Path = TABLES_DIR / "incentives.yaml") -> IncentiveTable:
    path = Path(path)
    data, measures = _rows(path, "measures", Measure)
    rest = {k: v for k, v in data.items() if k != "measures"}
    try:
        return IncentiveTable.model_validate({**rest, "measures": measures})
    except ValidationError as exc:
        raise DataError(f"{path}: {_explain(exc)}") from exc


@cache
def load_procedures(path: Path = TABLES_DIR / "procedures.yaml") -> tuple[ProcedureFact, ...]:
    return _rows(Path(path), "facts", ProcedureFact)[1]


def check_references(rules: Rules, tables_dir: Path) -> None:
    """Every basis names a registered document, loaded or not as the register says."""
    status = {d.id: d.status for d in rules.policy_register}
    tables = [("incentives.yaml", m.id, m.basis) for m in rules.incentives.measures]
    tables += [("incentives.yaml", "names", rules.incentives.names.basis),
               ("incentives.yaml", "grade_equivalence", rules.incentives.grade_equivalence.basis)]
    tables += [("procedures.yaml", f.id, f.basis) for f in rules.procedures]
    for name, rid, bases in tables:
        for b in bases:
            if b.doc_id not in status:
                raise DataError(f"{tables_dir / name} row {rid!r}: doc_id {b.doc_id!r} is not in policy_register.yaml")
            if b.loaded != (status[b.doc_id] == "loaded"):
                raise DataError(f"{tables_dir / name} row {rid!r}: basis {b.doc_id!r} has loaded={b.loaded} "
                                f"but the register says {status[b.doc_id]!r}")


@cache
def load_rules(tables_dir: Path = TABLES_DIR) -> Rules:
    tables_dir = Path(tables_dir)
    rules = Rules(incentives=load_incentives(tables_dir / "incentives.yaml"),
                  procedures=load_procedures(tables_dir / "procedures.yaml"),
                  policy_register=load_register(tables_dir / "policy_register.yaml"))
    check_references(rules, tables_dir)
    return rules
