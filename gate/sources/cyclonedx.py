"""CycloneDX JSON (1.2–1.7): SBOM inventory, vulnerabilities and VEX analysis.

Recognised by ``bomFormat: "CycloneDX"``. Scan facts: ``tool`` is the first tool in
``metadata.tools`` (an array up to 1.4, an object ``{components, services}`` from 1.5),
lower-cased, or ``cyclonedx`` when the document names none; ``created`` is
``metadata.timestamp`` (placeholders such as ``timestamp:redacted`` read as unknown).

Subject: a ``metadata.component`` of type ``container`` is the image. Its name (plus the
version when that is a tag rather than a digest) and Trivy's ``aquasecurity:trivy:RepoTag``
properties are reference candidates; a digest version or the ``pkg:oci`` purl's version is
the manifest digest; Trivy's ``RepoDigest``/``ImageID``/``DiffID`` properties give repo
digests, the image ID and layers; the first ``operating-system`` component gives the
distribution. A ``file`` root is a ``filesystem`` artifact; other root types are kept as
written.

Packages: every component, nested ones included, that is a package by the shared rule
(:mod:`gate.sources.sbom`: de-duplicated by package URL). Licences: ``licenses[]`` entries
``{license: {id | name}}`` or ``{expression}``, declared before concluded
(``acknowledgement``, 1.6); CPEs: ``cpe`` plus Syft's ``syft:cpe23`` properties;
locations: ``evidence.occurrences[].location``, Syft's ``syft:location:N:path`` and
Trivy's ``aquasecurity:trivy:FilePath`` properties.

Vulnerabilities: each ``vulnerabilities[]`` entry × each ``affects[].ref`` is one finding,
in the package component the ref resolves to (by ``bom-ref``; a BOM-Link ``urn:cdx:…#ref``
resolves by its fragment). A ref that resolves to nothing, to the root (the image) or to
the operating system component, and an entry without affects, still give a finding: of the
image, with ``package.unresolved`` saying why (a vulnerability never vanishes because the
report does not say where it is).
The id is the entry's ``id``, or the first CVE among ``references[].id`` when the entry's
own id is not a CVE; the other ids are aliases, except vendor advisories (RHSA, DSA…),
which are ``advisories``, and an entry naming several CVEs is one finding per CVE
(:func:`gate.identifiers.split_listing`). Severity: the ratings whose
``source.name`` equals the entry's ``source.name`` (the feed the scanner matched against,
e.g. ``ubuntu`` for Trivy) decide, highest first; when none of them names a severity, the
highest severity word of any rating is taken. A rating without a source is the entry's
own (Grype writes its severity so). Source names are lower-cased and cut at the first
``:`` (Grype's ``nvd:cpe`` → ``nvd``), the way the Grype JSON source names raters. A rating
without a severity word counts as ``unknown``; ``info`` and ``none`` are ``negligible``
(:func:`gate.sources.base.severity`). CVSS: ratings with method
``CVSSv2``/``CVSSv3``/``CVSSv31``/``CVSSv4`` (the vector's ``CVSS:x.y/`` prefix wins),
the preferred one by :func:`gate.merge.cvss_rank`. Fixed versions: the affect's
``versions[]`` with status ``unaffected`` (exact versions, not ranges) and Grype's
``grype:fixed_versions`` property (comma-separated); free-text ``recommendation`` is not
parsed. Status is ``fixed`` with a fixed version, else ``unknown``. URLs: ``source.url``,
then ``advisories[].url``, then ``references[].source.url``. Within one document,
findings with the same (id, package URL type, package name, version) merge by
:func:`gate.merge.merge_vulnerabilities` (Trivy lists one entry whose affects name the
same package twice when it sits in two places).

VEX: an entry's ``analysis`` with a ``state`` becomes one
:class:`~gate.vex.VexStatement` for the entry (all its affects). States map onto OpenVEX
terms: ``not_affected`` and ``false_positive`` → not_affected, ``resolved`` and
``resolved_with_pedigree`` → fixed, ``exploitable`` → affected, ``in_triage`` →
under_investigation; an unknown state fails. Justification as written; a
``false_positive`` without one gets ``false_positive``. ``detail`` is the impact
statement; ``response[]`` (joined with ", ") is the action statement of an ``affected``
statement. Timestamp: ``lastUpdated``, else ``firstIssued``, else ``metadata.timestamp``;
document id: ``serialNumber``; author: the first of ``metadata.authors[].name``,
``metadata.manufacturer.name`` (``manufacture`` before 1.6), ``metadata.supplier.name``.
Products: each affect ref resolved to the component's package URL (a container component
also gives its name, the image reference); when a component has no package URL, its name.
An unresolved BOM-Link whose fragment is a package URL gives that package URL; any other
unresolved ref (a package URL, a product id such as CISA's ``product-ABC`` with no
component) is kept as written. ``order`` is the entry's position in the document. An
``analysis`` whose only content is ``state: in_triage`` is not a statement: Grype writes
it on every finding of its CycloneDX output, and it records no one's assessment.

A document with vulnerabilities but no components is a pure VEX document (CISA's
examples): it gives statements only (no findings, no inventory, no subject or image
hints: a VEX document is no evidence of what is being gated) and its kind is ``vex``.
Otherwise kinds are ``sbom``, plus ``vulnerability`` when the document has a
``vulnerabilities`` section, plus ``vex`` when it yields statements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import unquote

from gate.document import (
    Cvss,
    Package,
    ScanKind,
    Severity,
    VexStatus,
    Vulnerability,
    severity_rank,
)
from gate.inputs import InputFile
from gate.merge import cvss_rank, merge_vulnerabilities
from gate.sources.base import Attributions, Fragment, fail, rfc3339, severity
from gate.sources.image_config import unique
from gate.sources.sbom import (
    CONTAINER_IMAGE,
    FILESYSTEM,
    Inventory,
    declared_first,
    describe_root_image,
    parse_purl,
)
from gate.sources.shape import (
    Place,
    array,
    at,
    cwe_ids_at,
    kind,
    mapping,
    mapping_at,
    objects_at,
    string_list_at,
    text_at,
    where,
)
from gate.vex import VexStatement

DEFAULT_TOOL = "cyclonedx"

_STATES: dict[str, VexStatus] = {
    "not_affected": "not_affected",
    "false_positive": "not_affected",
    "resolved": "fixed",
    "resolved_with_pedigree": "fixed",
    "exploitable": "affected",
    "in_triage": "under_investigation",
}

_CVSS_METHODS = {"CVSSv2": "2.0", "CVSSv3": "3.0", "CVSSv31": "3.1", "CVSSv4": "4.0"}

_LOCATION_PROPERTIES = ("aquasecurity:trivy:FilePath",)
_ECOSYSTEM_PROPERTIES = ("syft:package:type", "aquasecurity:trivy:PkgType")
_FIXED_VERSIONS_PROPERTY = "grype:fixed_versions"
_TRIVY = "aquasecurity:trivy:"


@dataclass(frozen=True)
class _Component:
    """What a ``bom-ref`` resolves to."""

    type: str | None
    name: str | None
    purl: str | None
    package: Package | None


class CycloneDxSource:
    """CycloneDX JSON BOMs, VEX documents and scanner output (Trivy, Grype, Syft)."""

    format: ClassVar[str] = "cyclonedx"
    expected_shape: ClassVar[str] = '"bomFormat": "CycloneDX"'

    def matches(self, data: Any) -> bool:
        """CycloneDX JSON says what it is: ``bomFormat`` is ``CycloneDX``."""
        return isinstance(data, dict) and data.get("bomFormat") == "CycloneDX"

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Map the BOM's scan facts, subject, inventory, vulnerabilities and VEX analysis.

        Raises :class:`~gate.errors.SourceError`, naming the file and JSON path, for a
        ``specVersion`` other than 1.x, a value of the wrong type, a vulnerability without
        an id, an affect without a ref, or an unknown analysis state.
        """
        bom = mapping(data, source, "")
        spec = text_at(bom, "specVersion", source, "")
        if spec is None or not spec.startswith("1."):
            raise fail(source, "specVersion", f"unsupported CycloneDX specVersion {spec!r}")
        metadata = mapping(bom.get("metadata"), source, "metadata")
        tool, version = _tool(metadata, source)
        reader = _Reader(source, Inventory(tool, source), tool)
        fragment = Fragment(
            format=self.format,
            tool=tool,
            tool_version=version,
            created=rfc3339(metadata.get("timestamp")),
        )
        components = array(bom.get("components"), source, "components")
        present = bom.get("vulnerabilities") is not None
        vulnerabilities = array(bom.get("vulnerabilities"), source, "vulnerabilities")
        pure_vex = bool(vulnerabilities) and not components
        reader.read_components(components)
        # A VEX document speaks about a product; it is no evidence of what is being gated.
        reader.describe_root(fragment, metadata, identify=not pure_vex)
        document = _Document(
            id=text_at(bom, "serialNumber", source, ""),
            author=_author(metadata, source),
            timestamp=fragment.created,
        )
        for index, raw in enumerate(vulnerabilities):
            reader.read_vulnerability(raw, ("vulnerabilities", index), index, document, pure_vex)
        fragment.vex = reader.statements
        if pure_vex:
            fragment.kinds = ["vex"]
            return fragment
        kinds: list[ScanKind] = ["sbom"]
        if present:
            kinds.append("vulnerability")
        if reader.statements:
            kinds.append("vex")
        fragment.kinds = sorted(kinds)
        fragment.packages = reader.inventory.packages()
        fragment.vulnerabilities = merge_vulnerabilities(reader.findings)
        return fragment


