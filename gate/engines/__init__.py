"""Policy engines by name; ``--engine`` choices come from this registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gate.engines.base import PolicyEngine
from gate.errors import UsageError

if TYPE_CHECKING:
    from gate.engines.opa import OpaOptions


def _regorus(opa: OpaOptions | None, policy_digest: str | None) -> PolicyEngine:
    from gate.engines.regorus import RegorusEngine

    return RegorusEngine()


def _opa(opa: OpaOptions | None, policy_digest: str | None) -> PolicyEngine:
    from gate.engines.opa import OpaEngine

    if opa is None:
        raise UsageError(
            "--engine opa needs --opa-url", hint="e.g. --opa-url http://127.0.0.1:8181"
        )
    return OpaEngine(opa, policy_digest)


# Factories, so that choosing one engine never imports another's dependencies.
ENGINES: dict[str, Callable[[OpaOptions | None, str | None], PolicyEngine]] = {
    "regorus": _regorus,
    "opa": _opa,
}
DEFAULT_ENGINE = "regorus"
REMOTE_ENGINES = frozenset({"opa"})
"""Engines that need a server (``--opa-url``) to be built."""


def make_engine(
    name: str, *, opa: OpaOptions | None = None, policy_digest: str | None = None
) -> PolicyEngine:
    """Build the engine registered as ``name``; raise :class:`UsageError` for an unknown one
    or for the opa engine without a server. ``policy_digest`` is the local policy set's, which
    the opa engine's pinned mode compares with the server's bundle revision."""
    try:
        factory = ENGINES[name]
    except KeyError:
        raise UsageError(
            f"unknown engine {name!r}; choose from {', '.join(sorted(ENGINES))}"
        ) from None
    return factory(opa, policy_digest)


__all__ = ["DEFAULT_ENGINE", "ENGINES", "REMOTE_ENGINES", "PolicyEngine", "make_engine"]
