"""trivy-operator ``VulnerabilityReport`` custom resources as a document fragment.

trivy-operator runs Trivy inside a Kubernetes cluster and stores one report per workload
container as a custom resource (``aquasecurity.github.io/v1alpha1``). Read:

* a single ``VulnerabilityReport`` (also ``ClusterVulnerabilityReport`` and
  ``ImageVulnerabilityReport``, which have the same ``report``), as ``kubectl get vuln
  <name> -o json`` prints it;
* a list of them (``kind`` ``List`` or ``…ReportList`` with ``items``), as ``kubectl get
  vulns -o json`` prints it. Several workloads often run the same image, so the items are
  merged when they all describe ONE image; items naming different images are refused
  with a clear error, since gate judges one image.

Mapping: ``report.registry.server`` + ``report.artifact.repository`` + ``tag`` /
``digest`` make the image reference (parsed with :func:`gate.reference.parse_reference`,
so ``index.docker.io`` becomes ``docker.io``); ``report.os.family`` / ``name`` become
``image.os_family`` / ``os_version``; ``report.updateTimestamp`` (else
``metadata.creationTimestamp``) is the scan time; the tool is ``trivy`` at
``report.scanner.version``; ``metadata`` labels (namespace, workload, container) name the
workload, not the image, and are not recorded. Each ``vulnerabilities[]`` entry maps
``vulnerabilityID`` → id, ``resource`` → package name, ``installedVersion`` → version,
``fixedVersion`` (comma separated) → fixed versions (status ``fixed`` when there is one,
else ``unknown``: the resource carries no fix status), ``title``, ``description``,
``primaryLink`` then ``links`` → urls, ``publishedDate`` → published, ``packagePURL`` →
purl and ``packagePath`` → path. CVSS: the ``cvss`` map (Trivy's per-source ratings,
``cvsssource`` first, then NVD, newest CVSS version first) when present, else the bare
``score``, which trivy-operator takes from a CVSS v3 rating (recorded as version 3.0, the
convention Trivy itself uses for a v3 rating whose vector does not say).

Severity: Trivy's words (``CRITICAL`` … ``LOW``, ``UNKNOWN``) map one to one.

Package type: the CR does not always say whether a package came from the OS or from a
language ecosystem. The type is taken from, in order: the ``packagePURL``; the
``packageType`` (Trivy's result type, e.g. ``alpine``, ``gobinary``, ``jar``); the image's
OS family (``alpine`` → ``apk``) when ``class`` is ``os-pkgs``. Reports from older
trivy-operator releases have none of these fields, and their ``target`` is empty, so OS
packages cannot be told from language packages: the type is then left unset rather than
guessed, since calling a Go module an ``apk`` would be wrong in a way no policy can see.
The path of a ``lang-pkgs`` finding without ``packagePath`` is its ``target`` (the file).

De-duplication rule: listings with the same (id, package URL type, package name,
installed version), within one report or across the merged items of a list, become ONE
vulnerability by :func:`gate.merge.merge_vulnerabilities` (the rule that merges
scanners): aliases, URLs and fixed versions are unioned, the highest severity wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from gate.document import Cvss, FindingSource, Image, Package, Subject, Vulnerability
from gate.inputs import InputFile
from gate.merge import merge_vulnerabilities
from gate.sources.base import Fragment, fail, purl_type, rfc3339, severity
from gate.sources.cvss import vendor_cvss
from gate.sources.image_config import digest, nonempty, repo_digest, subject, unique
from gate.sources.shape import array, at, kind, mapping, number, required_at, string_list, text_at

# trivy-operator runs Trivy: the findings, scan facts and fixed-version lists are Trivy's.
from gate.sources.trivy import CONTAINER_IMAGE, TOOL, fixed_versions

_API_GROUP = "aquasecurity.github.io/"
_REPORT_KINDS = frozenset(
    {"VulnerabilityReport", "ClusterVulnerabilityReport", "ImageVulnerabilityReport"}
)
_LIST_KINDS = frozenset(
    {
        "List",
        "VulnerabilityReportList",
        "ClusterVulnerabilityReportList",
        "ImageVulnerabilityReportList",
    }
)
_LANGUAGE_CLASS = "lang-pkgs"
_OS_CLASS = "os-pkgs"
_HINT = (
    "gate judges one image: pass the VulnerabilityReport of that image "
    "('kubectl get vuln <name> -o json')"
)


def _is_report(data: Any) -> bool:
    """Return True for one vulnerability report custom resource."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("kind"), str)
        and data["kind"] in _REPORT_KINDS
        and isinstance(data.get("apiVersion"), str)
        and data["apiVersion"].startswith(_API_GROUP)
    )


