"""Tests of the SARIF source: detection, each scanner's conventions, severity, refusals, corpus."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from conftest import CORPUS, FIXTURES, corpus_params, load_input
from tests_support import parse_corpus, refusal, stand_in

from gate.document import Package
from gate.merge import vulnerability_key
from gate.sources.base import Fragment
from gate.sources.sarif import SarifSource

SARIF = FIXTURES / "reports" / "sarif"
SOURCE = SarifSource()
REPO_DIGEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
IMAGE_ID = "sha256:9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
INLINE = "scans/report.sarif"


def parse_fixture(name: str) -> Fragment:
    """Parse a fixture under fixtures/reports/sarif."""
    data, source = load_input(SARIF / name)
    return SOURCE.parse(data, source)


def parse(data: Any) -> Fragment:
    """Parse an in-test log as if read from ``scans/report.sarif``."""
    return SOURCE.parse(data, stand_in(INLINE))


def sarif_log(
    *results: dict[str, Any],
    rules: tuple[dict[str, Any], ...] = (),
    driver: str = "Trivy",
    **run: Any,
) -> dict[str, Any]:
    """A one-run SARIF log with ``results`` and ``rules``."""
    return {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": driver, "rules": list(rules)}},
                "results": list(results),
                **run,
            }
        ],
    }


def trivy_result(rule_id: str, package: str, version: str, severity: str = "LOW") -> dict[str, Any]:
    """A Trivy-shaped vulnerability result."""
    return {
        "ruleId": rule_id,
        "message": {
            "text": f"Package: {package}\nInstalled Version: {version}\n"
            f"Vulnerability {rule_id}\nSeverity: {severity}\nFixed Version: \n"
        },
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "acme/app"}}}],
    }


def trivy_rule(rule_id: str, name: str = "OsPackageVulnerability") -> dict[str, Any]:
    """A Trivy-shaped vulnerability rule."""
    return {"id": rule_id, "name": name, "properties": {"tags": ["vulnerability", "security"]}}


def rated(rule: dict[str, Any], result: dict[str, Any], driver: str = "Scanner") -> str:
    """Return the severity the source gives a one-result log's only finding."""
    fragment = parse(
        sarif_log({"ruleId": "R1", **result}, rules=({"id": "R1", **rule},), driver=driver)
    )
    findings = [*fragment.vulnerabilities, *fragment.misconfigurations]
    assert len(findings) == 1
    return findings[0].severity


# --- detection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({"version": "2.1.0", "runs": []}, True, id="version"),
        pytest.param(
            {"$schema": "https://json.schemastore.org/sarif-2.1.0-rtm.5.json", "runs": []},
            True,
            id="schema",
        ),
        pytest.param({"version": "2.0.0", "runs": []}, False, id="other-version"),
        pytest.param(
            {"$schema": "https://example.com/report.schema.json", "runs": []}, False, id="schema"
        ),
        pytest.param({"runs": []}, False, id="runs-alone"),
        pytest.param({"version": "2.1.0", "runs": {}}, False, id="runs-not-list"),
        pytest.param({"version": "2.1.0"}, False, id="no-runs"),
        pytest.param({"SchemaVersion": 2, "Results": []}, False, id="trivy-json"),
        pytest.param({"matches": [], "descriptor": {"name": "grype"}}, False, id="grype-json"),
        pytest.param({"bomFormat": "CycloneDX", "specVersion": "1.5"}, False, id="cyclonedx"),
        pytest.param([{"Id": "sha256:" + "a" * 64, "Config": {}}], False, id="docker-inspect"),
        pytest.param(None, False, id="null"),
        pytest.param([], False, id="empty-list"),
        pytest.param({}, False, id="empty-object"),
    ],
)
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


# --- Trivy -------------------------------------------------------------------------------


