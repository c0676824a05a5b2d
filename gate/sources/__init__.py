"""Input formats gate understands, and detection of a file's format from its content."""

from __future__ import annotations

from typing import Any

from gate.sources.base import Fragment, InputFile, Source
from gate.sources.docker import DockerInspectSource
from gate.sources.grype import GrypeSource
from gate.sources.oci_config import ImageConfigSource
from gate.sources.oci_manifest import ImageManifestSource
from gate.sources.trivy import TrivySource

# Detection tries these in order; the more specific shapes come first.
SOURCES: dict[str, Source] = {
    source.format: source
    for source in (
        TrivySource(),
        GrypeSource(),
        DockerInspectSource(),
        ImageManifestSource(),
        ImageConfigSource(),
    )
}


def detect(data: Any) -> Source | None:
    """Return the first source whose ``matches`` accepts ``data``, or None."""
    for source in SOURCES.values():
        if source.matches(data):
            return source
    return None


__all__ = ["SOURCES", "Fragment", "InputFile", "Source", "detect"]
