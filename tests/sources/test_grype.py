"""Grype JSON: detection, scan facts, canonical ids, de-duplication, CVSS and fix states."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FIXTURES, corpus_params, load_input
from tests_support import parse_corpus, refusal, replaced, stand_in

from gate.sources.base import Fragment, purl_type
from gate.sources.grype import GrypeSource

MANIFEST_DIGEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
IMAGE_ID = "sha256:9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
GRYPE = FIXTURES / "reports" / "grype"
SOURCE = GrypeSource()


def parse_fixture(name: str) -> Fragment:
    """Parse a Grype fixture under fixtures/reports/grype."""
    data, source = load_input(GRYPE / name)
    return SOURCE.parse(data, source)


def parse_inline(data: Any) -> Fragment:
    """Parse an in-test report."""
    return SOURCE.parse(data, stand_in("inline-grype.json"))


def by_package(fragment: Fragment) -> dict[str, Any]:
    """Index the fragment's findings by package name."""
    return {v.package.name: v for v in fragment.vulnerabilities}


def minimal_match(**vulnerability: Any) -> dict[str, Any]:
    """A one-match report around ``vulnerability`` fields (old or new spelling)."""
    return {
        "matches": [
            {
                "vulnerability": {"id": "CVE-2024-0001", "severity": "High", **vulnerability},
                "artifact": {"name": "libfoo", "version": "1.0", "type": "deb"},
            }
        ],
        "source": {"type": "image", "target": {"userInput": "alpine:3.20"}},
    }


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({"matches": [], "descriptor": {"name": "grype"}}, True, id="descriptor"),
        pytest.param({"matches": [], "source": {"type": "image"}}, True, id="source"),
        pytest.param({"matches": []}, False, id="matches-alone"),
        pytest.param({"matches": {}, "source": {}}, False, id="matches-not-list"),
        pytest.param({"SchemaVersion": 2, "Results": []}, False, id="aqua-report-v2"),
        pytest.param([{"Target": "x", "Vulnerabilities": []}], False, id="aqua-legacy-list"),
        pytest.param({"version": "2.1.0", "runs": []}, False, id="sarif"),
        pytest.param(
            {"bomFormat": "CycloneDX", "specVersion": "1.4", "vulnerabilities": []},
            False,
            id="cyclonedx",
        ),
        pytest.param([{"Id": "sha256:" + "a" * 64, "Config": {}}], False, id="docker-inspect"),
        pytest.param({"architecture": "amd64", "os": "linux", "config": {}}, False, id="config"),
        pytest.param(None, False, id="null"),
        pytest.param([], False, id="empty-list"),
        pytest.param({}, False, id="empty-object"),
    ],
)
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


def test_scan_facts() -> None:
    fragment = parse_fixture("image.json")
    assert fragment.format == "grype-json"
    assert fragment.tool == "grype"
    assert fragment.tool_version == "0.79.3"
    assert fragment.created == "2024-10-14T07:20:05.481273913Z"  # +02:00 moved to UTC
    assert fragment.artifact_name == "ghcr.io/acme/shop-api:1.4.2"
    assert fragment.artifact_type == "container_image"
    assert fragment.artifact_digests == [IMAGE_ID, MANIFEST_DIGEST]
    assert fragment.kinds == ["vulnerability"]
    assert fragment.database == {
        "built": "2024-10-14T01:31:12Z",
        "schema_version": "5",
        "checksum": "sha256:5ae9a7d496626437f5e84e34c326934f83ad6378ec569dcc601ddda8727910c9",
    }