def test_trivy_scan_facts_and_subject() -> None:
    fragment = parse_fixture("trivy-image.sarif.json")
    assert (fragment.format, fragment.tool, fragment.tool_version) == ("sarif", "trivy", "0.56.2")
    assert fragment.kinds == ["license", "misconfiguration", "secret", "vulnerability"]
    assert fragment.artifact_name == "ghcr.io/acme/shop-api:1.4.2"
    assert fragment.artifact_type == "container_image"
    assert fragment.artifact_digests == [IMAGE_ID, REPO_DIGEST]
    subject = fragment.subject
    assert (subject.registry, subject.repository, subject.tag) == (
        "ghcr.io",
        "acme/shop-api",
        "1.4.2",
    )
    assert (subject.digest, subject.image_id) == (REPO_DIGEST, IMAGE_ID)
    assert fragment.created is None  # Trivy writes no invocations


def test_trivy_vulnerabilities() -> None:
    data, _ = load_input(SARIF / "trivy-image.sarif.json")
    fragment = parse_fixture("trivy-image.sarif.json")
    vuln_results = [r for r in data["runs"][0]["results"] if r["ruleId"].startswith("CVE-")]
    assert len(vuln_results) == 6
    # The jar is listed at two paths: one finding, the first path kept.
    assert len(fragment.vulnerabilities) == 5
    found = {v.package.name: v for v in fragment.vulnerabilities}
    ssl = found["libssl3"]
    assert (ssl.id, ssl.severity, ssl.package.version) == (
        "CVE-2024-5535",
        "critical",
        "3.0.11-1~deb12u2",
    )
    assert ssl.package.type == "deb"  # inferred from the run's '~deb12u…' versions
    assert (ssl.status, ssl.fixed_versions, ssl.fix_available) == (
        "fixed",
        ["3.0.13-1~deb12u2"],
        True,
    )
    assert ssl.cvss is not None and (ssl.cvss.score, ssl.cvss.version) == (9.1, "3.1")
    assert ssl.title == "openssl: SSL_select_next_proto buffer overread"
    assert ssl.urls == ["https://avd.aquasec.com/nvd/cve-2024-5535"]
    assert [(s.tool, s.severity) for s in ssl.sources] == [("trivy", "critical")]
    # The rule's help names the first package only; each result names its own.
    assert found["apt"].package.version == "2.6.1"
    assert found["apt"].package.type == "deb"
    zlib = found["zlib1g"]
    assert (zlib.status, zlib.fixed_versions, zlib.fix_available) == ("unknown", [], False)
    jar = found["com.fasterxml.jackson.core:jackson-databind"]
    assert (jar.package.type, jar.package.path) == ("maven", "app/lib/jackson-databind-2.13.3.jar")
    assert jar.fixed_versions == ["2.12.7.1", "2.13.4.1"]
    assert jar.package.purl is None


def test_trivy_secret_licence_and_misconfiguration() -> None:
    fragment = parse_fixture("trivy-image.sarif.json")
    [secret] = fragment.secrets
    assert (secret.id, secret.title, secret.severity) == (
        "aws-access-key-id",
        "AWS Access Key ID",
        "critical",
    )
    assert (secret.target, secret.start_line, secret.end_line) == (
        "app/config/application.yml",
        12,
        12,
    )
    assert secret.match == "    access-key-id: ********************"  # as Trivy JSON writes it
    [licence] = fragment.licenses
    assert (licence.name, licence.category, licence.package, licence.severity) == (
        "GPL-3.0-only",
        "restricted",
        Package(name="libreadline8"),
        "high",
    )
    assert licence.target == "OS Packages"
    [check] = fragment.misconfigurations
    assert (check.id, check.type, check.title, check.severity) == (
        "DS005",
        "dockerfile",
        "ADD instead of COPY",
        "low",
    )
    assert check.message == (
        "Consider using 'COPY build/libs/shop-api.jar /app/app.jar' command instead of "
        "'ADD build/libs/shop-api.jar /app/app.jar'"
    )
    assert (check.target, check.start_line) == ("Dockerfile", 3)
    assert check.resolution is None  # Trivy's help is a generated summary, not a remedy
    assert check.urls == ["https://avd.aquasec.com/misconfig/ds005"]


