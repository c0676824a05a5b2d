"""Trivy JSON reports (``trivy image --format json``) as a document fragment.

Three generations of Trivy's JSON are read:

* ``SchemaVersion`` 2 (Trivy 0.20 and later): an object with ``Results``, ``Metadata``
  (the image's OS, IDs, tags, digests and OCI config) and, from about 0.50, ``Trivy.Version``.
* Legacy reports (before 0.20): a top-level list of results, each with ``Target``,
  ``Type`` and ``Vulnerabilities``.
* The literal ``null``, which legacy Trivy wrote for an image with nothing to report.

Kubernetes cluster reports (``trivy k8s``: ``ClusterName`` with ``Resources`` or summary
lists) are recognised only so that they can be refused with a clear error: they describe
many workloads, not the one image being gated.

**Within-report de-duplication.** Trivy repeats a vulnerability once for every place a
package occurs: each copy of a jar (``PkgPath``) and each result (target) it appears in.
Gate keeps one :class:`~gate.document.Vulnerability` per
``(VulnerabilityID, package URL type, PkgName, InstalledVersion)`` in one report. Repeats are
merged: aliases, URLs and fixed versions are united in first-seen order, the highest
severity wins, missing details are filled from later repeats, and the first ``PkgPath``
is kept. The merge is keyed by a dict, so parsing stays linear in the number of findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from gate.document import (
    BaseImage,
    Cvss,
    FindingSource,
    FixStatus,
    Healthcheck,
    Image,
    Layer,
    License,
    Misconfiguration,
    Package,
    ScanKind,
    Secret,
    Severity,
    Subject,
    Vulnerability,
    severity_rank,
)
from gate.reference import parse_reference
from gate.sources.base import (
    Fragment,
    InputFile,
    fail,
    purl_type,
    rfc3339,
    severity,
    strings,
    text,
)

TOOL = "trivy"
CONTAINER_IMAGE = "container_image"

# Trivy's Status values (pkg/types/vulnerability.go). ``under_investigation`` means the
# vendor has not decided yet, so the package is treated as affected until it does.
# ``not_affected`` has no place on gate's fix scale (Trivy itself normally filters such
# entries out); it is kept as a finding with an unknown fix state rather than dropped,
# because a gate must not lose a finding a scanner chose to report.
_STATUSES: dict[str, FixStatus] = {
    "fixed": "fixed",
    "affected": "affected",
    "will_not_fix": "will_not_fix",
    "fix_deferred": "fix_deferred",
    "end_of_life": "end_of_life",
    "under_investigation": "affected",
    "not_affected": "unknown",
    "unknown": "unknown",
}

# Field names in one entry of Trivy's ``CVSS`` map, newest CVSS version first, with the
# version to assume when the vector does not say (CVSS v2 vectors carry no prefix).
_CVSS_FIELDS = (
    ("V40Score", "V40Vector", "4.0"),
    ("V3Score", "V3Vector", "3.0"),
    ("V2Score", "V2Vector", "2.0"),
)

_VULNERABILITY_CLASSES = frozenset({"os-pkgs", "lang-pkgs"})
_LICENSE_CLASSES = frozenset({"license", "license-file"})

# ``trivy image --input <archive>`` names the artifact after the archive path, which
# parse_reference would otherwise read as a Docker Hub repository.
_ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".tar.zst", ".tar.bz2")

_CONFIG = "Metadata.ImageConfig.config"
_JSON_TYPES: dict[type, str] = {
    bool: "a boolean",
    str: "a string",
    int: "a number",
    float: "a number",
    list: "a list",
    dict: "an object",
}

_K8S_MESSAGE = "Trivy Kubernetes cluster report is not an image scan"
_K8S_HINT = (
    "gate judges one image: scan it with 'trivy image --format json <image>' "
    "and pass that report instead"
)


class TrivySource:
    """Reads Trivy JSON reports: SchemaVersion 2, legacy result lists and ``null``."""

    format: ClassVar[str] = "trivy-json"

    def matches(self, data: Any) -> bool:
        """Return True when ``data`` is shaped like a Trivy JSON report.

        ``null`` is accepted because legacy Trivy wrote it for a clean image; an empty
        list is not, since many tools write one. Kubernetes cluster reports are accepted
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

        Raises :class:`SourceError`, naming the file and the JSON path, when the report
        is a Kubernetes cluster report, has an unsupported ``SchemaVersion``, or has a
        value of the wrong type or a required field missing where gate needs it.
        """
        if data is None:
            return Fragment(format=self.format, tool=TOOL, kinds=["vulnerability"])
        if isinstance(data, list):
            findings = _Findings(source)
            findings.read_results(data, "")
            return findings.fragment(
                Fragment(format=self.format, tool=TOOL, kinds=["vulnerability"])
            )
        if not isinstance(data, dict):
            raise fail(source, "", "a Trivy report must be a JSON object, a list or null")
        if "ClusterName" in data:
            error = fail(source, "ClusterName", _K8S_MESSAGE)
            error.hint = _K8S_HINT
            raise error
        return _parse_v2(data, source, self.format)


def _parse_v2(report: dict[str, Any], source: InputFile, format_key: str) -> Fragment:
    """Parse a ``SchemaVersion`` 2 report object."""
    version = report.get("SchemaVersion")
    if version != 2 or isinstance(version, bool):
        raise fail(
            source, "SchemaVersion", f"unsupported Trivy SchemaVersion {version!r}; gate reads 2"
        )
    results = _list(report.get("Results"), source, "Results")
    metadata = _obj(report.get("Metadata"), source, "Metadata")
    trivy = _obj(report.get("Trivy"), source, "Trivy")
    artifact_type = text(report.get("ArtifactType"))

    findings = _Findings(source)
    findings.read_results(results, "Results")
    image = _image(metadata, source)
    fragment = Fragment(
        format=format_key,
        tool=TOOL,
        tool_version=text(trivy.get("Version")),
        created=rfc3339(report.get("CreatedAt")),
        artifact_name=text(report.get("ArtifactName")),
        artifact_type=artifact_type,
        artifact_digests=_artifact_digests(metadata, source),
        kinds=_kinds(results, artifact_type),
        subject=_subject(report, metadata, source),
        image=image,
        authority=1 if image is not None else 0,
    )
    return findings.fragment(fragment)


def _kinds(results: list[Any], artifact_type: str | None) -> list[ScanKind]:
    """Return what the scan covered, judged from the results Trivy wrote.

    Trivy omits a finding list when it is empty, so a result's ``Class`` is the evidence
    that a scanner ran (an ``os-pkgs`` result is written even when it has no
    vulnerabilities). ``read_results`` has already checked the shapes walked here.
    """
    kinds: set[ScanKind] = set()
    for result in results:
        kind = result.get("Class")
        if kind in _VULNERABILITY_CLASSES or result.get("Vulnerabilities"):
            kinds.add("vulnerability")
        if kind == "secret" or result.get("Secrets"):
            kinds.add("secret")
        if kind == "config" or result.get("Misconfigurations"):
            kinds.add("misconfiguration")
        if kind in _LICENSE_CLASSES or result.get("Licenses"):
            kinds.add("license")
    if not results and artifact_type == CONTAINER_IMAGE:
        # An image scan with no results at all (e.g. no detectable OS and no packages)
        # still ran Trivy's default scanners, vuln and secret. Only "vulnerability" is
        # claimed: a secret scan leaves no trace when it finds nothing, and claiming
        # coverage we cannot see would let a "secrets must be scanned" policy pass wrongly.
        kinds.add("vulnerability")
    return sorted(kinds)


@dataclass
class _Entry:
    """One vulnerability being merged from its repeats in a report."""

    id: str
    aliases: dict[str, None]
    severity: Severity
    severity_source: str | None
    cvss: Cvss | None
    package: Package
    fixed_versions: dict[str, None]
    status: FixStatus
    title: str | None
    description: str | None
    urls: dict[str, None]
    published: str | None

    def merge(self, other: _Entry) -> None:
        """Fold a repeat of the same vulnerability into this entry."""
        self.aliases.update(other.aliases)
        self.fixed_versions.update(other.fixed_versions)
        self.urls.update(other.urls)
        if severity_rank(other.severity) > severity_rank(self.severity):
            self.severity, self.severity_source = other.severity, other.severity_source
        if self.status == "unknown":
            self.status = other.status
        self.cvss = self.cvss or other.cvss
        self.title = self.title or other.title
        self.description = self.description or other.description
        self.published = self.published or other.published

    def vulnerability(self, source: InputFile) -> Vulnerability:
        """Return the merged entry as a document vulnerability."""
        return Vulnerability(
            id=self.id,
            aliases=list(self.aliases),
            severity=self.severity,
            cvss=self.cvss,
            package=self.package,
            fixed_versions=list(self.fixed_versions),
            fix_available=bool(self.fixed_versions),
            status=self.status,
            title=self.title,
            description=self.description,
            urls=list(self.urls),
            published=self.published,
            sources=[_finding_source(source, self.severity, self.severity_source)],
        )


@dataclass
class _Findings:
    """Collects the findings of every result in one report."""

    source: InputFile
    vulnerabilities: dict[tuple[str, str | None, str, str | None], _Entry] = field(
        default_factory=dict
    )
    secrets: list[Secret] = field(default_factory=list)
    misconfigurations: list[Misconfiguration] = field(default_factory=list)
    licenses: list[License] = field(default_factory=list)

    def read_results(self, results: list[Any], place: str) -> None:
        """Read every result of ``results``, found at JSON path ``place``."""
        for index, result in enumerate(results):
            at = f"{place}[{index}]"
            if not isinstance(result, dict):
                raise fail(self.source, at, "a Trivy result must be an object")
            target = text(result.get("Target"))
            ecosystem = text(result.get("Type"))
            for j, item in enumerate(self._items(result, "Vulnerabilities", at)):
                self._vulnerability(item, f"{at}.Vulnerabilities[{j}]", ecosystem)
            for j, item in enumerate(self._items(result, "Secrets", at)):
                self.secrets.append(self._secret(item, f"{at}.Secrets[{j}]", target))
            for j, item in enumerate(self._items(result, "Misconfigurations", at)):
                self._misconfiguration(item, f"{at}.Misconfigurations[{j}]", target, ecosystem)
            for j, item in enumerate(self._items(result, "Licenses", at)):
                self.licenses.append(self._license(item, f"{at}.Licenses[{j}]", target))

    def fragment(self, fragment: Fragment) -> Fragment:
        """Return ``fragment`` with the collected findings added."""
        fragment.vulnerabilities = [
            entry.vulnerability(self.source) for entry in self.vulnerabilities.values()
        ]
        fragment.secrets = self.secrets
        fragment.misconfigurations = self.misconfigurations
        fragment.licenses = self.licenses
        return fragment

    def _items(self, result: dict[str, Any], key: str, at: str) -> list[dict[str, Any]]:
        """Return the finding objects under ``result[key]``; null or absent means none."""
        items = _list(result.get(key), self.source, f"{at}.{key}")
        for j, item in enumerate(items):
            if not isinstance(item, dict):
                raise fail(self.source, f"{at}.{key}[{j}]", "a finding must be an object")
        return items

    def _vulnerability(self, item: dict[str, Any], at: str, ecosystem: str | None) -> None:
        vuln_id = _required(item, "VulnerabilityID", self.source, at)
        name = _required(item, "PkgName", self.source, at)
        version = text(item.get("InstalledVersion"))
        identifier = _obj(item.get("PkgIdentifier"), self.source, f"{at}.PkgIdentifier")
        purl = text(identifier.get("PURL"))
        kind = purl_type(ecosystem, purl)
        fixed = dict.fromkeys(
            part.strip() for part in (text(item.get("FixedVersion")) or "").split(",")
        )
        fixed.pop("", None)
        status = _STATUSES.get((text(item.get("Status")) or "").lower())
        if status is None:
            # Trivy before 0.34 wrote no Status; a listed fixed version then means a fix
            # was released, which is what "fixed" means in gate as in Trivy.
            status = "fixed" if fixed else "unknown"
        rated = severity(item.get("Severity"))
        rated_by = text(item.get("SeveritySource"))
        entry = _Entry(
            id=vuln_id,
            aliases=dict.fromkeys(
                alias
                for alias in strings(_list(item.get("VendorIDs"), self.source, f"{at}.VendorIDs"))
                if alias != vuln_id
            ),
            severity=rated,
            severity_source=rated_by,
            cvss=_cvss(item, rated_by, self.source, at),
            package=Package(
                name=name, version=version, type=kind, purl=purl, path=text(item.get("PkgPath"))
            ),
            fixed_versions=fixed,
            status=status,
            title=text(item.get("Title")),
            description=text(item.get("Description")),
            urls=dict.fromkeys(_urls(item, self.source, at)),
            published=rfc3339(item.get("PublishedDate")),
        )
        key = (vuln_id, kind, name, version)
        known = self.vulnerabilities.get(key)
        if known is None:
            self.vulnerabilities[key] = entry
        else:
            known.merge(entry)

    def _secret(self, item: dict[str, Any], at: str, target: str | None) -> Secret:
        rated = severity(item.get("Severity"))
        layer = _obj(item.get("Layer"), self.source, f"{at}.Layer")
        return Secret(
            rule_id=_required(item, "RuleID", self.source, at),
            category=text(item.get("Category")),
            severity=rated,
            title=text(item.get("Title")),
            target=target,
            start_line=_int(item.get("StartLine")),
            end_line=_int(item.get("EndLine")),
            match=text(item.get("Match")),
            layer=text(layer.get("DiffID")) or text(layer.get("Digest")),
            sources=[_finding_source(self.source, rated)],
        )

    def _misconfiguration(
        self, item: dict[str, Any], at: str, target: str | None, ecosystem: str | None
    ) -> None:
        if item.get("Status") != "FAIL":
            return
        # Trivy 0.72 dropped AVDID and writes the AVD-style id (e.g. AWS-0086) as ID.
        avd_id = text(item.get("AVDID"))
        check_id = text(item.get("ID")) or avd_id
        if check_id is None:
            raise fail(self.source, f"{at}.ID", "a misconfiguration must have an ID")
        cause = _obj(item.get("CauseMetadata"), self.source, f"{at}.CauseMetadata")
        config_type = ecosystem or text(item.get("Type"))
        rated = severity(item.get("Severity"))
        self.misconfigurations.append(
            Misconfiguration(
                id=check_id,
                aliases=[avd_id] if avd_id and avd_id != check_id else [],
                type=config_type.lower() if config_type else None,
                title=text(item.get("Title")),
                description=text(item.get("Description")),
                message=text(item.get("Message")),
                severity=rated,
                resolution=text(item.get("Resolution")),
                target=target,
                start_line=_int(cause.get("StartLine")),
                urls=_urls(item, self.source, at),
                sources=[_finding_source(self.source, rated)],
            )
        )

    def _license(self, item: dict[str, Any], at: str, target: str | None) -> License:
        rated = severity(item.get("Severity"))
        return License(
            name=_required(item, "Name", self.source, at),
            severity=rated,
            category=text(item.get("Category")),
            package=text(item.get("PkgName")),
            target=text(item.get("FilePath")) or target,
            confidence=_number(item.get("Confidence")),
            sources=[_finding_source(self.source, rated)],
        )


def _cvss(item: dict[str, Any], preferred: str | None, source: InputFile, at: str) -> Cvss | None:
    """Pick one CVSS rating: the severity source's, then NVD's, then any; newest version."""
    ratings = _obj(item.get("CVSS"), source, f"{at}.CVSS")
    for key in dict.fromkeys([k for k in (preferred, "nvd") if k in ratings] + list(ratings)):
        entry = _obj(ratings[key], source, f"{at}.CVSS.{key}")
        for score_field, vector_field, default_version in _CVSS_FIELDS:
            score = _number(entry.get(score_field))
            vector = text(entry.get(vector_field))
            if score is None and vector is None:
                continue
            version = default_version
            if vector and vector.startswith("CVSS:"):
                version = vector[5:].split("/", 1)[0]
            return Cvss(
                score=score,
                vector=vector,
                version=version,
                source=key,
            )
    return None


def _urls(item: dict[str, Any], source: InputFile, at: str) -> list[str]:
    """Return ``PrimaryURL`` then ``References``, without repeats, in order."""
    primary = text(item.get("PrimaryURL"))
    references = strings(_list(item.get("References"), source, f"{at}.References"))
    return list(dict.fromkeys(([primary] if primary else []) + references))


def _subject(report: dict[str, Any], metadata: dict[str, Any], source: InputFile) -> Subject:
    """Return the subject hints: reference, manifest digest and image ID."""
    hint = Subject()
    name = text(report.get("ArtifactName"))
    if report.get("ArtifactType") == CONTAINER_IMAGE and name and not _is_path(name):
        hint = parse_reference(name)
    if hint.repository is None:
        for tag in strings(_list(metadata.get("RepoTags"), source, "Metadata.RepoTags")):
            parsed = parse_reference(tag)
            if parsed.repository is not None:
                hint = parsed
                break
    if hint.repository is None:
        hint = Subject()
    digest = hint.digest
    if digest is None:
        digest = _repo_digest(
            strings(_list(metadata.get("RepoDigests"), source, "Metadata.RepoDigests")),
            hint.repository,
        )
    return hint.model_copy(update={"digest": digest, "image_id": text(metadata.get("ImageID"))})


def _repo_digest(repo_digests: list[str], repository: str | None) -> str | None:
    """Return the digest of the repo digest for ``repository``, else of the first one."""
    first = None
    for entry in repo_digests:
        name, _, digest = entry.partition("@")
        if not digest:
            continue
        if repository is not None and parse_reference(name).repository == repository:
            return digest
        first = first or digest
    return first


def _is_path(name: str) -> bool:
    """Return True when an artifact name is a file path rather than an image reference."""
    return (
        name.startswith(("/", "./", "../", "~"))
        or "\\" in name
        or name.lower().endswith(_ARCHIVE_SUFFIXES)
    )


def _artifact_digests(metadata: dict[str, Any], source: InputFile) -> list[str]:
    """Return the image ID and the digest part of every repo digest, without repeats."""
    digests = [text(metadata.get("ImageID"))]
    for entry in strings(_list(metadata.get("RepoDigests"), source, "Metadata.RepoDigests")):
        digests.append(text(entry.partition("@")[2]))
    return [digest for digest in dict.fromkeys(digests) if digest]


def _image(metadata: dict[str, Any], source: InputFile) -> Image | None:
    """Return the image facts in ``Metadata``, or None when it holds nothing image-like.

    Filesystem and Kubernetes scans carry a zero-valued ``ImageConfig`` (empty strings,
    Go's zero time), which yields an empty :class:`Image` and so None.
    """
    config_file = _obj(metadata.get("ImageConfig"), source, "Metadata.ImageConfig")
    config = _obj(config_file.get("config"), source, _CONFIG)
    rootfs = _obj(config_file.get("rootfs"), source, "Metadata.ImageConfig.rootfs")
    os_info = _obj(metadata.get("OS"), source, "Metadata.OS")
    raw_labels = _obj(config.get("Labels"), source, f"{_CONFIG}.Labels")
    labels = {key: value for key, value in raw_labels.items() if isinstance(value, str)}
    layers = strings(
        _list(rootfs.get("diff_ids"), source, "Metadata.ImageConfig.rootfs.diff_ids")
    ) or strings(_list(metadata.get("DiffIDs"), source, "Metadata.DiffIDs"))
    family = text(os_info.get("Family"))
    base_name = text(labels.get("org.opencontainers.image.base.name"))
    base_digest = text(labels.get("org.opencontainers.image.base.digest"))
    image = Image(
        created=rfc3339(config_file.get("created")),
        user=text(config.get("User")),
        env=_env(_list(config.get("Env"), source, f"{_CONFIG}.Env")),
        labels=labels,
        exposed_ports=sorted(_obj(config.get("ExposedPorts"), source, f"{_CONFIG}.ExposedPorts")),
        entrypoint=_argv(config.get("Entrypoint"), source, f"{_CONFIG}.Entrypoint"),
        cmd=_argv(config.get("Cmd"), source, f"{_CONFIG}.Cmd"),
        workdir=text(config.get("WorkingDir")),
        healthcheck=_healthcheck(config.get("Healthcheck"), source),
        os=text(config_file.get("os")),
        architecture=text(config_file.get("architecture")),
        variant=text(config_file.get("variant")),
        size=_int(metadata.get("Size")),
        layers=[Layer(digest=digest) for digest in layers],
        base=BaseImage(name=base_name, digest=base_digest) if base_name or base_digest else None,
        os_family=family.lower() if family else None,
        os_version=text(os_info.get("Name")),
    )
    return None if image == Image() else image


def _env(entries: list[Any]) -> dict[str, str]:
    """Turn ``["K=V", …]`` into a dict; a bare ``K`` (no ``=``) gets the empty string."""
    env: dict[str, str] = {}
    for entry in strings(entries):
        name, _, value = entry.partition("=")
        env[name] = value
    return env


def _argv(value: Any, source: InputFile, place: str) -> list[str] | None:
    """Return an ENTRYPOINT/CMD list as given (empty strings kept), or None when unset."""
    if value is None:
        return None
    return [part for part in _list(value, source, place) if isinstance(part, str)]


def _healthcheck(value: Any, source: InputFile) -> Healthcheck | None:
    """Return the HEALTHCHECK, rendering Go's nanosecond durations as Go writes them."""
    check = _obj(value, source, f"{_CONFIG}.Healthcheck")
    if not check:
        return None
    return Healthcheck(
        test=_argv(check.get("Test"), source, f"{_CONFIG}.Healthcheck.Test") or [],
        interval=_duration(check.get("Interval")),
        timeout=_duration(check.get("Timeout")),
        retries=_int(check.get("Retries")),
    )


def _duration(value: Any) -> str | None:
    """Return a duration: text as given, an integer as nanoseconds in Go's notation."""
    if isinstance(value, str):
        return text(value)
    nanoseconds = _int(value)
    return _go_duration(nanoseconds) if nanoseconds is not None else None


def _go_duration(nanoseconds: int) -> str:
    """Format nanoseconds the way Go's ``time.Duration.String`` does (``1m30s``, ``500ms``)."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    rest = abs(nanoseconds)
    if rest < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if rest >= size:
                return f"{sign}{_decimal(rest, size)}{unit}"
    hours, rest = divmod(rest, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = f"{_decimal(rest, 1_000_000_000)}s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return f"{sign}{seconds}"


def _decimal(value: int, unit: int) -> str:
    """Return ``value / unit`` exactly, without trailing zeros (``1500, 1000`` → ``1.5``)."""
    whole, fraction = divmod(value, unit)
    if not fraction:
        return str(whole)
    digits = str(fraction).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def _finding_source(
    source: InputFile, rated: Severity, severity_source: str | None = None
) -> FindingSource:
    """Return Trivy's attribution of a finding read from ``source``."""
    return FindingSource(
        tool=TOOL, input=source.path, severity=rated, severity_source=severity_source
    )


def _obj(value: Any, source: InputFile, place: str) -> dict[str, Any]:
    """Return a JSON object; null or absent is empty. Raises SourceError for another type."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail(source, place, f"must be an object, not {_json_type(value)}")
    return value


def _list(value: Any, source: InputFile, place: str) -> list[Any]:
    """Return a JSON list; null or absent is empty. Raises SourceError for another type."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail(source, place, f"must be a list, not {_json_type(value)}")
    return value


def _required(item: dict[str, Any], key: str, source: InputFile, at: str) -> str:
    """Return the non-empty string ``item[key]``. Raises SourceError when it is not one."""
    value = text(item.get(key))
    if value is None:
        raise fail(source, f"{at}.{key}", f"{key} must be a non-empty string")
    return value


def _int(value: Any) -> int | None:
    """Return an integer JSON value, else None (booleans are not numbers here)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    """Return a JSON number as a float, else None (booleans are not numbers here)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _json_type(value: Any) -> str:
    """Name a parsed JSON value's type the way JSON does, for error messages."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


__all__ = ["TrivySource"]
