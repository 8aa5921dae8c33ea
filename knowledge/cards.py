"""Question cards (knowledge/cards/): user-style questions that resolve to a tool, a clause or an out-of-scope reply.

Three kinds, validated with `extra="forbid"` (README in the folder). A clause card points at its chunk by document,
section and a verbatim anchor, so a re-chunk keeps it as long as the words are still in some chunk of that document;
`resolve_clauses` reports the cards whose anchor no longer resolves (orphans).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Iterable, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from jixiao.knowledge.basis import normalize

CARDS_DIR = Path(__file__).parent / "cards"
REPLY_KINDS = ("admin_procedure", "other_place", "future_year", "case_status", "live_data", "warning_rules",
               "threshold_not_loaded", "amount_not_given", "compensation_legality", "service_request",
               "opinion_complaint", "off_topic")
ENTITY_ARGS = ("@industry", "@branch", "@grade", "@region", "@text")


class CardError(ValueError):
    """A card file that does not validate; the message names the file, the card and the fix."""


class _Card(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=3)
    questions: tuple[str, ...]

    @field_validator("questions")
    @classmethod
    def _questions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(q.strip() for q in value if q and q.strip())
        if len(cleaned) != len(value):
            raise ValueError("empty question")
        if len(set(cleaned)) != len(cleaned):
            dup = next(q for q in cleaned if cleaned.count(q) > 1)
            raise ValueError(f"question {dup!r} appears twice")
        return cleaned


class Anchor(BaseModel):
    """A place in a loaded document: `anchor` is copied verbatim from it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    doc_id: str
    section: str = ""
    anchor: str = Field(min_length=4)


class ToolCard(_Card):
    kind: Literal["tool"]
    tool: str
    args: dict[str, str | int | None] = Field(default_factory=dict)
    needs: tuple[str, ...] = ()
    note: str = ""

    @field_validator("questions")
    @classmethod
    def _enough(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) < 8:
            raise ValueError(f"a tool card needs at least 8 questions (has {len(value)}); add varied user wordings")
        return value


class ClauseCard(_Card):
    kind: Literal["clause"]
    doc_id: str
    section: str = ""
    anchor: str = Field(min_length=4)

    @field_validator("questions")
    @classmethod
    def _range(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not 3 <= len(value) <= 8:
            raise ValueError(f"a clause card has 3–8 questions (has {len(value)})")
        return value


class OutOfScopeCard(_Card):
    kind: Literal["out_of_scope"]
    reply: Literal[REPLY_KINDS]  # type: ignore[valid-type]
    topic: str
    nearest: Anchor | None = None


Card = Annotated[Union[ToolCard, ClauseCard, OutOfScopeCard], Field(discriminator="kind")]


class CardFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cards: list[Card]


@dataclass(frozen=True)
class CardQuestion:
    """One indexed question: its stable id, text and the card it belongs to."""

    id: str
    text: str
    card_id: str
    kind: str


@dataclass(frozen=True)
class CardSet:
    cards: tuple[ToolCard | ClauseCard | OutOfScopeCard, ...]

    def by_id(self) -> dict[str, ToolCard | ClauseCard | OutOfScopeCard]:
        return {c.id: c for c in self.cards}

    def questions(self) -> list[CardQuestion]:
        out = []
        for card in self.cards:
            for q in card.questions:
                qid = "card:" + hashlib.sha256(f"{card.id}\n{q}".encode()).hexdigest()[:24]
                out.append(CardQuestion(qid, q, card.id, card.kind))
        return out

    def counts(self) -> dict[str, tuple[int, int]]:
        """kind → (cards, questions)."""
        out: dict[str, tuple[int, int]] = {}
        for c in self.cards:
            n, q = out.get(c.kind, (0, 0))
            out[c.kind] = (n + 1, q + len(c.questions))
        return out


def _line_of(path: Path, card_id: str) -> int:
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if card_id in line and "id:" in line:
            return i
    return 0


def load_card_file(path: Path) -> list:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CardError(f"{path}: not valid YAML ({exc})") from exc
    try:
        return CardFile.model_validate(data).cards
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        where = ""
        if len(loc) >= 2 and loc[0] == "cards" and isinstance(loc[1], int):
            raw = (data.get("cards") or [])[loc[1]] if isinstance(data, dict) else {}
            cid = raw.get("id", "?") if isinstance(raw, dict) else "?"
            where = f" card {cid!r} (line {_line_of(path, str(cid))})"
        raise CardError(f"{path}:{where}: {'.'.join(str(x) for x in loc[2:])} {first['msg']}") from exc


def card_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    return [CARDS_DIR, *[Path(p) for p in extra if p and Path(p).is_dir()]]


def load_cards(dirs: Iterable[Path] | None = None, tools: Iterable[str] | None = None) -> CardSet:
    """Every card under `dirs` (default: the packaged folder). `tools`: the registry's tool names to check against."""
    cards, seen = [], {}
    for base in (list(dirs) if dirs is not None else [CARDS_DIR]):
        for path in sorted(Path(base).rglob("*.yaml")):
            for card in load_card_file(path):
                if card.id in seen:
                    raise CardError(f"{path}: card id {card.id!r} already used in {seen[card.id]}; ids are unique")
                seen[card.id] = path
                cards.append(card)
    known = set(tools or ())
    if known:
        for card in cards:
            if isinstance(card, ToolCard) and card.tool not in known:
                raise CardError(f"{seen[card.id]}: card {card.id!r}: unknown tool {card.tool!r}; "
                                f"valid: {sorted(known)}")
    return CardSet(tuple(cards))


# ---------------------------------------------------------------- clause anchors → chunks

def resolve_anchor(doc_id: str, section: str, anchor: str, chunks) -> str | None:
    """The id of the chunk of `doc_id` containing `anchor` (normalised), preferring the chunk of `section`."""
    want = normalize(anchor)
    found = [c for c in chunks if c.doc_id == doc_id and want in normalize(c.text)]
    if not found:
        return None
    same = [c for c in found if c.section_path == section]
    return (same or found)[0].id


def resolve_clauses(cards: CardSet, chunks) -> tuple[dict[str, str], list[ClauseCard]]:
    """(clause card id → chunk id, orphaned clause cards)."""
    by_doc: dict[str, list] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    resolved, orphans = {}, []
    for card in cards.cards:
        if isinstance(card, ClauseCard):
            cid = resolve_anchor(card.doc_id, card.section, card.anchor, by_doc.get(card.doc_id, []))
            if cid is None:
                orphans.append(card)
            else:
                resolved[card.id] = cid
    return resolved, orphans