def test_empty_trivy_image_scan_still_covers_vulnerabilities() -> None:
    fragment = parse_fixture("empty.sarif.json")
    assert fragment.vulnerabilities == fragment.misconfigurations == []
    assert fragment.kinds == ["vulnerability"]
    assert fragment.subject.reference == "ghcr.io/acme/static-site:2.0.0"
    assert len(fragment.artifact_digests) == 2


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        pytest.param(["2.6.1", "2.36-9+deb12u1"], "deb", id="debian-security"),
        pytest.param(["1:2.38.1-5+b1", "9.1-1"], "deb", id="debian-binnmu"),
        pytest.param(["1.1.1n-0ubuntu2.4"], "deb", id="ubuntu"),
        pytest.param(["3.1.4-r5", "1.36.1-r2"], "apk", id="alpine"),
        pytest.param(["1.1.1k-9.el8_7"], "rpm", id="rhel"),
        pytest.param(["2.6.1", "9.1-1"], None, id="no-marks"),
        pytest.param(["2.36-9+deb12u1", "3.1.4-r5"], None, id="contradictory"),
    ],
)
def test_trivy_os_package_type_is_inferred_per_run(versions: list[str], expected: str) -> None:
    results = [trivy_result("CVE-2024-0001", f"pkg{i}", v) for i, v in enumerate(versions)]
    fragment = parse(sarif_log(*results, rules=(trivy_rule("CVE-2024-0001"),)))
    assert [v.package.type for v in fragment.vulnerabilities] == [expected] * len(versions)


@pytest.mark.parametrize(
    ("uri", "name", "expected"),
    [
        pytest.param("app/package-lock.json", "lodash", "npm", id="npm"),
        pytest.param(
            "usr/lib/python3/dist-packages/Jinja2-3.1.2.dist-info/METADATA",
            "Jinja2",
            "pypi",
            id="pypi",
        ),
        pytest.param("app/go.sum", "golang.org/x/net", "golang", id="gomod"),
        pytest.param("app/lib/log4j-core-2.14.1.jar", "log4j-core", "maven", id="jar"),
        pytest.param("app/Gemfile.lock", "rack", "gem", id="gem"),
        pytest.param("usr/local/bin/app", "org.example:lib", "maven", id="group-artifact-name"),
        pytest.param("usr/local/bin/app", "golang.org/x/net", None, id="binary-unknown"),
    ],
)
def test_trivy_language_package_type_from_its_file(uri: str, name: str, expected: str) -> None:
    result = trivy_result("CVE-2024-0002", name, "1.0.0")
    result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = uri
    rule = trivy_rule("CVE-2024-0002", "LanguageSpecificPackageVulnerability")
    [vuln] = parse(sarif_log(result, rules=(rule,))).vulnerabilities
    assert (vuln.package.type, vuln.package.path) == (expected, uri)


# --- Grype -------------------------------------------------------------------------------


def test_grype_fixture() -> None:
    data, _ = load_input(SARIF / "grype-image.sarif.json")
    fragment = parse_fixture("grype-image.sarif.json")
    assert (fragment.tool, fragment.tool_version, fragment.kinds) == (
        "grype",
        "0.79.3",
        ["vulnerability"],
    )
    # The image comes from the results' logical locations; Grype's SARIF has no digests.
    assert fragment.subject.reference == "ghcr.io/acme/shop-api:1.4.2"
    assert fragment.artifact_digests == []
    assert len(data["runs"][0]["results"]) == 6
    assert len(fragment.vulnerabilities) == 5  # libssl3 matched twice
    found = {v.package.name: v for v in fragment.vulnerabilities}
    ssl = found["libssl3"]
    # Grype's own word ("low") beats the NVD score it writes as security-severity (9.1).
    assert ssl.severity == "low"
    assert (ssl.package.type, ssl.package.path) == ("deb", "/var/lib/dpkg/status")
    assert ssl.fixed_versions == ["3.0.13-1~deb12u2"]
    # The rule's helpUri is Grype's homepage (the driver's informationUri): not a reference.
    assert ssl.urls == ["https://security-tracker.debian.org/tracker/CVE-2024-5535"]
    assert found["apt"].severity == "negligible"
    jar = found["jackson-databind"]
    # Grype's SARIF names no related CVE: the GHSA stays the id (the core joins it to the
    # CVE when another report states the alias).
    assert (jar.id, jar.aliases) == ("GHSA-jjjh-jjxp-wpff", [])
    assert (jar.package.type, jar.package.version) == ("maven", "2.13.3")
    assert jar.fixed_versions == ["2.12.7.1", "2.13.4.1"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        pytest.param(
            "The path /usr/share/doc/tar/copyright reports tar at version 1.34+dfsg-1.2  "
            "which is a vulnerable (deb) package installed in the container",
            ("tar", "1.34+dfsg-1.2", "deb", "/usr/share/doc/tar/copyright"),
            id="image",
        ),
        pytest.param(
            "The path /src/package-lock.json reports lodash at version 4.17.15  "
            "which would result in a vulnerable (npm) package installed",
            ("lodash", "4.17.15", "npm", "/src/package-lock.json"),
            id="directory",
        ),
        pytest.param(
            "A high vulnerability in deb package: libssl1.1, version 1.1.1n-0+deb11u3 was "
            "found at: /var/lib/dpkg/status",
            ("libssl1.1", "1.1.1n-0+deb11u3", "deb", "/var/lib/dpkg/status"),
            id="older-grype",
        ),
    ],
)
def test_grype_result_sentences(message: str, expected: tuple[str, ...]) -> None:
    rule = {
        "id": "CVE-2022-0001-x",
        "help": {"text": "Vulnerability CVE-2022-0001\nSeverity: high"},
    }
    result = {"ruleId": "CVE-2022-0001-x", "message": {"text": message}}
    [vuln] = parse(sarif_log(result, rules=(rule,), driver="Grype")).vulnerabilities
    package = vuln.package
    assert (package.name, package.version, package.type, package.path) == expected
    assert (vuln.id, vuln.severity) == ("CVE-2022-0001", "high")


