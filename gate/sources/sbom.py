"""What the SBOM sources (CycloneDX, SPDX, Syft JSON) share.

* Inventory: :class:`Inventory` turns one file's packages into
  :class:`~gate.document.InventoryPackage` entries attributed to the producing tool.
  De-duplication rule: one entry per package URL as written, or, for a package without
  one, per (package URL type, name, version). A repeat adds its licences, CPEs and
  locations to the first listing (unions in first-seen order); the first listing's name,
  version and type are kept.
* What counts as a package (:func:`is_package`): anything with a package URL or a
  version, except what CycloneDX component types / SPDX primary package purposes name as
  something else (container, operating system, file, platform, device, data, model,
  cryptographic asset, source) and images (``pkg:oci``, ``pkg:docker``). An entry with
  neither package URL nor version names a grouping, e.g. Trivy's ``app/package-lock.json``
  target component, not a package.
* Package URLs (:func:`parse_purl`): ``pkg:type/namespace/name@version?qualifiers#subpath``,
  percent-decoded. A value that is not a package URL (Syft's golden snapshots write
  ``a-purl-1``) is dropped. The type goes through the scanners' ecosystem table, so the
  ``pkg:alpine/…`` that Syft wrote before 0.4x reads as ``apk`` like everyone else's.
* Epochs: a Debian/RPM epoch that a package URL carries only as the ``epoch`` qualifier
  (Trivy writes ``libpcre3@8.39-13…?epoch=2`` with version ``8.39-13…``) is put back in
  front of the version (``2:8.39-13…``), as Trivy's and Grype's JSON reports write it, so
  that findings and packages from different tools agree.
* Licences (:func:`license_expression`): SPDX expressions (or names) as written, with
  runs of white space made one space; ``NOASSERTION``, ``NONE`` and blanks are no licence.
  Callers pass declared licences before concluded ones.
* Image identity (:func:`describe_image`): subject hints and artifact digests of an SBOM
  that describes a container image; :func:`describe_root_image` adds what a CycloneDX or
  SPDX root element states (Trivy's image facts, the operating-system element). SBOM image
  facts never outvote dedicated image metadata, so SBOM fragments keep authority 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

from gate.document import Attribution, Image, InventoryPackage, Layer, Package
from gate.inputs import InputFile
from gate.sources.base import Fragment, fail, purl_type
from gate.sources.image_config import (
    digest,
    first_reference,
    image_id,
    nonempty,
    repo_digest,
    subject,
    unique,
)
from gate.sources.shape import at

CONTAINER_IMAGE = "container_image"
FILESYSTEM = "filesystem"

NOT_ASSERTED = frozenset({"NOASSERTION", "NONE"})
"""SPDX's words for "no licence information"; CycloneDX and Syft copy them at times."""

NOT_PACKAGES = frozenset(
    {
        "container",
        "operating-system",
        "file",
        "platform",
        "device",
        "data",
        "machine-learning-model",
        "cryptographic-asset",
        "source",
    }
)
"""CycloneDX component types and SPDX purposes (lower case, ``-``) that are not packages."""

IMAGE_PURL_TYPES = frozenset({"oci", "docker"})

UNSTATED_VERSION = "[not provided]"
"""What Syft writes for its own version when it was built without one."""

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Purl:
    """The parts of a package URL, percent-decoded."""

    type: str
    namespace: str | None
    name: str
    version: str | None
    qualifiers: dict[str, str] = field(default_factory=dict)


