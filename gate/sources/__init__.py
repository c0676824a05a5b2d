"""Input formats gate understands, and detection of a file's format from its content."""

from __future__ import annotations

from typing import Any

from gate.errors import SourceError
from gate.sources.base import Fragment, InputFile, Source
from gate.sources.cosign import CosignSignatureSource
from gate.sources.csaf import CsafSource
from gate.sources.cyclonedx import CycloneDxSource
from gate.sources.docker import DockerInspectSource
from gate.sources.dockle import DockleSource
from gate.sources.grype import GrypeSource
from gate.sources.hadolint import HadolintSource
from gate.sources.harbor import HarborSource
from gate.sources.oci_config import ImageConfigSource
from gate.sources.oci_manifest import ImageManifestSource
from gate.sources.openvex import OpenVexSource
from gate.sources.provenance import ProvenanceSource
from gate.sources.sarif import SarifSource
from gate.sources.snyk import SnykSource
from gate.sources.spdx import SpdxSource
from gate.sources.syft import SyftSource
from gate.sources.trivy import TrivySource
from gate.sources.trivy_operator import TrivyOperatorSource
from gate.sources.verdict import VerdictSource

# Detection tries these in order; the more specific shapes come first.
SOURCES: dict[str, Source] = {
    source.format: source
    for source in (
        TrivySource(),
        TrivyOperatorSource(),
        HarborSource(),
        GrypeSource(),
        SarifSource(),
        CycloneDxSource(),
        SpdxSource(),
        SyftSource(),
        OpenVexSource(),
        CsafSource(),
        SnykSource(),
        HadolintSource(),
        DockleSource(),
        VerdictSource(),
        CosignSignatureSource(),
        ProvenanceSource(),
        DockerInspectSource(),
        ImageManifestSource(),
        ImageConfigSource(),
    )
}


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
