"""`jixiao eval confidence`: count how often each route class was right on the development answer sets and write
the table `Answer.confidence` is read from (jixiao.bot.answer_confidence).

The sets are run through the real assistant with the table switched off (the route of a turn never depends on its
confidence). Reported: Brier score and expected calibration error (ECE) of the written table on the sets it was
counted on, and — the honest number — leave-one-set-out: each set scored with a table counted on the others.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from jixiao.bot.answer_confidence import TABLE_PATH, Calibrated, ConfidenceTable, count
from jixiao.eval.answer_eval import (GOLDEN_PATH, AnswerCase, build_eval_assistant, calibration, load_cases, run_eval,
                                     set_day)

GOLDEN = GOLDEN_PATH.parent
# The development sets: every set whose failures have been read. Held-out sets are never counted here.
DEV_SETS = ("answers.yaml", "answers_holdout.yaml", "answers_holdout2.yaml", "answers_holdout3.yaml",
            "answers_holdout4.yaml", "oos_nearby.yaml", "answers_holdout5.yaml", "oos_nearby2.yaml", "answers_holdout6.yaml",
            "oos_nearby3.yaml", "answers_holdout7.yaml", "oos_nearby4.yaml", "answers_holdout8.yaml", "oos_nearby5.yaml",
            "answers_holdout9.yaml", "oos_nearby6.yaml", "answers_holdout10.yaml", "oos_nearby7.yaml",
            "answers_holdout11.yaml", "oos_nearby8.yaml", "oos_nearby9.yaml", "oos_nearby10.yaml", "calibration.yaml")
COMMAND = "HF_HUB_OFFLINE=1 jixiao eval confidence --write"


@dataclass(frozen=True)
class Row:
    set: str
    route: dict
    escalate: bool
    right: bool


def cases_of(path: Path) -> list[AnswerCase]:
    """An answer set; calibration.yaml (out-of-scope questions without expectations) as escalating cases."""
    if path.name == "calibration.yaml":
        rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        return [AnswerCase.from_dict({"id": r["id"], "group": "out_of_scope", "turns": [r["question"]],
                                      "expect": {"escalate": True}}) for r in rows]
    return load_cases(path)


def collect(settings, paths: list[Path]) -> list[Row]:
    """Every case of every set through a fresh assistant (case ids repeat across sets), confidence table off."""
    from jixiao.bot.timeplace import FixedClock, SystemClock

    rows: list[Row] = []
    for path in paths:
        assistant, _ = build_eval_assistant(settings)
        assistant.calibrated = None
        day = set_day(path)
        assistant.clock = FixedClock(day) if day else SystemClock()
        assistant.router.clock = assistant.clock
        report = run_eval(assistant, cases_of(path))
        rows += [Row(path.name, c.route, c.escalate, c.passed) for c in report.cases]
    return rows


def table_of(rows: list[Row], sets: tuple[str, ...]) -> ConfidenceTable:
    return ConfidenceTable(command=COMMAND, sets=sets, counts=count([(r.route, r.escalate, r.right) for r in rows]))


def scores(table: ConfidenceTable, rows: list[Row]) -> dict:
    cal = Calibrated(table)
    return calibration([(cal.probability(r.route, r.escalate), r.right) for r in rows])


def report(rows: list[Row]) -> dict:
    """In-sample and leave-one-set-out Brier/ECE, and the pass rate, per set."""
    sets = tuple(dict.fromkeys(r.set for r in rows))
    full = table_of(rows, sets)
    out = {"in_sample": scores(full, rows), "per_set": {}}
    held = []
    for s in sets:
        mine = [r for r in rows if r.set == s]
        others = table_of([r for r in rows if r.set != s], tuple(x for x in sets if x != s))
        cal = Calibrated(others)
        pairs = [(cal.probability(r.route, r.escalate), r.right) for r in mine]
        held += pairs
        out["per_set"][s] = dict(calibration(pairs), cases=len(mine),
                                 right=round(sum(r.right for r in mine) / len(mine), 4),
                                 mean_confidence=round(sum(p for p, _ in pairs) / len(pairs), 4))
    out["leave_one_set_out"] = calibration(held)
    return out


def write(table: ConfidenceTable, path: Path = TABLE_PATH) -> None:
    head = ("# P(answer right) per route class, counted by `jixiao eval confidence --write` on the development answer\n"
            "# sets (jixiao.bot.answer_confidence). counts: route class -> [right, total]. Do not edit by hand.\n")
    data = {"command": table.command, "sets": list(table.sets), "strength": table.strength,
            "counts": {k: list(v) for k, v in table.counts.items()}}
    path.write_text(head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
