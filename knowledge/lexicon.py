"""The vocabulary turns are read by, as data (knowledge/lexicon/*.yaml), validated here.

A lexicon file maps entry names to entries. An entry is one list of words, one regular expression, an ordered
list of pairs (word → replacement or evidence), or a list of synonym groups; `match` says how the mechanism that
uses it reads a text (any word contained, the whole message, a prefix, any character, a regex search). Every entry
carries examples: a `positive` its mechanism must catch and a `negative` it must leave alone
(tests/test_lexicon.py runs them). Text is compared in upper case, as `jixiao.bot.understand.normalize` keeps it.
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
# Files with their own schema and loader (bot/route.py, bot/answerability.py, bot/out_of_scope.py, bot/timeplace.py).
OWN_SCHEMA = ("routes.yaml", "answerability.yaml", "replies.yaml", "time.yaml", "places.yaml")


class LexiconError(ValueError):
    """A lexicon file is missing, not YAML, or does not fit the schema."""


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    positive: str = Field(min_length=1)
    negative: str = Field(min_length=1)


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    words: tuple[str, ...] | None = None
    pattern: str | None = None
    pairs: tuple[tuple[str, str], ...] | None = None
    groups: tuple[tuple[str, ...], ...] | None = None
    match: Literal["contains", "whole", "prefix", "suffix", "chars", "search"] = "contains"
    ignore_case: bool = False
    adds: str | None = None  # the query words a pattern entry stands for (MEASURE_HINTS)
    note: str = ""
    examples: tuple[Example, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> "Entry":
        kinds = [k for k in ("words", "pattern", "pairs", "groups") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"an entry has exactly one of words/pattern/pairs/groups, got {kinds or 'none'}")
        if (self.match == "search") != (self.pattern is not None):
            raise ValueError("match: search goes with pattern, and a pattern is matched by search")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern {self.pattern!r} does not compile: {exc}") from exc
        if any(not w for w in self.vocabulary()):
            raise ValueError("empty word in an entry")
        return self

    def vocabulary(self) -> tuple[str, ...]:
        """Every word of the entry (pair keys, group members); () for a pattern."""
        if self.words is not None:
            return self.words
        if self.pairs is not None:
            return tuple(k for k, _ in self.pairs)
        if self.groups is not None:
            return tuple(w for g in self.groups for w in g)
        return ()

    def regex(self) -> re.Pattern:
        return re.compile(self.pattern or "(?!)", re.I if self.ignore_case else 0)

    def fires(self, text: str) -> bool:
        """Whether the entry catches `text`, read the way its mechanism reads it."""
        t = text.upper()
        if self.match == "search":
            return bool(self.regex().search(t))
        words = self.vocabulary()
        if self.match == "whole":
            return t.strip() in words
        if self.match == "prefix":
            return t.startswith(words)
        if self.match == "suffix":
            return t.rstrip("？?。.!！ ").endswith(words)
        if self.match == "chars":
            return any(ch in t for w in words for ch in w)
        return any(w in t for w in words)


class LexiconFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    entries: dict[str, Entry]


def _explain(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


def read(path: Path) -> LexiconFile:
    """One lexicon file, validated; a clear error naming the file and the entry otherwise."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path}: {exc}") from exc
    try:
        return LexiconFile.model_validate(raw)
    except ValidationError as exc:
        raise LexiconError(f"{path}: {_explain(exc)}") from exc


@cache
def lexicon(name: str) -> dict[str, Entry]:
    """The entries of knowledge/lexicon/<name>.yaml."""
    return dict(read(LEXICON_DIR / f"{name}.yaml").entries)


def files() -> list[Path]:
    return sorted(p for p in LEXICON_DIR.glob("*.yaml") if p.name not in OWN_SCHEMA)


def words(name: str, key: str) -> tuple[str, ...]:
    return lexicon(name)[key].vocabulary()


def pattern(name: str, key: str) -> re.Pattern:
    return lexicon(name)[key].regex()


def pairs(name: str, key: str) -> tuple[tuple[str, str], ...]:
    return lexicon(name)[key].pairs or ()


def groups(name: str, key: str) -> tuple[tuple[str, ...], ...]:
    return lexicon(name)[key].groups or ()


def prefixed(name: str, prefix: str) -> dict[str, Entry]:
    """Entries named `<prefix>.<rest>`, keyed by rest, in file order (PERSONAL flags, measure hints)."""
    return {k.removeprefix(prefix + "."): e for k, e in lexicon(name).items() if k.startswith(prefix + ".")}


class _Replies(BaseModel):
    """The keys of replies.yaml read through this module (`replies` itself is read by jixiao.bot.out_of_scope)."""
    model_config = ConfigDict(extra="allow", frozen=True)
    reasons: dict[str, str]
    slot_names: dict[str, str]


@cache
def reply_texts() -> _Replies:
    path = LEXICON_DIR / "replies.yaml"
    try:
        return _Replies.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path}: {exc}") from exc
    except ValidationError as exc:
        raise LexiconError(f"{path}: {_explain(exc)}") from exc