# --- Snyk --------------------------------------------------------------------------------


def test_snyk_fixture() -> None:
    fragment = parse_fixture("snyk-container.sarif.json")
    assert (fragment.tool, fragment.tool_version, fragment.kinds) == (
        "snyk",
        None,
        ["vulnerability"],
    )
    assert fragment.subject.reference == f"ghcr.io/acme/shop-api@{REPO_DIGEST}"
    assert fragment.subject.digest == REPO_DIGEST
    assert fragment.artifact_digests == [REPO_DIGEST]
    found = {v.package.name: v for v in fragment.vulnerabilities}
    # 'openssl/libssl3' is Snyk's source/binary: the binary is what other scanners name.
    assert sorted(found) == [
        "com.fasterxml.jackson.core:jackson-databind",
        "curl",
        "libssl3",
        "zlib1g",
    ]
    ssl = found["libssl3"]
    assert (ssl.id, ssl.aliases, ssl.severity) == (
        "CVE-2024-5535",
        ["SNYK-DEBIAN12-OPENSSL-7411308"],
        "critical",
    )
    assert (ssl.package.type, ssl.package.version) == ("deb", "3.0.11-1~deb12u2")
    assert (ssl.status, ssl.fixed_versions) == ("fixed", ["3.0.13-1~deb12u2"])
    assert ssl.description is None  # the fullDescription is the package line, not prose
    # One Snyk issue for two curl CVEs: two findings, the issue id an advisory of each.
    curl = [(v.id, v.aliases, v.advisories) for v in fragment.vulnerabilities if v is not ssl]
    assert [c for c in curl if c[0].startswith("CVE-2023-3854")] == [
        ("CVE-2023-38545", [], ["SNYK-DEBIAN12-CURL-5955038"]),
        ("CVE-2023-38546", [], ["SNYK-DEBIAN12-CURL-5955038"]),
    ]
    assert found["zlib1g"].fix_available is False
    jar = found["com.fasterxml.jackson.core:jackson-databind"]  # Maven names keep their ':'
    assert (jar.package.type, jar.fixed_versions) == ("maven", ["2.12.7.1", "2.13.4.1"])
    assert jar.sources[0].tool == "snyk"


# --- Dockle ------------------------------------------------------------------------------


