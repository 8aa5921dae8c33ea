"""Placeholder chat entry point: the assistant; the self-assessment flow is wired in here."""
from __future__ import annotations

from jixiao.settings import Settings


def build_dialogue(settings: Settings):
    from jixiao.bot.cli_ask import build_assistant

    return build_assistant(settings)
