"""Merging fragments: one entry per vulnerability and package version, sources kept."""

from __future__ import annotations

import pytest

from gate.document import FindingSource, Image, Package, Secret, Subject, Vulnerability
from gate.merge import merge_fragments
from gate.reference import parse_reference
from gate.sources.base import Fragment

DIGEST_1, DIGEST_2, DIGEST_9 = (f"sha256:{digit * 64}" for digit in "129")


def vuln(
    tool: str, severity: str, *, vid: str = "CVE-2024-1", version: str = "1.0", **extra
) -> Vulnerability:
    return Vulnerability(
        id=vid,
        severity=severity,
        package=Package(name="openssl", version=version, type="deb", **extra.pop("package", {})),
        fix_available=bool(extra.get("fixed_versions")),
        sources=[FindingSource(tool=tool, input=f"{tool}.json", severity=severity)],
        **extra,
    )


def test_same_vulnerability_from_two_scanners_is_one_entry_with_both_sources():
    trivy = Fragment(
        format="trivy-json", tool="trivy", vulnerabilities=[vuln("trivy", "high", urls=["a", "b"])]
    )
    grype = Fragment(
        format="grype-json",
        tool="grype",
        vulnerabilities=[
            vuln(
                "grype",
                "critical",
                aliases=["GHSA-x"],
                fixed_versions=["1.1"],
                status="fixed",
                urls=["b", "c"],
                package={"purl": "pkg:deb/debian/openssl@1.0"},
            )
        ],
    )
    [merged] = merge_fragments([trivy, grype])["vulnerabilities"]
    assert merged.severity == "critical"
    assert [(s.tool, s.severity) for s in merged.sources] == [
        ("trivy", "high"),
        ("grype", "critical"),
    ]
    assert merged.aliases == ["GHSA-x"]
    assert merged.fixed_versions == ["1.1"] and merged.fix_available and merged.status == "fixed"
    assert merged.urls == ["a", "b", "c"]
    assert merged.package.purl == "pkg:deb/debian/openssl@1.0"


def test_different_versions_or_ids_stay_apart_and_sort_worst_first():
    fragment = Fragment(
        format="trivy-json",
        tool="trivy",
        vulnerabilities=[
            vuln("trivy", "low", version="1.0"),
            vuln("trivy", "critical", version="2.0"),
            vuln("trivy", "medium", vid="CVE-2024-2"),
        ],
    )
    merged = merge_fragments([fragment])["vulnerabilities"]
    assert [(v.id, v.package.version, v.severity) for v in merged] == [
        ("CVE-2024-1", "2.0", "critical"),
        ("CVE-2024-2", "1.0", "medium"),
        ("CVE-2024-1", "1.0", "low"),
    ]


def test_image_fields_come_from_the_highest_authority_and_empty_user_is_root():
    named = Subject(
        reference="ghcr.io/acme/api:1", registry="ghcr.io", repository="acme/api", tag="1"
    )
    report = Fragment(
        format="trivy-json",
        tool="trivy",
        authority=1,
        subject=named,
        image=Image(user="app", os="linux", labels={"a": "1"}),
    )
    inspect = Fragment(
        format="docker-inspect",
        tool="docker",
        authority=10,
        kinds=["metadata"],
        subject=named,
        image=Image(user="", architecture="arm64"),
    )
    image = merge_fragments([report, inspect])["image"]
    assert image.user == ""
    assert (image.os, image.architecture, image.labels) == ("linux", "arm64", {"a": "1"})


def test_image_fields_of_another_image_are_not_taken():
    other = Subject(
        reference="nginx:1.25", registry="docker.io", repository="library/nginx", tag="1.25"
    )
    report = Fragment(
        format="trivy-json",
        tool="trivy",
        authority=1,
        subject=other,
        image=Image(user="app", labels={"org.opencontainers.image.source": "x"}),
    )
    option = Subject(reference="ghcr.io/acme/api", registry="ghcr.io", repository="acme/api")
    merged = merge_fragments([report], option)
    assert merged["image"].user is None and merged["image"].labels == {}
    assert merged["evidence"][0].match == "other-image"


def scan_of(reference: str) -> Fragment:
    """A Trivy scan whose report names ``reference`` (with its digest, when pinned)."""
    return Fragment(format="trivy-json", tool="trivy", subject=parse_reference(reference))