def test_dockle_fixture() -> None:
    fragment = parse_fixture("dockle.sarif.json")
    assert (fragment.tool, fragment.tool_version, fragment.kinds) == (
        "dockle",
        None,
        ["misconfiguration"],
    )
    assert fragment.vulnerabilities == []
    checks = {m.id: m for m in fragment.misconfigurations}
    assert {i: m.severity for i, m in checks.items()} == {
        "DKL-DI-0005": "high",  # FATAL → error
        "CIS-DI-0006": "medium",  # WARN → warning
        "CIS-DI-0005": "low",  # INFO → note
    }
    health = checks["CIS-DI-0006"]
    assert (health.title, health.message) == (
        "Add HEALTHCHECK instruction to the container image",
        "not found HEALTHCHECK statement",
    )
    # Dockle's help text is a bare link to the checkpoint: a reference, not a resolution.
    assert health.urls == [
        "https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md#CIS-DI-0006"
    ]
    assert (health.resolution, health.target, health.start_line) == (None, None, None)


def test_empty_dockle_run_still_covers_misconfiguration() -> None:
    assert parse(sarif_log(driver="Dockle")).kinds == ["misconfiguration"]


# --- severity ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "result", "driver", "expected"),
    [
        pytest.param(
            {"properties": {"security-severity": "9.8"}},
            {"message": {"text": "Severity: LOW"}},
            "Scanner",
            "low",
            id="word-in-message-beats-score",
        ),
        pytest.param(
            {"help": {"text": "Severity: medium"}, "properties": {"security-severity": "9.8"}},
            {},
            "Scanner",
            "medium",
            id="word-in-help",
        ),
        pytest.param(
            {"properties": {"tags": ["security", "HIGH"]}},
            {"level": "note"},
            "Scanner",
            "high",
            id="tag",
        ),
        pytest.param(
            {"properties": {"tags": ["security", "UNKNOWN"], "security-severity": "0.0"}},
            {"level": "note"},
            "Scanner",
            "unknown",
            id="trivy-unknown",
        ),
        pytest.param(
            {"properties": {"security-severity": "9.0"}}, {}, "Scanner", "critical", id="9.0"
        ),
        pytest.param({"properties": {"security-severity": "8.9"}}, {}, "Scanner", "high", id="8.9"),
        pytest.param({"properties": {"security-severity": "7.0"}}, {}, "Scanner", "high", id="7.0"),
        pytest.param(
            {"properties": {"security-severity": "4.0"}}, {}, "Scanner", "medium", id="4.0"
        ),
        pytest.param({"properties": {"security-severity": "3.9"}}, {}, "Scanner", "low", id="3.9"),
        pytest.param({"properties": {"security-severity": "0.1"}}, {}, "Scanner", "low", id="0.1"),
        pytest.param(
            {"properties": {"security-severity": "0.0"}}, {}, "Scanner", "negligible", id="0"
        ),
        pytest.param(
            {"properties": {"security-severity": 7.5}}, {}, "Scanner", "high", id="number"
        ),
        pytest.param(
            {"properties": {"security-severity": "2.0"}},
            {"properties": {"security-severity": "9.5"}},
            "Scanner",
            "critical",
            id="result-score-first",
        ),
        pytest.param(
            {"properties": {"security-severity": "undefined"}},
            {"level": "warning"},
            "Scanner",
            "medium",
            id="non-numeric-score",
        ),
        pytest.param(
            {"properties": {"security-severity": "11"}},
            {"level": "error"},
            "Scanner",
            "high",
            id="out-of-range",
        ),
        pytest.param({}, {"level": "error"}, "Scanner", "high", id="error"),
        pytest.param({}, {"level": "warning"}, "Scanner", "medium", id="warning"),
        pytest.param({}, {"level": "note"}, "Scanner", "low", id="note"),
        pytest.param({}, {"level": "none"}, "Scanner", "negligible", id="none"),
        pytest.param(
            {"defaultConfiguration": {"level": "error"}},
            {"level": "note"},
            "Scanner",
            "low",
            id="result-level-first",
        ),
        pytest.param(
            {"defaultConfiguration": {"level": "error"}}, {}, "Scanner", "high", id="rule-level"
        ),
        pytest.param({}, {}, "Scanner", "unknown", id="nothing"),
        pytest.param(
            {"shortDescription": {"text": "Critical severity - Out-of-bounds Read in openssl"}},
            {"level": "error"},
            "Snyk Container",
            "critical",
            id="snyk-word",
        ),
        pytest.param(
            {"shortDescription": {"text": "Critical severity - a title"}},
            {"level": "note"},
            "Scanner",
            "low",
            id="snyk-word-only-for-snyk",
        ),
    ],
)
def test_severity(rule: dict[str, Any], result: dict[str, Any], driver: str, expected: str) -> None:
    assert rated(rule, result, driver) == expected


