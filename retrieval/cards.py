"""Question cards in the index: one vector and one token set per card question, beside the chunks.

The vectors live in the same Chroma collection as the chunks (`source_type: card`); the tokens in
`<data_dir>/retrieval/cards.json`. A question is matched against every card question by

- `cos`: cosine of the two e5 query vectors (question ↔ question is symmetric, so both use the query prefix);
- `lex`: IDF-weighted Dice overlap of word tokens, or of sound-alike pinyin bigrams when that is higher
  (typos typed with a pinyin keyboard keep their sound);

and a card scores its best question. The router (`jixiao.bot.route`) decides what a score means.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jixiao.retrieval.pinyin import PINYIN_STAMP, pinyin_tokens

CARD_PREFIX = "card:"
CARDS_VERSION = 1


@dataclass(frozen=True)
class CardMatch:
    card_id: str
    kind: str            # tool | clause | out_of_scope | curated
    question: str        # the card question that matched best
    score: float         # combined similarity in [0, 1]
    cos: float
    lex: float

    def to_json(self) -> dict:
        return {"card": self.card_id, "kind": self.kind, "question": self.question, "score": round(self.score, 3),
                "cos": round(self.cos, 3), "lex": round(self.lex, 3)}


class _Overlap:
    """IDF-weighted Dice between a query's token set and every stored token set."""

    def __init__(self, token_sets: list[list[str]]):
        n = len(token_sets)
        df = Counter(t for ts in token_sets for t in set(ts))
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.unseen = math.log(1 + (n + 0.5) / 0.5)
        self.sizes = np.array([sum(self.idf[t] for t in set(ts)) for ts in token_sets], dtype=np.float64)
        postings: dict[str, list[int]] = {}
        for row, ts in enumerate(token_sets):
            for t in set(ts):
                postings.setdefault(t, []).append(row)
        self.postings = {t: np.array(r, dtype=np.int64) for t, r in postings.items()}

    def dice(self, tokens: list[str]) -> np.ndarray:
        out = np.zeros(len(self.sizes))
        q = set(tokens)
        if not q or not len(self.sizes):
            return out
        qsize = sum(self.idf.get(t, self.unseen) for t in q)
        for t in q:
            rows = self.postings.get(t)
            if rows is not None:
                out[rows] += self.idf[t]
        return 2 * out / (qsize + self.sizes)


class CardIndex:
    """Card questions of one index: ids, texts, card ids and kinds, word and pinyin tokens, vectors."""

    def __init__(self, records: list[dict], vectors: np.ndarray, cos_floor: float = 0.80, cos_span: float = 0.15,
                 lex_weight: float = 0.4):
        self.records = records
        self.vectors = vectors
        self.cos_floor, self.cos_span, self.lex_weight = cos_floor, cos_span, lex_weight
        self.targets = {r["card_id"]: r["target"] for r in records if r.get("target")}
        self._words = _Overlap([r["words"] for r in records])
        self._sounds = _Overlap([r["sounds"] for r in records])

    def __len__(self) -> int:
        return len(self.records)

    def questions_of(self, target: str, tool_of: dict[str, str]) -> list[str]:
        """Questions of the clause cards resolving to chunk `target`, or of the tool cards of tool `target`."""
        if getattr(self, "_by_target", None) is None:
            by: dict[str, list[str]] = {}
            for r in self.records:
                key = r.get("target") or tool_of.get(r["card_id"])
                if key:
                    by.setdefault(key, []).append(r["text"])
            self._by_target = by
        return self._by_target.get(target, [])

    @staticmethod
    def path(data_dir: Path) -> Path:
        return Path(data_dir) / "retrieval" / "cards.json"

    def similarities(self, query_vector: np.ndarray, words: list[str], sounds: list[str]) -> tuple[np.ndarray, ...]:
        """(combined, cos, lex) of every card question."""
        if not len(self.records):
            empty = np.zeros(0)
            return empty, empty, empty
        cos = self.vectors @ query_vector
        lex = np.maximum(self._words.dice(words), self._sounds.dice(sounds))
        dense = np.clip((cos - self.cos_floor) / self.cos_span, 0.0, 1.0)
        return (1 - self.lex_weight) * dense + self.lex_weight * lex, cos, lex

    def match(self, query_vector: np.ndarray, words: list[str], sounds: list[str], k: int = 8,
              kinds: tuple[str, ...] | None = None, exclude: set[str] | frozenset[str] = frozenset()) -> list[CardMatch]:
        """The best `k` cards (each scored by its best question), best first."""
        score, cos, lex = self.similarities(query_vector, words, sounds)
        best: dict[str, CardMatch] = {}
        for i in np.argsort(-score, kind="stable"):
            rec = self.records[int(i)]
            cid = rec["card_id"]
            if cid in best or cid in exclude or (kinds and rec["kind"] not in kinds):
                continue
            best[cid] = CardMatch(cid, rec["kind"], rec["text"], float(score[i]), float(cos[i]), float(lex[i]))
            if len(best) >= k:
                break
        return list(best.values())

    # ---- persistence --------------------------------------------------------------------------
    @staticmethod
    def save_records(path: Path, records: list[dict], stamp: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": CARDS_VERSION, "stamp": stamp, "records": records}, ensure_ascii=False),
                       encoding="utf-8")
        tmp.replace(path)

    @staticmethod
    def load_records(path: Path) -> tuple[list[dict], str]:
        if not path.is_file():
            return [], ""
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != CARDS_VERSION:
            return [], ""
        return data.get("records", []), data.get("stamp", "")


def card_records(questions, tokenizer, saved: dict[str, dict]) -> list[dict]:
    """Records for card questions (tokens reused from `saved` by question id: ids hash card id and text)."""
    out = []
    for q in questions:
        old = saved.get(q.id)
        if old is not None:
            out.append(old)
            continue
        out.append({"id": q.id, "text": q.text, "card_id": q.card_id, "kind": q.kind,
                    "words": tokenizer.tokens(q.text), "sounds": pinyin_tokens(q.text)})
    return out


def stamp_of(tokenizer_stamp: str) -> str:
    return f"{tokenizer_stamp}-{PINYIN_STAMP}"