@dataclass(frozen=True)
class _Document:
    """Document-level facts every VEX statement carries."""

    id: str | None
    author: str | None
    timestamp: str | None


def _tool(metadata: dict[str, Any], source: InputFile) -> tuple[str, str | None]:
    """Return the first named tool in ``metadata.tools`` (1.4 array or 1.5+ object)."""
    place = "metadata.tools"
    tools = metadata.get("tools")
    if isinstance(tools, dict):
        place = at(place, "components")
        tools = tools.get("components")
    for index, raw in enumerate(array(tools, source, place)):
        here = at(place, index)
        entry = mapping(raw, source, here)
        name = text_at(entry, "name", source, here)
        if name:
            return name.strip().lower(), text_at(entry, "version", source, here)
    return DEFAULT_TOOL, None


def _author(metadata: dict[str, Any], source: InputFile) -> str | None:
    """Return who wrote the document, as the metadata names them."""
    for index, raw in enumerate(array(metadata.get("authors"), source, "metadata.authors")):
        here = at("metadata.authors", index)
        name = text_at(mapping(raw, source, here), "name", source, here)
        if name:
            return name
    for key in ("manufacturer", "manufacture", "supplier"):
        here = at("metadata", key)
        name = text_at(mapping(metadata.get(key), source, here), "name", source, here)
        if name:
            return name
    return None