# --- classification and the SARIF envelope ------------------------------------------------


def test_advisory_without_package_is_a_misconfiguration() -> None:
    result = {
        "ruleId": "CVE-2024-0003",
        "level": "error",
        "message": {"text": "The base image is affected"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "Dockerfile"},
                    "region": {"startLine": 1},
                }
            }
        ],
    }
    fragment = parse(sarif_log(result, driver="Scanner"))
    assert fragment.vulnerabilities == []
    [check] = fragment.misconfigurations
    assert (check.id, check.message, check.target, check.start_line) == (
        "CVE-2024-0003",
        "The base image is affected",
        "Dockerfile",
        1,
    )
    assert check.resolution is None and check.sources[0].tool == "scanner"


def test_help_text_is_the_resolution_of_a_generic_check() -> None:
    rule = {
        "id": "R9",
        "help": {"text": "Pin the base image by digest."},
        "helpUri": "https://x.test/R9",
    }
    [check] = parse(sarif_log({"ruleId": "R9"}, rules=(rule,), driver="Scanner")).misconfigurations
    assert (check.resolution, check.urls, check.message) == (
        "Pin the base image by digest.",
        ["https://x.test/R9"],
        None,
    )


@pytest.mark.parametrize(
    "result",
    [
        pytest.param({"kind": "pass"}, id="pass"),
        pytest.param({"kind": "notApplicable"}, id="not-applicable"),
        pytest.param({"baselineState": "absent"}, id="absent"),
    ],
)
def test_results_that_are_not_findings_are_skipped(result: dict[str, Any]) -> None:
    fragment = parse(sarif_log({"ruleId": "R1", "level": "error", **result}, driver="Scanner"))
    assert fragment.misconfigurations == [] and fragment.kinds == []


def test_suppressed_results_are_kept() -> None:
    result = {"ruleId": "R1", "level": "error", "suppressions": [{"kind": "external"}]}
    assert len(parse(sarif_log(result, driver="Scanner")).misconfigurations) == 1


@pytest.mark.parametrize(
    ("result", "expected_title"),
    [
        pytest.param({"ruleId": "B"}, "second", id="by-id"),
        pytest.param({"ruleIndex": 1}, "second", id="by-index"),
        pytest.param({"rule": {"id": "B"}}, "second", id="rule-object-id"),
        pytest.param({"rule": {"index": 0}}, "first", id="rule-object-index"),
        pytest.param({"ruleId": "B", "ruleIndex": 0}, "second", id="stale-index"),
        pytest.param({"ruleId": "C"}, None, id="unlisted-rule"),
    ],
)
def test_rule_lookup(result: dict[str, Any], expected_title: str | None) -> None:
    rules = (
        {"id": "A", "shortDescription": {"text": "first"}},
        {"id": "B", "shortDescription": {"text": "second"}},
    )
    [check] = parse(sarif_log(result, rules=rules, driver="Scanner")).misconfigurations
    assert check.title == expected_title


@pytest.mark.parametrize(
    ("invocations", "expected"),
    [
        pytest.param(
            [{"startTimeUtc": "2024-10-14T07:00:00Z", "endTimeUtc": "2024-10-14T07:02:30.5Z"}],
            "2024-10-14T07:02:30.5Z",
            id="end",
        ),
        pytest.param(
            [{"startTimeUtc": "2024-10-14T09:00:00+02:00"}], "2024-10-14T07:00:00Z", id="start"
        ),
        pytest.param([{"executionSuccessful": True}], None, id="none"),
    ],
)
def test_created_from_invocations(invocations: list[dict[str, Any]], expected: str | None) -> None:
    assert parse(sarif_log(invocations=invocations)).created == expected


