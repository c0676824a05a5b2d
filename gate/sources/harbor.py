"""Harbor vulnerability reports as a document fragment.

Harbor's API (``…/artifacts/<ref>/additions/vulnerabilities``) returns an object keyed by
the report's MIME type, ``application/vnd.security.vulnerability.report; version=1.1``
(older scanner adapters: ``application/vnd.scanner.adapter.vuln.report.harbor+json;
version=1.0``), holding the report the scanner adapter wrote. Both that wrapper (with
exactly one report in it) and the bare report (``generated_at`` + ``scanner`` +
``vulnerabilities``) are read.

Scan facts: the tool is the adapter's scanner name in lower case (``Trivy`` → ``trivy``:
the findings are that scanner's, Harbor only relays them), its version is
``scanner.version`` without a leading ``v`` (``v0.44.0`` → ``0.44.0``, as the scanner
itself reports it), ``generated_at`` is the scan time. A report that names no scanner is
attributed to ``harbor``. The report's ``artifact.digest`` (or, failing that, the one
digest every finding's ``artifact_digests`` names) is the subject's manifest digest. No
image reference is derived: ``artifact.repository`` is relative to the Harbor host, which
the report does not name, and read alone it would pass for a Docker Hub repository.

Mapping of ``vulnerabilities[]``: ``id`` → id (the scanner's id, a CVE where one exists;
no aliases: ``cwe_ids`` are weakness classes, not vulnerability ids), ``package`` /
``version`` → package, ``fix_version`` (comma separated) → fixed versions, ``status`` →
fix status by Trivy's words (``affected``, ``will_not_fix``, … as in the Trivy source;
without it, ``fixed`` when a fix version is given, else ``unknown``), ``description``,
``links`` → urls. CVSS: Trivy's per-source map in ``vendor_attributes.CVSS`` (NVD first,
newest version first) when present, else ``preferred_cvss`` (v3 before v2; a v3 score
without a versioned vector is recorded as 3.0, as Harbor's spec calls it).

Package type: Harbor does not say which ecosystem a package belongs to. The type comes
from the finding's ``purl`` (written by recent Trivy adapters) and is otherwise left
unset; ``vendor_attributes`` carry only CVSS data, so nothing else can tell.

Severity: Harbor's scale is ``Critical``, ``High``, ``Medium``, ``Low``, ``Negligible``,
``Unknown``, mapped one to one; the report's overall ``severity`` is not recorded (it is
the highest of the findings').

De-duplication rule: findings with the same (id, package URL type, package name,
version) become ONE vulnerability by :func:`gate.merge.merge_vulnerabilities`, the rule
that merges scanners (fixed versions and URLs unioned, highest severity wins).
"""

from __future__ import annotations

from typing import Any, ClassVar

from gate.document import Cvss, FindingSource, FixStatus, Package, Subject, Vulnerability
from gate.inputs import InputFile
from gate.merge import merge_vulnerabilities
from gate.sources.base import Fragment, fail, purl_type, rfc3339, severity
from gate.sources.cvss import cvss_version, vendor_cvss
from gate.sources.image_config import digest, unique
from gate.sources.shape import array, at, kind, mapping, number, required_at, string_list, text_at
from gate.sources.trivy import STATUSES, fixed_versions

FALLBACK_TOOL = "harbor"
CONTAINER_IMAGE = "container_image"

_REPORT_TYPES = (
    "application/vnd.security.vulnerability.report",
    "application/vnd.scanner.adapter.vuln.report.harbor+json",
)
# preferred_cvss fields, v3 first, with the version Harbor's spec gives each score.
_PREFERRED_FIELDS = (("score_v3", "vector_v3", "3.0"), ("score_v2", "vector_v2", "2.0"))


def _holds_a_scan(report: dict[str, Any]) -> bool:
    """Return True for a wrapped report that records a scan; what its fields hold is checked
    where they are read (Harbor's Go structs write a clean scan's findings as ``null``)."""
    return {"scanner", "generated_at", "vulnerabilities"} <= report.keys()


