"""SPDX JSON SBOMs (2.2, 2.3): inventory and the image they describe.

Recognised by an ``spdxVersion`` of ``SPDX-…`` next to an ``SPDXID``; versions other than
2.x are refused. Scan facts: the first ``Tool: <name>-<version>`` entry of
``creationInfo.creators`` gives ``tool`` (lower case) and ``tool_version``
(``Tool: syft-0.42.4`` → ``syft``, ``0.42.4``; Syft's ``[not provided]`` is no version); a
document naming no tool is attributed to ``spdx``. ``created`` is ``creationInfo.created``
(placeholders such as ``redacted`` read as unknown).

Subject: the described root (``documentDescribes``, or a ``DESCRIBES`` /
``DESCRIBED_BY`` relationship with the document) that is a container, by
``primaryPackagePurpose: CONTAINER`` (2.3) or a ``pkg:oci``/``pkg:docker`` package URL,
is the image. Its name (plus ``versionInfo`` when that is a tag rather than a digest) and
Trivy's ``RepoTag: …`` attribution texts are reference candidates; a digest
``versionInfo`` or the ``pkg:oci`` purl's version is the manifest digest; Trivy's
``RepoDigest``/``ImageID``/``DiffID`` attribution texts give repo digests, the image ID
and layers; a package with purpose ``OPERATING-SYSTEM`` gives the distribution. The
artifact is named after that root, else after the document (``name``); a root with
purpose ``FILE`` is a ``filesystem``.

Packages: ``packages[]`` entries that are packages by the shared rule
(:mod:`gate.sources.sbom`; the image root and the operating system are not), de-duplicated
by package URL. The package URL is the first ``externalRefs`` entry of type ``purl`` (the
category is spelt ``PACKAGE_MANAGER`` in 2.2 and ``PACKAGE-MANAGER`` in 2.3, so only the
type is read); CPEs are the ``cpe23Type``/``cpe22Type`` entries. Licences:
``licenseDeclared`` first, then ``licenseConcluded``; ``NOASSERTION`` and ``NONE`` are no
licence. SPDX states no install locations (Syft's ``sourceInfo`` is prose), so locations
stay empty.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from gate.inputs import InputFile
from gate.sources.base import Fragment, fail, rfc3339
from gate.sources.sbom import (
    FILESYSTEM,
    IMAGE_PURL_TYPES,
    Inventory,
    describe_root_image,
    parse_purl,
    tool_version,
)
from gate.sources.shape import array, at, kind, mapping, string_list, text_at

DEFAULT_TOOL = "spdx"

# "Tool: syft-0.42.4", "Tool: syft-v0.42.0-bogus", "Tool: syft-[not provided]": the version
# starts at the first dash followed by a digit, a "v" and a digit, or a bracket.
_TOOL = re.compile(r"^Tool:\s*(?P<name>.+?)(?:-(?P<version>v?\d.*|\[.*\]))?\s*$")
_CPE_TYPES = frozenset({"cpe23Type", "cpe22Type"})
_ATTRIBUTION = re.compile(r"^(?P<key>[A-Za-z]+):\s*(?P<value>\S.*)$")


class SpdxSource:
    """SPDX 2.x JSON documents (Syft, Trivy and others)."""

    format: ClassVar[str] = "spdx-json"
    expected_shape: ClassVar[str] = '"SPDXID" and an "spdxVersion" starting with "SPDX-"'

    def matches(self, data: Any) -> bool:
        """SPDX JSON states its version (``SPDX-2.3``) and the document's ``SPDXID``."""
        if not isinstance(data, dict) or "SPDXID" not in data:
            return False
        version = data.get("spdxVersion")
        return isinstance(version, str) and version.startswith("SPDX-")

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Map the document's scan facts, described image and packages.

        Raises :class:`~gate.errors.SourceError`, naming the file and JSON path, for an SPDX
        version other than 2.x, a value of the wrong type, or a package without a name.
        """
        document = mapping(data, source, "")
        version = text_at(document, "spdxVersion", source, "")
        if version is None or not version.startswith("SPDX-2."):
            raise fail(
                source, "spdxVersion", f"unsupported SPDX version {version!r}; gate reads 2.x"
            )
        info = mapping(document.get("creationInfo"), source, "creationInfo")
        tool, tool_version_text = _tool(info, source)
        fragment = Fragment(
            format=self.format,
            tool=tool,
            tool_version=tool_version(tool_version_text),
            created=rfc3339(info.get("created")),
            kinds=["sbom"],
            artifact_name=text_at(document, "name", source, ""),
        )
        inventory = Inventory(tool, source)
        by_id: dict[str, tuple[dict[str, Any], str]] = {}
        os_facts: tuple[str | None, str | None] | None = None
        for index, raw in enumerate(array(document.get("packages"), source, "packages")):
            place = at("packages", index)
            if not isinstance(raw, dict):
                raise fail(source, place, f"expected a package object, got {kind(raw)}")
            spdx_id = text_at(raw, "SPDXID", source, place)
            if spdx_id:
                by_id.setdefault(spdx_id, (raw, place))
            purpose = text_at(raw, "primaryPackagePurpose", source, place)
            name = text_at(raw, "name", source, place)
            version_info = text_at(raw, "versionInfo", source, place)
            if purpose == "OPERATING-SYSTEM":
                os_facts = os_facts or (name, version_info)
                continue
            purl, cpes = _references(raw, source, place)
            inventory.add(
                place,
                name=name,
                version=version_info,
                purl=purl,
                kind=purpose,
                licenses=[
                    text_at(raw, "licenseDeclared", source, place),
                    text_at(raw, "licenseConcluded", source, place),
                ],
                cpes=cpes,
            )
        fragment.packages = inventory.packages()
        root = _root(document, by_id, source)
        if root is not None:
            _describe(fragment, *root, os_facts, source)
        return fragment


def _tool(info: dict[str, Any], source: InputFile) -> tuple[str, str | None]:
    """Return the first ``Tool:`` creator as (name, version)."""
    for creator in string_list(info.get("creators"), source, "creationInfo.creators"):
        match = _TOOL.match(creator.strip())
        if match:
            return match.group("name").strip().lower(), match.group("version")
    return DEFAULT_TOOL, None


def _references(
    package: dict[str, Any], source: InputFile, place: str
) -> tuple[str | None, list[str]]:
    """Return a package's first package URL and its CPEs from ``externalRefs``."""
    purl = None
    cpes = []
    list_place = at(place, "externalRefs")
    for index, raw in enumerate(array(package.get("externalRefs"), source, list_place)):
        here = at(list_place, index)
        ref = mapping(raw, source, here)
        ref_type = text_at(ref, "referenceType", source, here)
        locator = text_at(ref, "referenceLocator", source, here)
        if locator is None:
            continue
        if ref_type == "purl" and purl is None:
            purl = locator
        elif ref_type in _CPE_TYPES:
            cpes.append(locator)
    return purl, cpes


