"""Guided self-assessment for the performance rating (创B争A): engine, criteria packs, result."""
from jixiao.bot.assess.engine import AssessmentEngine, Turn
from jixiao.bot.assess.result import AssessmentResult

__all__ = ["AssessmentEngine", "AssessmentResult", "Turn"]
