"""The reply to a question the loaded documents do not answer, by reply kind (knowledge/lexicon/replies.yaml):
why, the nearest thing the documents do say (with its citation, when the card names one), and the way to 转人工."""
from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import yaml

from jixiao.bot.abstention import HELP
from jixiao.bot.answer import Answer, citation, doc_title
from jixiao.bot.understanding import Understanding
from jixiao.knowledge.basis import SOURCES_DIR, normalize

REPLIES_PATH = Path(__file__).resolve().parent.parent / "knowledge" / "lexicon" / "replies.yaml"


@cache
def replies(path: Path = REPLIES_PATH) -> dict[str, str]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return dict(data.get("replies") or {})


@cache
def newest_document(jurisdiction: str = "重庆") -> tuple[str, str, str]:
    """(doc_id, 《short title》, date) of the newest loaded document of `jurisdiction`."""
    from jixiao.knowledge.ingest.model import load_sources

    docs = [d.meta for d in load_sources(SOURCES_DIR) if d.meta.jurisdiction == jurisdiction and d.meta.date]
    best = max(docs, key=lambda m: (m.date, not m.parent))  # a notice rather than its attachment of the same day
    return best.doc_id, doc_title(best.doc_id), best.date


def newest_label(jurisdiction: str = "重庆") -> str:
    _, title, date = newest_document(jurisdiction)
    return f"{title}（{date}）"


def nearest_sentence(doc_id: str, anchor: str) -> str | None:
    """The sentence of `doc_id` around `anchor` (verbatim), for "what the documents do say nearby"."""
    from jixiao.bot.passages import sentences
    from jixiao.knowledge.ingest.model import read_source

    doc = read_source(doc_id, SOURCES_DIR)
    if doc is None:
        return None
    want = normalize(anchor)
    for line in doc.body.splitlines():
        for s in sentences(line.lstrip("#| ").strip()):
            if want in normalize(s):
                return s
    return None


def out_of_scope_answer(u: Understanding, kind: str, topic: str, nearest=None) -> Answer:
    """The reply of `kind` about `topic`; `nearest`: an Anchor-like (doc_id, section, anchor) or None."""
    template = replies().get(kind) or replies()["not_in_docs"]
    text = template.format(topic=topic or "这个问题", newest=newest_label(), region=u.region)
    cites = []
    if kind == "future_year":  # the date the answer rests on is the newest document's: cite it
        doc_id, _, _ = newest_document()
        cites.append(citation(doc_id, "发文", ""))
    if nearest is not None:
        sentence = nearest_sentence(nearest.doc_id, nearest.anchor)
        if sentence:
            c = citation(nearest.doc_id, nearest.section, sentence)
            cites.append(c)
            text += f"\n文件中相关的规定是：“{sentence}”（{c.label()}）"
    return Answer(f"{text}\n{HELP}", [dataclasses.asdict(c) for c in cites], escalate=True, confidence=0.2,
                  intent=u.intent)
