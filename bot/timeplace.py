"""When and where a question is about: the clock, the years a question names, the places it names.

Data: knowledge/lexicon/time.yaml and places.yaml. The clock is injectable (`JIXIAO_TODAY=2024-09-01` or a
`FixedClock` in tests), so "今年什么时候截止" is read against today, and the documents' own dates come from their
front matter: a question about a year no loaded document covers is answered by saying so.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Callable, Protocol

import yaml
from pydantic import BaseModel, ConfigDict

from jixiao.knowledge.lexicon import Example

LEXICON = Path(__file__).resolve().parent.parent / "knowledge" / "lexicon"
_YEAR = re.compile(r"(20\d\d)\s*年?")


class Clock(Protocol):
    def today(self) -> dt.date: ...


class SystemClock:
    """Today's date, or `JIXIAO_TODAY` (ISO date) when set: deployments and tests can pin "today"."""

    def today(self) -> dt.date:
        pinned = os.environ.get("JIXIAO_TODAY", "").strip()
        return dt.date.fromisoformat(pinned) if pinned else dt.date.today()


@dataclass(frozen=True)
class FixedClock:
    day: dt.date

    def today(self) -> dt.date:
        return self.day


class TimeWords(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    relative: dict[str, int]
    current: tuple[str, ...]
    schedule: str
    changes: str
    supposed: str = ""  # a relative year the asker supposes ("只能等明年了？"), not the year asked
    examples: tuple[Example, ...]


class PlaceWords(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    loaded: tuple[str, ...]
    documents: tuple[str, ...]
    provinces: dict[str, str] = {}
    chongqing: tuple[str, ...]
    others: tuple[str, ...]
    suffixes: str
    not_places: tuple[str, ...]
    examples: tuple[Example, ...]


@cache
def time_words() -> TimeWords:
    return TimeWords.model_validate(yaml.safe_load((LEXICON / "time.yaml").read_text(encoding="utf-8")))


@cache
def place_words() -> PlaceWords:
    return PlaceWords.model_validate(yaml.safe_load((LEXICON / "places.yaml").read_text(encoding="utf-8")))


@dataclass(frozen=True)
class TimeFrame:
    years: tuple[int, ...] = ()      # years named, absolute or relative to today
    relative: bool = False           # named by 今年/明年/去年 …
    current: bool = False            # 近期/目前/本次 …: "now", whatever year that is
    schedule: bool = False           # asks a programme's dates, targets or changes
    named: tuple[int, ...] = ()      # years written out ("2024年")
    changes: bool = False            # compares years or asks what changed ("跟去年比有啥调整")

    @property
    def about_now(self) -> bool:
        return self.relative or self.current


def time_frame(text: str, today: dt.date) -> TimeFrame:
    words = time_words()
    if words.supposed:
        text = re.sub(words.supposed, " ", text)
    years = [int(y) for y in _YEAR.findall(text)]
    relative = [off for w, off in words.relative.items() if w in text]
    years += [today.year + off for off in relative]
    current = any(w in text for w in words.current)
    named = tuple(dict.fromkeys(int(y) for y in _YEAR.findall(text)))
    return TimeFrame(tuple(dict.fromkeys(years)), bool(relative), current, bool(re.search(words.schedule, text)),
                     named, bool(re.search(words.changes, text)))


def uncovered_year(frame: TimeFrame, newest_year: int, today: dt.date) -> int | None:
    """The year a schedule question asks about that no loaded document covers (None when they may answer):
    a named year after the newest document's, or "now" when today is past it."""
    if not frame.schedule:
        return None
    later = [y for y in frame.years if y > newest_year]
    if later and frame.named and all(y <= newest_year for y in frame.named) and not frame.changes:
        return None  # "今年的先不说，2024年那轮申报几号截止": the year written out is the one asked
    if later:
        return later[0]
    if frame.current and not frame.years and today.year > newest_year:
        return today.year
    return None


def other_places(tagged: Callable[[str], list[tuple[str, str]]], text: str) -> list[str]:
    """Places named in `text` whose documents are not loaded (not Chongqing's districts, not 聊城/开封)."""
    words = place_words()
    known = words.loaded + words.chongqing + words.not_places
    # the tagger's place nouns are trusted only with an administrative suffix (巴中市, 宣汉县): it also tags 沾边, 深度
    tagged_places = [w for w, flag in tagged(text) if flag == "ns" and len(w) >= 3 and w[-1] in words.suffixes
                     and not any(k in w or w in k for k in known)]
    # two-character places are matched as whole words (复合肥 is no 合肥), with or without their suffix (达州市);
    # longer names anywhere in the text (汾渭平原, 石家庄)
    listed = [w if w in words.others else w[:-1] for w, _ in tagged(text)
              if w in words.others or (len(w) > 2 and w[-1] in words.suffixes and w[:-1] in words.others)]
    listed += [p for p in words.others if len(p) >= 3 and p in text]
    from jixiao.bot.entities import _referenced  # "四川的《地方指南》" names the guide Chongqing applies, not a place asked

    within = {words.provinces[p] for p in words.provinces if p in text}  # 山东 in "山东聊城" names 聊城's province
    return [p for p in dict.fromkeys(listed + tagged_places) if not _referenced(text, p) and p not in within]