@lru_cache(maxsize=1024)  # a report names a handful of raters, once per rating
def _rater(name: str | None) -> str | None:
    """Name a rating source as the document does: lower case, Grype's ``nvd:cpe`` → ``nvd``."""
    return (name.split(":", 1)[0].strip().lower() or None) if name else None


def _bom_link_fragment(ref: str) -> str | None:
    """Return the bom-ref a BOM-Link (``urn:cdx:<serial>/<version>#<bom-ref>``) points at."""
    if not ref.startswith("urn:cdx:") or "#" not in ref:
        return None
    return ref.rpartition("#")[2] or None


def _properties(component: dict[str, Any], source: InputFile, place: Place) -> dict[str, list[str]]:
    """Return a component's ``properties`` as name → values (names may repeat)."""
    result: dict[str, list[str]] = {}
    for entry, here in objects_at(component, "properties", source, place):
        name = text_at(entry, "name", source, here)
        value = text_at(entry, "value", source, here)
        if name and value:
            result.setdefault(name, []).append(value)
    return result


def _licenses(component: dict[str, Any], source: InputFile, place: Place) -> list[str]:
    """Return a component's licences, declared (or unmarked) before concluded."""
    pairs: list[tuple[str | None, str | None]] = []
    for entry, here in objects_at(component, "licenses", source, place):
        inner_place = (here, "license")
        inner = mapping(entry.get("license"), source, inner_place)
        value = (
            text_at(entry, "expression", source, here)
            or text_at(inner, "id", source, inner_place)
            or text_at(inner, "name", source, inner_place)
        )
        acknowledgement = text_at(entry, "acknowledgement", source, here) or text_at(
            inner, "acknowledgement", source, inner_place
        )
        pairs.append((value, acknowledgement))
    return declared_first(pairs)