@dataclass
class _Report:
    """What one custom resource says, before the items of a list are merged."""

    subject: Subject
    reference: str | None
    digest: str | None
    image: Image | None
    tool_version: str | None
    created: str | None
    vulnerabilities: list[Vulnerability] = field(default_factory=list)

    @property
    def identity(self) -> tuple[str | None, ...]:
        """The image this report is about, as the items of a list are compared."""
        named = self.subject
        if named.repository is None:  # not a reference gate can parse: compare it as written
            return (named.reference,)
        return (named.registry, named.repository, named.tag, named.digest)


class TrivyOperatorSource:
    """trivy-operator's ``VulnerabilityReport`` custom resource, alone or in a list."""

    format: ClassVar[str] = "trivy-operator"
    expected_shape: ClassVar[str] = (
        'a trivy-operator VulnerabilityReport "kind" and "apiVersion", or a list of them'
    )

    def matches(self, data: Any) -> bool:
        """Return True for a vulnerability report resource or a list of them.

        A typed list (``VulnerabilityReportList``) is recognised even when empty so that
        :meth:`parse` can say why it cannot be used; a generic ``List`` only when every
        item is a vulnerability report.
        """
        if _is_report(data):
            return True
        kind = data.get("kind") if isinstance(data, dict) else None
        if not isinstance(kind, str) or kind not in _LIST_KINDS:  # a list kind is unhashable
            return False
        items = data.get("items")
        if not isinstance(items, list):
            return False
        if data["kind"] != "List":
            return True
        return bool(items) and all(_is_report(item) for item in items)

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Normalise one report, or the merged items of a list about one image.

        Raises :class:`~gate.errors.SourceError` for an empty list, a list item of another
        kind, items about different images, or a malformed value.
        """
        resource = mapping(data, source, "")
        if _is_report(resource):
            reports = [_read_report(resource, source, "")]
        else:
            reports = _read_items(resource, source)
        first = reports[0]
        fragment = Fragment(
            format=self.format,
            tool=TOOL,
            tool_version=first.tool_version,
            created=first.created,
            artifact_name=first.reference,
            artifact_type=CONTAINER_IMAGE,
            artifact_digests=unique([report.digest for report in reports]),
            kinds=["vulnerability"],
            subject=first.subject,
            image=next((report.image for report in reports if report.image), None),
        )
        fragment.vulnerabilities = merge_vulnerabilities(
            vuln for report in reports for vuln in report.vulnerabilities
        )
        return fragment


def _read_items(resource: dict[str, Any], source: InputFile) -> list[_Report]:
    """Read every item of a list, refusing items of other kinds or about other images."""
    items = array(resource.get("items"), source, "items")
    if not items:
        raise fail(source, "items", "the list holds no VulnerabilityReport")
    reports: list[_Report] = []
    images: dict[tuple[str | None, ...], str] = {}
    for index, item in enumerate(items):
        here = at("items", index)
        if not _is_report(item):
            found = repr(item.get("kind")) if isinstance(item, dict) else kind(item)
            raise fail(source, here, f"expected a VulnerabilityReport, got {found}")
        report = _read_report(item, source, here)
        images.setdefault(report.identity, report.reference or "an unnamed image")
        reports.append(report)
    if len(images) > 1:
        error = fail(
            source,
            "items",
            f"the reports describe {len(images)} different images: {', '.join(images.values())}",
        )
        error.hint = _HINT
        raise error
    return reports


def _read_report(resource: dict[str, Any], source: InputFile, place: str) -> _Report:
    """Map one custom resource (found at JSON path ``place``)."""
    report_place = at(place, "report")
    report = mapping(resource.get("report"), source, report_place)
    if not report:
        raise fail(source, report_place, "missing report")
    metadata_place = at(place, "metadata")
    metadata = mapping(resource.get("metadata"), source, metadata_place)

    def part(name: str) -> tuple[dict[str, Any], str]:
        here = at(report_place, name)
        return mapping(report.get(name), source, here), here

    artifact, artifact_place = part("artifact")
    registry, registry_place = part("registry")
    scanner, scanner_place = part("scanner")
    os_info, os_place = part("os")

    raw_digest = text_at(artifact, "digest", source, artifact_place)
    # Some releases fill the digest from the pod's imageID, which can be 'name@sha256:…'.
    pinned = digest(raw_digest) or repo_digest(raw_digest)
    reference = _reference(
        text_at(registry, "server", source, registry_place),
        text_at(artifact, "repository", source, artifact_place),
        text_at(artifact, "tag", source, artifact_place),
        pinned,
    )
    family = text_at(os_info, "family", source, os_place)
    os_family = family.lower() if family else None
    created = text_at(report, "updateTimestamp", source, report_place) or text_at(
        metadata, "creationTimestamp", source, metadata_place
    )
    read = _Report(
        subject=subject(reference, digest=pinned, image_id=None),
        reference=reference,
        digest=pinned,
        image=nonempty(
            Image(os_family=os_family, os_version=text_at(os_info, "name", source, os_place))
        ),
        tool_version=text_at(scanner, "version", source, scanner_place),
        created=rfc3339(created),
    )
    list_place = at(report_place, "vulnerabilities")
    os_type = purl_type(os_family)
    for index, raw in enumerate(array(report.get("vulnerabilities"), source, list_place)):
        here = at(list_place, index)
        if not isinstance(raw, dict):
            raise fail(source, here, f"expected a vulnerability object, got {kind(raw)}")
        read.vulnerabilities.append(_vulnerability(raw, os_type, source, here))
    return read


def _reference(
    server: str | None, repository: str | None, tag: str | None, pinned: str | None
) -> str | None:
    """Build the image reference the report's artifact names, or None without a repository."""
    if repository is None:
        return None
    reference = f"{server}/{repository}" if server else repository
    if tag:
        reference += f":{tag}"
    if pinned:
        reference += f"@{pinned}"
    return reference