def _is_report(data: Any) -> bool:
    """Return True for a bare Harbor vulnerability report."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("scanner"), dict)
        and "generated_at" in data
        and isinstance(data.get("vulnerabilities"), list)
    )


class HarborSource:
    """Harbor's vulnerability report, wrapped in its MIME-type key or bare."""

    format: ClassVar[str] = "harbor"
    expected_shape: ClassVar[str] = (
        'a "scanner" object, "generated_at" and a "vulnerabilities" array (bare or under a '
        "Harbor report MIME-type key)"
    )

    def matches(self, data: Any) -> bool:
        """Return True for a bare report or an object keyed by a Harbor report MIME type."""
        if not isinstance(data, dict):
            return False
        return _is_report(data) or any(
            key.startswith(_REPORT_TYPES) and isinstance(value, dict) for key, value in data.items()
        )

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Normalise the report; raise SourceError for several reports or a malformed value."""
        wrapper = mapping(data, source, "")
        if _is_report(wrapper):
            report, place = wrapper, ""
        else:
            keys = [key for key in wrapper if key.startswith(_REPORT_TYPES)]
            if len(keys) != 1:
                raise fail(
                    source, "", f"expected one Harbor vulnerability report, found {len(keys)}"
                )
            place = f'["{keys[0]}"]'
            report = mapping(wrapper[keys[0]], source, place)
            if not _holds_a_scan(report):
                # Harbor answers {"<type>": {}} for an artifact it holds no report of: that is
                # the absence of a scan, never a clean one.
                raise fail(
                    source,
                    place,
                    'no vulnerability report here: expected "scanner", "generated_at" and '
                    '"vulnerabilities" (an array, or null for a clean scan)',
                )
        scanner_place = at(place, "scanner")
        scanner = mapping(report.get("scanner"), source, scanner_place)
        artifact_place = at(place, "artifact")
        artifact = mapping(report.get("artifact"), source, artifact_place)
        name = text_at(scanner, "name", source, scanner_place)
        version = text_at(scanner, "version", source, scanner_place)
        if version and version[0] in "vV" and version[1:2].isdigit():
            # The adapter writes 'v0.44.0' where the scanner itself reports '0.44.0'.
            version = version[1:]
        tool = name.strip().lower() if name else FALLBACK_TOOL

        listed: list[Vulnerability] = []
        digests: list[str | None] = []
        list_place = at(place, "vulnerabilities")
        for index, raw in enumerate(array(report.get("vulnerabilities"), source, list_place)):
            here = at(list_place, index)
            if not isinstance(raw, dict):
                raise fail(source, here, f"expected a vulnerability object, got {kind(raw)}")
            listed.append(_vulnerability(raw, tool, source, here))
            named = string_list(raw.get("artifact_digests"), source, at(here, "artifact_digests"))
            digests.extend(digest(entry) for entry in named)

        found = unique(digests)
        own = digest(text_at(artifact, "digest", source, artifact_place))
        fragment = Fragment(
            format=self.format,
            tool=tool,
            tool_version=version,
            created=rfc3339(text_at(report, "generated_at", source, place)),
            artifact_name=text_at(artifact, "repository", source, artifact_place),
            artifact_type=CONTAINER_IMAGE,
            artifact_digests=unique([own, *found]),
            kinds=["vulnerability"],
            # Several distinct digests are an index's children: none of them is the subject.
            subject=Subject(digest=own or (found[0] if len(found) == 1 else None)),
        )
        fragment.vulnerabilities = merge_vulnerabilities(listed)
        return fragment


def _vulnerability(item: dict[str, Any], tool: str, source: InputFile, place: str) -> Vulnerability:
    """Map one ``vulnerabilities[]`` entry."""

    def string(name: str) -> str | None:
        return text_at(item, name, source, place)

    vuln_id = required_at(item, "id", source, place)
    name = required_at(item, "package", source, place)
    purl = string("purl")
    fixed = fixed_versions(string("fix_version"))
    status: FixStatus | None = STATUSES.get((string("status") or "").lower())
    if status is None:
        status = "fixed" if fixed else "unknown"
    rated = severity(item.get("severity"))
    return Vulnerability(
        id=vuln_id,
        severity=rated,
        cvss=_cvss(item, source, place),
        package=Package(
            name=name, version=string("version"), type=purl_type(None, purl), purl=purl
        ),
        fixed_versions=fixed,
        fix_available=bool(fixed),
        status=status,
        description=string("description"),
        urls=list(dict.fromkeys(string_list(item.get("links"), source, at(place, "links")))),
        sources=[FindingSource(tool=tool, input=source.path, severity=rated)],
    )


def _cvss(item: dict[str, Any], source: InputFile, place: str) -> Cvss | None:
    """Pick the finding's CVSS rating: the scanner's per-source map, else Harbor's pick."""
    vendor_place = at(place, "vendor_attributes")
    vendor = mapping(item.get("vendor_attributes"), source, vendor_place)
    ratings_place = at(vendor_place, "CVSS")
    ratings = mapping(vendor.get("CVSS"), source, ratings_place)
    rating = vendor_cvss(ratings, None, source, ratings_place)
    if rating is not None:
        return rating
    preferred_place = at(place, "preferred_cvss")
    preferred = mapping(item.get("preferred_cvss"), source, preferred_place)
    for score_field, vector_field, default_version in _PREFERRED_FIELDS:
        score = number(preferred.get(score_field), source, at(preferred_place, score_field))
        vector = text_at(preferred, vector_field, source, preferred_place)
        if score is not None or vector is not None:
            return Cvss(score=score, vector=vector, version=cvss_version(vector, default_version))
    return None
