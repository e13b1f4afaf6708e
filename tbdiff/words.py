"""Small wording rules shared by every renderer and detector."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun in the right number: "1 layer", "2 layers", "1,024 steps"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
