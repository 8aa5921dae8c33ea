"""The reading of one user turn: intent, entities (industry, branch, grade, region) and escalation flags."""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_REGION = "重庆"
INTENTS = ("tool_tiers", "tool_review", "tool_incentives", "tool_industry", "policy", "assess", "human", "smalltalk", "empty")
TOOL_INTENTS = ("tool_tiers", "tool_review", "tool_incentives", "tool_industry")


@dataclass(frozen=True)
class Understanding:
    text: str  # the analysed text (NFKC, truncated)
    intent: str
    industry: str | None = None
    industry_candidates: tuple[str, ...] = ()  # set when the industry is ambiguous
    branch: str | None = None
    grade: str | None = None  # A, B, B-, C, D, A+, 绩效引领, 非绩效引领, 地方A, 地方绩效引领 …
    region: str = DEFAULT_REGION
    personal: tuple[str, ...] = ()  # why the documents cannot answer: case_status, live_data, …
    off_topic: bool = False
    followup: bool = False
    truncated: bool = False
    query: str = ""  # text for passage search (a follow-up carries the previous question)

    @property
    def escalate(self) -> bool:
        return bool(self.personal) or self.off_topic or self.intent == "human"
