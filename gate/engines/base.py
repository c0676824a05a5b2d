"""The engine seam: policies + data + input + query → JSON value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from gate.engines.isolation import DEFAULT_TIMEOUT
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
        *,
        timeout: float = DEFAULT_TIMEOUT,
        required_rules: Sequence[str] = (),
    ) -> Any:
        """Evaluate ``query`` (e.g. ``data.gate``) and return its JSON value.

        ``input_json`` is the serialised document, passed as text so that an engine
        never re-serialises tens of thousands of findings. Returns None when the query is
        undefined. Raises :class:`gate.errors.PolicyError` when a module does not
        compile (every module, before anything is evaluated: a call to an unknown
        function in a branch no input takes included) or when no rule named one of
        ``required_rules`` (gate asks for ``deny``/``warn``) lies under ``query``, and
        :class:`gate.errors.EngineError` when evaluation fails, crashes or takes longer
        than ``timeout`` seconds. No policy may end the calling
        process (an embedded engine evaluates in a child process, see
        :mod:`gate.engines.isolation`; a remote one bounds its request by ``timeout``).
        """
        ...