def parse_purl(value: str | None) -> Purl | None:
    """Split a package URL; None when ``value`` is not one (no ``pkg:``, type or name)."""
    if not value or not value[:4].lower() == "pkg:":
        return None
    rest = value[4:].lstrip("/").partition("#")[0]
    rest, _, query = rest.partition("?")
    kind, _, path = rest.partition("/")
    head, at_sign, version = path.rpartition("@")
    if at_sign and "/" not in version:
        path = head
    else:  # no version; an "@" inside the path is an unencoded npm scope
        version = ""
    segments = [unquote(part) for part in path.strip("/").split("/") if part]
    if not kind or not segments:
        return None
    qualifiers = {}
    for pair in query.split("&"):
        key, equals, raw = pair.partition("=")
        if key and equals:
            qualifiers[key.lower()] = unquote(raw)
    return Purl(
        type=kind.lower(),
        namespace="/".join(segments[:-1]) or None,
        name=segments[-1],
        version=unquote(version) if version else None,
        qualifiers=qualifiers,
    )


def license_expression(value: object) -> str | None:
    """Return a licence expression tidied, or None for blanks and NOASSERTION/NONE."""
    if not isinstance(value, str):
        return None
    expression = _SPACES.sub(" ", value).strip()
    if not expression or expression.upper() in NOT_ASSERTED:
        return None
    return expression


def declared_first(licenses: Iterable[tuple[str | None, str | None]]) -> list[str]:
    """Order (licence, kind) pairs declared (or unmarked) first, then ``concluded``."""
    pairs = [(value, kind) for value, kind in licenses if value]
    return [value for value, kind in pairs if kind != "concluded"] + [
        value for value, kind in pairs if kind == "concluded"
    ]


def tool_version(value: str | None) -> str | None:
    """Return a tool version, or None for the placeholders tools write when they know none."""
    if value is None or value.strip() == UNSTATED_VERSION:
        return None
    return value


def is_package(kind: str | None, purl: Purl | None, version: str | None) -> bool:
    """Return True when an SBOM entry is a package (see the module docstring)."""
    if kind and kind.strip().lower().replace("_", "-") in NOT_PACKAGES:
        return False
    if purl is not None and purl.type in IMAGE_PURL_TYPES:
        return False
    return purl is not None or version is not None


def _with_epoch(version: str | None, purl: Purl | None) -> str | None:
    """Put a package URL's ``epoch`` qualifier back in front of the version."""
    epoch = purl.qualifiers.get("epoch") if purl else None
    if not version or not epoch or epoch == "0" or ":" in version:
        return version
    return f"{epoch}:{version}"


@dataclass
class _Listing:
    """One package while the file's repeats of it are folded in."""

    name: str
    version: str | None
    type: str | None
    purl: str | None
    licenses: dict[str, None] = field(default_factory=dict)
    cpes: dict[str, None] = field(default_factory=dict)
    locations: dict[str, None] = field(default_factory=dict)


class Inventory:
    """The packages of one SBOM file, de-duplicated by package URL (see the module docstring)."""

    def __init__(self, tool: str, source: InputFile) -> None:
        self.tool = tool
        self.source = source
        self._listings: dict[object, _Listing] = {}

    def add(
        self,
        place: str,
        *,
        name: str | None,
        version: str | None,
        purl: str | None,
        kind: str | None = None,
        ecosystem: str | None = None,
        licenses: Iterable[object] = (),
        cpes: Iterable[str] = (),
        locations: Iterable[str] = (),
    ) -> Package | None:
        """Add the entry at JSON path ``place``; return it as a finding's package.

        ``kind`` is the CycloneDX component type or SPDX purpose, ``ecosystem`` the tool's
        package type (used when there is no package URL). Returns None, adding nothing,
        when the entry is not a package. A missing name is taken from the package URL;
        with neither, the entry fails.
        """
        parsed = parse_purl(purl)
        if not is_package(kind, parsed, version):
            return None
        name = name or (parsed.name if parsed else None)
        if not name:
            raise fail(self.source, at(place, "name"), "missing package name")
        version = _with_epoch(version or (parsed.version if parsed else None), parsed)
        package_type = purl_type(parsed.type) if parsed else purl_type(ecosystem)
        written = purl if parsed else None
        key: object = written or (package_type, name, version)
        listing = self._listings.get(key)
        if listing is None:
            listing = self._listings[key] = _Listing(name, version, package_type, written)
        listing.licenses.update(
            dict.fromkeys(e for e in map(license_expression, licenses) if e is not None)
        )
        listing.cpes.update(dict.fromkeys(cpe for cpe in cpes if cpe.strip()))
        own_locations = [location for location in locations if location.strip()]
        listing.locations.update(dict.fromkeys(own_locations))
        return Package(
            name=name,
            version=version,
            type=package_type,
            purl=written,
            path=own_locations[0] if own_locations else None,
        )

    def packages(self) -> list[InventoryPackage]:
        """Return the de-duplicated packages in first-seen order."""
        attribution = [Attribution(tool=self.tool, input=self.source.path)]
        return [
            InventoryPackage(
                name=listing.name,
                version=listing.version,
                type=listing.type,
                purl=listing.purl,
                licenses=list(listing.licenses),
                cpes=list(listing.cpes),
                locations=list(listing.locations),
                sources=attribution,
            )
            for listing in self._listings.values()
        ]


