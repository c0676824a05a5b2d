"""Snyk CLI JSON (``snyk container test --json``, ``snyk test --json``) as a document fragment.

Shapes read: one project result (an object with ``vulnerabilities`` and ``packageManager``
/ ``projectName`` / ``ok``), and the top-level array ``--all-projects`` (or a test of
several images) writes, one result per project; all projects' findings go into one
fragment. A container result also lists the vulnerabilities of applications found in the
image (``applications[]``, e.g. an npm ``package.json`` or a Go binary): they are read
too. ``ok: true`` with no vulnerabilities is a valid, empty scan. The JSON carries no Snyk
version and no scan time, so neither is recorded.

Mapping of ``vulnerabilities[]``:

* Canonical id: the first ``identifiers.CVE`` when there is one, else Snyk's ``id``
  (``SNYK-…``, ``npm:…``). The other ids (Snyk's own, ``GHSA``, ``ALTERNATIVE`` and
  ``alternativeIds``, …) become aliases; an issue naming several CVEs is one finding per
  CVE, with those other ids as its ``advisories`` (which CVE they belong to is unknown:
  :func:`gate.identifiers.split_listing`); ``CWE`` (weakness classes,
  shared by thousands of vulnerabilities) and ``NSP`` (bare numbers of the retired Node
  Security Platform) are not vulnerability ids and are dropped.
* Package type: the listing's ``packageManager`` before any ``:`` (``debian:11`` →
  ``debian``), else the project's, as a package URL type (:func:`gate.sources.base
  .purl_type`, whose table holds Snyk's own names too: ``rhel``/``amzn`` → rpm,
  ``rubygems`` → gem, ``gomodules``/``golangdep``/``govendor`` → golang, ``paket`` →
  nuget, ``cpp``/``unmanaged`` → generic).
* Package name: ``name`` (else ``packageName``). For OS packages (deb, apk, rpm) Snyk
  writes ``source/binary`` (``openssl/libssl1.1``): the binary package, after the ``/``,
  is the name, as other scanners and SBOMs name the installed package; the source name is
  not kept. Language package names keep their ``/`` (``@babel/core``, Go module paths).
  The package's path is the project's ``displayTargetFile`` / ``targetFile``.
* ``version``; ``fixedIn`` → fixed versions, ``fix_available`` when there is one; status
  ``fixed`` then, ``affected`` when ``fixedIn`` is present and empty (Snyk knows of no
  fix), ``unknown`` when it is absent. ``isUpgradable`` / ``isPatchable`` describe
  remediation through the dependency tree, not whether a fix exists, and are not used.
* ``cvssScore`` + ``CVSSv3`` → CVSS (version from the vector, rater ``snyk``);
  ``title``, ``description``, ``references[].url`` → urls, ``publicationTime`` →
  published.
* Licence issues (``type: license``, ids ``snyk:lic:…``) are licence findings, not
  vulnerabilities: the ``license`` (else the title) with the package and target file;
  ``license`` is then among the scan's kinds.
* Findings Snyk's own policy ignored (``filtered.ignore``) are not part of its result and
  are not read.

Severity: Snyk's ``critical``, ``high``, ``medium``, ``low`` map one to one;
``severityWithCritical`` (written by releases whose ``severity`` stopped at ``high``) wins
over ``severity`` when present.

Subject hints, container results only (``docker`` present or ``projectName``
``docker-image|…``): the first of ``docker.image``, ``path``, the applications' ``path``
and the ``projectName`` after ``docker-image|`` that parses as an image reference
(``path`` can carry a suffix, e.g. ``name:tag/app``, that is no reference). Results that
name different images are refused. ``docker.baseImage`` becomes the image's base with
source ``snyk`` (at authority 0, so a base image from OCI labels wins) and ``platform``
(``linux/amd64``) the OS and architecture; ``docker.baseImageRemediation`` gives the
base's ``outdated`` flag (``baseImageOutdated``, or ``code`` ``OUTDATED_BASE_IMAGE``) and
its ``advice`` messages, joined by newlines, as ``remediation``.

De-duplication rule: Snyk lists a vulnerability once per dependency path (``from``
chain), and a container's OS packages once per binary package of a source package. The
summary's "N vulnerable dependency paths" therefore counts more than gate does: gate
counts unique (canonical id, package URL type, package name, version), merging repeats
with :func:`gate.merge.merge_vulnerabilities` (the rule that merges scanners: aliases,
URLs and fixed versions unioned, highest severity wins). Licence issues are unique by
(licence, package, target file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from gate.document import (
    BaseImage,
    Cvss,
    FindingSource,
    FixStatus,
    Image,
    License,
    Package,
    ScanKind,
    Subject,
    Vulnerability,
)
from gate.inputs import InputFile
from gate.merge import merge_vulnerabilities
from gate.reference import parse_reference
from gate.sources.base import Fragment, fail, purl_type, rfc3339, severity
from gate.sources.cvss import cvss_version
from gate.sources.image_config import first_reference, nonempty, unique
from gate.sources.shape import array, at, kind, mapping, number, required_at, string_list, text_at

TOOL = "snyk"
CONTAINER_IMAGE = "container_image"
FILESYSTEM = "filesystem"

_DOCKER_PROJECT = "docker-image|"
_LICENSE_ISSUE = "license"
_OS_TYPES = frozenset({"deb", "apk", "rpm"})
_NOT_ALIASES = frozenset({"CWE", "NSP"})
_HINT = "gate judges one image: run 'snyk container test --json <image>' for that image alone"


def _is_project(data: Any) -> bool:
    """Return True for one Snyk project result."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("vulnerabilities"), list)
        and any(key in data for key in ("packageManager", "projectName", "ok"))
    )


