"""Syft's native JSON SBOM (``syft -o json``), schema 1.x to 16.x.

Recognised by an ``artifacts`` array next to ``descriptor`` and ``schema`` objects (Grype's
report has ``matches`` instead). Scan facts: ``descriptor.name`` (lower case) and
``descriptor.version`` (Syft's ``[not provided]`` is no version); ``created`` from
``descriptor.timestamp`` when present. The kind is ``sbom``.

The scanned source moved between schema generations: up to about schema 8 it is
``source.target`` (an object for images, a path string otherwise); later it is
``source.metadata`` next to ``source.name``/``source.version``. Both are read. An
``image`` source is the subject: ``userInput`` (with a stereoscope scheme such as
``registry:`` stripped; an archive or directory input is no reference) and then ``tags``
are reference candidates, ``manifestDigest`` (else the first repo digest) is the digest,
``imageID`` the image ID; all three make the artifact digests. ``directory`` and ``file``
sources are ``filesystem`` artifacts.

Image facts (authority 0: docker inspect wins): ``distro`` gives the distribution, the
family from ``id`` (newer schemas, ``name`` being the pretty vendor name there) else
``name`` (schema 1.x, where ``name`` is the id), the version from ``versionID`` else
``version``; ``layers`` (descriptors), ``imageSize``, ``architecture`` and ``os`` come
from the image source.

Packages: every ``artifacts[]`` entry, de-duplicated by package URL by the shared rule
(:mod:`gate.sources.sbom`); an artifact without one is identified by (Syft's package type
as a package URL type, name, version). Licences: strings (older schemas) or objects
``{value, spdxExpression, type}`` (newer; the SPDX expression is preferred, ``declared``
before ``concluded``); CPEs: strings or objects ``{cpe, source}``; locations:
``locations[].path``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from gate.document import Image
from gate.inputs import InputFile
from gate.sources.base import Fragment, fail, rfc3339
from gate.sources.image_config import descriptor_layers, nonempty, stereoscope_reference
from gate.sources.sbom import (
    FILESYSTEM,
    Inventory,
    declared_first,
    describe_image,
    tool_version,
)
from gate.sources.shape import array, at, integer, kind, mapping, string_list, text_at

_ARTIFACT_TYPES = {"directory": FILESYSTEM, "file": FILESYSTEM}


class SyftSource:
    """Syft's own JSON SBOM."""

    format: ClassVar[str] = "syft-json"
    expected_shape: ClassVar[str] = 'an "artifacts" array and "descriptor" and "schema" objects'

    def matches(self, data: Any) -> bool:
        """Syft JSON has ``artifacts`` (a list) with ``descriptor`` and ``schema`` objects."""
        return (
            isinstance(data, dict)
            and isinstance(data.get("artifacts"), list)
            and isinstance(data.get("descriptor"), dict)
            and isinstance(data.get("schema"), dict)
        )

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Map the SBOM's scan facts, image source, distribution and artifacts.

        Raises :class:`~gate.errors.SourceError`, naming the file and JSON path, for a value
        of the wrong type or an artifact without a name.
        """
        document = mapping(data, source, "")
        descriptor = mapping(document.get("descriptor"), source, "descriptor")
        name = text_at(descriptor, "name", source, "descriptor")
        tool = name.strip().lower() if name else "syft"
        fragment = Fragment(
            format=self.format,
            tool=tool,
            tool_version=tool_version(text_at(descriptor, "version", source, "descriptor")),
            created=rfc3339(descriptor.get("timestamp")),
            kinds=["sbom"],
        )
        _describe_source(fragment, document, source)
        inventory = Inventory(tool, source)
        for index, raw in enumerate(array(document.get("artifacts"), source, "artifacts")):
            _add_artifact(inventory, raw, at("artifacts", index), source)
        fragment.packages = inventory.packages()
        return fragment


def _describe_source(fragment: Fragment, document: dict[str, Any], source: InputFile) -> None:
    """Fill the artifact, subject and image facts from ``source`` and ``distro``."""
    origin = mapping(document.get("source"), source, "source")
    source_type = text_at(origin, "type", source, "source")
    key = "metadata" if "metadata" in origin else "target"
    place = at("source", key)
    target = origin.get(key)
    if source_type != "image":
        fragment.artifact_type = _ARTIFACT_TYPES.get(source_type or "", source_type)
        if isinstance(target, str):
            fragment.artifact_name = target
        else:
            details = mapping(target, source, place)
            fragment.artifact_name = text_at(details, "path", source, place) or text_at(
                origin, "name", source, "source"
            )
        return
    image = mapping(target, source, place)

    def string(name: str) -> str | None:
        return text_at(image, name, source, place)

    user_input = string("userInput")
    fragment.artifact_name = user_input
    describe_image(
        fragment,
        name=stereoscope_reference(user_input),
        tags=string_list(image.get("tags"), source, at(place, "tags")),
        manifest_digest=string("manifestDigest"),
        repo_digests=string_list(image.get("repoDigests"), source, at(place, "repoDigests")),
        config_digest=string("imageID"),
    )
    distro = mapping(document.get("distro"), source, "distro")
    family = text_at(distro, "id", source, "distro") or text_at(distro, "name", source, "distro")
    fragment.image = nonempty(
        Image(
            os_family=family.strip().lower() if family else None,
            os_version=text_at(distro, "versionID", source, "distro")
            or text_at(distro, "version", source, "distro"),
            layers=descriptor_layers(image.get("layers"), source, at(place, "layers")),
            size=integer(image.get("imageSize"), source, at(place, "imageSize")) or None,
            architecture=string("architecture"),
            os=string("os"),
        )
    )


def _add_artifact(inventory: Inventory, raw: Any, place: str, source: InputFile) -> None:
    """Add one artifact to the inventory."""
    if not isinstance(raw, dict):
        raise fail(source, place, f"expected an artifact object, got {kind(raw)}")

    def string(name: str) -> str | None:
        return text_at(raw, name, source, place)

    inventory.add(
        place,
        name=string("name"),
        version=string("version"),
        purl=string("purl"),
        ecosystem=string("type"),
        licenses=_licenses(raw, source, place),
        cpes=_entries(raw, "cpes", "cpe", source, place),
        locations=_entries(raw, "locations", "path", source, place),
    )


def _entries(
    artifact: dict[str, Any], key: str, field: str, source: InputFile, place: str
) -> list[str]:
    """Return ``artifact[key]`` as strings: each a string, or an object's ``field``."""
    list_place = at(place, key)
    values = []
    for index, raw in enumerate(array(artifact.get(key), source, list_place)):
        here = at(list_place, index)
        value = (
            raw
            if isinstance(raw, str)
            else text_at(mapping(raw, source, here), field, source, here)
        )
        if value:
            values.append(value)
    return values


def _licenses(artifact: dict[str, Any], source: InputFile, place: str) -> list[str]:
    """Return an artifact's licences, declared (or untyped) before concluded."""
    pairs: list[tuple[str | None, str | None]] = []
    list_place = at(place, "licenses")
    for index, raw in enumerate(array(artifact.get("licenses"), source, list_place)):
        here = at(list_place, index)
        if isinstance(raw, str):
            pairs.append((raw, None))
            continue
        entry = mapping(raw, source, here)
        value = text_at(entry, "spdxExpression", source, here) or text_at(
            entry, "value", source, here
        )
        pairs.append((value, text_at(entry, "type", source, here)))
    return declared_first(pairs)