def test_subject_and_image() -> None:
    fragment = parse_fixture("image.json")
    subject = fragment.subject
    assert (subject.reference, subject.registry, subject.repository, subject.tag) == (
        "ghcr.io/acme/shop-api:1.4.2",
        "ghcr.io",
        "acme/shop-api",
        "1.4.2",
    )
    assert subject.digest == MANIFEST_DIGEST
    assert subject.image_id == IMAGE_ID
    image = fragment.image
    assert image is not None and fragment.authority == 1
    assert (image.os_family, image.os_version) == ("debian", "12")
    assert (image.os, image.architecture, image.size) == ("linux", "amd64", 231456768)
    assert [layer.size for layer in image.layers] == [77844480, 119537664, 34074624]
    assert image.layers[0].media_type == "application/vnd.oci.image.layer.v1.tar"
    assert image.labels["org.opencontainers.image.version"] == "1.4.2"
    assert image.base is not None
    assert image.base.name == "docker.io/library/debian:12.5-slim"


def test_db_v6_descriptor_and_empty_matches() -> None:
    fragment = parse_fixture("empty.json")
    assert fragment.vulnerabilities == []
    assert fragment.database == {"built": "2024-10-14T04:12:38Z", "schema_version": "v6.0.2"}
    assert fragment.image is not None and fragment.image.labels == {}


def test_same_vulnerability_and_package_matched_twice_is_one_finding() -> None:
    data, _ = load_input(GRYPE / "image.json")
    fragment = parse_fixture("image.json")
    assert len(data["matches"]) == 7
    assert len(fragment.vulnerabilities) == 6
    ssl = by_package(fragment)["libssl3"]
    # Debian said Low, the NVD match said Critical: the highest wins, with its rater.
    assert ssl.severity == "critical"
    assert ssl.sources[0].severity == "critical"
    assert ssl.sources[0].severity_source == "nvd"
    # The first match knew the fix; the second ('unknown') does not undo it.
    assert (ssl.status, ssl.fixed_versions, ssl.fix_available) == (
        "fixed",
        ["3.0.13-1~deb12u2"],
        True,
    )
    assert ssl.package.path == "/var/lib/dpkg/status"  # the first match's location
    assert ssl.urls == [
        "https://security-tracker.debian.org/tracker/CVE-2024-5535",
        "https://nvd.nist.gov/vuln/detail/CVE-2024-5535",
        "https://www.openssl.org/news/secadv/20240627.txt",
    ]


@pytest.mark.parametrize(
    ("package", "vid", "aliases", "status", "cvss"),
    [
        pytest.param(
            "libssl3", "CVE-2024-5535", [], "fixed", ("3.1", "nvd", 9.1), id="distro-fixed"
        ),
        pytest.param("curl", "CVE-2023-38545", [], "fixed", ("3.1", "nvd", 9.8), id="related-cvss"),
        pytest.param(
            "zlib1g", "CVE-2023-45853", [], "will_not_fix", ("3.1", "nvd", 9.8), id="wont-fix"
        ),
        pytest.param("apt", "CVE-2011-3374", [], "affected", ("3.1", "nvd", 3.7), id="v3-beats-v2"),
        pytest.param(
            "jackson-databind",
            "CVE-2022-42003",
            ["GHSA-jjjh-jjxp-wpff"],
            "fixed",
            ("3.1", "nvd", 7.5),
            id="ghsa-to-cve-nvd-preferred",
        ),
        pytest.param(
            "tomcat-embed-core",
            "CVE-2025-24813",
            ["GHSA-83qj-6fr2-vhqg"],
            "fixed",
            ("4.0", "github", 9.2),
            id="v4-beats-nvd-v3",
        ),
    ],
)
def test_findings(
    package: str, vid: str, aliases: list[str], status: str, cvss: tuple[str, str, float]
) -> None:
    finding = by_package(parse_fixture("image.json"))[package]
    assert finding.id == vid
    assert finding.aliases == aliases
    assert finding.status == status
    assert finding.fix_available is (status == "fixed")
    assert finding.cvss is not None
    assert (finding.cvss.version, finding.cvss.source, finding.cvss.score) == cvss