@dataclass
class _Container:
    """The image one container result names."""

    reference: str | None
    subject: Subject
    base: str | None
    platform: str | None
    base_outdated: bool | None = None
    base_remediation: str | None = None


@dataclass
class _Listings:
    """Collects the vulnerabilities and licence issues of every project of one report."""

    source: InputFile
    vulnerabilities: list[Vulnerability] = field(default_factory=list)
    licenses: dict[tuple[str, str | None, str | None], License] = field(default_factory=dict)

    def read(self, project: dict[str, Any], place: str) -> None:
        """Read the ``vulnerabilities`` of one project (or application) at ``place``."""
        target = text_at(project, "displayTargetFile", self.source, place) or text_at(
            project, "targetFile", self.source, place
        )
        ecosystem = text_at(project, "packageManager", self.source, place)
        list_place = at(place, "vulnerabilities")
        for index, raw in enumerate(array(project.get("vulnerabilities"), self.source, list_place)):
            here = at(list_place, index)
            if not isinstance(raw, dict):
                raise fail(self.source, here, f"expected a vulnerability object, got {kind(raw)}")
            if text_at(raw, "type", self.source, here) == _LICENSE_ISSUE:
                self._license(raw, here, ecosystem, target)
            else:
                self.vulnerabilities.append(self._vulnerability(raw, here, ecosystem, target))

    def _string(self, item: dict[str, Any], name: str, place: str) -> str | None:
        return text_at(item, name, self.source, place)

    def _package(
        self, item: dict[str, Any], place: str, ecosystem: str | None, target: str | None
    ) -> Package:
        """Map the vulnerable package (see the module docstring for OS package names)."""
        listed = (self._string(item, "packageManager", place) or "").partition(":")[0]
        package_type = purl_type(listed or ecosystem)
        name = self._string(item, "name", place) or required_at(
            item, "packageName", self.source, place
        )
        if package_type in _OS_TYPES:
            name = name.split("/", 1)[-1]
        return Package(
            name=name,
            version=self._string(item, "version", place),
            type=package_type,
            path=target,
        )

    def _vulnerability(
        self, item: dict[str, Any], place: str, ecosystem: str | None, target: str | None
    ) -> Vulnerability:
        own_id = required_at(item, "id", self.source, place)
        ids_place = at(place, "identifiers")
        identifiers = mapping(item.get("identifiers"), self.source, ids_place)
        cves = string_list(identifiers.get("CVE"), self.source, at(ids_place, "CVE"))
        others = [
            alias
            for scheme, values in identifiers.items()
            if scheme != "CVE" and scheme not in _NOT_ALIASES
            for alias in string_list(values, self.source, at(ids_place, scheme))
        ]
        alternatives = string_list(
            item.get("alternativeIds"), self.source, at(place, "alternativeIds")
        )
        canonical = cves[0] if cves else own_id
        listed_fixes = string_list(item.get("fixedIn"), self.source, at(place, "fixedIn"))
        fixed = list(dict.fromkeys(listed_fixes))
        status: FixStatus = "fixed" if fixed else "unknown"
        if not fixed and item.get("fixedIn") is not None:
            status = "affected"
        rated = severity(item.get("severityWithCritical") or item.get("severity"))
        score = number(item.get("cvssScore"), self.source, at(place, "cvssScore"))
        vector = self._string(item, "CVSSv3", place)
        cvss = None
        if score is not None or vector is not None:
            cvss = Cvss(score=score, vector=vector, version=cvss_version(vector, None), source=TOOL)
        return Vulnerability(
            id=canonical,
            aliases=[a for a in unique([own_id, *cves, *others, *alternatives]) if a != canonical],
            severity=rated,
            cvss=cvss,
            package=self._package(item, place, ecosystem, target),
            fixed_versions=fixed,
            fix_available=bool(fixed),
            status=status,
            title=self._string(item, "title", place),
            description=self._string(item, "description", place),
            urls=self._urls(item, place),
            published=rfc3339(self._string(item, "publicationTime", place)),
            sources=[FindingSource(tool=TOOL, input=self.source.path, severity=rated)],
        )

    def _urls(self, item: dict[str, Any], place: str) -> list[str]:
        """Return the ``url`` of every ``references`` entry, without repeats."""
        refs_place = at(place, "references")
        urls: list[str | None] = []
        for index, raw in enumerate(array(item.get("references"), self.source, refs_place)):
            here = at(refs_place, index)
            urls.append(self._string(mapping(raw, self.source, here), "url", here))
        return unique(urls)

    def _license(
        self, item: dict[str, Any], place: str, ecosystem: str | None, target: str | None
    ) -> None:
        rated = severity(item.get("severityWithCritical") or item.get("severity"))
        name = (
            self._string(item, "license", place)
            or self._string(item, "title", place)
            or required_at(item, "id", self.source, place)
        )
        package = self._package(item, place, ecosystem, target)
        self.licenses.setdefault(
            (name, package.name, target),
            License(
                name=name,
                severity=rated,
                package=package,
                target=target,
                sources=[FindingSource(tool=TOOL, input=self.source.path, severity=rated)],
            ),
        )


