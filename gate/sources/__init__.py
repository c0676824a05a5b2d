"""Input formats gate understands, and detection of a file's format from its content."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from gate.errors import SourceError
from gate.sources.base import Fragment, InputFile, Source

# Detection tries these in order; the more specific shapes come first. Format name -> the
# module and class that read it: a module is imported when its format is first asked for,
# so that a Trivy report (tried first) costs the import of one source, not of nineteen.
_REGISTERED: dict[str, tuple[str, str]] = {
    "trivy-json": ("trivy", "TrivySource"),
    "trivy-operator": ("trivy_operator", "TrivyOperatorSource"),
    "harbor": ("harbor", "HarborSource"),
    "grype-json": ("grype", "GrypeSource"),
    "sarif": ("sarif", "SarifSource"),
    "cyclonedx": ("cyclonedx", "CycloneDxSource"),
    "spdx-json": ("spdx", "SpdxSource"),
    "syft-json": ("syft", "SyftSource"),
    "openvex": ("openvex", "OpenVexSource"),
    "csaf-vex": ("csaf", "CsafSource"),
    "snyk-json": ("snyk", "SnykSource"),
    "hadolint-json": ("hadolint", "HadolintSource"),
    "dockle-json": ("dockle", "DockleSource"),
    "gate-verdict": ("verdict", "VerdictSource"),
    "cosign-signature": ("cosign", "CosignSignatureSource"),
    "in-toto": ("provenance", "ProvenanceSource"),
    "docker-inspect": ("docker", "DockerInspectSource"),
    "image-manifest": ("oci_manifest", "ImageManifestSource"),
    "image-config": ("oci_config", "ImageConfigSource"),
}


class _Sources(Mapping[str, Source]):
    """The sources by format name, in detection order, each built on first use."""

    def __init__(self, registered: dict[str, tuple[str, str]]) -> None:
        self._registered = registered
        self._built: dict[str, Source] = {}

    def __getitem__(self, name: str) -> Source:
        source = self._built.get(name)
        if source is None:
            module, cls = self._registered[name]
            source = getattr(importlib.import_module(f"gate.sources.{module}"), cls)()
            if source.format != name:  # a wiring mistake: detection would name another format
                raise TypeError(f"gate.sources.{module}.{cls} reads {source.format}, not {name}")
            self._built[name] = source
        return source

    def __contains__(self, name: object) -> bool:
        return name in self._registered  # checking a --type name imports nothing

    def __iter__(self) -> Iterator[str]:
        return iter(self._registered)

    def __len__(self) -> int:
        return len(self._registered)


SOURCES: Mapping[str, Source] = _Sources(_REGISTERED)


def detect(data: Any, where: str | None = None) -> Source | None:
    """Return the first source whose ``matches`` accepts ``data``, or None.

    A ``matches`` that fails on a shape it did not expect raises :class:`SourceError`
    (naming ``where``) rather than being skipped: skipping could let a laxer source claim
    the file.
    """
    for source in SOURCES.values():
        try:
            claimed = source.matches(data)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError) as exc:
            raise SourceError(
                f"cannot tell whether this is {source.format} ({type(exc).__name__}: {exc})",
                where=where,
                hint="run with --debug for the traceback and report it with the file's shape",
            ) from exc
        if claimed:
            return source
    return None


__all__ = ["SOURCES", "Fragment", "InputFile", "Source", "detect"]