@pytest.mark.parametrize(
    ("driver", "expected"),
    [
        pytest.param("Trivy", "trivy", id="trivy"),
        pytest.param("Grype", "grype", id="grype"),
        pytest.param("Anchore Container Vulnerability Report (T0)", "grype", id="old-grype"),
        pytest.param("Snyk Container", "snyk", id="snyk-container"),
        pytest.param("Snyk Open Source", "snyk", id="snyk-open-source"),
        pytest.param("Dockle", "dockle", id="dockle"),
        pytest.param("Hadolint", "hadolint", id="other"),
    ],
)
def test_tool_names(driver: str, expected: str) -> None:
    assert parse(sarif_log(driver=driver)).tool == expected


def test_version_falls_back_to_semantic_version() -> None:
    data = sarif_log()
    data["runs"][0]["tool"]["driver"]["semanticVersion"] = "1.2.3"
    assert parse(data).tool_version == "1.2.3"


def test_several_runs_one_fragment() -> None:
    trivy = sarif_log(
        trivy_result("CVE-2024-0001", "apt", "2.6.1"), rules=(trivy_rule("CVE-2024-0001"),)
    )
    dockle = sarif_log({"ruleId": "CIS-DI-0005", "level": "note"}, driver="Dockle")
    trivy["runs"].extend(dockle["runs"])
    fragment = parse(trivy)
    assert (fragment.tool, fragment.kinds) == ("trivy", ["misconfiguration", "vulnerability"])
    assert [s.tool for s in fragment.vulnerabilities[0].sources] == ["trivy"]
    assert [s.tool for s in fragment.misconfigurations[0].sources] == ["dockle"]


def test_log_without_runs() -> None:
    fragment = parse({"version": "2.1.0", "runs": []})
    assert (fragment.tool, fragment.tool_version, fragment.kinds) == ("unknown", None, [])


def test_same_vulnerability_in_two_runs_is_one_finding() -> None:
    data = sarif_log(
        trivy_result("CVE-2024-0001", "apt", "2.6.1"), rules=(trivy_rule("CVE-2024-0001"),)
    )
    data["runs"].append(json.loads(json.dumps(data["runs"][0])))
    assert len(parse(data).vulnerabilities) == 1


@pytest.mark.parametrize(
    ("mutate", "place"),
    [
        pytest.param(lambda d: d["runs"].append(3), "runs[1]", id="run-not-object"),
        pytest.param(
            lambda d: d["runs"][0]["tool"].update(driver=[]), "runs[0].tool.driver", id="driver"
        ),
        pytest.param(
            lambda d: d["runs"][0]["tool"]["driver"].pop("name"),
            "runs[0].tool.driver.name",
            id="driver-name-missing",
        ),
        pytest.param(
            lambda d: d["runs"][0]["tool"]["driver"].update(rules={}),
            "runs[0].tool.driver.rules",
            id="rules-not-array",
        ),
        pytest.param(
            lambda d: d["runs"][0]["tool"]["driver"]["rules"][0]["properties"].update(tags="x"),
            "runs[0].tool.driver.rules[0].properties.tags",
            id="tags-not-array",
        ),
        pytest.param(lambda d: d["runs"][0].update(results={}), "runs[0].results", id="results"),
        pytest.param(
            lambda d: d["runs"][0]["results"].append("x"), "runs[0].results[1]", id="result"
        ),
        pytest.param(
            lambda d: d["runs"][0]["results"][0].pop("ruleId"),
            "runs[0].results[0].ruleId",
            id="rule-id-missing",
        ),
        pytest.param(
            lambda d: d["runs"][0]["results"][0].update(ruleIndex="0"),
            "runs[0].results[0].ruleIndex",
            id="rule-index",
        ),
        pytest.param(
            lambda d: d["runs"][0]["results"][0].update(message="text"),
            "runs[0].results[0].message",
            id="message",
        ),
        pytest.param(
            lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"].update(
                region={"startLine": "1"}
            ),
            "runs[0].results[0].locations[0].physicalLocation.region.startLine",
            id="start-line",
        ),
        pytest.param(
            lambda d: d["runs"][0].update(properties={"repoDigests": "x@sha256:1"}),
            "runs[0].properties.repoDigests",
            id="repo-digests",
        ),
        pytest.param(
            lambda d: d["runs"][0].update(invocations=[{"endTimeUtc": 5}]),
            "runs[0].invocations[0].endTimeUtc",
            id="invocation-time",
        ),
    ],
)
def test_malformed_shapes_name_file_and_place(mutate: Any, place: str) -> None:
    data = sarif_log(
        trivy_result("CVE-2024-0001", "apt", "2.6.1"), rules=(trivy_rule("CVE-2024-0001"),)
    )
    mutate(data)
    message = refusal(SOURCE, data, INLINE)
    assert message.startswith(f"{INLINE}: {place}: ")


