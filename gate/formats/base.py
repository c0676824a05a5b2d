"""The format seam: a pure function of the verdict to text."""

from __future__ import annotations

from typing import Protocol

from gate.verdict import Verdict


class Formatter(Protocol):
    """Renders a verdict; never changes it."""

    name: str

    def render(self, verdict: Verdict, *, color: bool = False, width: int | None = None) -> str:
        """Return the whole output as text; ``color`` allows terminal styling, ``width`` columns."""
        ...
