"""Placeholder: registers its commands on the given Typer group."""
import typer


def register(group: typer.Typer) -> None:
    return None
