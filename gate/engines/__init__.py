"""Policy engines by name; ``--engine`` choices come from this registry."""

from __future__ import annotations

from collections.abc import Callable

from gate.engines.base import PolicyEngine
from gate.errors import UsageError


def _regorus() -> PolicyEngine:
    from gate.engines.regorus import RegorusEngine

    return RegorusEngine()


# Factories, so that choosing one engine never imports another's dependencies.
ENGINES: dict[str, Callable[[], PolicyEngine]] = {"regorus": _regorus}
DEFAULT_ENGINE = "regorus"


def make_engine(name: str) -> PolicyEngine:
    """Build the engine registered as ``name``; raise :class:`UsageError` for an unknown one."""
    try:
        factory = ENGINES[name]
    except KeyError:
        raise UsageError(
            f"unknown engine {name!r}; choose from {', '.join(sorted(ENGINES))}"
        ) from None
    return factory()


__all__ = ["DEFAULT_ENGINE", "ENGINES", "PolicyEngine", "make_engine"]