def test_ghsa_finding_details() -> None:
    finding = by_package(parse_fixture("image.json"))["jackson-databind"]
    assert finding.severity == "high"
    assert finding.sources[0].severity_source == "github"
    assert finding.sources[0].input.endswith("image.json")
    assert finding.package.type == "maven"  # from the purl, not Grype's 'java-archive'
    assert finding.package.purl == "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.3"
    assert finding.fixed_versions == ["2.12.7.1", "2.13.4.1"]
    assert finding.description == "Uncontrolled Resource Consumption in Jackson-databind"
    assert finding.urls[:2] == [
        "https://github.com/advisories/GHSA-jjjh-jjxp-wpff",
        "https://nvd.nist.gov/vuln/detail/CVE-2022-42003",
    ]
    assert finding.title is None and finding.published is None


def test_advisory_without_related_cve_keeps_its_id() -> None:
    data = minimal_match(id="GHSA-aaaa-bbbb-cccc")
    data["matches"][0]["relatedVulnerabilities"] = [{"id": "ALAS-2024-1"}]
    [finding] = parse_inline(data).vulnerabilities
    # An Amazon advisory covers many CVEs: recorded, never an alias.
    assert (finding.id, finding.aliases, finding.advisories) == (
        "GHSA-aaaa-bbbb-cccc",
        [],
        ["ALAS-2024-1"],
    )


def test_description_falls_back_to_related() -> None:
    data = minimal_match(id="GHSA-aaaa-bbbb-cccc")
    data["matches"][0]["relatedVulnerabilities"] = [
        {"id": "CVE-2024-9", "description": "From NVD."}
    ]
    [finding] = parse_inline(data).vulnerabilities
    assert (finding.id, finding.description) == ("CVE-2024-9", "From NVD.")


@pytest.mark.parametrize(
    ("state", "versions", "status"),
    [
        pytest.param("fixed", ["1.1"], "fixed", id="fixed"),
        pytest.param("not-fixed", [], "affected", id="not-fixed"),
        pytest.param("wont-fix", [], "will_not_fix", id="wont-fix"),
        pytest.param("unknown", [], "unknown", id="unknown"),
        pytest.param("", [], "unknown", id="empty"),
        pytest.param("something-new", [], "unknown", id="unrecognised"),
    ],
)
def test_fix_states(state: str, versions: list[str], status: str) -> None:
    [finding] = parse_inline(
        minimal_match(fix={"versions": versions, "state": state})
    ).vulnerabilities
    assert finding.status == status
    assert finding.fixed_versions == versions
    assert finding.fix_available is bool(versions)


