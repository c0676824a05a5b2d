"""Grype JSON reports (``grype -o json``), from 0.7 to the vulnerability-db v6 era.

Canonical id: a finding is filed under its CVE. When Grype matched a GHSA or other record
of one vulnerability, its related CVE becomes the id and the record's id an alias; with no
related CVE the matched id stays the id. A match that names several CVEs (an Amazon
``ALAS`` advisory relating each CVE it fixes) is one finding per CVE, and a vendor
advisory id is recorded in ``advisories``, never an alias
(:func:`gate.identifiers.split_listing`, applied by ``merge_vulnerabilities``).

De-duplication rule: Grype reports one match per matcher and per matched record, so one
vulnerability in one package can appear several times (the same CVE found by two
matchers, by a GHSA and by its CVE, or at several locations). Within one report, matches
with the same (canonical id, package URL type, package name, package version) become ONE
vulnerability, by the rule that merges scanners (:func:`gate.merge.merge_vulnerabilities`):
aliases, URLs and fixed versions are unioned in first-seen order, the highest severity and
the preferred CVSS rating (:func:`gate.merge.cvss_rank`) win, a known fix status replaces
``unknown`` (and ``fixed`` replaces ``affected``), and the first match's package
(including its path) is kept.

Reports older than about 0.10 spell a few fields differently (``links`` for ``urls``,
``cvssV2``/``cvssV3`` objects for ``cvss``, ``fixedInVersion`` for ``fix``); both
spellings are read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from gate.document import (
    Cvss,
    Epss,
    FixStatus,
    Image,
    Package,
    Severity,
    Vulnerability,
)
from gate.inputs import InputFile
from gate.merge import cvss_rank, merge_vulnerabilities
from gate.sources.base import (
    Attributions,
    Fragment,
    fail,
    purl_type,
    rfc3339,
    severity,
    shared_package,
    text,
)
from gate.sources.cvss import cvss_rating, cvss_version
from gate.sources.image_config import (
    base_image,
    descriptor_layers,
    digest,
    first_reference,
    repo_digest,
    stereoscope_reference,
    string_map,
    subject,
    unique,
)
from gate.sources.shape import (
    Place,
    array,
    array_at,
    at,
    cwe_ids_at,
    fraction,
    integer,
    kind,
    mapping,
    mapping_at,
    number_at,
    objects_at,
    optional_string,
    string_list,
    string_list_at,
    text_at,
)

_FIX_STATES: dict[str, FixStatus] = {
    "fixed": "fixed",
    "not-fixed": "affected",
    "wont-fix": "will_not_fix",
    "unknown": "unknown",
    "": "unknown",
}

_ARTIFACT_TYPES = {"image": "container_image", "directory": "filesystem", "file": "filesystem"}


# CVSS records name their rater by address; the document names NVD 'nvd' like Trivy does.
_RATERS = {"nvd@nist.gov": "nvd"}


@dataclass
class _Finding:
    """One match, while its CVSS ratings (own and related) are weighed."""

    id: str
    package: Package
    severity: Severity
    severity_source: str | None
    status: FixStatus
    description: str | None
    cvss: Cvss | None = None
    aliases: dict[str, None] = field(default_factory=dict)
    advisories: list[str] = field(default_factory=list)
    fixed_versions: dict[str, None] = field(default_factory=dict)
    urls: dict[str, None] = field(default_factory=dict)
    epss: Epss | None = None
    known_exploited: bool = False
    cwes: dict[str, None] = field(default_factory=dict)

    def offer(self, cvss: Cvss) -> None:
        """Keep ``cvss`` when it ranks above the current rating (the first wins ties)."""
        if cvss_rank(cvss) > cvss_rank(self.cvss):
            self.cvss = cvss

    def vulnerability(self, attribution: Attributions) -> Vulnerability:
        """Return the merged finding as a document vulnerability."""
        return Vulnerability(
            id=self.id,
            aliases=list(self.aliases),
            advisories=self.advisories,
            severity=self.severity,
            cvss=self.cvss,
            package=self.package,
            fixed_versions=list(self.fixed_versions),
            fix_available=bool(self.fixed_versions),
            status=self.status,
            description=self.description,
            urls=list(self.urls),
            epss=self.epss,
            known_exploited=self.known_exploited,
            cwes=list(self.cwes),
            sources=[attribution(self.severity, self.severity_source)],
        )


class GrypeSource:
    """Grype's native JSON report."""

    format: ClassVar[str] = "grype-json"
    expected_shape: ClassVar[str] = 'a "matches" array and a "descriptor" or "source" key'

    def matches(self, data: Any) -> bool:
        """Grype reports are objects with a ``matches`` array and a descriptor or source."""
        return (
            isinstance(data, dict)
            and isinstance(data.get("matches"), list)
            and ("descriptor" in data or "source" in data)
        )

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Map the report's scan facts, image metadata and (merged) matches."""
        report = mapping(data, source, "")
        descriptor = mapping(report.get("descriptor"), source, "descriptor")
        origin = mapping(report.get("source"), source, "source")
        origin_type = text_at(origin, "type", source, "source")
        target = origin.get("target")
        fragment = Fragment(
            format=self.format,
            tool="grype",
            tool_version=text_at(descriptor, "version", source, "descriptor"),
            created=rfc3339(descriptor.get("timestamp")),
            artifact_type=_ARTIFACT_TYPES.get(origin_type or "", origin_type),
            database=_database(descriptor, source),
            kinds=["vulnerability"],
        )
        if origin_type == "image":
            _describe_image(fragment, mapping(target, source, "source.target"), report, source)
        elif isinstance(target, str):
            fragment.artifact_name = text(target)
        elif isinstance(target, dict):
            fragment.artifact_name = text(target.get("userInput")) or text(target.get("path"))
        fragment.vulnerabilities = _vulnerabilities(report, source)
        return fragment


