"""Answer only what the evidence covers (knowledge/lexicon/answerability.yaml).

Two checks on the evidence an answer would rest on (the quoted clauses or the tool result, plus the questions of
the cards that point at it — those are the ways users are known to ask for that evidence):

- focus: every specific word of the question (not a stop word, not an entity the lookup already used) occurs in
  the evidence, directly, by sound (pinyin keyboard typos) or through an everyday-wording bridge; a word of high
  IDF that is missing means the evidence is about something else ("环保税按季度申报" ≠ the 减税 measure);
- slot: a question asking a duration, date, amount or count gets it only from evidence containing one.

`check` returns a `Coverage` saying which check failed and what is missing, so the route record can show it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Callable, Iterable

import yaml
from pydantic import BaseModel, ConfigDict

from jixiao.knowledge.lexicon import Example

LEXICON_PATH = Path(__file__).resolve().parent.parent / "knowledge" / "lexicon" / "answerability.yaml"
_NUMBERISH = re.compile(r"^[\d.%]+$|^[A-Z]$|^20\d\d年?$")


class Slot(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    asks: str
    evidence: str
    prefer: bool = True  # passages prefer a sentence holding the item (False: the check only)
    term: str = ""           # reads the term a question asks about (group `term`)
    term_evidence: str = ""  # with a term read: the item must be of that term ("{term}" stands for it)
    label: str = ""          # how a document labels the item ("完成时限:2025年6月"): a labelled item answers the ask
                             # even in a sentence sharing no word with the question
    examples: tuple[Example, ...]


class ValuePattern(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    pattern: str
    examples: tuple[Example, ...]


class Stopwords(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    words: tuple[str, ...]
    examples: tuple[Example, ...]


class Listing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    asks: tuple[str, ...]
    not_kinds: str                  # what group `noun` may catch that is no kind of item (a particle, a bare counter)
    evidence: str
    examples: tuple[Example, ...]


class CountUnits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    asks: str                       # the count question words before the counter (几, 多少 …)
    units: str                      # counters a "几X/多少X" question names
    enumerated: tuple[str, ...]     # nouns after 个 counted by listing them ("几个等级": A、B、C), no number needed
    examples: tuple[dict[str, str], ...]


class Plain(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    words: dict[str, str]           # dialect/colloquial spelling → the plain form the patterns are written in
    examples: tuple[Example, ...]   # positive: changed by the plain reading; negative: left as it is


class Background(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    pattern: str                    # a clause that sets the scene (who asks, what someone said)
    first_person: str               # a clause about the asker: after the asking clauses, a remark
    interrogative: str              # a clause holding one of these asks something: never background
    examples: tuple[Example, ...]


class Levels(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    levels: dict[str, str]          # a level of government → the words naming it
    examples: tuple[Example, ...]   # positive: names a level; negative: names none


class Lexicon(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    heavy_idf: float
    card_backing: float
    elsewhere_margin: float
    focus_flags: tuple[str, ...]
    plain: Plain
    background: Background
    value: ValuePattern
    stopwords: Stopwords
    listing: Listing
    count_units: CountUnits
    levels: Levels
    slots: dict[str, Slot]


@cache
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    return Lexicon.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Coverage:
    ok: bool
    check: str = ""                     # "focus" | "slot" when not ok
    missing: tuple[str, ...] = ()       # the uncovered words, or the slot asked
    covered: float = 1.0                # IDF-weighted share of the focus found in the evidence
    uncovered: tuple[tuple[str, float], ...] = ()   # every focus word not found, with its IDF

    def to_json(self) -> dict:
        return {"ok": self.ok, "check": self.check, "missing": list(self.missing), "covered": round(self.covered, 3),
                "uncovered": [list(u) for u in self.uncovered]}


def plain(question: str, lexicon: Lexicon | None = None) -> str:
    """The question with dialect spellings in their plain form (啥子 → 啥), as the ask patterns are written."""
    lex = lexicon or load_lexicon()
    for word in sorted(lex.plain.words, key=len, reverse=True):
        question = question.replace(word, lex.plain.words[word])
    return question


def is_background(clause: str, lexicon: Lexicon | None = None) -> bool:
    """A clause that sets the scene and asks nothing ("我们是印刷厂", "同行说评级很难")."""
    lex = lexicon or load_lexicon()
    clause = clause.strip()
    return bool(re.search(lex.background.pattern, clause)) and not re.search(lex.background.interrogative, clause)


def asked_text(question: str, lexicon: Lexicon | None = None) -> str:
    """The clauses of a question that ask (background clauses dropped); the whole question when none would remain."""
    lex = lexicon or load_lexicon()
    clauses = [c for c in re.split(r"(?<=[？?])|[，,。；;！!、：:\s]+", question) if c]
    asks = [i for i, c in enumerate(clauses) if re.search(lex.background.interrogative, c)]
    last = asks[-1] if asks else len(clauses)

    def remark(i: int, clause: str) -> bool:  # "…在哪公布？我们想拿去给客户看": why the user asks
        return i > last and bool(re.match(lex.background.first_person, clause)) and i not in asks

    asking = [c for i, c in enumerate(clauses) if not is_background(c, lex) and not remark(i, c)]
    return "，".join(asking) if asking and len(asking) < len(clauses) else question


def asked_slots(question: str, lexicon: Lexicon | None = None) -> list[str]:
    lex = lexicon or load_lexicon()
    question = plain(question, lex)
    return [name for name, slot in lex.slots.items() if re.search(slot.asks, question)]


# a citation label: a parenthesis holding a document date, a 《title》 or "依据"; "(15分钟内)" is a statement's own
_LABEL = re.compile(r"[（(][^（）()]*(?:\d{4}-\d\d-\d\d|《|依据)[^（）()]*[）)]|《[^《》]*》|^依据：.*$|^回复“详细”.*$",
                    re.M)


def asked_kind(question: str, lexicon: Lexicon | None = None) -> str | None:
    """The kind of item a "which ones" question asks for ("哪些县" → 县, "证明材料包括什么" → 材料), else None."""
    lex = lexicon or load_lexicon()
    question = plain(question, lex)
    for pattern in lex.listing.asks:
        m = re.search(pattern, question)
        if m and not re.match(lex.listing.not_kinds, m.group("noun")) and m.group("noun") not in lex.stopwords.words:
            return m.group("noun")  # a stop word ("哪些地方", "哪些方面") names no kind of item
    return None


def listing_pattern(question: str, lexicon: Lexicon | None = None) -> re.Pattern | None:
    """A sentence that enumerates items and names the asked kind (None when the question asks no list)."""
    lex = lexicon or load_lexicon()
    kind = asked_kind(question, lex)
    if kind is None:
        return None
    return re.compile(f"(?=.*{re.escape(kind)})(?:{lex.listing.evidence})")


def statements(answer_text: str) -> str:
    """What an answer states, without its citation labels (《…》, clause numbers, document dates) and notes: an asked
    count or date must be in the statement, not in "第38项" or "（2024-08-05）"."""
    previous = None
    while previous != answer_text:  # nested labels: （重庆，依据附件3（2024-08-05））
        previous, answer_text = answer_text, _LABEL.sub("", answer_text)
    return answer_text


def slot_in(slot: str, evidence: str, lexicon: Lexicon | None = None, question: str = "") -> bool:
    """Does `evidence` hold an item of the kind `slot`? For a count, of the unit the question names ("几位专家" is
    not answered by "39个重点行业"); a number the question itself gives does not count."""
    lex = lexicon or load_lexicon()
    stated = evidence  # the term asked about is matched as written ("惠企10条" keeps its 10)
    if question:  # a number the user gave is no answer ("区县是30%，那市里的比例呢")
        given = set(re.findall(r"\d+(?:\.\d+)?", question))
        evidence = re.sub(r"\d+(?:\.\d+)?", lambda m: "" if m.group(0) in given else m.group(0), evidence)
    spec = lex.slots[slot]
    if not re.search(spec.evidence, evidence):
        return False
    term = re.search(spec.term, plain(question, lex)) if spec.term and question else None
    if term is not None and not re.search(spec.term_evidence.replace("{term}", re.escape(term.group("term"))),
                                          stated):
        return False  # a definition, but not of the term asked
    unit = count_unit(question, lex) if slot == "count" and question else None
    return unit is None or bool(re.search(rf"(\d|[一二三四五六七八九十两百千万])\s*(余|多)?{unit}", evidence))


def levels_named(text: str, lexicon: Lexicon | None = None) -> set[str]:
    """The levels of government a text names (市, 区县), knowledge/lexicon/answerability.yaml `levels`."""
    lex = lexicon or load_lexicon()
    return {level for level, words in lex.levels.levels.items() if re.search(words, text)}


def of_other_level(slot: str, question: str, quoted: str, lexicon: Lexicon | None = None) -> bool:
    """The question asks the item of one level ("市局抽查多大比例") and every quoted line holding one states it of
    another only ("区县…抽查比例不少于30%"): the item is not the one asked."""
    lex = lexicon or load_lexicon()
    asked = levels_named(asked_text(question, lex), lex)
    if len(asked) != 1:
        return False
    holding = [x for x in quoted.split("\n") if x.strip() and slot_in(slot, x, lex, question)]
    return bool(holding) and all((named := levels_named(x, lex)) and not named & asked for x in holding)


def count_unit(question: str, lexicon: Lexicon | None = None) -> str | None:
    """The unit a count question names: "发多少份" → 份, "几个专家" → 个?专家 (个 alone counts everything), else None."""
    lex = lexicon or load_lexicon()
    question = plain(question, lex)
    m = re.search(rf"(?:{lex.count_units.asks})(?P<unit>[^\W\d])(?P<noun>[\u4e00-\u9fff]{{0,2}})", question)
    if m is None or m.group("unit") not in lex.count_units.units:
        return None
    if m.group("unit") == "个":
        noun = m.group("noun")
        if len(noun) < 2 or noun in lex.count_units.enumerated:
            return None
        return f"个[^，。；\\d]{{0,4}}{re.escape(noun)}"  # "39个重点行业" counts 行业
    return re.escape(m.group("unit"))


class Answerability:
    """`tokens(text)` word tokens; `sounds(text)` sound-alike keys; `idf(word)` specificity over the corpus and
    the cards; `bridges(text)` the policy terms an everyday wording stands for; `heavy`: the IDF from which a
    missing word means the evidence does not answer."""

    def __init__(self, tagged: Callable[[str], list[tuple[str, str]]], sounds: Callable[[str], list[str]],
                 idf: Callable[[str], float], bridges: Callable[[str], list[str]] = lambda t: [],
                 heavy: float | None = None, lexicon: Lexicon | None = None,
                 is_word: Callable[[str], bool] = lambda t: True):
        self.tagged, self.sounds, self.idf, self.bridges, self.is_word = tagged, sounds, idf, bridges, is_word
        self.lexicon = lexicon or load_lexicon()
        self.heavy = heavy if heavy is not None else self.lexicon.heavy_idf
        self._stop = frozenset(self.lexicon.stopwords.words)

    def _bridged(self, term: str, question: str) -> set[str]:
        """The policy terms an everyday phrase holding `term` stands for: the word itself ("红包"), or the phrase of
        the question around it ("机器扫" for 机器) — only bridges that need the word, not its neighbours'."""
        at = question.find(term)
        if at < 0:
            return set(self.bridges(term))
        around = question[max(0, at - 3):at + len(term) + 3]
        without = around.replace(term, " ")
        return set(self.bridges(term)) | (set(self.bridges(around)) - set(self.bridges(without)))

    def focus(self, question: str, entities: Iterable[str] = ()) -> list[tuple[str, float]]:
        """The question's specific words with their IDF (entities, stop words, numbers and letters dropped)."""
        skip = [e for e in entities if e]
        out = {}
        for t, flag in self.tagged(question):
            if (flag not in self.lexicon.focus_flags or t in self._stop or _NUMBERISH.match(t.upper()) or len(t) < 2
                    or any(t in e or e in t for e in skip) or not self.is_word(t)):
                continue
            out[t] = self.idf(t)
        return list(out.items())

    def check(self, question: str, evidence: Iterable[str], vocabulary: Iterable[str] = (),
              entities: Iterable[str] = (), focus: bool = True, said: str | None = None) -> Coverage:
        """`evidence`: the texts the answer rests on (clauses, tool result); `said`: what the answer quotes of them
        (the asked slot must be in it; default all the evidence); `vocabulary`: the card questions known to ask for
        this evidence; `focus=False`: the slot check only (a lookup keyed by industry answers its table's question
        whatever else the question describes)."""
        texts = [e for e in evidence if e]
        quoted = "\n".join(texts) if said is None else said
        known = "\n".join(texts) + "\n" + "\n".join(v for v in vocabulary if v)
        missing_slots = [s for s in asked_slots(question, self.lexicon)
                         if not slot_in(s, quoted, self.lexicon, question)
                         or of_other_level(s, question, quoted, self.lexicon)]
        focus = self.focus(question, entities) if focus else []
        asking = None  # the words of the clauses that ask, read only when a specific word is missing
        sounds = set(self.sounds(known))
        missing, uncovered, total, got = [], [], 0.0, 0.0
        for term, weight in focus:
            total += weight
            keys = set(self.sounds(term))
            if term in known or (keys and keys <= sounds) or any(b in known for b in self._bridged(term, question)):
                got += weight
            else:
                uncovered.append((term, round(weight, 2)))
                if weight >= self.heavy:  # a scene-setting clause's word does not decide
                    if asking is None:
                        asking = {t for t, _ in self.focus(asked_text(question, self.lexicon), entities)}
                    if term in asking:
                        missing.append(term)
        covered = got / total if total else 1.0
        if missing:
            return Coverage(False, "focus", tuple(missing), covered, tuple(uncovered))
        if missing_slots:
            return Coverage(False, "slot", tuple(missing_slots), covered, tuple(uncovered))
        return Coverage(True, covered=covered, uncovered=tuple(uncovered))