def _vulnerability(
    item: dict[str, Any], os_type: str | None, source: InputFile, place: str
) -> Vulnerability:
    """Map one ``vulnerabilities[]`` entry."""

    def string(name: str) -> str | None:
        return text_at(item, name, source, place)

    vuln_id = required_at(item, "vulnerabilityID", source, place)
    name = required_at(item, "resource", source, place)
    purl = string("packagePURL")
    listed_class = string("class")
    package_type = purl_type(string("packageType"), purl)
    if package_type is None and listed_class == _OS_CLASS:
        package_type = os_type
    path = string("packagePath")
    if path is None and listed_class == _LANGUAGE_CLASS:
        path = string("target")

    rater = string("cvsssource")
    cvss_place = at(place, "cvss")
    cvss = vendor_cvss(mapping(item.get("cvss"), source, cvss_place), rater, source, cvss_place)
    score = number(item.get("score"), source, at(place, "score"))
    if cvss is None and score is not None:
        cvss = Cvss(score=score, version="3.0")

    fixed = fixed_versions(string("fixedVersion"))
    rated = severity(item.get("severity"))
    links = string_list(item.get("links"), source, at(place, "links"))
    return Vulnerability(
        id=vuln_id,
        severity=rated,
        cvss=cvss,
        package=Package(
            name=name,
            version=string("installedVersion"),
            type=package_type,
            purl=purl,
            path=path,
        ),
        fixed_versions=fixed,
        fix_available=bool(fixed),
        status="fixed" if fixed else "unknown",
        title=string("title"),
        description=string("description"),
        urls=unique([string("primaryLink"), *links]),
        published=rfc3339(string("publishedDate")),
        sources=[FindingSource(tool=TOOL, input=source.path, severity=rated)],
    )
