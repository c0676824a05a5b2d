"""Fixed versions in the ecosystem's order, and the version remediation advice names."""

from __future__ import annotations

import json

import pytest

from gate.document import FindingSource, Package, Vulnerability
from gate.merge import merge_fragments
from gate.sources.base import Fragment
from gate.versions import lowest_fix, sort_versions

TOMCAT_FIXES = ["11.0.2", "9.0.99", "10.1.34"]


@pytest.mark.parametrize(
    ("ecosystem", "versions", "ordered"),
    [
        ("maven", TOMCAT_FIXES, ["9.0.99", "10.1.34", "11.0.2"]),
        # The epoch outranks everything after it; the Debian revision counts.
        ("deb", ["1:1.0-1", "2.0-1", "1.5-2", "1.5-10"], ["1.5-2", "1.5-10", "2.0-1", "1:1.0-1"]),
        # A tilde sorts before the release it precedes.
        ("deb", ["1.2", "1.2~rc1"], ["1.2~rc1", "1.2"]),
        (
            "rpm",
            ["1:1.0-1.el9", "2.0-1.el9", "1.10-1.el9"],
            ["1.10-1.el9", "2.0-1.el9", "1:1.0-1.el9"],
        ),
        ("apk", ["3.0.13-r0", "3.0.9-r1"], ["3.0.9-r1", "3.0.13-r0"]),
        ("npm", ["4.17.21", "4.17.3", "5.0.0-beta.1"], ["4.17.3", "4.17.21", "5.0.0-beta.1"]),
        ("pypi", ["2.0.0", "2.0.0rc1", "1.10"], ["1.10", "2.0.0rc1", "2.0.0"]),
        ("golang", ["v0.17.0", "v0.9.1"], ["v0.9.1", "v0.17.0"]),
    ],
)
def test_versions_sort_in_the_ecosystems_order(ecosystem, versions, ordered):
    assert sort_versions(ecosystem, versions) == ordered


@pytest.mark.parametrize(
    ("ecosystem", "versions"),
    [
        (None, ["2.0", "1.0"]),
        ("unknown-ecosystem", ["2.0", "1.0"]),
        # One unparsable version: no partial order, the scanner's order is kept.
        ("npm", ["2.0.0", "not a version", "1.0.0"]),
        ("maven", ["2.0", "1" * 300]),
    ],
)
def test_unknown_ecosystems_and_unparsable_versions_keep_scanner_order(ecosystem, versions):
    assert sort_versions(ecosystem, versions) == versions


def test_sort_drops_repeats_keeping_the_first():
    assert sort_versions("maven", ["2.0", "1.0", "2.0"]) == ["1.0", "2.0"]
    assert sort_versions("nope", ["2.0", "1.0", "2.0"]) == ["2.0", "1.0"]


@pytest.mark.parametrize(
    ("ecosystem", "installed", "fixed", "expected"),
    [
        # The case: not "9.0.99" (a downgrade), the 10.1 line's fix.
        ("maven", "10.1.33", TOMCAT_FIXES, "10.1.34"),
        ("maven", "9.0.50", TOMCAT_FIXES, "9.0.99"),
        ("maven", "11.0.0", TOMCAT_FIXES, "11.0.2"),
        # Every fix below the installed version: none to advise.
        ("maven", "12.0.0", TOMCAT_FIXES, None),
        ("deb", "1:1.2.13.dfsg-1", ["1.3-1", "1:1.2.13.dfsg-1+deb12u1"], "1:1.2.13.dfsg-1+deb12u1"),
        ("npm", "4.17.20", ["4.17.21"], "4.17.21"),
        # Unknown ecosystem, unknown or unparsable installed version: no single fix.
        ("unknown-ecosystem", "1.0", ["2.0"], None),
        (None, "1.0", ["2.0"], None),
        ("maven", None, TOMCAT_FIXES, None),
        ("npm", "not a version", ["1.0.0"], None),
        ("maven", "1.0", [], None),
        # An unparsable fix is passed over, not taken.
        ("npm", "1.0.0", ["garbage!!", "1.2.0"], "1.2.0"),
    ],
)
def test_lowest_fix_is_the_lowest_fixed_version_not_below_the_installed_one(
    ecosystem, installed, fixed, expected
):
    assert lowest_fix(ecosystem, installed, fixed) == expected


def _vulnerability(tool: str, package_type: str, version: str, fixed: list[str]) -> Vulnerability:
    return Vulnerability(
        id="CVE-2025-24813",
        severity="critical",
        package=Package(name="tomcat-embed-core", version=version, type=package_type),
        fixed_versions=fixed,
        fix_available=bool(fixed),
        status="fixed" if fixed else "unknown",
        sources=[FindingSource(tool=tool, input=f"{tool}.json", severity="critical")],
    )


def test_the_core_orders_merged_fixes_and_names_the_fix_version():
    trivy = Fragment(
        format="trivy-json",
        tool="trivy",
        vulnerabilities=[_vulnerability("trivy", "maven", "10.1.33", ["11.0.2", "9.0.99"])],
    )
    grype = Fragment(
        format="grype-json",
        tool="grype",
        vulnerabilities=[_vulnerability("grype", "maven", "10.1.33", ["10.1.34"])],
    )
    [merged] = merge_fragments([trivy, grype])["vulnerabilities"]
    assert merged.fixed_versions == ["9.0.99", "10.1.34", "11.0.2"]
    assert merged.fix_version == "10.1.34"


def test_the_core_names_no_fix_version_for_an_unknown_ecosystem():
    fragment = Fragment(
        format="trivy-json",
        tool="trivy",
        vulnerabilities=[_vulnerability("trivy", "strange", "10.1.33", ["11.0.2", "9.0.99"])],
    )
    [merged] = merge_fragments([fragment])["vulnerabilities"]
    assert merged.fixed_versions == ["11.0.2", "9.0.99"]
    assert merged.fix_version is None


def test_check_advises_the_fix_version_not_a_downgrade(gate_cli, tmp_path):
    report = {
        "SchemaVersion": 2,
        "ArtifactName": "ghcr.io/acme/api:1.0",
        "ArtifactType": "container_image",
        "Results": [
            {
                "Target": "app/lib/tomcat-embed-core-10.1.33.jar",
                "Class": "lang-pkgs",
                "Type": "jar",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": "CVE-2025-24813",
                        "PkgName": "org.apache.tomcat.embed:tomcat-embed-core",
                        "InstalledVersion": "10.1.33",
                        "FixedVersion": "11.0.3, 10.1.35, 9.0.99",
                        "Status": "fixed",
                        "Severity": "CRITICAL",
                    }
                ],
            }
        ],
    }
    path = tmp_path / "trivy.json"
    path.write_text(json.dumps(report))
    result = gate_cli("check", path, "--stage", "dev", "-f", "json")
    [violation] = [
        v for v in json.loads(result.out)["violations"] if v["id"] == "vuln-fixable-critical"
    ]
    assert violation["msg"].endswith("fixed in 9.0.99, 10.1.35, 11.0.3")
    assert "to 10.1.35 or later" in violation["remediation"]