def test_subject_name_comes_from_image_option_and_not_from_a_scan_of_another_image():
    report = scan_of(f"acme/api:latest@{DIGEST_1}")
    subject = merge_fragments([report], parse_reference("ghcr.io/acme/api"))["subject"]
    # docker.io/acme/api is not ghcr.io/acme/api: its digest must not become the subject's
    assert (subject.reference, subject.registry, subject.tag, subject.digest) == (
        "ghcr.io/acme/api",
        "ghcr.io",
        None,
        None,
    )


def test_subject_digest_comes_from_a_scan_of_the_same_image():
    merged = merge_fragments(
        [scan_of(f"ghcr.io/acme/api:1@{DIGEST_1}")], parse_reference("ghcr.io/acme/api:1")
    )
    assert merged["subject"].digest == DIGEST_1
    assert merged["subject"].names == [f"ghcr.io/acme/api:1@{DIGEST_1}"]
    assert merged["evidence"][0].match == "name"


def test_secrets_merge_on_rule_file_and_line():
    def secret(tool: str, line: int) -> Secret:
        return Secret(
            id="aws-key",
            severity="critical",
            target="app/.env",
            start_line=line,
            sources=[FindingSource(tool=tool, input="x", severity="critical")],
        )

    fragment = Fragment(
        format="trivy-json", tool="trivy", secrets=[secret("a", 1), secret("b", 1), secret("a", 2)]
    )
    merged = merge_fragments([fragment])["secrets"]
    assert [(s.start_line, len(s.sources)) for s in merged] == [(1, 2), (2, 1)]


def test_many_findings_from_two_scanners_pair_up():
    fragments = [
        Fragment(
            format="x",
            tool=tool,
            vulnerabilities=[vuln(tool, "high", vid=f"CVE-1-{i}") for i in range(5_000)],
        )
        for tool in ("trivy", "grype")
    ]
    result = merge_fragments(fragments)
    assert len(result["vulnerabilities"]) == 5_000
    assert all([s.tool for s in v.sources] == ["trivy", "grype"] for v in result["vulnerabilities"])


@pytest.mark.parametrize(
    ("package_type", "first", "second"),
    [
        ("maven", "org.apache.tomcat.embed:tomcat-embed-core", "tomcat-embed-core"),
        ("pypi", "PyYAML", "pyyaml"),
        ("pypi", "zope.interface", "zope-interface"),
    ],
)
def test_ecosystem_spellings_of_one_package_merge(package_type, first, second):
    def one(tool: str, name: str) -> Fragment:
        item = Vulnerability(
            id="CVE-2025-1",
            severity="high",
            package=Package(name=name, version="1.0", type=package_type),
            fix_available=False,
            sources=[FindingSource(tool=tool, input="x", severity="high")],
        )
        return Fragment(format="x", tool=tool, vulnerabilities=[item])

    [merged] = merge_fragments([one("trivy", first), one("grype", second)])["vulnerabilities"]
    assert merged.package.name == first
    assert len(merged.sources) == 2


def test_same_name_in_different_ecosystems_stays_apart():
    items = [
        Vulnerability(
            id="CVE-2025-1",
            severity="high",
            package=Package(name="yaml", version="1", type=t),
            fix_available=False,
            sources=[FindingSource(tool="t", input="x", severity="high")],
        )
        for t in ("npm", "gem")
    ]
    assert (
        len(
            merge_fragments([Fragment(format="x", tool="t", vulnerabilities=items)])[
                "vulnerabilities"
            ]
        )
        == 2
    )


def test_aliases_join_entries_across_reports_under_the_cve():
    ghsa = vuln("grype", "high", vid="GHSA-4h5p-5x8c-3q2q", aliases=["CVE-2024-9"])
    cve = vuln("trivy", "critical", vid="CVE-2024-9")
    other = vuln("trivy", "low", vid="CVE-2024-10")
    merged = merge_fragments(
        [
            Fragment(format="grype-json", tool="grype", vulnerabilities=[ghsa]),
            Fragment(format="trivy-json", tool="trivy", vulnerabilities=[cve, other]),
        ]
    )["vulnerabilities"]
    assert [(v.id, v.aliases, v.severity) for v in merged] == [
        ("CVE-2024-9", ["GHSA-4h5p-5x8c-3q2q"], "critical"),
        ("CVE-2024-10", [], "low"),
    ]
    assert [s.tool for s in merged[0].sources] == ["grype", "trivy"]


