"""Trivy JSON reports (``trivy image --format json``) as a document fragment.

Three generations of Trivy's JSON are read:

* ``SchemaVersion`` 2 (Trivy 0.20 and later): an object with ``Results``, ``Metadata``
  (the image's OS, IDs, tags, digests and OCI config) and, in recent releases,
  ``Trivy.Version``.
* Legacy reports (before 0.20): a top-level array of results, each with ``Target``,
  ``Type`` and ``Vulnerabilities``.
* The literal ``null``, which legacy Trivy wrote for an image with nothing to report.

Kubernetes cluster reports (``trivy k8s``: ``ClusterName`` with ``Resources`` or summary
lists) are recognised only so that they can be refused with a clear error: they describe
many workloads, not the one image being gated.

Canonical id: ``VulnerabilityID`` as Trivy gives it (Trivy files a finding under its CVE
whenever one exists). ``VendorIDs`` that name the same vulnerability (GHSA) become
aliases; vendor advisories (DSA, DLA, RHSA, USN, ALAS…), each covering many CVEs, go to
``advisories`` and never join findings (:func:`gate.identifiers.split_listing`).

De-duplication rule: Trivy repeats a vulnerability once for every place a package occurs,
i.e. each copy of a jar (``PkgPath``) and each result (target) it appears in. Within one
report, listings with the same (``VulnerabilityID``, package URL type, package name,
``InstalledVersion``) become ONE vulnerability, by the same rule that merges scanners
(:func:`gate.merge.merge_vulnerabilities`): aliases, URLs and fixed versions are unioned in
first-seen order, the highest severity wins, a known fix status replaces ``unknown``,
missing details are filled from later listings, and the first listing's package
(including its ``PkgPath``) is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar

from gate.document import (
    FixStatus,
    Image,
    Layer,
    License,
    Misconfiguration,
    ScanKind,
    Secret,
    Subject,
    Vulnerability,
)
from gate.identifiers import set_apart
from gate.inputs import InputFile
from gate.merge import merge_vulnerabilities
from gate.reference import parse_reference
from gate.sources.base import (
    Attributions,
    Fragment,
    fail,
    licensed_package,
    purl_type,
    rfc3339,
    severity,
    shared_package,
)
from gate.sources.cvss import vendor_cvss
from gate.sources.image_config import (
    first_reference,
    image_from_config,
    image_id,
    nonempty,
    repo_digest,
    subject,
    unique,
)
from gate.sources.shape import (
    Place,
    array,
    at,
    cwe_ids_at,
    integer,
    kind,
    mapping,
    mapping_at,
    number,
    required_at,
    string_list,
    string_list_at,
    text_at,
)

TOOL = "trivy"
CONTAINER_IMAGE = "container_image"

UNIDENTIFIED = "UNIDENTIFIED"
"""Id of a listing that names a vulnerable package but no vulnerability."""

STATUSES: dict[str, FixStatus] = {
    "fixed": "fixed",
    "affected": "affected",
    "will_not_fix": "will_not_fix",
    "fix_deferred": "fix_deferred",
    "end_of_life": "end_of_life",
    "under_investigation": "affected",
    "not_affected": "not_affected",
    "unknown": "unknown",
}
"""Trivy's ``Status`` words (pkg/types/vulnerability.go) as fix statuses; Harbor relays them.

``under_investigation`` means the vendor has not decided yet, so the package counts as
affected until it does. ``not_affected`` (the vendor says so) is kept as is, rather than the
finding dropped: a gate must not lose a finding a scanner chose to report; policies decide
what it means.
"""

_VULNERABILITY_CLASSES = frozenset({"os-pkgs", "lang-pkgs"})
_LICENSE_CLASSES = frozenset({"license", "license-file"})

# ``trivy image --input <archive>`` names the artifact after the archive path, which
# parse_reference would otherwise read as a Docker Hub repository.
_ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".tar.zst", ".tar.bz2")

_K8S_MESSAGE = "Trivy Kubernetes cluster report is not an image scan"
_K8S_HINT = (
    "gate judges one image: scan it with 'trivy image --format json <image>' "
    "and pass that report instead"
)


def fixed_versions(value: str | None) -> list[str]:
    """Split Trivy's comma-separated fixed versions, without blanks or repeats."""
    return list(_fixed_versions(value))