def _occurrences(component: dict[str, Any], source: InputFile, place: Place) -> list[str]:
    """Return ``evidence.occurrences[].location`` (CycloneDX 1.5+)."""
    evidence = mapping_at(component, "evidence", source, place)
    locations = []
    for occurrence, here in objects_at(evidence, "occurrences", source, (place, "evidence")):
        location = text_at(occurrence, "location", source, here)
        if location:
            locations.append(location)
    return locations


def _syft_indexed(properties: dict[str, list[str]], prefix: str, suffix: str) -> list[str]:
    """Return the values of Syft's numbered properties ``<prefix><N><suffix>``, in order."""
    return [
        value
        for name, values in properties.items()
        if name.startswith(prefix) and name.endswith(suffix)
        for value in values
    ]


@dataclass
class _Reader:
    """Reads one BOM's components and vulnerabilities."""

    source: InputFile
    inventory: Inventory
    tool: str
    components: dict[str, _Component] = field(default_factory=dict)
    """bom-ref → what it names; the first component with a ref wins."""
    os: tuple[str | None, str | None] | None = None
    """(name, version) of the first operating-system component."""
    findings: list[Vulnerability] = field(default_factory=list)
    statements: list[VexStatement] = field(default_factory=list)
    attribution: Attributions = field(init=False)

    def __post_init__(self) -> None:
        self.attribution = Attributions(self.tool, self.source)

    def read_components(self, components: list[Any]) -> None:
        """Read every component, nested ones too, depth first in document order."""
        stack = [(raw, at("components", index)) for index, raw in enumerate(components)]
        stack.reverse()
        while stack:
            raw, place = stack.pop()
            if not isinstance(raw, dict):
                raise fail(self.source, place, f"expected a component object, got {kind(raw)}")
            self._component(raw, place)
            nested_place = at(place, "components")
            nested = array(raw.get("components"), self.source, nested_place)
            stack.extend(
                (item, at(nested_place, index)) for index, item in reversed(list(enumerate(nested)))
            )

    def _component(self, component: dict[str, Any], place: str) -> None:
        """Read one component: a package, the distribution, or something else."""

        def string(name: str) -> str | None:
            return text_at(component, name, self.source, place)

        component_type = string("type")
        name = string("name")
        version = string("version")
        purl = string("purl")
        package = None
        if component_type == "operating-system":
            if self.os is None:
                self.os = (name, version)
        else:
            properties = _properties(component, self.source, place)
            ecosystem = next(
                (properties[key][0] for key in _ECOSYSTEM_PROPERTIES if key in properties), None
            )
            package = self.inventory.add(
                place,
                name=name,
                version=version,
                purl=purl,
                kind=component_type,
                ecosystem=ecosystem,
                licenses=_licenses(component, self.source, place),
                cpes=unique([string("cpe"), *properties.get("syft:cpe23", [])]),
                locations=[
                    *_occurrences(component, self.source, place),
                    *_syft_indexed(properties, "syft:location:", ":path"),
                    *(value for key in _LOCATION_PROPERTIES for value in properties.get(key, [])),
                ],
            )
        ref = string("bom-ref")
        if ref and ref not in self.components:
            self.components[ref] = _Component(component_type, name, purl, package)

    def describe_root(
        self, fragment: Fragment, metadata: dict[str, Any], *, identify: bool
    ) -> None:
        """Fill the artifact facts from ``metadata.component``; subject and image too if asked.

        The root is registered as a ``bom-ref`` target either way, for VEX products.
        """
        place = "metadata.component"
        root = mapping(metadata.get("component"), self.source, place)

        def string(name: str) -> str | None:
            return text_at(root, name, self.source, place)

        root_type = string("type")
        name = string("name")
        version = string("version")
        purl = string("purl")
        ref = string("bom-ref")
        if ref and ref not in self.components:
            self.components[ref] = _Component(root_type, name, purl, None)
        fragment.artifact_name = name
        if root_type != "container":
            fragment.artifact_type = FILESYSTEM if root_type == "file" else root_type
            return
        fragment.artifact_type = CONTAINER_IMAGE
        if not identify:
            return
        properties = _properties(root, self.source, place)
        describe_root_image(
            fragment,
            name=name,
            version=version,
            purl=purl,
            trivy={
                key.removeprefix(_TRIVY): values
                for key, values in properties.items()
                if key.startswith(_TRIVY)
            },
            distro=self.os,
        )

    def _resolve(self, ref: str) -> _Component | None:
        """Return the component a ref names; a BOM-Link resolves by its fragment."""
        found = self.components.get(ref)
        fragment = _bom_link_fragment(ref)
        if found is None and fragment is not None:
            found = self.components.get(fragment) or self.components.get(unquote(fragment))
        return found

    def _products(self, ref: str) -> list[str]:
        """Name what an affect ref points at for a VEX statement (module docstring)."""
        component = self._resolve(ref)
        if component is None:
            fragment = _bom_link_fragment(ref)
            return [fragment] if fragment and parse_purl(fragment) else [ref]
        names = [component.purl]
        if component.purl is None or component.type == "container":
            names.append(component.name)
        return unique(names) or [ref]

    def read_vulnerability(
        self, raw: Any, place: Place, index: int, document: _Document, pure_vex: bool
    ) -> None:
        """Read one ``vulnerabilities[]`` entry: findings and a VEX statement."""
        source = self.source
        if not isinstance(raw, dict):
            raise fail(source, where(place), f"expected a vulnerability object, got {kind(raw)}")
        vuln = raw
        own_id = text_at(vuln, "id", source, place)
        if own_id is None:
            raise fail(source, at(place, "id"), "missing vulnerability id")
        references = self._objects(vuln, "references", place)
        ids = unique([own_id, *(text_at(ref, "id", source, spot) for ref, spot in references)])
        canonical = own_id
        if not own_id.upper().startswith("CVE-"):
            canonical = next((i for i in ids if i.upper().startswith("CVE-")), own_id)
        aliases = [i for i in ids if i != canonical]
        affects = self._affects(vuln, place)
        statement = self._statement(vuln, place, index, document, canonical, aliases, affects)
        if statement is not None:
            self.statements.append(statement)
        if pure_vex:
            return
        details = self._details(vuln, place, references)
        properties = _properties(vuln, source, place)
        extra_fixes = [
            version.strip()
            for value in properties.get(_FIXED_VERSIONS_PROPERTY, [])
            for version in value.split(",")
            if version.strip()
        ]
        for ref, fixed in affects or [("", [])]:
            fixed_versions = unique([*fixed, *extra_fixes])
            self.findings.append(
                Vulnerability(
                    id=canonical,
                    aliases=aliases,
                    package=self._affected_package(ref),
                    fixed_versions=fixed_versions,
                    fix_available=bool(fixed_versions),
                    status="fixed" if fixed_versions else "unknown",
                    **details,
                )
            )

    def _affected_package(self, ref: str) -> Package:
        """The package ``ref`` names; a stand-in that says why when it names none.

        A vulnerability must never vanish because the report does not say which package
        has it: it stays, as a finding of the image.
        """
        component = self._resolve(ref)
        if component is not None and component.package is not None:
            return component.package
        if not ref:
            why = "the report names nothing it affects"
        elif component is None:
            why = f"the affected reference {ref!r} resolves to no component of the report"
        else:
            what = (
                "the image itself"
                if component.type == "container"
                else (
                    f"a component of type {component.type!r}" if component.type else "a component"
                )
            )
            why = f"the affected reference {ref!r} is {what}, not a package"
        return Package(
            name=(component.name if component else None) or ref or "unknown",
            unresolved=f"{why}; kept as a finding of the image",
        )

    def _affects(self, vuln: dict[str, Any], place: Place) -> list[tuple[str, list[str]]]:
        """Return each affect's ref with its ``unaffected`` (fixed) versions."""
        source = self.source
        affects = []
        for affect, here in self._objects(vuln, "affects", place):
            ref = text_at(affect, "ref", source, here)
            if ref is None:
                raise fail(source, at(here, "ref"), "missing affected ref")
            fixed = []
            for entry, spot in self._objects(affect, "versions", here):
                version = text_at(entry, "version", source, spot)
                if version and text_at(entry, "status", source, spot) == "unaffected":
                    fixed.append(version)
            affects.append((ref, fixed))
        return affects

    def _objects(
        self, parent: dict[str, Any], key: str, place: Place
    ) -> list[tuple[dict[str, Any], Place]]:
        """Return the objects of the array ``parent[key]`` with their places, all checked
        before any of them is read."""
        return list(objects_at(parent, key, self.source, place))

    def _url(self, parent: dict[str, Any], key: str, place: Place) -> str | None:
        """Return ``parent[key].url``."""
        return text_at(
            mapping_at(parent, key, self.source, place), "url", self.source, (place, key)
        )

    def _details(
        self, vuln: dict[str, Any], place: Place, references: list[tuple[dict[str, Any], Place]]
    ) -> dict[str, Any]:
        """Return the fields every finding of one entry shares."""
        source = self.source
        primary = _rater(
            text_at(mapping_at(vuln, "source", source, place), "name", source, (place, "source"))
        )
        rated, rater, cvss = self._ratings(vuln, place, primary)
        advisories = self._objects(vuln, "advisories", place)
        return {
            "severity": rated,
            "cvss": cvss,
            "description": text_at(vuln, "description", source, place),
            "urls": unique(
                [
                    self._url(vuln, "source", place),
                    *(text_at(item, "url", source, spot) for item, spot in advisories),
                    *(self._url(item, "source", spot) for item, spot in references),
                ]
            ),
            "published": rfc3339(vuln.get("published")),
            "cwes": cwe_ids_at(vuln, "cwes", source, place),
            "sources": [self.attribution(rated, rater)],
        }

    def _ratings(
        self, vuln: dict[str, Any], place: Place, primary: str | None
    ) -> tuple[Severity, str | None, Cvss | None]:
        """Return the severity, whose it is, and the preferred CVSS rating (docstring)."""
        source = self.source
        own: list[tuple[Severity, str | None]] = []
        others: list[tuple[Severity, str | None]] = []
        best: Cvss | None = None
        for rating, here in self._objects(vuln, "ratings", place):
            origin = mapping_at(rating, "source", source, here)
            # A rating that names no source is the entry's own (Grype writes them so).
            rater = _rater(text_at(origin, "name", source, (here, "source"))) or primary
            word = severity(text_at(rating, "severity", source, here))
            matched = primary is not None and rater == primary
            (own if matched else others).append((word, rater))
            cvss = self._cvss(rating, here, rater)
            if cvss is not None and cvss_rank(cvss) > cvss_rank(best):
                best = cvss
        ranked = [entry for entry in own if entry[0] != "unknown"] or others + own
        if not ranked:
            return "unknown", None, best
        word, rater = max(ranked, key=lambda entry: severity_rank(entry[0]))
        return word, rater if word != "unknown" else None, best

    def _cvss(self, rating: dict[str, Any], place: Place, rater: str | None) -> Cvss | None:
        """Return a rating as CVSS, or None when its method is not a CVSS version."""
        method = text_at(rating, "method", self.source, place)
        vector = text_at(rating, "vector", self.source, place)
        version = _CVSS_METHODS.get(method or "")
        if vector and vector.startswith("CVSS:") and "/" in vector:
            version = vector[5:].partition("/")[0] if version else None
        if version is None:
            return None
        score = rating.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
            raise fail(self.source, at(place, "score"), f"expected a number, got {kind(score)}")
        return Cvss(
            score=float(score) if score is not None else None,
            vector=vector,
            version=version,
            source=rater,
        )

    def _statement(
        self,
        vuln: dict[str, Any],
        place: Place,
        index: int,
        document: _Document,
        canonical: str,
        aliases: list[str],
        affects: list[tuple[str, list[str]]],
    ) -> VexStatement | None:
        """Return the entry's ``analysis`` as a VEX statement, or None when it has none."""
        source = self.source
        here = (place, "analysis")
        analysis = mapping_at(vuln, "analysis", source, place)
        state = text_at(analysis, "state", source, here)
        justification = text_at(analysis, "justification", source, here)
        responses = string_list_at(analysis, "response", source, here)
        detail = text_at(analysis, "detail", source, here)
        if state is None or (state == "in_triage" and not (justification or responses or detail)):
            return None
        status = _STATES.get(state)
        if status is None:
            raise fail(source, at(here, "state"), f"unknown analysis state {state!r}")
        if justification is None and state == "false_positive":
            justification = state
        return VexStatement(
            vulnerability=canonical,
            status=status,
            source=source.path,
            aliases=tuple(aliases),
            products=tuple(unique([p for ref, _ in affects for p in self._products(ref)])),
            justification=justification,
            impact_statement=detail,
            action_statement=(", ".join(responses) or None) if status == "affected" else None,
            timestamp=rfc3339(analysis.get("lastUpdated"))
            or rfc3339(analysis.get("firstIssued"))
            or document.timestamp,
            document_id=document.id,
            author=document.author,
            order=(index,),
        )