def _database(descriptor: dict[str, Any], source: InputFile) -> dict[str, str]:
    """Collect the vulnerability database facts (db v6 nests them under ``status``)."""
    db = mapping(descriptor.get("db"), source, "descriptor.db")
    status = mapping(db.get("status"), source, "descriptor.db.status")
    built = db.get("built") or status.get("built")
    facts = {
        "built": rfc3339(built) or _fact(built),
        "schema_version": _fact(db.get("schemaVersion") or status.get("schemaVersion")),
        "checksum": _fact(db.get("checksum")),
    }
    return {name: value for name, value in facts.items() if value}


def _fact(value: Any) -> str | None:
    """Render a scalar database fact as text; anything else is not a fact."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return text(value)


def _describe_image(
    fragment: Fragment, target: dict[str, Any], report: dict[str, Any], source: InputFile
) -> None:
    """Fill the subject hints and image metadata of an image scan."""
    place = "source.target"

    def string(name: str) -> str | None:
        return text_at(target, name, source, place)

    user_input = string("userInput")
    tags = string_list(target.get("tags"), source, at(place, "tags"))
    repo_digests = string_list(target.get("repoDigests"), source, at(place, "repoDigests"))
    image_id = digest(string("imageID"))
    manifest_digest = digest(string("manifestDigest"))
    pinned = [repo_digest(entry) for entry in repo_digests]
    fragment.artifact_name = user_input
    fragment.artifact_digests = unique([image_id, manifest_digest, *pinned])
    fragment.subject = subject(
        _reference(user_input, tags),
        digest=manifest_digest or next((pin for pin in pinned if pin), None),
        image_id=image_id,
    )

    raw_labels = target.get("labels")
    # Grype has written labels as an object; any other shape carries nothing usable.
    labels = (
        string_map(raw_labels, source, at(place, "labels")) if isinstance(raw_labels, dict) else {}
    )
    distro = mapping(report.get("distro"), source, "distro")
    family = text_at(distro, "name", source, "distro")
    fragment.image = Image(
        os_family=family.lower() if family else None,
        os_version=text_at(distro, "version", source, "distro"),
        layers=descriptor_layers(target.get("layers"), source, at(place, "layers")),
        size=integer(target.get("imageSize"), source, at(place, "imageSize")) or None,
        labels=labels,
        base=base_image(labels),
        architecture=string("architecture"),
        os=string("os"),
    )
    fragment.authority = 1


def _reference(user_input: str | None, tags: list[str]) -> str | None:
    """Pick the image reference: the user's input when it is one, else the first tag."""
    reference = stereoscope_reference(user_input)
    return first_reference([reference, *tags] if reference else tags)