class SnykSource:
    """Snyk CLI JSON: one project result or the ``--all-projects`` array of them."""

    format: ClassVar[str] = "snyk-json"
    expected_shape: ClassVar[str] = (
        'a "vulnerabilities" array and "packageManager", "projectName" or "ok" (or an array '
        "of such projects)"
    )

    def matches(self, data: Any) -> bool:
        """Return True for a project result, or a non-empty array of only project results."""
        if isinstance(data, list):
            return bool(data) and all(_is_project(item) for item in data)
        return _is_project(data)

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Normalise every project (and container application) into one fragment.

        Raises :class:`~gate.errors.SourceError` for container results naming different
        images, or a malformed value, naming the file and the JSON path.
        """
        if isinstance(data, list):
            projects = [(raw, at("", index)) for index, raw in enumerate(data)]
        else:
            projects = [(data, "")]
        if not projects:
            raise fail(source, "", "no Snyk project results")
        listings = _Listings(source)
        containers: list[_Container] = []
        for raw, place in projects:
            if not isinstance(raw, dict):
                raise fail(source, place, f"expected a project result object, got {kind(raw)}")
            listings.read(raw, place)
            apps_place = at(place, "applications")
            app_paths: list[str | None] = []
            for index, app in enumerate(array(raw.get("applications"), source, apps_place)):
                here = at(apps_place, index)
                if not isinstance(app, dict):
                    raise fail(source, here, f"expected an application object, got {kind(app)}")
                listings.read(app, here)
                app_paths.append(text_at(app, "path", source, here))
            name = text_at(raw, "projectName", source, place) or ""
            if "docker" in raw or name.startswith(_DOCKER_PROJECT):
                containers.append(_container(raw, app_paths, source, place))

        first, first_place = projects[0]
        kinds: set[ScanKind] = (
            {"vulnerability", "license"} if listings.licenses else {"vulnerability"}
        )
        fragment = Fragment(
            format=self.format,
            tool=TOOL,
            artifact_name=text_at(first, "path", source, first_place)
            or text_at(first, "projectName", source, first_place),
            artifact_type=FILESYSTEM,
            kinds=sorted(kinds),
        )
        if containers:
            _describe_image(fragment, containers, source)
        fragment.vulnerabilities = merge_vulnerabilities(listings.vulnerabilities)
        fragment.licenses = list(listings.licenses.values())
        return fragment


def _container(
    project: dict[str, Any], app_paths: list[str | None], source: InputFile, place: str
) -> _Container:
    """Read the image a container result names (see the module docstring)."""
    docker_place = at(place, "docker")
    docker = mapping(project.get("docker"), source, docker_place)
    name = text_at(project, "projectName", source, place) or ""
    candidates = [
        text_at(docker, "image", source, docker_place),
        text_at(project, "path", source, place),
        *app_paths,
        name.removeprefix(_DOCKER_PROJECT) if name.startswith(_DOCKER_PROJECT) else None,
    ]
    reference = first_reference([c for c in candidates if c])
    advice_place = at(docker_place, "baseImageRemediation")
    advice = mapping(docker.get("baseImageRemediation"), source, advice_place)
    outdated = advice.get("baseImageOutdated")
    if not isinstance(outdated, bool):
        code = text_at(advice, "code", source, advice_place)
        outdated = True if code == "OUTDATED_BASE_IMAGE" else None
    list_place = at(advice_place, "advice")
    messages = []
    for index, item in enumerate(array(advice.get("advice"), source, list_place)):
        item_place = at(list_place, index)
        messages.append(text_at(mapping(item, source, item_place), "message", source, item_place))
    return _Container(
        reference=reference,
        subject=parse_reference(reference) if reference else Subject(),
        base=text_at(docker, "baseImage", source, docker_place),
        platform=text_at(project, "platform", source, place),
        base_outdated=outdated,
        base_remediation="\n".join(m for m in messages if m) or None,
    )


def _describe_image(fragment: Fragment, containers: list[_Container], source: InputFile) -> None:
    """Fill the subject hints and image facts of container results, refusing mixed images."""
    images = {
        (c.subject.registry, c.subject.repository, c.subject.tag, c.subject.digest): c
        for c in containers
    }
    if len(images) > 1:
        named = ", ".join(c.reference or "an unnamed image" for c in images.values())
        error = fail(source, "", f"the results describe {len(images)} different images: {named}")
        error.hint = _HINT
        raise error
    container = containers[0]
    # 'linux/arm64/v8' → os, architecture, variant; missing parts stay unset.
    os_name, architecture, variant = [*(container.platform or "").split("/", 2), "", ""][:3]
    fragment.artifact_name = container.reference or fragment.artifact_name
    fragment.artifact_type = CONTAINER_IMAGE
    fragment.subject = container.subject
    fragment.image = nonempty(
        Image(
            os=os_name or None,
            architecture=architecture or None,
            variant=variant or None,
            base=BaseImage(
                name=container.base,
                source="snyk",
                outdated=container.base_outdated,
                remediation=container.base_remediation,
            )
            if container.base
            else None,
        )
    )
