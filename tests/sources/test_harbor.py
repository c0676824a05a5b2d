"""Harbor vulnerability reports: detection, wrapper, scan facts, CVSS, status, de-duplication."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import FIXTURES, format_params, load_input
from tests_support import parse_corpus, refusal, replaced, stand_in

from gate.errors import SourceError
from gate.sources.base import Fragment, purl_type
from gate.sources.harbor import HarborSource

HARBOR = FIXTURES / "reports" / "harbor" / "report.json"
MIME = "application/vnd.security.vulnerability.report; version=1.1"
MANIFEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
OTHER_DIGEST = "sha256:" + "b" * 64
SOURCE = HarborSource()


def load() -> dict[str, Any]:
    """A fresh copy of the wrapped fixture report."""
    data: dict[str, Any] = copy.deepcopy(load_input(HARBOR)[0])
    return data


def inner(data: dict[str, Any]) -> dict[str, Any]:
    """The report inside the MIME-type wrapper."""
    report: dict[str, Any] = data[MIME]
    return report


def parse(data: Any, path: str = "inline-harbor.json") -> Fragment:
    """Parse an in-test report."""
    return SOURCE.parse(data, stand_in(path))


def bare(*vulnerabilities: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A minimal unwrapped report."""
    return {
        "generated_at": "2024-10-14T07:20:05Z",
        "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "v0.56.1"},
        "vulnerabilities": list(vulnerabilities),
        **fields,
    }


def item(**fields: Any) -> dict[str, Any]:
    """A minimal vulnerability item."""
    return {"id": "CVE-2024-0001", "package": "libfoo", "version": "1.0", "severity": "High",
            **fields}  # fmt: skip


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({MIME: bare()}, True, id="wrapped"),
        pytest.param({MIME: {}}, True, id="wrapped-empty"),
        pytest.param(
            {"application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0": bare()},
            True,
            id="wrapped-adapter-1.0",
        ),
        pytest.param(bare(), True, id="bare"),
        pytest.param({MIME: []}, False, id="wrapped-list"),
        pytest.param({"application/json": bare()}, False, id="other-mime"),
        pytest.param({"scanner": {}, "vulnerabilities": []}, False, id="no-generated-at"),
        pytest.param(
            {
                "scanner": {"name": "Trivy"},
                "updateTimestamp": "2024-01-01T00:00:00Z",
                "vulnerabilities": [],
            },
            False,
            id="trivy-operator-report-body",
        ),  # fmt: skip
        pytest.param(
            {
                "apiVersion": "aquasecurity.github.io/v1alpha1",
                "kind": "VulnerabilityReport",
                "report": {"vulnerabilities": []},
            },
            False,
            id="trivy-operator",
        ),  # fmt: skip
        pytest.param(
            {"ok": True, "vulnerabilities": [], "packageManager": "npm"}, False, id="snyk"
        ),  # fmt: skip
        pytest.param({"SchemaVersion": 2, "Results": []}, False, id="trivy"),
        pytest.param({"bomFormat": "CycloneDX", "vulnerabilities": []}, False, id="cyclonedx"),
        pytest.param([bare()], False, id="list"),
        pytest.param({}, False, id="empty-object"),
        pytest.param(None, False, id="null"),
    ],
)
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


def test_scan_facts() -> None:
    fragment = parse(load())
    assert fragment.format == "harbor"
    assert (fragment.tool, fragment.tool_version) == ("trivy", "0.56.1")
    assert fragment.created == "2024-10-14T07:20:05.481273913Z"
    assert fragment.artifact_type == "container_image"
    assert fragment.artifact_name is None
    assert fragment.artifact_digests == [MANIFEST]
    assert fragment.kinds == ["vulnerability"]
    assert fragment.image is None and fragment.authority == 0


def test_subject_is_the_digest_only() -> None:
    subject = parse(load()).subject
    assert subject.digest == MANIFEST
    assert (subject.reference, subject.registry, subject.repository) == (None, None, None)


def test_findings_and_de_duplication() -> None:
    fragment = parse(load())
    # jackson-databind is listed twice (two jars): one finding, both links kept.
    assert [(v.id, v.package.name) for v in fragment.vulnerabilities] == [
        ("CVE-2024-5535", "libssl3"),
        ("CVE-2023-45853", "zlib1g"),
        ("CVE-2011-3374", "apt"),
        ("CVE-2022-42003", "com.fasterxml.jackson.core:jackson-databind"),
    ]
    jackson = fragment.vulnerabilities[3]
    assert jackson.urls == [
        "https://avd.aquasec.com/nvd/cve-2022-42003",
        "https://github.com/advisories/GHSA-jjjh-jjxp-wpff",
    ]
    assert len(jackson.sources) == 1 and jackson.sources[0].tool == "trivy"


