"""Counts in messages, in English: "1 page", "2 pages"."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str = "") -> str:
    """`count` and `noun`, the noun in the plural (`plural`, else noun + "s") unless it is 1."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
