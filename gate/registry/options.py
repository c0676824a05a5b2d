"""How to reach registries: a light module, so that building settings imports no HTTP client."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RegistryOptions:
    ca_file: str | None = None
    """PEM bundle trusted instead of the system CAs (``--registry-ca``)."""
    insecure_hosts: frozenset[str] = frozenset()
    """``HOST[:PORT]`` (``--insecure-registry``): https without verification, else http."""
    timeout: float = 30.0
    env: Mapping[str, str] | None = None
    """Where credentials are looked up; None means ``os.environ``."""