@pytest.mark.parametrize(
    ("index", "severity", "status", "fixed", "package_type", "cvss"),
    [
        pytest.param(0, "critical", "fixed", ["3.0.14-1~deb12u1"], "deb", (9.1, "3.1", "nvd"),
                     id="vendor-cvss-nvd-first"),
        pytest.param(1, "critical", "will_not_fix", [], "deb", (9.8, "3.0", None),
                     id="preferred-v3-score-only"),
        pytest.param(2, "negligible", "unknown", [], None, (4.3, "2.0", None),
                     id="no-status-no-purl-v2"),
        pytest.param(3, "high", "fixed", ["2.12.7.1", "2.13.4.2"], "maven", (7.5, "3.1", "nvd"),
                     id="comma-separated-fixes"),
    ],
)  # fmt: skip
def test_finding_details(
    index: int,
    severity: str,
    status: str,
    fixed: list[str],
    package_type: str | None,
    cvss: tuple[float, str, str | None],
) -> None:
    vuln = parse(load()).vulnerabilities[index]
    assert (vuln.severity, vuln.status, vuln.fixed_versions, vuln.fix_available) == (
        severity,
        status,
        fixed,
        bool(fixed),
    )
    assert vuln.package.type == package_type
    assert vuln.cvss is not None
    assert (vuln.cvss.score, vuln.cvss.version, vuln.cvss.source) == cvss
    assert vuln.aliases == []  # cwe_ids are not vulnerability ids


def test_purl_and_text() -> None:
    vuln = parse(load()).vulnerabilities[0]
    assert vuln.package.purl == (
        "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.5"
    )
    assert vuln.package.version == "3.0.11-1~deb12u2"
    assert vuln.description is not None and vuln.description.startswith("Issue summary")
    assert vuln.urls[0] == "https://avd.aquasec.com/nvd/cve-2024-5535"


def test_bare_report_reads_like_the_wrapped_one() -> None:
    wrapped = parse(load())
    unwrapped = parse(inner(load()))
    assert unwrapped.vulnerabilities == wrapped.vulnerabilities
    assert unwrapped.subject == wrapped.subject


@pytest.mark.parametrize(
    ("scanner", "tool", "version"),
    [
        pytest.param({"name": "Trivy", "version": "v0.44.0"}, "trivy", "0.44.0", id="v-prefix"),
        pytest.param({"name": "Trivy", "version": "0.44.0"}, "trivy", "0.44.0", id="plain"),
        pytest.param({"name": "Grype", "version": "vNext"}, "grype", "vNext", id="not-a-number"),
        pytest.param({"name": "Anchore Enterprise", "version": "5.9"}, "anchore enterprise",
                     "5.9", id="two-words"),
        pytest.param({}, "harbor", None, id="unnamed"),
    ],
)  # fmt: skip
def test_tool(scanner: dict[str, Any], tool: str, version: str | None) -> None:
    fragment = parse(bare(item(), scanner=scanner))
    assert (fragment.tool, fragment.tool_version) == (tool, version)
    assert fragment.vulnerabilities[0].sources[0].tool == tool


def test_artifact_digest_and_repository() -> None:
    report = bare(
        item(artifact_digests=[OTHER_DIGEST]),
        artifact={"repository": "library/mongo", "digest": MANIFEST, "tag": "7.0"},
    )
    fragment = parse(report)
    assert fragment.artifact_name == "library/mongo"
    assert fragment.subject.digest == MANIFEST
    assert fragment.subject.reference is None
    assert fragment.artifact_digests == [MANIFEST, OTHER_DIGEST]


def test_several_digests_name_no_subject() -> None:
    report = bare(
        item(artifact_digests=[MANIFEST]),
        item(id="CVE-2024-0002", artifact_digests=[OTHER_DIGEST, "REDACTED"]),
    )
    fragment = parse(report)
    assert fragment.subject.digest is None
    assert fragment.artifact_digests == [MANIFEST, OTHER_DIGEST]


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        pytest.param({"status": "affected"}, "affected", id="affected"),
        pytest.param({"status": "under_investigation"}, "affected", id="under-investigation"),
        pytest.param({"status": "end_of_life"}, "end_of_life", id="end-of-life"),
        pytest.param({"status": "Fixed", "fix_version": "1.1"}, "fixed", id="any-case"),
        pytest.param({"status": "bogus"}, "unknown", id="unrecognised"),
        pytest.param({"fix_version": "1.1"}, "fixed", id="no-status-with-fix"),
    ],
)
def test_status(fields: dict[str, Any], status: str) -> None:
    [vuln] = parse(bare(item(**fields))).vulnerabilities
    assert vuln.status == status


