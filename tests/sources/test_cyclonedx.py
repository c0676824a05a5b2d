"""CycloneDX: detection, inventory, subject, findings, severity choice, VEX analysis, corpus."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FIXTURES, corpus_params, load_input
from tests_support import parse_corpus, refusal, replaced, stand_in

from gate.merge import package_name_key
from gate.sources.base import Fragment, purl_type
from gate.sources.cyclonedx import CycloneDxSource
from gate.vex import VexStatement

SOURCE = CycloneDxSource()
SBOM = FIXTURES / "sbom"
MANIFEST_DIGEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
IMAGE_ID = "sha256:9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
CURL = "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u1?arch=amd64&distro=debian-12.5"


def parse_fixture(name: str) -> Fragment:
    """Parse a fixture under fixtures/sbom."""
    data, source = load_input(SBOM / name, f"sbom/{name}")
    return SOURCE.parse(data, source)


def parse_inline(data: Any) -> Fragment:
    """Parse an in-test document."""
    return SOURCE.parse(data, stand_in("inline.cdx.json"))


def findings_by_package(fragment: Fragment) -> dict[str, Any]:
    """Index the fragment's findings by package name (one each in the fixtures)."""
    return {v.package.name: v for v in fragment.vulnerabilities}


def bom(*vulnerabilities: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A small BOM with one package component (bom-ref ``lib``) and the given entries."""
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [
            {
                "bom-ref": "lib",
                "type": "library",
                "name": "libfoo",
                "version": "1.0",
                "purl": "pkg:deb/debian/libfoo@1.0",
            },
        ],
        "vulnerabilities": list(vulnerabilities),
        **extra,
    }


def entry(**fields: Any) -> dict[str, Any]:
    """A vulnerability entry affecting ``lib``."""
    return {"id": "CVE-2024-0001", "affects": [{"ref": "lib"}], **fields}


# --- detection -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({"bomFormat": "CycloneDX", "specVersion": "1.4"}, True, id="minimal"),
        pytest.param({"bomFormat": "cyclonedx", "specVersion": "1.4"}, False, id="wrong-case"),
        pytest.param({"specVersion": "1.4", "components": []}, False, id="no-bomFormat"),
        pytest.param({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}, False, id="spdx"),
        pytest.param({"matches": [], "source": {}}, False, id="grype"),
        pytest.param(
            {"@context": "https://openvex.dev/ns/v0.2.0", "statements": []}, False, id="openvex"
        ),
        pytest.param([{"bomFormat": "CycloneDX"}], False, id="list"),
        pytest.param(None, False, id="null"),
    ],
)
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


# --- the Trivy-style image BOM (1.5, tools array) ----------------------------------------


def test_scan_facts() -> None:
    fragment = parse_fixture("cyclonedx-1.5-image.json")
    assert (fragment.format, fragment.tool, fragment.tool_version) == (
        "cyclonedx",
        "trivy",
        "0.49.1",
    )
    assert fragment.created == "2024-10-14T07:21:40Z"
    assert fragment.kinds == ["sbom", "vex", "vulnerability"]
    assert fragment.artifact_name == "ghcr.io/acme/shop-api:1.4.2"
    assert fragment.artifact_type == "container_image"
    assert fragment.artifact_digests == [IMAGE_ID, MANIFEST_DIGEST]
    assert fragment.authority == 0


def test_subject_and_image_from_trivy_properties() -> None:
    fragment = parse_fixture("cyclonedx-1.5-image.json")
    subject = fragment.subject
    assert (subject.registry, subject.repository, subject.tag) == (
        "ghcr.io",
        "acme/shop-api",
        "1.4.2",
    )
    assert (subject.digest, subject.image_id) == (MANIFEST_DIGEST, IMAGE_ID)
    image = fragment.image
    assert image is not None
    assert (image.os_family, image.os_version) == ("debian", "12.5")
    assert [layer.digest for layer in image.layers] == [
        "sha256:2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a3740",
        "sha256:8a1cee436cbac1489a1883c9d886fcfc46f302c55ed4106ae31729e4f4eb9041",
        "sha256:10dacdccfe877dc064d57442e6fa7a4e3085dc94e11a29819c2290fc3d788724",
    ]


def test_inventory_skips_os_and_grouping_components_and_merges_by_purl() -> None:
    data, _ = load_input(SBOM / "cyclonedx-1.5-image.json")
    fragment = parse_fixture("cyclonedx-1.5-image.json")
    assert len(data["components"]) == 9  # OS + "app/lib" grouping + tomcat listed twice
    packages = {p.name: p for p in fragment.packages}
    assert list(packages) == ["libssl3", "curl", "zlib1g", "procps", "tomcat-embed-core", "kernel"]
    tomcat = packages["tomcat-embed-core"]
    assert tomcat.locations == [
        "app/lib/tomcat-embed-core-10.1.33.jar",
        "app/BOOT-INF/lib/tomcat-embed-core-10.1.33.jar",
    ]
    assert tomcat.type == "maven"
    assert [s.model_dump() for s in tomcat.sources] == [
        {"tool": "trivy", "input": "sbom/cyclonedx-1.5-image.json"}
    ]
    # Trivy keeps the Debian epoch in the purl's qualifiers only; it is put back.
    assert packages["zlib1g"].version == "1:1.2.13.dfsg-1"
    assert packages["procps"].version == "2:4.0.2-3"


@pytest.mark.parametrize(
    ("package", "licenses"),
    [
        pytest.param("libssl3", ["Apache-2.0"], id="license-id"),
        pytest.param("curl", ["curl"], id="license-name"),
        pytest.param("zlib1g", ["Zlib"], id="expression"),
        pytest.param("procps", ["GPL-2.0-or-later"], id="gpl"),
        pytest.param("kernel", ["AGPL-3.0-only"], id="agpl"),
    ],
)
def test_licenses(package: str, licenses: list[str]) -> None:
    packages = {p.name: p for p in parse_fixture("cyclonedx-1.5-image.json").packages}
    assert packages[package].licenses == licenses


@pytest.mark.parametrize(
    ("package", "vid", "aliases", "severity", "rater", "cvss", "fixed"),
    [
        pytest.param(
            "libssl3",
            "CVE-2024-5535",
            [],
            "low",
            "debian",
            ("3.1", "nvd", 9.1),
            [],
            id="primary-source-rating-wins",
        ),
        pytest.param(
            "curl",
            "CVE-2023-38545",
            [],
            "critical",
            "nvd",
            ("3.1", "nvd", 9.8),
            [],
            id="no-primary-rating-highest-wins",
        ),
        pytest.param(
            "tomcat-embed-core",
            "CVE-2025-24813",
            ["GHSA-83qj-6fr2-vhqg"],
            "critical",
            "ghsa",
            ("3.1", "nvd", 9.8),
            ["10.1.35"],
            id="ghsa-promoted-to-cve-with-unaffected-version",
        ),
        pytest.param(
            "zlib1g",
            "CVE-2023-45853",
            [],
            "low",
            "debian",
            ("3.1", "nvd", 9.8),
            [],
            id="epoch-version",
        ),
    ],
)
def test_findings(
    package: str,
    vid: str,
    aliases: list[str],
    severity: str,
    rater: str,
    cvss: tuple[str, str, float],
    fixed: list[str],
) -> None:
    finding = findings_by_package(parse_fixture("cyclonedx-1.5-image.json"))[package]
    assert (finding.id, finding.aliases) == (vid, aliases)
    assert finding.severity == severity
    assert finding.sources[0].tool == "trivy"
    assert finding.sources[0].severity_source == rater
    assert finding.cvss is not None
    assert (finding.cvss.version, finding.cvss.source, finding.cvss.score) == cvss
    assert finding.fixed_versions == fixed
    assert (finding.fix_available, finding.status) == (
        (True, "fixed") if fixed else (False, "unknown")
    )
    assert finding.vex is None  # statements are applied later, by the core


def test_finding_details() -> None:
    finding = findings_by_package(parse_fixture("cyclonedx-1.5-image.json"))["libssl3"]
    assert (
        finding.package.purl
        == "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.5"
    )
    assert finding.package.type == "deb"
    assert finding.published == "2024-06-27T11:15:24Z"
    assert finding.description is not None and finding.description.startswith("Calling")
    assert finding.urls == [
        "https://salsa.debian.org/security-tracker-team/security-tracker",
        "https://avd.aquasec.com/nvd/cve-2024-5535",
        "https://www.openssl.org/news/secadv/20240627.txt",
    ]


def test_entry_affecting_a_package_twice_is_one_finding_and_unresolved_refs_are_kept() -> None:
    data, _ = load_input(SBOM / "cyclonedx-1.5-image.json")
    fragment = parse_fixture("cyclonedx-1.5-image.json")
    assert sum(len(v["affects"]) for v in data["vulnerabilities"]) == 6
    # tomcat's two listings merge; the TEMP- entry names a package the BOM does not list:
    # it stays, as a finding of the image.
    assert sorted(v.id for v in fragment.vulnerabilities) == [
        "CVE-2023-38545",
        "CVE-2023-45853",
        "CVE-2024-5535",
        "CVE-2025-24813",
        "TEMP-0290435-0B57B5",
    ]
    [unresolved] = [v for v in fragment.vulnerabilities if v.id.startswith("TEMP-")]
    assert unresolved.package.unresolved is not None
    assert "resolves to no component" in unresolved.package.unresolved
    tomcat = findings_by_package(fragment)["tomcat-embed-core"]
    assert tomcat.package.path == "app/lib/tomcat-embed-core-10.1.33.jar"  # the first listing's


def test_analysis_becomes_a_statement_and_bare_in_triage_does_not() -> None:
    fragment = parse_fixture("cyclonedx-1.5-image.json")
    assert fragment.vex == [
        VexStatement(
            vulnerability="CVE-2023-38545",
            status="not_affected",
            source="sbom/cyclonedx-1.5-image.json",
            products=(CURL,),
            justification="code_not_reachable",
            impact_statement="shop-api never configures a SOCKS5 proxy; curl is only used by "
            "the container healthcheck against localhost.",
            timestamp="2024-10-10T12:30:00Z",  # lastUpdated beats firstIssued
            document_id="urn:uuid:6c1f8e0a-2b7d-4f43-9a51-0d7e3c2b9f14",
            order=(1,),
        )
    ]


# --- the Syft-style BOM (1.6, tools object) ---------------------------------------------


def test_tools_object_and_digest_version() -> None:
    fragment = parse_fixture("cyclonedx-1.6-image-tools-object.json")
    assert (fragment.tool, fragment.tool_version) == ("syft", "1.18.1")
    assert fragment.created == "2024-10-14T07:19:02Z"  # +02:00 moved to UTC
    assert fragment.kinds == ["sbom"]
    assert fragment.vulnerabilities == [] and fragment.vex == []
    assert fragment.subject.reference == "ghcr.io/acme/shop-api:1.4.2"
    assert fragment.subject.digest == MANIFEST_DIGEST  # the container's version
    assert fragment.subject.image_id is None
    assert fragment.artifact_digests == [MANIFEST_DIGEST]
    assert fragment.image is not None
    assert (fragment.image.os_family, fragment.image.os_version) == ("debian", "12")


def test_syft_properties_evidence_and_acknowledgement() -> None:
    packages = {p.name: p for p in parse_fixture("cyclonedx-1.6-image-tools-object.json").packages}
    assert "/app/bin/shop-api" not in packages  # a file component is not a package
    assert len(packages) == 6
    ssl = packages["libssl3"]
    assert ssl.licenses == ["OpenSSL", "Apache-2.0"]  # declared before concluded
    assert ssl.cpes == [
        "cpe:2.3:a:libssl3:libssl3:3.0.11-1\\~deb12u2:*:*:*:*:*:*:*",
        "cpe:2.3:a:openssl:openssl:3.0.11-1\\~deb12u2:*:*:*:*:*:*:*",
    ]
    assert ssl.locations == ["/var/lib/dpkg/status"]
    assert packages["kernel"].locations == ["/app/lib/kernel-7.2.5.jar"]  # evidence.occurrences
    assert packages["procps"].licenses == ["GPL-2.0-or-later AND LGPL-2.0-or-later"]
    assert packages["zlib1g"].version == "1:1.2.13.dfsg-1"


# --- pure VEX --------------------------------------------------------------------------


def test_pure_vex_gives_statements_only() -> None:
    fragment = parse_fixture("cyclonedx-vex.json")
    assert fragment.kinds == ["vex"]
    assert fragment.packages == [] and fragment.vulnerabilities == []
    assert fragment.subject.reference is None and fragment.subject.digest is None
    assert fragment.image is None
    assert fragment.tool == "cyclonedx"
    assert {s.author for s in fragment.vex} == {"ACME Product Security"}
    assert {s.document_id for s in fragment.vex} == {
        "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
    }
    assert [s.order for s in fragment.vex] == [(0,), (1,), (2,), (3,), (4,)]


@pytest.mark.parametrize(
    ("index", "vid", "status", "justification", "action", "timestamp", "products"),
    [
        pytest.param(
            0,
            "CVE-2023-38545",
            "not_affected",
            "requires_configuration",
            None,
            "2024-10-15T07:45:00Z",
            (CURL,),
            id="bom-link-to-purl",
        ),
        pytest.param(
            1,
            "CVE-2024-5535",
            "fixed",
            None,
            None,
            "2024-10-12T08:00:00Z",
            ("pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.5",),
            id="resolved-first-issued",
        ),
        pytest.param(
            2,
            "CVE-2025-24813",
            "affected",
            None,
            "update",
            "2024-10-15T08:00:00Z",
            (
                "pkg:oci/shop-api@sha256%3A4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
                "?repository_url=ghcr.io%2Facme%2Fshop-api",
                "ghcr.io/acme/shop-api",
            ),
            id="exploitable-on-the-image",
        ),
        pytest.param(
            3,
            "CVE-2023-45853",
            "not_affected",
            "false_positive",
            None,
            "2024-10-15T08:00:00Z",
            ("pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12.5&epoch=1",),
            id="false-positive-metadata-time",
        ),
        pytest.param(
            4,
            "CVE-2011-3374",
            "under_investigation",
            None,
            None,
            "2024-10-15T08:00:00Z",
            ("pkg:deb/debian/apt@2.6.1?arch=amd64&distro=debian-12.5",),
            id="in-triage-with-detail",
        ),
    ],
)
def test_pure_vex_statements(
    index: int,
    vid: str,
    status: str,
    justification: str | None,
    action: str | None,
    timestamp: str,
    products: tuple[str, ...],
) -> None:
    statement = parse_fixture("cyclonedx-vex.json").vex[index]
    assert (statement.vulnerability, statement.status) == (vid, status)
    assert statement.justification == justification
    assert statement.action_statement == action
    assert statement.timestamp == timestamp
    assert statement.products == products
    assert statement.impact_statement


def test_vex_aliases_from_references() -> None:
    statement = parse_fixture("cyclonedx-vex.json").vex[2]
    assert statement.aliases == ("GHSA-83qj-6fr2-vhqg",)


@pytest.mark.parametrize(
    ("state", "status", "justification"),
    [
        pytest.param("not_affected", "not_affected", None, id="not_affected"),
        pytest.param("false_positive", "not_affected", "false_positive", id="false_positive"),
        pytest.param("resolved", "fixed", None, id="resolved"),
        pytest.param("resolved_with_pedigree", "fixed", None, id="resolved_with_pedigree"),
        pytest.param("exploitable", "affected", None, id="exploitable"),
        pytest.param("in_triage", "under_investigation", None, id="in_triage"),
    ],
)
def test_analysis_states(state: str, status: str, justification: str | None) -> None:
    [statement] = parse_inline(bom(entry(analysis={"state": state, "detail": "x"}))).vex
    assert (statement.status, statement.justification) == (status, justification)
    assert statement.products == ("pkg:deb/debian/libfoo@1.0",)


def test_false_positive_keeps_a_written_justification() -> None:
    analysis = {"state": "false_positive", "justification": "code_not_present"}
    [statement] = parse_inline(bom(entry(analysis=analysis))).vex
    assert statement.justification == "code_not_present"


def test_unknown_state_fails() -> None:
    message = refusal(SOURCE, bom(entry(analysis={"state": "ignored"})), "inline.cdx.json")
    assert message.startswith("inline.cdx.json: vulnerabilities[0].analysis.state:")


@pytest.mark.parametrize(
    ("analysis", "statements"),
    [
        pytest.param({"state": "in_triage"}, 0, id="bare-in-triage"),
        pytest.param({}, 0, id="empty"),
        pytest.param({"justification": "code_not_present"}, 0, id="no-state"),
        pytest.param({"state": "in_triage", "response": ["update"]}, 1, id="in-triage-response"),
    ],
)
def test_which_analyses_are_statements(analysis: dict[str, Any], statements: int) -> None:
    fragment = parse_inline(bom(entry(analysis=analysis)))
    assert len(fragment.vex) == statements
    assert ("vex" in fragment.kinds) is bool(statements)


# --- severity, CVSS, fixes, tools (inline) -----------------------------------------------


@pytest.mark.parametrize(
    ("source", "ratings", "severity", "rater"),
    [
        pytest.param(
            "debian",
            [
                {"source": {"name": "nvd"}, "severity": "critical"},
                {"source": {"name": "Debian"}, "severity": "low"},
            ],
            "low",
            "debian",
            id="primary-case-insensitive",
        ),
        pytest.param(
            "debian",
            [
                {"source": {"name": "nvd"}, "severity": "high"},
                {"source": {"name": "redhat"}, "severity": "medium"},
            ],
            "high",
            "nvd",
            id="highest-of-others",
        ),
        pytest.param(
            "nvd:cpe",
            [{"severity": "critical"}, {"score": 10, "method": "CVSSv31"}],
            "critical",
            "nvd",
            id="grype-sourceless-rating-is-own",
        ),
        pytest.param(
            "debian",
            [{"source": {"name": "debian"}}, {"source": {"name": "nvd"}, "severity": "medium"}],
            "medium",
            "nvd",
            id="primary-without-word-falls-back",
        ),
        pytest.param(
            "debian",
            [{"source": {"name": "nvd"}, "severity": "info"}],
            "negligible",
            "nvd",
            id="info",
        ),
        pytest.param("debian", [], "unknown", None, id="no-ratings"),
    ],
)
def test_severity_choice(
    source: str, ratings: list[dict[str, Any]], severity: str, rater: str | None
) -> None:
    [finding] = parse_inline(bom(entry(source={"name": source}, ratings=ratings))).vulnerabilities
    assert (finding.severity, finding.sources[0].severity_source) == (severity, rater)


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        pytest.param(
            [{"method": "CVSSv2", "score": 5, "vector": "AV:N/AC:L/Au:N/C:P/I:N/A:N"}],
            ("2.0", 5.0),
            id="v2",
        ),
        pytest.param(
            [
                {
                    "method": "CVSSv3",
                    "score": 7.5,
                    "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
                }
            ],
            ("3.1", 7.5),
            id="vector-prefix-wins",
        ),
        pytest.param(
            [{"method": "CVSSv31", "score": 9.8}, {"method": "CVSSv4", "score": 9.3}],
            ("4.0", 9.3),
            id="v4-preferred",
        ),
        pytest.param([{"method": "OWASP", "score": 7}], None, id="not-cvss"),
    ],
)
def test_cvss(ratings: list[dict[str, Any]], expected: tuple[str, float] | None) -> None:
    [finding] = parse_inline(bom(entry(ratings=ratings))).vulnerabilities
    got = (finding.cvss.version, finding.cvss.score) if finding.cvss else None
    assert got == expected


def test_grype_fixed_versions_property() -> None:
    properties = [{"name": "grype:fixed_versions", "value": "2.15.0, 2.12.2"}]
    [finding] = parse_inline(bom(entry(properties=properties))).vulnerabilities
    assert (finding.fixed_versions, finding.status) == (["2.15.0", "2.12.2"], "fixed")


@pytest.mark.parametrize(
    ("metadata", "tool"),
    [
        pytest.param(
            {"tools": [{"vendor": "anchore", "name": "Grype", "version": "0.41.0"}]},
            ("grype", "0.41.0"),
            id="1.4-array",
        ),
        pytest.param(
            {"tools": {"components": [{"name": "trivy", "version": "0.50.0"}]}},
            ("trivy", "0.50.0"),
            id="1.5-object",
        ),
        pytest.param(
            {"tools": {"services": [{"name": "api"}]}}, ("cyclonedx", None), id="services-only"
        ),
        pytest.param({}, ("cyclonedx", None), id="none"),
    ],
)
def test_tool(metadata: dict[str, Any], tool: tuple[str, str | None]) -> None:
    fragment = parse_inline(bom(metadata=metadata))
    assert (fragment.tool, fragment.tool_version) == tool


@pytest.mark.parametrize(
    ("component", "reference", "digest"),
    [
        pytest.param(
            {"name": "ghcr.io/acme/shop-api", "version": "1.4.2"},
            "ghcr.io/acme/shop-api:1.4.2",
            None,
            id="name-plus-tag-version",
        ),
        pytest.param(
            {"name": "ubuntu:latest", "version": ""}, "ubuntu:latest", None, id="trivy-tagged-name"
        ),
        pytest.param(
            {"name": "user-image-input", "version": "sha256:redacted"},
            "user-image-input",
            None,
            id="redacted-digest-dropped",
        ),
        pytest.param(
            {
                "name": "ubuntu:latest",
                "purl": f"pkg:oci/ubuntu@{MANIFEST_DIGEST.replace(':', '%3A')}"
                "?repository_url=index.docker.io%2Flibrary%2Fubuntu",
            },
            "ubuntu:latest",
            MANIFEST_DIGEST,
            id="oci-purl-digest",
        ),
    ],
)
def test_container_root(component: dict[str, Any], reference: str, digest: str | None) -> None:
    fragment = parse_inline(bom(metadata={"component": {"type": "container", **component}}))
    assert fragment.artifact_type == "container_image"
    assert (fragment.subject.reference, fragment.subject.digest) == (reference, digest)


def test_file_root_and_nested_components() -> None:
    data = bom(
        entry(affects=[{"ref": "inner"}]), metadata={"component": {"type": "file", "name": "./app"}}
    )
    data["components"][0]["components"] = [
        {
            "bom-ref": "inner",
            "type": "library",
            "name": "inner",
            "version": "2.0",
            "purl": "pkg:npm/inner@2.0",
        },
    ]
    fragment = parse_inline(data)
    assert (fragment.artifact_type, fragment.artifact_name) == ("filesystem", "./app")
    assert fragment.subject.reference is None and fragment.image is None
    assert [p.name for p in fragment.packages] == ["libfoo", "inner"]
    assert [v.package.name for v in fragment.vulnerabilities] == ["inner"]


# --- malformed -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "place"),
    [
        pytest.param(["specVersion"], "2.0", "specVersion", id="spec-version"),
        pytest.param(["components"], {}, "components", id="components-object"),
        pytest.param(["components", 2], "curl", "components[2]", id="component-string"),
        pytest.param(["components", 1, "name"], 7, "components[1].name", id="name-number"),
        pytest.param(
            ["components", 1, "licenses", 0],
            "MIT",
            "components[1].licenses[0]",
            id="license-string",
        ),
        pytest.param(["vulnerabilities", 0, "id"], "", "vulnerabilities[0].id", id="no-id"),
        pytest.param(
            ["vulnerabilities", 0, "affects", 0, "ref"],
            None,
            "vulnerabilities[0].affects[0].ref",
            id="no-ref",
        ),
        pytest.param(
            ["vulnerabilities", 0, "ratings", 1, "score"],
            "9.1",
            "vulnerabilities[0].ratings[1].score",
            id="score-string",
        ),
        pytest.param(
            ["vulnerabilities", 1, "analysis", "response"],
            "update",
            "vulnerabilities[1].analysis.response",
            id="response-string",
        ),
        pytest.param(["metadata", "tools"], "trivy", "metadata.tools", id="tools-string"),
        pytest.param(
            ["metadata", "component", "properties", 0],
            [],
            "metadata.component.properties[0]",
            id="property-array",
        ),
    ],
)
def test_malformed_documents_name_file_and_place(
    path: list[str | int], value: Any, place: str
) -> None:
    data = replaced(load_input(SBOM / "cyclonedx-1.5-image.json")[0], path, value)
    message = refusal(SOURCE, data, "sboms/shop.cdx.json")
    assert message.startswith(f"sboms/shop.cdx.json: {place}:")


# --- the real corpus -------------------------------------------------------------------

_NOT_PACKAGES = {
    "container",
    "operating-system",
    "file",
    "platform",
    "device",
    "data",
    "machine-learning-model",
    "cryptographic-asset",
}


def _walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every component, nested ones too."""
    out = []
    for component in components:
        out.append(component)
        out.extend(_walk(component.get("components") or []))
    return out


def _expected(data: dict[str, Any]) -> tuple[int, int, int]:
    """Count packages, findings and statements straight from the raw JSON by the rules.

    Packages: components that are not OS/container/file…, have a ``pkg:`` purl (not an
    image's) or a version; distinct by purl else (name, version). Findings: distinct (id
    with a CVE reference preferred, package type, name key, version) over affects whose
    ref is a package's bom-ref, plus one of the image per affect that names no package.
    Statements: entries whose analysis has a state and more
    than a bare ``in_triage``.
    """
    components = _walk(data.get("components") or [])
    packages: dict[str, dict[str, Any]] = {}
    keys = set()
    for component in components:
        purl = component.get("purl") or ""
        valid = purl.startswith("pkg:") and "/" in purl
        if component.get("type") in _NOT_PACKAGES or purl.startswith(("pkg:oci/", "pkg:docker/")):
            continue
        if not valid and not component.get("version"):
            continue
        keys.add(purl if valid else (component.get("name"), component.get("version")))
        if component.get("bom-ref"):
            packages.setdefault(component["bom-ref"], component)
    vulnerabilities = data.get("vulnerabilities") or []
    pure_vex = bool(vulnerabilities) and not data.get("components")
    findings = set()
    statements = 0
    for vuln in vulnerabilities:
        ids = [vuln["id"], *(r["id"] for r in vuln.get("references") or [])]
        canonical = (
            vuln["id"]
            if vuln["id"].startswith("CVE-")
            else next((i for i in ids if i.startswith("CVE-")), vuln["id"])
        )
        for affect in (vuln.get("affects") or [{"ref": ""}]) if not pure_vex else []:
            component = packages.get(affect["ref"])
            if component is None:  # kept as a finding of the image, package unknown
                named = next((c for c in components if c.get("bom-ref") == affect["ref"]), {})
                root = (data.get("metadata") or {}).get("component") or {}
                if root.get("bom-ref") == affect["ref"]:
                    named = root
                findings.add((canonical, None, named.get("name") or affect["ref"], None))
                continue
            kind = purl_type(None, component.get("purl"))
            findings.add(
                (
                    canonical,
                    kind,
                    package_name_key(kind, component["name"]),
                    component.get("version"),
                )
            )
        analysis = vuln.get("analysis") or {}
        state = analysis.get("state")
        said = analysis.get("justification") or analysis.get("response") or analysis.get("detail")
        if state and (state != "in_triage" or said):
            statements += 1
    return (0 if pure_vex else len(keys)), len(findings), statements


@pytest.mark.parametrize("local_path", corpus_params("cyclonedx"))
def test_corpus(local_path: str) -> None:
    data, fragment = parse_corpus(SOURCE, local_path)
    produced = (len(fragment.packages), len(fragment.vulnerabilities), len(fragment.vex))
    assert produced == _expected(data)
    for finding in fragment.vulnerabilities:
        assert finding.id not in finding.aliases
    for statement in fragment.vex:
        assert statement.products and statement.source == local_path