# A report repeats one package's fixed versions for each of its CVEs.
@lru_cache(maxsize=4096)
def _fixed_versions(value: str | None) -> tuple[str, ...]:
    return tuple(unique([part.strip() for part in (value or "").split(",")]))


class TrivySource:
    """Trivy's JSON report: SchemaVersion 2, legacy result arrays and ``null``."""

    format: ClassVar[str] = "trivy-json"
    expected_shape: ClassVar[str] = (
        '"SchemaVersion" and "Results", "ArtifactName" or "ArtifactType" (and no "kind" or '
        '"matches")'
    )

    def matches(self, data: Any) -> bool:
        """Return True when ``data`` is shaped like a Trivy JSON report.

        ``null`` is accepted because legacy Trivy wrote it for a clean image; an empty
        array is not, since many tools write one. Kubernetes cluster reports are accepted
        so that :meth:`parse` can refuse them with a clear message, while the
        trivy-operator ``VulnerabilityReport`` custom resource (it has ``kind``) is not.
        """
        if data is None:
            return True
        if isinstance(data, list):
            return bool(data) and all(isinstance(item, dict) and "Target" in item for item in data)
        if not isinstance(data, dict) or "kind" in data or "matches" in data:
            return False
        if "ClusterName" in data:
            return any(key in data for key in ("Resources", "Vulnerabilities", "Misconfigurations"))
        return "SchemaVersion" in data and any(
            key in data for key in ("Results", "ArtifactName", "ArtifactType")
        )

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Normalise a Trivy report read from ``source`` into a :class:`Fragment`.

        Raises :class:`~gate.errors.SourceError`, naming the file and the JSON path, for a
        Kubernetes cluster report, an unsupported ``SchemaVersion``, a value of the wrong
        type, or a missing id or package name.
        """
        if data is None:
            return Fragment(format=self.format, tool=TOOL, kinds=["vulnerability"])
        if isinstance(data, list):
            findings = _Findings(source)
            findings.read_results(data, "")
            return findings.into(Fragment(format=self.format, tool=TOOL, kinds=["vulnerability"]))
        report = mapping(data, source, "")
        if "ClusterName" in report:
            error = fail(source, "ClusterName", _K8S_MESSAGE)
            error.hint = _K8S_HINT
            raise error
        version = report.get("SchemaVersion")
        if version != 2 or isinstance(version, bool):
            raise fail(
                source,
                "SchemaVersion",
                f"unsupported Trivy SchemaVersion {version!r}; gate reads 2",
            )
        return _parse_v2(report, source, self.format)


def _parse_v2(report: dict[str, Any], source: InputFile, format_key: str) -> Fragment:
    """Map a ``SchemaVersion`` 2 report object."""
    results = array(report.get("Results"), source, "Results")
    metadata = mapping(report.get("Metadata"), source, "Metadata")
    trivy = mapping(report.get("Trivy"), source, "Trivy")
    artifact_name = text_at(report, "ArtifactName", source, "")
    artifact_type = text_at(report, "ArtifactType", source, "")
    findings = _Findings(source)
    findings.read_results(results, "Results")

    own_id = image_id(text_at(metadata, "ImageID", source, "Metadata"))
    pinned = string_list(metadata.get("RepoDigests"), source, "Metadata.RepoDigests")
    image = _image(metadata, source)
    fragment = Fragment(
        format=format_key,
        tool=TOOL,
        tool_version=text_at(trivy, "Version", source, "Trivy"),
        created=rfc3339(text_at(report, "CreatedAt", source, "")),
        artifact_name=artifact_name,
        artifact_type=artifact_type,
        artifact_digests=unique([own_id, *(repo_digest(entry) for entry in pinned)]),
        # A real image config (user known, "" being root) is image metadata, as inspect is.
        kinds=sorted(
            {*_kinds(findings, results, artifact_type)}
            | ({"metadata"} if image is not None and image.user is not None else set())
        ),
        subject=_subject(artifact_name, artifact_type, metadata, pinned, own_id, source),
        image=image,
        authority=1 if image is not None else 0,
    )
    return findings.into(fragment)


def _kinds(findings: _Findings, results: list[Any], artifact_type: str | None) -> list[ScanKind]:
    """Return what the scan covered: what its results show, plus the default for images."""
    kinds = set(findings.kinds)
    if not results and artifact_type == CONTAINER_IMAGE:
        # An image scan with no results at all (no detectable OS, no packages) still ran
        # Trivy's default scanners, vuln and secret. Only "vulnerability" is claimed: a
        # secret scan leaves no trace when it finds nothing, and claiming coverage we
        # cannot see would let a "secrets must be scanned" policy pass on a guess.
        kinds.add("vulnerability")
    return sorted(kinds)


def _subject(
    artifact_name: str | None,
    artifact_type: str | None,
    metadata: dict[str, Any],
    pinned: list[str],
    own_id: str | None,
    source: InputFile,
) -> Subject:
    """Return the subject hints: reference, manifest digest and image ID."""
    candidates = string_list(metadata.get("RepoTags"), source, "Metadata.RepoTags")
    if artifact_type == CONTAINER_IMAGE and artifact_name and not _is_path(artifact_name):
        candidates.insert(0, artifact_name)
    reference = first_reference(candidates)
    repository = parse_reference(reference).repository if reference else None
    # RepoDigests can name several repositories; the reference's own is the subject's.
    by_repository: dict[str | None, str] = {}
    for entry in pinned:
        found = repo_digest(entry)
        if found:
            by_repository.setdefault(parse_reference(entry.rpartition("@")[0]).repository, found)
    digest = (by_repository.get(repository) if repository else None) or next(
        iter(by_repository.values()), None
    )
    return subject(reference, digest=digest, image_id=own_id)


def _is_path(name: str) -> bool:
    """Return True when an artifact name is a file path rather than an image reference."""
    return (
        name.startswith(("/", "./", "../", "~"))
        or "\\" in name
        or name.lower().endswith(_ARCHIVE_SUFFIXES)
    )


def _image(metadata: dict[str, Any], source: InputFile) -> Image | None:
    """Return the image facts in ``Metadata``, or None when it holds nothing image-like.

    Filesystem and Kubernetes scans carry a zero-valued ``ImageConfig`` (empty strings,
    Go's zero time), which maps to an empty :class:`Image` and so to None.
    """
    place = "Metadata.ImageConfig"
    image = image_from_config(
        mapping(metadata.get("ImageConfig"), source, place), source=source, place=place
    )
    os_info = mapping(metadata.get("OS"), source, "Metadata.OS")
    family = text_at(os_info, "Family", source, "Metadata.OS")
    layers = image.layers or [
        Layer(digest=diff_id)
        for diff_id in string_list(metadata.get("DiffIDs"), source, "Metadata.DiffIDs")
    ]
    return nonempty(
        image.model_copy(
            update={
                "os_family": family.lower() if family else None,
                "os_version": text_at(os_info, "Name", source, "Metadata.OS"),
                # Trivy's Size is the uncompressed size, as docker inspect's is.
                "size": integer(metadata.get("Size"), source, "Metadata.Size") or None,
                "layers": layers,
            }
        )
    )


@dataclass
class _Findings:
    """Collects the findings of every result of one report."""

    source: InputFile
    vulnerabilities: list[Vulnerability] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    misconfigurations: list[Misconfiguration] = field(default_factory=list)
    licenses: list[License] = field(default_factory=list)
    kinds: set[ScanKind] = field(default_factory=set)
    """Scanners the results show ran (see :meth:`read_results`)."""
    attribution: Attributions = field(init=False)

    def __post_init__(self) -> None:
        self.attribution = Attributions(TOOL, self.source)

    def read_results(self, results: list[Any], place: Place) -> None:
        """Read every result of ``results``, found at JSON path ``place``.

        Trivy omits a finding list when it is empty, so a result's ``Class`` is the
        evidence that a scanner ran (an ``os-pkgs`` result is written even when it lists no
        vulnerabilities); a finding list shows it too, for results without a class.
        """
        for index, raw in enumerate(results):
            here = (place, index)
            if not isinstance(raw, dict):
                raise fail(
                    self.source, at(place, index), f"expected a result object, got {kind(raw)}"
                )
            target = text_at(raw, "Target", self.source, here)
            ecosystem = text_at(raw, "Type", self.source, here)
            result_class = text_at(raw, "Class", self.source, here)
            vulnerabilities = self._items(raw, "Vulnerabilities", here)
            secrets = self._items(raw, "Secrets", here)
            misconfigurations = self._items(raw, "Misconfigurations", here)
            licenses = self._items(raw, "Licenses", here)
            for item, spot in vulnerabilities:
                self._vulnerability(item, spot, ecosystem)
            for item, spot in secrets:
                self.secrets.append(self._secret(item, spot, target))
            for item, spot in misconfigurations:
                self._misconfiguration(item, spot, target, ecosystem)
            for item, spot in licenses:
                self.licenses.append(self._license(item, spot, target))
            if result_class in _VULNERABILITY_CLASSES or vulnerabilities:
                self.kinds.add("vulnerability")
            if result_class == "secret" or secrets:
                self.kinds.add("secret")
            if result_class == "config" or misconfigurations:
                self.kinds.add("misconfiguration")
            if result_class in _LICENSE_CLASSES or licenses:
                self.kinds.add("license")

    def into(self, fragment: Fragment) -> Fragment:
        """Return ``fragment`` with the collected findings added."""
        fragment.vulnerabilities = merge_vulnerabilities(self.vulnerabilities)
        fragment.secrets = self.secrets
        fragment.misconfigurations = self.misconfigurations
        fragment.licenses = self.licenses
        return fragment

    def _items(
        self, result: dict[str, Any], key: str, place: Place
    ) -> list[tuple[dict[str, Any], Place]]:
        """Return the finding objects under ``result[key]`` with their places."""
        list_place = (place, key)
        items: list[tuple[dict[str, Any], Place]] = []
        for index, raw in enumerate(array(result.get(key), self.source, list_place)):
            if not isinstance(raw, dict):
                raise fail(
                    self.source,
                    at(list_place, index),
                    f"expected a finding object, got {kind(raw)}",
                )
            items.append((raw, (list_place, index)))
        return items

    def _vulnerability(self, item: dict[str, Any], place: Place, ecosystem: str | None) -> None:
        source = self.source
        # NOTE: old Trivy wrote stub listings with only a PkgName (seen in real legacy output).
        # A listing we cannot name is still evidence about the package: keep it, never drop it.
        vuln_id = text_at(item, "VulnerabilityID", source, place) or UNIDENTIFIED
        name = required_at(item, "PkgName", source, place)
        version = text_at(item, "InstalledVersion", source, place)
        identifier = mapping_at(item, "PkgIdentifier", source, place)
        purl = text_at(identifier, "PURL", source, (place, "PkgIdentifier"))
        fixed = fixed_versions(text_at(item, "FixedVersion", source, place))
        status = STATUSES.get((text_at(item, "Status", source, place) or "").lower())
        if status is None:
            # Trivy before 0.34 wrote no Status; a listed fixed version then means a fix has
            # been released, which is what "fixed" means in gate as in Trivy.
            status = "fixed" if fixed else "unknown"
        rated_by = text_at(item, "SeveritySource", source, place)
        vendor_ids = string_list_at(item, "VendorIDs", source, place)
        aliases, advisories = set_apart(vuln_id, vendor_ids)
        rated = severity(item.get("Severity"))
        ratings = mapping_at(item, "CVSS", source, place)
        self.vulnerabilities.append(
            Vulnerability(
                id=vuln_id,
                aliases=aliases,
                advisories=advisories,
                severity=rated,
                cvss=vendor_cvss(ratings, rated_by, source, (place, "CVSS")),
                package=shared_package(
                    name,
                    version,
                    purl_type(ecosystem, purl),
                    purl,
                    text_at(item, "PkgPath", source, place),
                ),
                fixed_versions=fixed,
                fix_available=bool(fixed),
                status=status,
                title=text_at(item, "Title", source, place),
                description=text_at(item, "Description", source, place),
                urls=_urls(item, source, place),
                published=rfc3339(text_at(item, "PublishedDate", source, place)),
                cwes=cwe_ids_at(item, "CweIDs", source, place),
                sources=[self.attribution(rated, rated_by)],
            )
        )

    def _secret(self, item: dict[str, Any], place: Place, target: str | None) -> Secret:
        source = self.source
        rated = severity(item.get("Severity"))
        layer = mapping_at(item, "Layer", source, place)
        layer_place = (place, "Layer")
        return Secret(
            id=required_at(item, "RuleID", source, place),
            category=text_at(item, "Category", source, place),
            severity=rated,
            title=text_at(item, "Title", source, place),
            target=target,
            start_line=integer(item.get("StartLine"), source, (place, "StartLine")),
            end_line=integer(item.get("EndLine"), source, (place, "EndLine")),
            match=text_at(item, "Match", source, place),
            layer=text_at(layer, "DiffID", source, layer_place)
            or text_at(layer, "Digest", source, layer_place),
            sources=[self.attribution(rated)],
        )

    def _misconfiguration(
        self, item: dict[str, Any], place: Place, target: str | None, ecosystem: str | None
    ) -> None:
        source = self.source
        if text_at(item, "Status", source, place) != "FAIL":
            return
        # Trivy 0.72 dropped AVDID and writes the AVD-style id (e.g. AWS-0086) as ID.
        avd_id = text_at(item, "AVDID", source, place)
        check_id = text_at(item, "ID", source, place) or avd_id
        if check_id is None:
            raise fail(source, at(place, "ID"), "missing ID")
        cause = mapping_at(item, "CauseMetadata", source, place)
        config_type = ecosystem or text_at(item, "Type", source, place)
        rated = severity(item.get("Severity"))
        self.misconfigurations.append(
            Misconfiguration(
                id=check_id,
                aliases=[avd_id] if avd_id and avd_id != check_id else [],
                type=config_type.lower() if config_type else None,
                title=text_at(item, "Title", source, place),
                description=text_at(item, "Description", source, place),
                message=text_at(item, "Message", source, place),
                severity=rated,
                resolution=text_at(item, "Resolution", source, place),
                target=target,
                start_line=integer(
                    cause.get("StartLine"), source, ((place, "CauseMetadata"), "StartLine")
                ),
                urls=_urls(item, source, place),
                sources=[self.attribution(rated)],
            )
        )

    def _license(self, item: dict[str, Any], place: Place, target: str | None) -> License:
        source = self.source
        rated = severity(item.get("Severity"))
        return License(
            name=required_at(item, "Name", source, place),
            severity=rated,
            category=text_at(item, "Category", source, place),
            package=licensed_package(text_at(item, "PkgName", source, place)),
            target=text_at(item, "FilePath", source, place) or target,
            confidence=number(item.get("Confidence"), source, (place, "Confidence")),
            sources=[self.attribution(rated)],
        )


def _urls(item: dict[str, Any], source: InputFile, place: Place) -> list[str]:
    """Return ``PrimaryURL`` then ``References``, without repeats, in order."""
    references = string_list_at(item, "References", source, place)
    return unique([text_at(item, "PrimaryURL", source, place), *references])