def test_aliases_do_not_join_different_package_versions():
    ghsa = vuln("grype", "high", vid="GHSA-x", aliases=["CVE-2024-9"], version="1.0")
    cve = vuln("trivy", "high", vid="CVE-2024-9", version="2.0")
    merged = merge_fragments([Fragment(format="x", tool="x", vulnerabilities=[ghsa, cve])])
    found = sorted((v.id, v.package.version) for v in merged["vulnerabilities"])
    assert found == [("CVE-2024-9", "1.0"), ("CVE-2024-9", "2.0")]


def test_alias_chains_join_transitively():
    a = vuln("a", "low", vid="GHSA-a", aliases=["OSV-1"])
    b = vuln("b", "low", vid="OSV-1", aliases=["CVE-2024-7"])
    c = vuln("c", "medium", vid="CVE-2024-7")
    [merged] = merge_fragments([Fragment(format="x", tool="x", vulnerabilities=[a, b, c])])[
        "vulnerabilities"
    ]
    assert merged.id == "CVE-2024-7"
    assert sorted(merged.aliases) == ["GHSA-a", "OSV-1"]


def test_sbom_packages_merge_by_purl_ignoring_qualifiers():
    from gate.document import Attribution, InventoryPackage

    def package(tool: str, purl: str | None, licenses: list[str], name: str = "zlib1g"):
        return InventoryPackage(
            name=name,
            version="1.2.13",
            type="deb",
            purl=purl,
            licenses=licenses,
            sources=[Attribution(tool=tool, input=f"{tool}.json")],
        )

    fragments = [
        Fragment(
            format="syft-json",
            tool="syft",
            packages=[package("syft", "pkg:deb/debian/zlib1g@1.2.13?arch=amd64", ["Zlib"])],
        ),
        Fragment(
            format="cyclonedx",
            tool="trivy",
            packages=[
                package("trivy", "pkg:deb/debian/zlib1g@1.2.13?distro=debian-12", ["Zlib", "MIT"]),
                package("trivy", None, [], name="unnamed"),
            ],
        ),
    ]
    merged = merge_fragments(fragments)["packages"]
    assert [(p.name, p.licenses, [s.tool for s in p.sources]) for p in merged] == [
        ("zlib1g", ["Zlib", "MIT"], ["syft", "trivy"]),
        ("unnamed", [], ["trivy"]),
    ]


@pytest.mark.parametrize(
    ("subject", "digests", "expected"),
    [
        (Subject(digest=DIGEST_1), [DIGEST_1], True),
        (Subject(image_id=DIGEST_2), [DIGEST_1, DIGEST_2], True),
        (Subject(digest=DIGEST_1), [DIGEST_9], False),
        (Subject(), [DIGEST_1], None),
        (Subject(digest=DIGEST_1), [], None),
    ],
    ids=["digest", "image-id", "other-image", "subject-unknown", "no-subject-digests"],
)
def test_attestations_are_matched_to_the_gated_image(subject, digests, expected):
    from gate.document import Attestation

    attestation = Attestation(kind="provenance", subject_digests=digests, input="p.json")
    metadata = Fragment(
        format="image-config", tool="oci", authority=10, kinds=["metadata"], subject=subject
    )
    provenance = Fragment(format="in-toto", tool="in-toto", attestations=[attestation])
    [matched] = merge_fragments([metadata, provenance])["attestations"]
    assert matched.matches_subject is expected


def test_attestation_naming_a_platform_manifest_of_the_gated_index_matches():
    from gate.document import Attestation

    index = Fragment(
        format="image-manifest",
        tool="oci",
        authority=5,
        kinds=["metadata"],
        subject=Subject(digest=DIGEST_1),
        artifact_digests=[DIGEST_1, DIGEST_2],
    )
    report = Fragment(format="trivy-json", tool="trivy", authority=1, artifact_digests=[DIGEST_9])
    statements = [
        Attestation(kind="provenance", subject_digests=[digest], input="p.json")
        for digest in (DIGEST_2, DIGEST_9)
    ]
    provenance = Fragment(format="in-toto", tool="in-toto", attestations=statements)
    matched = merge_fragments([index, report, provenance])["attestations"]
    # a scan of another image (other digests) does not add to the gated image's digests
    assert [a.matches_subject for a in matched] == [True, False]
