"""Placeholder CLI registration (filled by the channel work)."""
import typer


def register(app: typer.Typer) -> None:
    return None
