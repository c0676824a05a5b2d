"""Parse container image references the way Docker does (``[registry/]repo[:tag][@digest]``)."""

from __future__ import annotations

import re

from gate.document import Subject

DEFAULT_REGISTRY = "docker.io"
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
# Scanners name archive scans by file path; such a path is never the image being promoted.
_ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.zst", ".json", ".oci", ".zip")


def parse_reference(reference: str) -> Subject:
    """Split an image reference into a :class:`Subject`.

    A first path component with a dot, a colon or equal to ``localhost`` is a registry
    host; otherwise the registry is Docker Hub and one-part names live under ``library/``.
    Returns a subject with only ``reference`` set when the text is not a reference.
    """
    text = reference.strip()
    if (
        not text
        or any(c.isspace() for c in text)
        or text.startswith(("/", "./", "../"))
        or text.lower().endswith(_ARCHIVE_SUFFIXES)
    ):
        return Subject(reference=text or None)
    name, _, digest = text.partition("@")
    if digest and not _DIGEST.match(digest):
        return Subject(reference=text)
    tag = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.match(tag):
            return Subject(reference=text)
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = DEFAULT_REGISTRY, name
    if registry in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        registry = DEFAULT_REGISTRY
        if "/" not in repository:
            repository = f"library/{repository}"
    if not all(_COMPONENT.match(part) for part in repository.split("/")):
        return Subject(reference=text)
    return Subject(
        reference=text,
        registry=registry,
        repository=repository,
        tag=tag,
        digest=digest.lower() if digest else None,
    )