def _vulnerabilities(report: dict[str, Any], source: InputFile) -> list[Vulnerability]:
    """Map and merge the matches (see the module docstring for the rule)."""
    attribution = Attributions("grype", source)
    listed: list[Vulnerability] = []
    for index, raw in enumerate(array(report.get("matches"), source, "matches")):
        place = ("matches", index)
        if not isinstance(raw, dict):
            raise fail(source, at("matches", index), f"expected a match object, got {kind(raw)}")
        listed.append(_finding(raw, source, place).vulnerability(attribution))
    return merge_vulnerabilities(listed)


def _add_exploitation(
    finding: _Finding, vuln: dict[str, Any], source: InputFile, place: Place
) -> None:
    """EPSS, CISA KEV and CWEs of one vulnerability record (Grype ≥ 0.88, database v6):
    ``epss: [{cve, epss, percentile, date}]``, ``knownExploited: [{cve, …}]``,
    ``cwes: [{cve, cwe, …}]``. The finding's own id's EPSS is preferred."""
    for entry, here in objects_at(vuln, "epss", source, place):
        score = fraction(entry.get("epss"), source, (here, "epss"))
        if score is None:
            continue
        about = text_at(entry, "cve", source, here)
        if finding.epss is None or about == finding.id:
            finding.epss = Epss(
                score=score,
                percentile=fraction(entry.get("percentile"), source, (here, "percentile")),
                date=text_at(entry, "date", source, here),
            )
    if array_at(vuln, "knownExploited", source, place):
        finding.known_exploited = True
    finding.cwes.update(dict.fromkeys(cwe_ids_at(vuln, "cwes", source, place)))


def _finding(match: dict[str, Any], source: InputFile, place: Place) -> _Finding:
    """Map one match on its own."""
    vuln_place = (place, "vulnerability")
    vuln = mapping_at(match, "vulnerability", source, place)
    own_id = text_at(vuln, "id", source, vuln_place)
    if own_id is None:
        raise fail(source, at(vuln_place, "id"), "missing vulnerability id")
    related = list(objects_at(match, "relatedVulnerabilities", source, place))
    ids = unique([own_id, *(text_at(item, "id", source, here) for item, here in related)])
    canonical = own_id
    if not own_id.startswith("CVE-"):
        canonical = next((i for i in ids if i.startswith("CVE-")), own_id)

    namespace = text_at(vuln, "namespace", source, vuln_place)
    fix_place = (vuln_place, "fix")
    fix = mapping_at(vuln, "fix", source, vuln_place)
    fixed = string_list_at(fix, "versions", source, fix_place)
    legacy_fix = text_at(vuln, "fixedInVersion", source, vuln_place)
    if legacy_fix:
        fixed.append(legacy_fix)
    state = optional_string(fix.get("state"), source, (fix_place, "state"))
    if state is not None:
        status = _FIX_STATES.get(state.strip().lower(), "unknown")
    else:
        status = "fixed" if legacy_fix else "unknown"

    description = text(vuln.get("description")) or next(
        (d for d in (text(item.get("description")) for item, _ in related) if d), None
    )
    finding = _Finding(
        id=canonical,
        package=_package(match, source, place),
        severity=severity(vuln.get("severity")),
        severity_source=_namespace_rater(namespace),
        status=status,
        description=description,
        aliases=dict.fromkeys(i for i in ids if i != canonical),
        advisories=_advisories(vuln, source, vuln_place),
        fixed_versions=dict.fromkeys(fixed),
    )
    finding.urls = dict.fromkeys(
        unique(
            [
                text(vuln.get("dataSource")),
                *string_list_at(vuln, "urls", source, vuln_place),
                *string_list_at(vuln, "links", source, vuln_place),
            ]
        )
    )
    _add_ratings(finding, vuln, source, vuln_place)
    _add_exploitation(finding, vuln, source, vuln_place)
    for item, here in related:
        _add_ratings(finding, item, source, here)
        _add_exploitation(finding, item, source, here)
        finding.urls.update(dict.fromkeys(_related_urls(item, source, here)))
    return finding