def describe_image(
    fragment: Fragment,
    *,
    name: str | None,
    version: str | None = None,
    tags: Iterable[str] = (),
    manifest_digest: str | None = None,
    repo_digests: Iterable[str] = (),
    config_digest: str | None = None,
    purl: str | None = None,
) -> None:
    """Fill the subject hints and artifact digests of an SBOM about a container image.

    Reference candidates, best first (the first that parses as an image reference wins):
    ``name:version`` when ``version`` is a tag rather than a digest, ``name``, ``tags``,
    and a ``pkg:oci`` package URL's ``repository_url``. The manifest digest is
    ``manifest_digest``, else a digest ``version``, else the ``pkg:oci`` version (a
    manifest digest, by the purl spec), else the first valid repo digest. Redacted or
    truncated digests are dropped (see :func:`gate.sources.image_config.digest`).
    """
    parsed = parse_purl(purl)
    oci = parsed if parsed is not None and parsed.type == "oci" else None
    pinned = [repo_digest(entry) for entry in repo_digests]
    version_digest = digest(version)
    manifest = digest(manifest_digest) or version_digest or (digest(oci.version) if oci else None)
    own_id = image_id(config_digest)
    candidates = [f"{name}:{version}"] if name and version and not version_digest else []
    candidates += [*([name] if name else []), *tags]
    if oci and oci.qualifiers.get("repository_url"):
        candidates.append(oci.qualifiers["repository_url"])
    fragment.artifact_type = CONTAINER_IMAGE
    fragment.artifact_digests = unique([own_id, manifest, *pinned])
    fragment.subject = subject(
        first_reference(candidates),
        digest=manifest or next((pin for pin in pinned if pin), None),
        image_id=own_id,
    )


def describe_root_image(
    fragment: Fragment,
    *,
    name: str | None,
    version: str | None,
    purl: str | None,
    trivy: Mapping[str, list[str]],
    distro: tuple[str | None, str | None] | None,
) -> None:
    """Describe the image an SBOM's root element (CycloneDX component, SPDX package) names.

    ``trivy`` holds the image facts Trivy attaches to the root (``RepoTag``,
    ``RepoDigest``, ``ImageID``, ``DiffID``; CycloneDX properties and SPDX attribution
    texts spell the same keys); ``distro`` is the (name, version) of the SBOM's
    operating-system element.
    """
    describe_image(
        fragment,
        name=name,
        version=version,
        tags=trivy.get("RepoTag", []),
        repo_digests=trivy.get("RepoDigest", []),
        config_digest=next(iter(trivy.get("ImageID", [])), None),
        purl=purl,
    )
    family, os_version = distro or (None, None)
    fragment.image = nonempty(
        Image(
            os_family=family.strip().lower() if family else None,
            os_version=os_version,
            layers=[Layer(digest=diff_id) for diff_id in trivy.get("DiffID", [])],
        )
    )