def test_a_clean_scan_has_no_findings() -> None:
    assert parse(bare()).vulnerabilities == []
    report = bare()
    report["vulnerabilities"] = None  # how Harbor's Go structs write an empty list
    fragment = parse({MIME: report})
    assert fragment.vulnerabilities == [] and fragment.kinds == ["vulnerability"]


@pytest.mark.parametrize(
    "report",
    [
        pytest.param({}, id="empty"),  # Harbor's answer for an artifact it holds no report of
        pytest.param({"scanner": {"name": "Trivy"}, "generated_at": "2026-01-01T00:00:00Z"},
                     id="no-vulnerabilities"),
        pytest.param({"generated_at": "2026-01-01T00:00:00Z", "vulnerabilities": []},
                     id="no-scanner"),
        pytest.param({"scanner": {"name": "Trivy"}, "vulnerabilities": []}, id="no-time"),
    ],
)  # fmt: skip
def test_a_wrapper_without_a_scan_is_refused_not_read_as_clean(report: dict[str, Any]) -> None:
    message = refusal(SOURCE, {MIME: report}, "reports/harbor.json")
    assert message.startswith(f'reports/harbor.json: ["{MIME}"]: no vulnerability report here')


def test_several_reports_in_the_wrapper_are_refused() -> None:
    data = {
        MIME: bare(),
        "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0": bare(),
    }
    with pytest.raises(SourceError, match="expected one Harbor vulnerability report, found 2"):
        parse(data, "reports/harbor.json")


@pytest.mark.parametrize(
    ("path", "value", "place"),
    [
        pytest.param(["vulnerabilities"], {}, "vulnerabilities", id="vulnerabilities-object"),
        pytest.param(["vulnerabilities", 1], "CVE-1", "vulnerabilities[1]", id="item-string"),
        pytest.param(["vulnerabilities", 0, "id"], "", "vulnerabilities[0].id", id="no-id"),
        pytest.param(["vulnerabilities", 2, "package"], None, "vulnerabilities[2].package",
                     id="no-package"),
        pytest.param(["vulnerabilities", 0, "links"], "https://x", "vulnerabilities[0].links",
                     id="links-string"),
        pytest.param(["vulnerabilities", 1, "preferred_cvss", "score_v3"], "9.8",
                     "vulnerabilities[1].preferred_cvss.score_v3", id="score-string"),
        pytest.param(["vulnerabilities", 0, "vendor_attributes", "CVSS", "nvd"], 9.1,
                     "vulnerabilities[0].vendor_attributes.CVSS.nvd", id="vendor-cvss-number"),
        pytest.param(["vulnerabilities", 0, "artifact_digests"], MANIFEST,
                     "vulnerabilities[0].artifact_digests", id="digests-string"),
        pytest.param(["scanner"], "Trivy", "scanner", id="scanner-string"),
    ],
)  # fmt: skip
def test_malformed_reports_name_file_and_place(
    path: list[str | int], value: Any, place: str
) -> None:
    message = refusal(SOURCE, replaced(load(), [MIME, *path], value), "reports/harbor.json")
    assert message.startswith(f'reports/harbor.json: ["{MIME}"].{place}:')


def test_malformed_bare_report_paths_start_at_the_top() -> None:
    report = bare()
    report["vulnerabilities"] = ["CVE-1"]
    message = refusal(SOURCE, report, "reports/harbor.json")
    assert message.startswith("reports/harbor.json: vulnerabilities[0]:")


# --- the real corpus (../shared/corpus, optional) -------------------------------------


def distinct_keys(data: dict[str, Any]) -> int:
    """Count findings by the module's rule, computed straight from the raw JSON."""
    [report] = [value for key, value in data.items() if key.startswith("application/vnd.")]
    keys = {
        (v["id"].upper(), purl_type(None, v.get("purl")), v["package"], v.get("version") or None)
        for v in report.get("vulnerabilities") or []
    }
    return len(keys)


@pytest.mark.parametrize("local_path", format_params("harbor"))
def test_corpus(local_path: str) -> None:
    data, fragment = parse_corpus(SOURCE, local_path)
    assert len(fragment.vulnerabilities) == distinct_keys(data) == 3
    assert (fragment.tool, fragment.tool_version) == ("trivy", "0.44.0")
    assert fragment.subject.digest == (
        "sha256:711103cfce07dc03d61f51e819fad7d6fbbad20fc99caa039cc8da77e7a1c51b"
    )