def _root(
    document: dict[str, Any], by_id: dict[str, tuple[dict[str, Any], str]], source: InputFile
) -> tuple[dict[str, Any], str] | None:
    """Return the described package that is a container image or a file, with its path."""
    own_id = text_at(document, "SPDXID", source, "")
    described = string_list(document.get("documentDescribes"), source, "documentDescribes")
    for index, raw in enumerate(array(document.get("relationships"), source, "relationships")):
        here = at("relationships", index)
        relationship = mapping(raw, source, here)
        kind_name = text_at(relationship, "relationshipType", source, here)
        element = text_at(relationship, "spdxElementId", source, here)
        related = text_at(relationship, "relatedSpdxElement", source, here)
        if kind_name == "DESCRIBES" and element == own_id and related:
            described.append(related)
        elif kind_name == "DESCRIBED_BY" and related == own_id and element:
            described.append(element)
    for spdx_id in described:
        found = by_id.get(spdx_id)
        if found is None:
            continue
        package, place = found
        purpose = text_at(package, "primaryPackagePurpose", source, place)
        purl = parse_purl(_references(package, source, place)[0])
        if purpose in ("CONTAINER", "FILE") or (purl and purl.type in IMAGE_PURL_TYPES):
            return found
    return None


def _describe(
    fragment: Fragment,
    package: dict[str, Any],
    place: str,
    distro: tuple[str | None, str | None] | None,
    source: InputFile,
) -> None:
    """Fill the artifact, subject and image facts from the described root package."""
    name = text_at(package, "name", source, place)
    fragment.artifact_name = name or fragment.artifact_name
    if text_at(package, "primaryPackagePurpose", source, place) == "FILE":
        fragment.artifact_type = FILESYSTEM
        return
    facts: dict[str, list[str]] = {}
    texts_place = at(place, "attributionTexts")
    for entry in string_list(package.get("attributionTexts"), source, texts_place):
        match = _ATTRIBUTION.match(entry.strip())
        if match:
            facts.setdefault(match.group("key"), []).append(match.group("value").strip())
    describe_root_image(
        fragment,
        name=name,
        version=text_at(package, "versionInfo", source, place),
        purl=_references(package, source, place)[0],
        trivy=facts,
        distro=distro,
    )
