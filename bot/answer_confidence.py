"""`Answer.confidence` as a calibrated probability that the answer is right.

The probability is read from how often answers of the same kind were right on the development answer sets
(`knowledge/tables/answer_confidence.yaml`, written by `jixiao eval confidence`). An answer's kind is its route
class: the route that decided it (the keyword intent, the card kind, the scope rule), whether an answerability
check refused it and whether it escalated. Classes are nested (`tool-rule:tool_tiers/answered` →
`tool-rule/answered` → `answered`); a class seen few times borrows strength from its parent
(Beta smoothing: (right + a·p_parent) / (total + a)), so a rare class is never certain.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

TABLE_PATH = Path(__file__).resolve().parent.parent / "knowledge" / "tables" / "answer_confidence.yaml"


class ConfidenceTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    command: str                                  # how the table was made
    sets: tuple[str, ...]                         # the answer sets it was counted on
    strength: float = 4.0                         # a: the parent's weight, in cases
    counts: dict[str, tuple[int, int]]            # route class → (right, total)


def route_classes(route: dict, escalate: bool) -> list[str]:
    """The route classes of an answer, most specific first (each a prefix-parent of the one before)."""
    rid = str(route.get("id") or route.get("kind") or "none")
    parts = rid.split(":")
    head = parts[0]
    detail = parts[1].split("+")[0] if len(parts) > 1 and head in ("tool-rule", "scope-rule", "curated") else ""
    if head == "curated":
        detail = ""
    check = route.get("check") or {}
    if isinstance(check, dict) and check and not check.get("ok", True):
        outcome = f"refused-{check.get('check', 'check')}"
    elif escalate:
        outcome = "escalated"
    else:
        outcome = "answered"
    if route.get("tool_not_covering") and outcome == "answered":
        outcome = "answered-after-tool"
    out = [f"{head}:{detail}/{outcome}"] if detail else []
    out += [f"{head}/{outcome}", outcome]
    return out


@dataclass(frozen=True)
class Calibrated:
    table: ConfidenceTable

    def probability(self, route: dict, escalate: bool) -> float:
        """P(right) for an answer of this route class; the overall rate where nothing is known."""
        right, total = map(sum, zip(*self.table.counts.values())) if self.table.counts else (1, 2)
        p = (right + 1) / (total + 2)
        for cls in reversed(route_classes(route, escalate)):
            r, n = self.table.counts.get(cls, (0, 0))
            p = (r + self.table.strength * p) / (n + self.table.strength)
        return round(p, 3)


@cache
def load_calibrated(path: Path = TABLE_PATH) -> Calibrated | None:
    """The table, or None when it was never written (then answers keep their rule-set confidence)."""
    if not Path(path).is_file():
        return None
    return Calibrated(ConfidenceTable.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8"))))


def count(rows: list[tuple[dict, bool, bool]]) -> dict[str, tuple[int, int]]:
    """(route, escalated, right) rows → route class → (right, total), for every level of every row's class."""
    out: dict[str, list[int]] = {}
    for route, escalate, right in rows:
        for cls in route_classes(route, escalate):
            cell = out.setdefault(cls, [0, 0])
            cell[0] += int(right)
            cell[1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}