def _advisories(vuln: dict[str, Any], source: InputFile, place: Place) -> list[str]:
    """The ids of ``vulnerability.advisories`` (RHSA errata and the like, each covering many
    CVEs): recorded on the finding, never aliases."""
    return unique(
        [
            text_at(item, "id", source, here)
            for item, here in objects_at(vuln, "advisories", source, place)
        ]
    )


def _related_urls(record: dict[str, Any], source: InputFile, place: Place) -> list[str]:
    """Return a related record's data source and references."""
    return unique(
        [
            text(record.get("dataSource")),
            *string_list_at(record, "urls", source, place),
        ]
    )


def _package(match: dict[str, Any], source: InputFile, place: Place) -> Package:
    """Map the matched artifact; the first location is its path."""
    art_place = (place, "artifact")
    artifact = mapping_at(match, "artifact", source, place)
    name = text_at(artifact, "name", source, art_place)
    if name is None:
        raise fail(source, at(art_place, "name"), "missing package name")
    purl = text_at(artifact, "purl", source, art_place)
    path = None
    for location, here in objects_at(artifact, "locations", source, art_place):
        path = path or text_at(location, "path", source, here)
    return shared_package(
        name,
        text_at(artifact, "version", source, art_place),
        purl_type(text_at(artifact, "type", source, art_place), purl),
        purl,
        path,
    )


def _add_ratings(
    finding: _Finding, record: dict[str, Any], source: InputFile, place: Place
) -> None:
    """Offer every CVSS rating of one vulnerability record to ``finding``."""
    namespace = text(record.get("namespace"))
    for rating, here in objects_at(record, "cvss", source, place):
        metrics = mapping_at(rating, "metrics", source, here)
        _offer(finding, rating, metrics, (here, "metrics"), namespace, None, source)
    # Grype before ~0.10: one object per CVSS generation, scores inline, no rater named.
    for legacy, default_version in (("cvssV3", "3.0"), ("cvssV2", "2.0")):
        rating = mapping_at(record, legacy, source, place)
        if rating:
            _offer(finding, rating, rating, (place, legacy), None, default_version, source)


def _offer(
    finding: _Finding,
    rating: dict[str, Any],
    scores: dict[str, Any],
    scores_place: Place,
    namespace: str | None,
    default_version: str | None,
    source: InputFile,
) -> None:
    """Read one CVSS rating and offer it to ``finding``."""
    score = number_at(scores, "baseScore", source, scores_place)
    vector = text(rating.get("vector"))
    if score is None and vector is None:
        return
    version = text(rating.get("version")) or cvss_version(vector, default_version)
    named = text(rating.get("source"))
    rater = _RATERS.get(named.lower(), named) if named else _namespace_rater(namespace)
    finding.offer(cvss_rating(score, vector, version, rater))


def _namespace_rater(namespace: str | None) -> str | None:
    """Name the feed behind a Grype namespace: ``debian:distro:debian:12`` → ``debian``."""
    return namespace.split(":", 1)[0].lower() if namespace else None
