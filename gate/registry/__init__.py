"""Images in OCI registries: references, credentials, a strict distribution client, copying.

Re-exports load lazily: ``gate.registry.reference`` (light) must be importable without
pulling in urllib3, so that recognising a ``registry://`` input keeps ``gate --help`` fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gate.registry.auth import Credential as Credential
    from gate.registry.auth import find_credential as find_credential
    from gate.registry.client import MANIFEST_TYPES as MANIFEST_TYPES
    from gate.registry.client import MAX_MANIFEST_BYTES as MAX_MANIFEST_BYTES
    from gate.registry.client import Manifest as Manifest
    from gate.registry.client import PutResult as PutResult
    from gate.registry.client import RegistryClient as RegistryClient
    from gate.registry.copy import copy_manifest as copy_manifest
    from gate.registry.options import RegistryOptions as RegistryOptions
    from gate.registry.reference import SCHEME as SCHEME
    from gate.registry.reference import RegistryRef as RegistryRef
    from gate.registry.reference import is_registry_input as is_registry_input
    from gate.registry.reference import parse_registry_ref as parse_registry_ref

_HOMES = {
    "Credential": "auth",
    "find_credential": "auth",
    "MANIFEST_TYPES": "client",
    "MAX_MANIFEST_BYTES": "client",
    "Manifest": "client",
    "PutResult": "client",
    "RegistryClient": "client",
    "RegistryOptions": "options",
    "copy_manifest": "copy",
    "SCHEME": "reference",
    "RegistryRef": "reference",
    "is_registry_input": "reference",
    "parse_registry_ref": "reference",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"gate.registry.{home}"), name)