# --- the real corpus (../shared/corpus, optional) -----------------------------------------

SARIF_KINDS = ("trivy-sarif", "sarif")
NGINX = (
    "trivy/trivy-0.42-image-nginx.sarif",
    "grype/grype-0.63-image-nginx.sarif",
    "other/snyk-container-image-nginx.sarif",
)


def _line(text: str, key: str) -> str:
    """Return the value of the ``key: value`` line of ``text``."""
    found = re.search(rf"^{key}: (.*)$", text, re.MULTILINE)
    assert found, f"no {key} line in {text!r}"
    return found.group(1)


def _expected_counts(data: dict[str, Any]) -> tuple[int, int]:
    """Count, straight from the raw SARIF, (distinct vulnerabilities, misconfigurations).

    Vulnerabilities are keyed (id, package, version) as each scanner writes them: Trivy's
    rule id and message lines, Grype's help line and result sentence, Snyk's
    ``(CVE) source/binary@version`` description; every other result is a check.
    """
    vulnerabilities: set[tuple[str, str, str]] = set()
    misconfigurations = 0
    for run in data["runs"]:
        driver = run["tool"]["driver"]
        rules = {rule["id"]: rule for rule in driver.get("rules") or []}
        for result in run.get("results") or []:
            rule = rules[result["ruleId"]]
            message = result["message"]["text"]
            if driver["name"] == "Trivy" and "vulnerability" in rule["properties"]["tags"]:
                key = (
                    result["ruleId"],
                    _line(message, "Package"),
                    _line(message, "Installed Version"),
                )
            elif driver["name"] == "Grype":
                sentence = re.search(r"reports (\S+) at version (\S+)", message)
                assert sentence
                vuln_id = rule["help"]["text"].splitlines()[0].split()[1]
                key = (vuln_id, sentence[1], sentence[2])
            elif driver["name"] == "Snyk Container":
                described = re.fullmatch(
                    r"\(([^)]*)\) (\S+)@(\S+)", rule["fullDescription"]["text"]
                )
                assert described
                key = (described[1].split(",")[0], described[2].split("/")[-1], described[3])
            else:
                misconfigurations += 1
                continue
            vulnerabilities.add(key)
    return len(vulnerabilities), misconfigurations


@pytest.mark.parametrize("local_path", corpus_params(*SARIF_KINDS))
def test_corpus_sarif_counts(local_path: str) -> None:
    data, fragment = parse_corpus(SOURCE, local_path)
    assert (len(fragment.vulnerabilities), len(fragment.misconfigurations)) == _expected_counts(
        data
    )
    assert fragment.secrets == fragment.licenses == []
    # Every package of the nginx scans is a Debian package, as Trivy/Grype JSON would say.
    assert {v.package.type for v in fragment.vulnerabilities} <= {"deb"}


@pytest.mark.skipif(
    not (CORPUS / "MANIFEST.tsv").exists(), reason="../shared/corpus is not present"
)
def test_corpus_same_image_from_three_scanners_merges() -> None:
    keys = []
    for local_path in NGINX:
        _, fragment = parse_corpus(SOURCE, local_path)
        assert fragment.subject.digest == (
            "sha256:13d22ec63300e16014d4a42aed735207a8b33c223cff19627dd3042e5a10a3a0"
        )
        keys.append({vulnerability_key(v) for v in fragment.vulnerabilities})
    trivy, grype, snyk = keys
    assert (len(trivy), len(grype), len(snyk)) == (99, 99, 65)
    assert len(trivy & grype) == 99
    # Snyk reports one binary per source package; all but one of its findings are shared.
    assert len(snyk & trivy) == len(snyk & grype) == len(trivy & grype & snyk) == 64
    assert len(trivy | grype | snyk) == 100
