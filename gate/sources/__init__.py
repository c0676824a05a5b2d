"""Input formats gate understands, and detection of a file's format from its content."""

from __future__ import annotations

from typing import Any

from gate import LazyRegistry
from gate.errors import SourceError
from gate.sources.base import Fragment, InputFile, Source

SOURCES: LazyRegistry[Source] = LazyRegistry(
    # Detection tries these in order; the more specific shapes come first.
    {
        "trivy-json": "gate.sources.trivy:TrivySource",
        "trivy-operator": "gate.sources.trivy_operator:TrivyOperatorSource",
        "harbor": "gate.sources.harbor:HarborSource",
        "grype-json": "gate.sources.grype:GrypeSource",
        "sarif": "gate.sources.sarif:SarifSource",
        "cyclonedx": "gate.sources.cyclonedx:CycloneDxSource",
        "spdx-json": "gate.sources.spdx:SpdxSource",
        "syft-json": "gate.sources.syft:SyftSource",
        "openvex": "gate.sources.openvex:OpenVexSource",
        "csaf-vex": "gate.sources.csaf:CsafSource",
        "snyk-json": "gate.sources.snyk:SnykSource",
        "hadolint-json": "gate.sources.hadolint:HadolintSource",
        "dockle-json": "gate.sources.dockle:DockleSource",
        "gate-verdict": "gate.sources.verdict:VerdictSource",
        "cosign-signature": "gate.sources.cosign:CosignSignatureSource",
        "in-toto": "gate.sources.provenance:ProvenanceSource",
        "docker-inspect": "gate.sources.docker:DockerInspectSource",
        "image-manifest": "gate.sources.oci_manifest:ImageManifestSource",
        "image-config": "gate.sources.oci_config:ImageConfigSource",
    },
    lambda source: source.format,
)
"""Input formats by name; a source's module is imported when its format is first asked for
(detection of a Trivy report, tried first, imports one source, not nineteen)."""


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
