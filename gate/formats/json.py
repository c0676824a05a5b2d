"""Machine-readable verdict: the Verdict model as JSON (schema in gate/schema)."""

from __future__ import annotations

from gate.verdict import Verdict


class JsonFormatter:
    """The verdict as deterministic, indented JSON."""

    name = "json"

    def render(self, verdict: Verdict, *, color: bool = False, width: int | None = None) -> str:
        """Return the verdict JSON; identical inputs give identical bytes but evaluated_at."""
        return verdict.to_json()
