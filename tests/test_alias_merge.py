"""Merging never makes two vulnerabilities one (issue 7 §2).

Aliases (ids of the same vulnerability: CVE, GHSA, OSV…) join findings; vendor advisories
(RHSA, DSA, USN, ALAS…) cover many CVEs and are only recorded. The real-shaped Trivy report
fixtures/reports/trivy/vendor-advisories.json lists four openssl CVEs of Debian's
DSA-5343-1 in two packages (libssl1.1, openssl), each with ``VendorIDs: ["DSA-5343-1"]``, and
one jackson-databind CVE whose VendorIDs is its GHSA.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, fixture, load_input
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.document import FindingSource, Package, Subject, Vulnerability
from gate.identifiers import id_kind, identity_keys, split_listing
from gate.merge import is_cve, join_aliases, merge_vulnerabilities
from gate.sources import SOURCES
from gate.sources.base import Fragment
from gate.vex import VexStatement, apply_vex

TRIVY = "reports/trivy/vendor-advisories.json"
ADVISORY = "DSA-5343-1"
DSA_CVES = ["CVE-2022-4450", "CVE-2023-0215", "CVE-2023-0286", "CVE-2022-4304"]
INSTALLED = "1.1.1n-0+deb11u3"
AT = "2024-04-03T00:00:00Z"


@pytest.mark.parametrize(
    ("identifier", "kind"),
    [
        ("CVE-2023-0286", "cve"),
        ("cve-2023-0286", "cve"),
        ("GHSA-jjjh-jjxp-wpff", "vulnerability"),
        ("GO-2024-2611", "vulnerability"),
        ("PYSEC-2023-117", "vulnerability"),
        ("RUSTSEC-2023-0044", "vulnerability"),
        ("UBUNTU-CVE-2023-0286", "vulnerability"),  # Ubuntu's record of one CVE
        ("BIT-openssl-2023-0286", "vulnerability"),  # Bitnami's record of one CVE
        ("SNYK-DEBIAN11-OPENSSL-3314796", "vulnerability"),
        ("TEMP-0841600-0F2B8F", "vulnerability"),  # Debian's id of a CVE-less issue
        ("RHSA-2024:1234", "advisory"),
        ("RHBA-2023:7165", "advisory"),
        ("CESA-2023:0946", "advisory"),
        ("DSA-5343-1", "advisory"),
        ("dla-3325-1", "advisory"),
        ("USN-5844-1", "advisory"),
        ("ALAS-2023-1698", "advisory"),
        ("ALAS2-2023-1968", "advisory"),
        ("ALAS2023-2023-181", "advisory"),
        ("ALASKERNEL-5.10-2023-027", "advisory"),
        ("ELSA-2023-0946", "advisory"),
        ("RLSA-2023:0946", "advisory"),
        ("ALSA-2023:0946", "advisory"),
        ("SUSE-SU-2023:0311-1", "advisory"),
        ("openSUSE-SU-2023:0050-1", "advisory"),
        ("MGASA-2023-0055", "advisory"),
        ("FEDORA-2023-a5564c0a3f", "advisory"),
        ("GLSA-202402-08", "advisory"),
        ("PHSA-2023-4.0-0322", "advisory"),
    ],
)
def test_one_classifier_tells_advisories_from_vulnerability_ids(identifier: str, kind: str):
    assert id_kind(identifier) == kind


def normalized(gate_cli, *inputs: Path) -> list[dict[str, Any]]:
    run = gate_cli("normalize", *inputs)
    assert run.code == 0, run.err
    vulnerabilities: list[dict[str, Any]] = json.loads(run.out)["vulnerabilities"]
    return vulnerabilities


def by_cve_and_package(vulnerabilities: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    return {(v["id"], v["package"]["name"]): v for v in vulnerabilities}


def test_cves_sharing_an_advisory_stay_separate_findings(gate_cli):
    found = by_cve_and_package(normalized(gate_cli, fixture(TRIVY)))
    assert sorted(found) == sorted(
        [(cve, package) for cve in DSA_CVES for package in ("libssl1.1", "openssl")]
        + [("CVE-2022-42003", "com.fasterxml.jackson.core:jackson-databind")]
    )
    for cve in DSA_CVES:
        finding = found[(cve, "libssl1.1")]
        assert (finding["aliases"], finding["advisories"]) == ([], [ADVISORY])
    jar = found[("CVE-2022-42003", "com.fasterxml.jackson.core:jackson-databind")]
    # A GHSA is the same vulnerability as its CVE: an alias, not an advisory.
    assert (jar["aliases"], jar["advisories"]) == (["GHSA-jjjh-jjxp-wpff"], [])


def grype_report(matches: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "matches": matches,
        "source": {"type": "image", "target": {"userInput": "ghcr.io/acme/billing:2.3.0"}},
        "distro": {"name": "debian", "version": "11", "idLike": []},
        "descriptor": {"name": "grype", "version": "0.74.7", "timestamp": "2024-04-02T07:45:00Z"},
    }


def grype_match(own: str, related: list[str], package: str = "libssl1.1") -> dict[str, Any]:
    """One Grype match, shaped as Grype 0.74 writes it for a Debian package."""
    return {
        "vulnerability": {
            "id": own,
            "dataSource": f"https://security-tracker.debian.org/tracker/{own}",
            "namespace": "debian:distro:debian:11",
            "severity": "High",
            "urls": [],
            "fix": {"versions": ["1.1.1n-0+deb11u4"], "state": "fixed"},
        },
        "relatedVulnerabilities": [
            {
                "id": identifier,
                "dataSource": f"https://nvd.nist.gov/vuln/detail/{identifier}",
                "namespace": "nvd:cpe",
                "severity": "High",
            }
            for identifier in related
        ],
        "matchDetails": [{"type": "exact-direct-match", "matcher": "dpkg-matcher"}],
        "artifact": {
            "name": package,
            "version": INSTALLED,
            "type": "deb",
            "locations": [{"path": "/var/lib/dpkg/status"}],
            "purl": f"pkg:deb/debian/{package}@{INSTALLED}?arch=amd64&distro=debian-11",
        },
    }


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_a_second_scanner_joins_one_to_one_by_cve(gate_cli, tmp_path):
    grype = write_json(
        tmp_path / "grype.json",
        grype_report([grype_match(cve, [cve]) for cve in DSA_CVES[:3]]),
    )
    found = by_cve_and_package(normalized(gate_cli, fixture(TRIVY), grype))
    assert len(found) == 9  # the Trivy findings, none lost, none added
    for cve in DSA_CVES[:3]:
        tools = [s["tool"] for s in found[(cve, "libssl1.1")]["sources"]]
        assert tools == ["trivy", "grype"]
    assert [s["tool"] for s in found[(DSA_CVES[3], "libssl1.1")]["sources"]] == ["trivy"]


def test_a_grype_advisory_match_is_one_finding_per_cve_it_names(gate_cli, tmp_path):
    # Grype files Amazon (ALAS) and some distro matches under the advisory, relating its CVEs.
    grype = write_json(
        tmp_path / "grype.json",
        grype_report([grype_match("ALAS2-2023-1968", DSA_CVES[:3])]),
    )
    found = normalized(gate_cli, grype)
    assert [(v["id"], v["aliases"], v["advisories"]) for v in found] == [
        (cve, [], ["ALAS2-2023-1968"]) for cve in sorted(DSA_CVES[:3])
    ]


def vuln(
    vid: str,
    aliases: list[str] | None = None,
    advisories: list[str] | None = None,
    tool: str = "trivy",
    package: str = "libssl1.1",
) -> Vulnerability:
    return Vulnerability(
        id=vid,
        aliases=aliases or [],
        advisories=advisories or [],
        severity="high",
        package=Package(name=package, version=INSTALLED, type="deb"),
        fix_available=False,
        sources=[FindingSource(tool=tool, input=f"{tool}.json", severity="high")],
    )


def test_join_aliases_refuses_an_advisory_even_when_a_source_calls_it_an_alias():
    # Defence in depth: a source bug that puts DSA-5343-1 in aliases joins nothing.
    listed = [vuln(cve, aliases=[ADVISORY]) for cve in DSA_CVES]
    assert [v.id for v in join_aliases(listed)] == DSA_CVES


def test_an_id_two_reports_tie_to_different_cves_never_makes_them_one():
    # Hostile or buggy inputs: one report says GHSA-x is CVE-A, another that it is CVE-B.
    first = vuln("CVE-2023-0215", aliases=["GHSA-xxxx-yyyy-zzzz"], tool="trivy")
    second = vuln("GHSA-xxxx-yyyy-zzzz", aliases=["CVE-2023-0286"], tool="snyk")
    third = vuln("CVE-2023-0286", tool="grype")
    joined = join_aliases([first, second, third])
    assert sorted(v.id for v in joined) == ["CVE-2023-0215", "CVE-2023-0286"]
    claimed_b = next(v for v in joined if v.id == "CVE-2023-0286")
    assert [s.tool for s in claimed_b.sources] == ["snyk", "grype"]
    # Claimed for both, the GHSA is an alias of neither: a waiver naming it covers nothing.
    assert [(v.aliases, v.advisories) for v in joined] == [([], ["GHSA-xxxx-yyyy-zzzz"])] * 2


def test_a_listing_naming_two_cves_becomes_two_findings():
    # A source that put a second CVE among the aliases (Snyk does for a grouped issue).
    split = merge_vulnerabilities([vuln("CVE-2023-0215", aliases=["CVE-2023-0286", "GHSA-1"])])
    assert [(v.id, v.aliases, v.advisories) for v in split] == [
        ("CVE-2023-0215", [], ["GHSA-1"]),
        ("CVE-2023-0286", [], ["GHSA-1"]),
    ]


def test_a_finding_named_only_by_an_advisory_stays_its_own_finding():
    by_advisory = vuln("RHSA-2023:0946", tool="scanner-a")
    listed = [vuln(cve, advisories=["RHSA-2023:0946"]) for cve in DSA_CVES[:2]]
    merged = join_aliases(merge_vulnerabilities([by_advisory, *listed]))
    assert sorted(v.id for v in merged) == sorted(["RHSA-2023:0946", *DSA_CVES[:2]])
    assert split_listing(by_advisory) == [by_advisory]


def test_identity_keys_leave_out_advisories_and_second_cves():
    assert identity_keys("CVE-1", ["GHSA-1", ADVISORY, "CVE-2"]) == ["CVE-1", "GHSA-1"]
    # Not named by a CVE, but claiming two: known by its own id alone, never by either CVE.
    assert identity_keys("SNYK-1", ["CVE-1", "CVE-2"]) == ["SNYK-1"]
    assert identity_keys("GHSA-1", ["CVE-1"]) == ["GHSA-1", "CVE-1"]


# --- VEX ------------------------------------------------------------------------------


def openvex(path: Path, vulnerability: str, package: str) -> Path:
    """An OpenVEX document about ``package`` in the gated image (VEX must name the image)."""
    return write_json(
        path,
        {
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://acme.example/vex/billing-2024-001",
            "author": "Acme Security",
            "timestamp": "2024-03-01T00:00:00Z",
            "version": 1,
            "statements": [
                {
                    "vulnerability": {"name": vulnerability},
                    "products": [
                        {"@id": "ghcr.io/acme/billing:2.3.0", "subcomponents": [{"@id": package}]}
                    ],
                    "status": "not_affected",
                    "justification": "vulnerable_code_not_in_execute_path",
                }
            ],
        },
    )


def test_a_vex_statement_for_one_cve_covers_exactly_that_one(gate_cli, tmp_path):
    vex = openvex(
        tmp_path / "vex.json",
        "CVE-2023-0215",
        f"pkg:deb/debian/libssl1.1@{INSTALLED}?arch=amd64",
    )
    found = normalized(gate_cli, fixture(TRIVY), vex)
    covered = [(v["id"], v["package"]["name"]) for v in found if v["vex"]]
    assert covered == [("CVE-2023-0215", "libssl1.1")]


def test_a_vex_statement_about_an_advisory_covers_nothing(gate_cli, tmp_path):
    vex = openvex(tmp_path / "vex.json", ADVISORY, "pkg:deb/debian/libssl1.1")
    found = normalized(gate_cli, fixture(TRIVY), vex)
    assert [v["id"] for v in found if v["vex"]] == []


def test_a_vex_statement_never_reaches_another_cve_through_a_shared_alias():
    statement = VexStatement(
        vulnerability="CVE-2023-0286",
        aliases=("GHSA-xxxx-yyyy-zzzz",),
        status="not_affected",
        products=("pkg:deb/debian/libssl1.1",),
        justification="component_not_present",
        source="vex.json",
    )
    other = vuln("CVE-2023-0215", aliases=["GHSA-xxxx-yyyy-zzzz"])
    same = vuln("GHSA-xxxx-yyyy-zzzz", aliases=["CVE-2023-0286"])
    result = apply_vex([other, same], [statement], Subject())
    assert [v.vex is not None for v in result] == [False, True]


@pytest.mark.parametrize(
    ("aliases", "covered"),
    [
        pytest.param((), [], id="advisory-alone"),
        pytest.param(("CVE-2023-0286",), ["CVE-2023-0286"], id="advisory-of-one-cve"),
        pytest.param(("CVE-2023-0286", "CVE-2023-0215"), [], id="advisory-of-two-cves"),
    ],
)
def test_a_vex_statement_named_by_an_advisory_counts_only_by_its_one_cve(
    aliases: tuple[str, ...], covered: list[str]
):
    statement = VexStatement(
        vulnerability="RHSA-2023:0946",
        aliases=aliases,
        status="not_affected",
        products=("pkg:deb/debian/libssl1.1",),
        justification="component_not_present",
        source="vex.json",
    )
    findings = [
        vuln("CVE-2023-0286", advisories=["RHSA-2023:0946"]),
        vuln("CVE-2023-0215", advisories=["RHSA-2023:0946"]),
        vuln("RHSA-2023:0946"),
    ]
    result = apply_vex(findings, [statement], Subject())
    assert [v.id for v in result if v.vex is not None] == covered


def test_fragment_findings_count_each_cve(tmp_path):
    # What a scan records as its findings is what the document keeps.
    from gate.run import read_fragment

    grype = write_json(tmp_path / "g.json", grype_report([grype_match("ALAS-1", DSA_CVES[:2])]))
    _, fragment = read_fragment(str(grype))
    assert isinstance(fragment, Fragment)
    assert [v.id for v in fragment.vulnerabilities] == DSA_CVES[:2]


# --- property: whatever the scanners claim, no CVE is lost and none is merged into another --

IDS = ["CVE-2023-1", "CVE-2023-2", "CVE-2023-3", "GHSA-a", "GHSA-b", "DSA-1", "RHSA-2023:1"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["libssl1.1", "openssl"]),
            st.sampled_from(IDS),
            st.lists(st.sampled_from(IDS), max_size=4),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_merging_never_loses_a_cve_nor_makes_two_one(
    listings: list[tuple[str, str, list[str]]],
) -> None:
    given_cves = {
        (package, i) for package, own, aliases in listings for i in [own, *aliases] if is_cve(i)
    }
    listed = [
        vuln(own, aliases=[a for a in aliases if a != own], package=package, tool=f"t{n}")
        for n, (package, own, aliases) in enumerate(listings)
    ]
    merged = join_aliases(merge_vulnerabilities(listed))
    named = [(v.package.name, v.id) for v in merged if is_cve(v.id)]
    assert sorted(named) == sorted(given_cves)  # each CVE once per package, none lost
    for finding in merged:
        assert not any(id_kind(a) == "advisory" for a in finding.aliases)
        assert not any(is_cve(a) for a in finding.aliases) or not is_cve(finding.id)


def test_real_grype_rhel_matches_sharing_an_errata_stay_six_findings():
    # Grype 0.96 on a UBI 8 image: six avahi CVEs, each listing RHSA-2023:7836.
    path = CORPUS / "grype" / "grype-0.96-image-ubi8-rpm-java.json"
    if not path.exists():
        pytest.skip("shared corpus not present")
    data, source = load_input(path)
    listed = SOURCES["grype-json"].parse(data, source).vulnerabilities
    covered = [v for v in listed if "RHSA-2023:7836" in v.advisories]
    expected = ["CVE-2021-3468", *(f"CVE-2023-{n}" for n in range(38469, 38474))]
    assert sorted(v.id for v in covered) == expected
    assert all(v.aliases == [] and v.package.name == "avahi-libs" for v in covered)
    assert len(join_aliases(merge_vulnerabilities(covered))) == 6
