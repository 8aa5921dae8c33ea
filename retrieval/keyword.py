"""BM25 over jieba tokens, with a domain user dictionary; persisted as JSON under the data dir."""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np

from jixiao.retrieval.expansion import industry_rows

# Terms jieba must keep whole (besides every industry name, branch and synonym in industries.yaml).
DOMAIN_TERMS = [
    "绩效引领", "非绩效引领", "引领性", "创B争A", "门禁系统", "应急减排", "绩效分级", "绩效评级", "一厂一策",
    "重污染天气", "重点行业", "非重点行业", "民生保障", "保障类企业", "豁免", "超低排放", "无组织排放",
    "有组织排放", "在线监测", "惠企措施", "惠企10条", "技术指南", "地方指南", "市级集中审查", "专家现场审查",
    "区县预审", "B级", "A级", "C级", "D级", "B-级", "移动源", "非道路移动机械", "国五", "国六", "秋冬季",
    "治气", "环评", "排污许可", "清单", "应急管理系统", "申报材料", "减排清单", "错峰生产", "停限产",
]
_PUNCT = re.compile(r"^[\s\W_]+$", re.UNICODE)


def domain_terms(tables_dir: str | Path | None) -> list[str]:
    terms = list(DOMAIN_TERMS)
    for name, synonyms in industry_rows(tables_dir):
        terms += [name, *synonyms]
    out, seen = [], set()
    for t in terms:
        t = str(t).strip()
        if t and t not in seen and " " not in t:
            seen.add(t)
            out.append(t)
    return out


class Tokenizer:
    """A private jieba instance (the global one is left alone) with the domain dictionary added."""

    def __init__(self, tables_dir: str | Path | None = None, terms: list[str] | None = None):
        self.terms = domain_terms(tables_dir) + list(terms or [])
        self._jieba = None

    @property
    def stamp(self) -> str:
        """Changes when the user dictionary changes, so persisted tokens are not reused across it."""
        import hashlib

        return "jieba-" + hashlib.sha256("\n".join(self.terms).encode("utf-8")).hexdigest()[:16]

    def _load(self):
        if self._jieba is None:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            for t in self.terms:
                tok.add_word(t, freq=max(2000, 1000 * len(t)))
            self._jieba = tok
        return self._jieba

    def warm_up(self) -> None:
        self._load().cut("预热")

    def tokens(self, text: str) -> list[str]:
        """Search-mode tokens (whole words plus their sub-words), lower-cased, punctuation dropped."""
        return [t.lower() for t in self._load().cut_for_search(text) if t.strip() and not _PUNCT.match(t)]

    def cut(self, text: str) -> list[str]:
        return [t for t in self._load().cut(text) if t.strip()]

    def tagged(self, text: str) -> list[tuple[str, str]]:
        """(word, part-of-speech flag) with the domain dictionary (jieba.posseg over this instance)."""
        if getattr(self, "_pos", None) is None:
            import jieba.posseg

            self._pos = jieba.posseg.POSTokenizer(self._load())
        return [(w.lower(), f) for w, f in self._pos.cut(text) if w.strip() and not _PUNCT.match(w)]

    def is_word(self, token: str) -> bool:
        """A dictionary word (jieba's or the domain's), not a fragment the segmenter glued together ("局做")."""
        tk = self._load()
        if not tk.initialized:
            tk.initialize()
        return tk.FREQ.get(token, 0) > 0 or tk.FREQ.get(token.upper(), 0) > 0


class BM25Index:
    """Okapi BM25 over pre-tokenised chunks; keeps each chunk's record (text, metadata) for hits."""

    def __init__(self, ids: list[str], tokens: list[list[str]], records: list[dict], k1: float = 1.5, b: float = 0.75):
        self.ids, self.tokens, self.records, self.k1, self.b = ids, tokens, records, k1, b
        self._pos = {cid: i for i, cid in enumerate(ids)}
        n = len(ids)
        self._tf = [Counter(t) for t in tokens]
        self._len = np.array([len(t) for t in tokens], dtype=np.float64)
        self._avg = float(self._len.mean()) if n else 0.0
        df = Counter(w for t in tokens for w in set(t))
        self._idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in df.items()}
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for row, counts in enumerate(self._tf):
            for w, c in counts.items():
                rows, tfs = postings.setdefault(w, ([], []))
                rows.append(row)
                tfs.append(c)
        self._postings = {w: (np.array(r, dtype=np.int64), np.array(t, dtype=np.float64))
                          for w, (r, t) in postings.items()}

    def __len__(self) -> int:
        return len(self.ids)

    def record(self, cid: str) -> dict:
        return self.records[self._pos[cid]]

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk (index order); a repeated query token counts once."""
        out = np.zeros(len(self.ids))
        if not self.ids:
            return out
        norm = self.k1 * (1 - self.b + self.b * self._len / (self._avg or 1.0))
        for w in set(query_tokens):
            if w not in self._postings:
                continue
            rows, tf = self._postings[w]
            out[rows] += self._idf[w] * tf * (self.k1 + 1) / (tf + norm[rows])
        return out

    def save(self, path: str | Path, stamp: str = "") -> None:
        """Write ids, tokens and records; `stamp` names how the tokens were made (see `saved_tokens`)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": 1, "stamp": stamp, "ids": self.ids, "tokens": self.tokens,
                                   "records": self.records},
                                  ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path, k1: float = 1.5, b: float = 0.75) -> "BM25Index":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["ids"], data["tokens"], data["records"], k1=k1, b=b)


def saved_tokens(path: str | Path, stamp: str) -> dict[str, list[str]]:
    """Chunk id → tokens from a persisted index made the same way (`stamp`); {} when there is none.

    Ids are content hashes, so an id that is still wanted has the same text and the same tokens."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    if data.get("stamp") != stamp:
        return {}
    return dict(zip(data.get("ids", []), data.get("tokens", [])))