def test_grype_0_7_field_spellings() -> None:
    data = minimal_match(
        links=["https://security-tracker.debian.org/tracker/CVE-2024-0001"],
        cvssV2={"baseScore": 5.0, "vector": "AV:N/AC:L/Au:N/C:N/I:P/A:N"},
        cvssV3={"baseScore": 7.5, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"},
        fixedInVersion="1.1",
    )
    [finding] = parse_inline(data).vulnerabilities
    assert finding.urls == ["https://security-tracker.debian.org/tracker/CVE-2024-0001"]
    assert finding.cvss is not None
    assert (finding.cvss.version, finding.cvss.score, finding.cvss.source) == ("3.1", 7.5, None)
    assert (finding.status, finding.fixed_versions) == ("fixed", ["1.1"])


def test_directory_source_has_no_image() -> None:
    fragment = parse_inline(
        {
            "matches": [],
            "source": {"type": "directory", "target": "/src/shop-api"},
            "distro": {"name": "", "version": "", "idLike": ""},
            "descriptor": {"name": "grype", "version": "0.24.0"},
        }
    )
    assert (fragment.artifact_type, fragment.artifact_name) == ("filesystem", "/src/shop-api")
    assert fragment.image is None
    assert fragment.subject.reference is None and fragment.subject.digest is None


@pytest.mark.parametrize(
    ("user_input", "tags", "reference"),
    [
        pytest.param("alpine:3.20", [], "alpine:3.20", id="plain"),
        pytest.param(
            "registry:ghcr.io/acme/shop-api:1.4.2",
            [],
            "ghcr.io/acme/shop-api:1.4.2",
            id="scheme-stripped",
        ),
        pytest.param(
            "docker-archive:/tmp/shop.tar",
            ["ghcr.io/acme/shop-api:1.4.2"],
            "ghcr.io/acme/shop-api:1.4.2",
            id="archive-uses-tag",
        ),
        pytest.param("REDACTED", [], None, id="redacted"),
        pytest.param(IMAGE_ID, ["shop-api:dev"], "shop-api:dev", id="image-id-input"),
    ],
)
def test_reference_choice(user_input: str, tags: list[str], reference: str | None) -> None:
    data = minimal_match()
    data["source"]["target"] = {"userInput": user_input, "tags": tags}
    assert parse_inline(data).subject.reference == reference


def test_redacted_digests_are_dropped() -> None:
    data = minimal_match()
    data["source"]["target"] = {
        "userInput": "REDACTED",
        "imageID": "sha256:07a3eb7aaaaaaaaa69f29ff9a2945c9bb0a6592654421b8357c",
        "repoDigests": ["REDACTED"],
    }
    fragment = parse_inline(data)
    assert fragment.artifact_digests == []
    assert fragment.subject.image_id is None and fragment.subject.digest is None


@pytest.mark.parametrize(
    ("path", "value", "place"),
    [
        pytest.param(["matches"], {}, "matches", id="matches-object"),
        pytest.param(["matches", 1], "CVE-1", "matches[1]", id="match-string"),
        pytest.param(
            ["matches", 0, "vulnerability", "id"], "", "matches[0].vulnerability.id", id="no-id"
        ),
        pytest.param(
            ["matches", 2, "artifact", "name"], 5, "matches[2].artifact.name", id="name-number"
        ),
        pytest.param(
            ["matches", 2, "artifact", "locations"],
            "/var/lib/dpkg/status",
            "matches[2].artifact.locations",
            id="locations-string",
        ),
        pytest.param(
            ["matches", 2, "relatedVulnerabilities", 0, "cvss", 0, "metrics", "baseScore"],
            "high",
            "matches[2].relatedVulnerabilities[0].cvss[0].metrics.baseScore",
            id="score-string",
        ),
        pytest.param(
            ["matches", 0, "vulnerability", "fix", "versions"],
            "3.0.13",
            "matches[0].vulnerability.fix.versions",
            id="versions-string",
        ),
        pytest.param(
            ["matches", 0, "vulnerability", "urls"],
            [1],
            "matches[0].vulnerability.urls[0]",
            id="url",
        ),
        pytest.param(["source", "target", "layers"], {}, "source.target.layers", id="layers"),
        pytest.param(["descriptor"], "grype", "descriptor", id="descriptor-string"),
    ],
)
def test_malformed_reports_name_file_and_place(
    path: list[str | int], value: Any, place: str
) -> None:
    data = replaced(load_input(GRYPE / "image.json")[0], path, value)
    message = refusal(SOURCE, data, "reports/grype.json")
    assert message.startswith(f"reports/grype.json: {place}:")


def distinct_keys(report: dict[str, Any]) -> int:
    """Count findings by the module's rule, computed straight from the raw JSON."""
    keys = set()
    for match in report["matches"]:
        own = match["vulnerability"]["id"]
        related = [r["id"] for r in match.get("relatedVulnerabilities") or []]
        # One finding per CVE a match names (real RHEL matches relate a second CVE).
        named = [i for i in dict.fromkeys([own, *related]) if i.startswith("CVE-")] or [own]
        artifact = match["artifact"]
        kind = purl_type(artifact["type"], artifact.get("purl"))
        keys.update((cve, kind, artifact["name"], artifact["version"] or None) for cve in named)
    return len(keys)


@pytest.mark.parametrize("local_path", corpus_params("grype-json"))
def test_corpus(local_path: str) -> None:
    data, fragment = parse_corpus(SOURCE, local_path)
    assert len(fragment.vulnerabilities) == distinct_keys(data)
    assert all(v.sources[0].tool == "grype" for v in fragment.vulnerabilities)
    for finding in fragment.vulnerabilities:
        assert finding.id not in finding.aliases
