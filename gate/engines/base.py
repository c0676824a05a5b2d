"""The engine seam: policies + data + input + query → JSON value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from gate.policy import PolicyModule


class PolicyEngine(Protocol):
    """A Rego evaluator. Engines know nothing of verdicts; they return the query's value."""

    name: str

    def version(self) -> str:
        """Return the engine's version, recorded in every verdict."""
        ...

    def evaluate(
        self,
        modules: Sequence[PolicyModule],
        data: dict[str, Any],
        input_json: str,
        query: str,
    ) -> Any:
        """Evaluate ``query`` (e.g. ``data.gate``) and return its JSON value.

        ``input_json`` is the serialised document, passed as text so that an engine
        never re-serialises tens of thousands of findings. Returns None when the query is
        undefined. Raises :class:`gate.errors.PolicyError` when a module does not
        compile and :class:`gate.errors.EngineError` when evaluation fails.
        """
        ...
