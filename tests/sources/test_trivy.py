"""Tests of the Trivy JSON source: mapping, de-duplication, refusals and the real corpus."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import CORPUS, FIXTURES, corpus_params, load_input
from tests_support import replaced, stand_in

from gate.document import (
    BaseImage,
    Cvss,
    FindingSource,
    Healthcheck,
    Image,
    Layer,
    License,
    Package,
    Secret,
    Subject,
    Vulnerability,
)
from gate.errors import SourceError
from gate.merge import package_name_key
from gate.sources.base import Fragment, purl_type
from gate.sources.trivy import UNIDENTIFIED, TrivySource

TRIVY = FIXTURES / "reports" / "trivy"
SOURCE = TrivySource()

IMAGE_ID = "sha256:9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
REPO_DIGEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
DIFF_IDS = [
    "sha256:2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a3740",
    "sha256:8a1cee436cbac1489a1883c9d886fcfc46f302c55ed4106ae31729e4f4eb9041",
    "sha256:10dacdccfe877dc064d57442e6fa7a4e3085dc94e11a29819c2290fc3d788724",
]


def load(name: str) -> Any:
    """Return the parsed JSON of fixture ``name`` under fixtures/reports/trivy."""
    return load_input(TRIVY / name)[0]


def parse(data: Any, path: str = "scans/report.json") -> Fragment:
    """Parse ``data`` as if read from ``path``."""
    return SOURCE.parse(data, stand_in(path))


def find(fragment: Fragment, vuln_id: str, package: str) -> Vulnerability:
    """Return the one vulnerability ``vuln_id`` in ``package``."""
    found = [v for v in fragment.vulnerabilities if v.id == vuln_id and v.package.name == package]
    assert len(found) == 1, f"{vuln_id} in {package}: {len(found)} entries"
    return found[0]


def image_report(config: dict[str, Any] | None = None, **report: Any) -> dict[str, Any]:
    """Return a minimal SchemaVersion 2 image report with ``config`` as the OCI config."""
    base: dict[str, Any] = {
        "SchemaVersion": 2,
        "ArtifactName": "registry.example.com/team/app:1.0",
        "ArtifactType": "container_image",
        "Metadata": {"ImageConfig": {"os": "linux", "config": config or {}}},
    }
    return base | report


@pytest.fixture(scope="module")
def image_scan() -> Fragment:
    """The hand-written realistic image scan, parsed."""
    return parse(load("v2-image.json"), "v2-image.json")


# --- SchemaVersion 2 image scan -------------------------------------------------------


def test_image_scan_records_scan_facts(image_scan: Fragment) -> None:
    assert image_scan.format == "trivy-json"
    assert image_scan.tool == "trivy"
    assert image_scan.tool_version == "0.56.2"
    assert image_scan.created == "2024-10-14T07:12:44.123456789Z"
    assert image_scan.artifact_name == "ghcr.io/acme/shop-api:1.4.2"
    assert image_scan.artifact_type == "container_image"
    assert image_scan.artifact_digests == [IMAGE_ID, REPO_DIGEST]
    kinds = ["license", "metadata", "misconfiguration", "secret", "vulnerability"]
    assert image_scan.kinds == kinds
    assert image_scan.database == {}
    assert image_scan.authority == 1


@pytest.mark.parametrize(
    ("vuln_id", "package", "severity", "status", "fixed", "cvss", "kind"),
    [
        pytest.param(
            "CVE-2024-5535", "libssl3", "critical", "fixed", ["3.0.13-1~deb12u2"],
            Cvss(score=9.1, vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H",
                 version="3.1", source="nvd"),
            "deb", id="fixable-critical-v3-preferred-over-v2",
        ),
        pytest.param(
            "CVE-2023-38545", "curl", "high", "fixed", ["7.88.1-10+deb12u4"],
            Cvss(score=9.8, vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                 version="3.1", source="nvd"),
            "deb", id="fixable-high-nvd-when-severity-source-has-no-cvss",
        ),
        pytest.param(
            "CVE-2023-45853", "zlib1g", "critical", "will_not_fix", [],
            Cvss(score=9.8, vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                 version="3.1", source="nvd"),
            "deb", id="unfixed-critical",
        ),
        pytest.param(
            "CVE-2011-3374", "apt", "low", "affected", [],
            Cvss(score=4.3, vector="AV:N/AC:M/Au:N/C:N/I:P/A:N", version="2.0", source="nvd"),
            "deb", id="cvss-v2-only",
        ),
        pytest.param(
            "CVE-2022-42003", "com.fasterxml.jackson.core:jackson-databind", "high", "fixed",
            ["2.12.7.1", "2.13.4.1"],
            Cvss(score=7.5, vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
                 version="3.1", source="ghsa"),
            "maven", id="severity-source-cvss-preferred-over-nvd",
        ),
        pytest.param(
            "CVE-2025-24813", "org.apache.tomcat.embed:tomcat-embed-core", "critical", "fixed",
            ["11.0.3", "10.1.35", "9.0.99"],
            Cvss(score=9.2,
                 vector="CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                 version="4.0", source="ghsa"),
            "maven", id="cvss-v4-preferred-and-fixed-versions-split",
        ),
    ],
)  # fmt: skip
def test_vulnerability_mapping(
    image_scan: Fragment,
    vuln_id: str,
    package: str,
    severity: str,
    status: str,
    fixed: list[str],
    cvss: Cvss,
    kind: str,
) -> None:
    vuln = find(image_scan, vuln_id, package)
    assert vuln.severity == severity
    assert vuln.status == status
    assert vuln.fixed_versions == fixed
    assert vuln.fix_available is bool(fixed)
    assert vuln.cvss == cvss
    assert vuln.package.type == kind
    severity_source = {"CVE-2023-38545": "debian", "CVE-2011-3374": "debian"}.get(
        vuln_id, "ghsa" if kind == "maven" else "nvd"
    )
    assert vuln.sources == [
        FindingSource(
            tool="trivy", input="v2-image.json", severity=severity, severity_source=severity_source
        )
    ]


def test_vulnerability_details(image_scan: Fragment) -> None:
    vuln = find(image_scan, "CVE-2024-5535", "libssl3")
    assert vuln.package.version == "3.0.11-1~deb12u2"
    assert vuln.package.purl == (
        "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.5"
    )
    assert vuln.package.path is None
    assert vuln.title == "openssl: SSL_select_next_proto buffer overread"
    assert vuln.description is not None and vuln.description.startswith("Calling the OpenSSL")
    assert vuln.published == "2024-06-27T11:15:24.447Z"
    assert vuln.aliases == []
    # PrimaryURL first; its repeat among the references is dropped.
    assert vuln.urls == [
        "https://avd.aquasec.com/nvd/cve-2024-5535",
        "https://nvd.nist.gov/vuln/detail/CVE-2024-5535",
        "https://www.openssl.org/news/secadv/20240627.txt",
    ]
    curl = find(image_scan, "CVE-2023-38545", "curl")
    assert (curl.aliases, curl.advisories) == ([], ["DSA-5587-1"])


def test_same_vulnerability_at_two_jar_paths_is_one_entry(image_scan: Fragment) -> None:
    assert len(image_scan.vulnerabilities) == 6  # seven listings in the report
    vuln = find(image_scan, "CVE-2022-42003", "com.fasterxml.jackson.core:jackson-databind")
    assert vuln.package.path == "app/lib/jackson-databind-2.13.3.jar"
    assert vuln.aliases == ["GHSA-jjjh-jjxp-wpff"]
    assert vuln.urls == [
        "https://avd.aquasec.com/nvd/cve-2022-42003",
        "https://github.com/FasterXML/jackson-databind/issues/3590",
        "https://nvd.nist.gov/vuln/detail/CVE-2022-42003",
        "https://github.com/advisories/GHSA-jjjh-jjxp-wpff",
    ]
    assert len(vuln.sources) == 1


def test_repeats_across_results_merge_and_keep_the_worst_severity() -> None:
    listing = {"VulnerabilityID": "CVE-2024-0001", "PkgName": "left-pad", "InstalledVersion": "1.0"}
    report = image_report(
        Results=[
            {"Target": "a/package-lock.json", "Class": "lang-pkgs", "Type": "npm",
             "Vulnerabilities": [listing | {"Severity": "MEDIUM", "FixedVersion": "1.1"}]},
            {"Target": "b/package-lock.json", "Class": "lang-pkgs", "Type": "npm",
             "Vulnerabilities": [listing | {"Severity": "HIGH", "FixedVersion": "1.1, 2.0"}]},
            {"Target": "c/yarn.lock", "Class": "lang-pkgs", "Type": "yarn",
             "Vulnerabilities": [listing | {"Severity": "LOW", "InstalledVersion": "2.0"}]},
        ]
    )  # fmt: skip
    fragment = parse(report)
    assert [(v.package.version, v.severity) for v in fragment.vulnerabilities] == [
        ("1.0", "high"),
        ("2.0", "low"),
    ]
    assert fragment.vulnerabilities[0].fixed_versions == ["1.1", "2.0"]
    assert fragment.vulnerabilities[0].package.type == "npm"


@pytest.mark.parametrize(
    ("status", "fixed_version", "expected"),
    [
        ("under_investigation", "", "affected"),
        ("fix_deferred", "", "fix_deferred"),
        ("end_of_life", "", "end_of_life"),
        ("not_affected", "", "not_affected"),
        (None, "1.2.3", "fixed"),
        (None, "", "unknown"),
    ],
    ids=["under-investigation", "fix-deferred", "end-of-life", "not-affected", "old-trivy-fix",
         "old-trivy-no-fix"],
)  # fmt: skip
def test_fix_status(status: str | None, fixed_version: str, expected: str) -> None:
    listing = {
        "VulnerabilityID": "CVE-2024-0002",
        "PkgName": "libfoo",
        "FixedVersion": fixed_version,
    }
    if status is not None:
        listing["Status"] = status
    report = image_report(Results=[{"Target": "t", "Type": "debian", "Vulnerabilities": [listing]}])
    assert parse(report).vulnerabilities[0].status == expected


def test_secret_mapping(image_scan: Fragment) -> None:
    assert image_scan.secrets == [
        Secret(
            id="aws-access-key-id",
            category="AWS",
            severity="critical",
            title="AWS Access Key ID",
            target="app/config/application.yml",
            start_line=12,
            end_line=12,
            match="    access-key-id: ********************",
            layer=DIFF_IDS[2],
            sources=[FindingSource(tool="trivy", input="v2-image.json", severity="critical")],
        )
    ]


def test_only_failed_misconfigurations_are_findings(image_scan: Fragment) -> None:
    [misconfiguration] = image_scan.misconfigurations
    assert misconfiguration.id == "DS005"
    assert misconfiguration.aliases == ["AVD-DS-0005"]
    assert misconfiguration.type == "dockerfile"
    assert misconfiguration.title == "ADD instead of COPY"
    assert misconfiguration.message is not None and "COPY build/libs" in misconfiguration.message
    assert misconfiguration.severity == "low"
    assert misconfiguration.status == "fail"
    assert misconfiguration.resolution == "Use COPY instead of ADD"
    assert misconfiguration.target == "Dockerfile"
    assert misconfiguration.start_line == 3
    assert misconfiguration.urls == [
        "https://avd.aquasec.com/misconfig/ds005",
        "https://docs.docker.com/engine/reference/builder/#add",
    ]


def test_license_mapping(image_scan: Fragment) -> None:
    assert image_scan.licenses == [
        License(
            name="GPL-3.0-only",
            severity="high",
            category="restricted",
            package=Package(name="libreadline8"),
            target="OS Packages",
            confidence=1.0,
            sources=[FindingSource(tool="trivy", input="v2-image.json", severity="high")],
        )
    ]


def test_subject_hints(image_scan: Fragment) -> None:
    assert image_scan.subject == Subject(
        reference="ghcr.io/acme/shop-api:1.4.2",
        registry="ghcr.io",
        repository="acme/shop-api",
        tag="1.4.2",
        digest=REPO_DIGEST,
        image_id=IMAGE_ID,
    )


def test_image_config_mapping(image_scan: Fragment) -> None:
    assert image_scan.image == Image(
        created="2024-10-12T18:03:11.508362Z",
        user="app",
        env={
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "JAVA_TOOL_OPTIONS": "-XX:MaxRAMPercentage=75 -Dfile.encoding=UTF-8",
            "SPRING_PROFILES_ACTIVE": "prod",
            "SERVER_SSL_ENABLED": "",
        },
        labels={
            "org.opencontainers.image.base.digest": (
                "sha256:cae662172fd450bb0cd710a769079c05bfc5d8e35efa6576edc7d0377afdd4a2"
            ),
            "org.opencontainers.image.base.name": "docker.io/library/debian:12.5-slim",
            "org.opencontainers.image.revision": "4f9c2e1b7d3a8c6e5f0a1b2c3d4e5f6a7b8c9d0e",
            "org.opencontainers.image.source": "https://github.com/acme/shop-api",
            "org.opencontainers.image.version": "1.4.2",
        },
        exposed_ports=["8080/tcp", "8443/tcp"],
        entrypoint=["java", "-jar", "/app/app.jar"],
        cmd=["--server.port=8080"],
        workdir="/app",
        healthcheck=Healthcheck(
            test=["CMD-SHELL", "curl -fsS http://localhost:8080/actuator/health || exit 1"],
            interval="30s",
            timeout="5s",
            retries=3,
        ),
        os="linux",
        architecture="amd64",
        size=231456768,
        layers=[Layer(digest=digest) for digest in DIFF_IDS],
        base=BaseImage(
            name="docker.io/library/debian:12.5-slim",
            digest="sha256:cae662172fd450bb0cd710a769079c05bfc5d8e35efa6576edc7d0377afdd4a2",
            source="label",
        ),
        os_family="debian",
        os_version="12.5",
    )


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (30_000_000_000, "30s"),
        (90_000_000_000, "1m30s"),
        (1_500_000_000, "1.5s"),
        (0, None),  # Go's zero: inherit the default, not a stated interval
        ("45s", "45s"),
        (None, None),
    ],
)
def test_healthcheck_durations(interval: int | str | None, expected: str | None) -> None:
    config = {"Healthcheck": {"Test": ["CMD", "true"], "Interval": interval}}
    image = parse(image_report(config)).image
    assert image is not None and image.healthcheck is not None
    assert image.healthcheck.interval == expected


def test_layers_fall_back_to_metadata_diff_ids() -> None:
    report = image_report(Metadata={"OS": {"Family": "Alpine"}, "DiffIDs": DIFF_IDS[:1]})
    assert parse(report).image == Image(os_family="alpine", layers=[Layer(digest=DIFF_IDS[0])])


def test_zero_valued_image_config_is_no_image() -> None:
    # Filesystem scans carry Go's zero value of an image config.
    zero = {
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "os": "",
        "rootfs": {"type": "", "diff_ids": None},
        "config": {},
    }
    report = {
        "SchemaVersion": 2,
        "ArtifactName": ".",
        "ArtifactType": "filesystem",
        "Metadata": {"ImageConfig": zero},
        "Results": [{"Target": "requirements.txt", "Class": "lang-pkgs", "Type": "pip"}],
    }
    fragment = parse(report)
    assert fragment.image is None
    assert fragment.authority == 0
    assert fragment.subject == Subject()
    assert fragment.kinds == ["vulnerability"]


@pytest.mark.parametrize(
    ("artifact_name", "repo_tags", "expected"),
    [
        ("registry.example.com/team/app:1.0", [], "registry.example.com/team/app:1.0"),
        ("images/app.tar.gz", ["team/app:2.0"], "team/app:2.0"),
        ("/tmp/app.tar", [], None),
        ("", ["", "team/app:3.0"], "team/app:3.0"),
    ],
    ids=["artifact-name", "archive-path-uses-repo-tag", "archive-path-alone", "blanked-name"],
)
def test_subject_reference_source(
    artifact_name: str, repo_tags: list[str], expected: str | None
) -> None:
    report = image_report(
        ArtifactName=artifact_name,
        Metadata={"RepoTags": repo_tags, "RepoDigests": ["", f"team/app@{REPO_DIGEST}"]},
    )
    subject = parse(report).subject
    assert subject.reference == expected
    assert subject.digest == REPO_DIGEST


def test_image_scan_without_vulnerabilities() -> None:
    fragment = parse(load("empty-v2.json"))
    assert fragment.vulnerabilities == []
    # its ImageConfig is real image metadata
    assert fragment.kinds == ["metadata", "vulnerability"]
    assert fragment.subject.reference == "ghcr.io/acme/static-site:2024.10.1"
    assert fragment.image is not None
    assert (fragment.image.architecture, fragment.image.variant) == ("arm64", "v8")
    assert fragment.image.user == "101"
    assert fragment.image.healthcheck is None


@pytest.mark.parametrize(
    ("artifact_type", "results", "expected"),
    [
        ("container_image", None, ["vulnerability"]),
        ("filesystem", None, []),
        ("container_image", [{"Target": "env", "Class": "secret"}], ["secret"]),
        ("filesystem", [{"Target": "main.tf", "Class": "config"}], ["misconfiguration"]),
        ("container_image", [{"Target": "Loose File License(s)", "Class": "license-file"}],
         ["license"]),
        ("filesystem", [{"Target": "Java", "Class": "lang-pkgs", "Type": "jar"}],
         ["vulnerability"]),
        ("container_image",
         [{"Target": "t", "Type": "alpine",
           "Vulnerabilities": [{"VulnerabilityID": "CVE-2024-0003", "PkgName": "musl"}]}],
         ["vulnerability"]),
    ],
    ids=["image-without-results", "filesystem-without-results", "secret-class",
         "config-class", "license-file-class", "lang-pkgs-without-vulns", "no-class"],
)  # fmt: skip
def test_kinds(artifact_type: str, results: list[Any] | None, expected: list[str]) -> None:
    report = {"SchemaVersion": 2, "ArtifactName": "x", "ArtifactType": artifact_type}
    if results is not None:
        report["Results"] = results
    assert parse(report).kinds == expected


# --- legacy reports -------------------------------------------------------------------


def test_legacy_list() -> None:
    fragment = parse(load("legacy-list.json"))
    assert fragment.kinds == ["vulnerability"]
    assert (fragment.tool_version, fragment.artifact_type, fragment.image) == (None, None, None)
    assert fragment.subject == Subject()
    rows = [
        (v.id, v.package.type, v.status, v.fixed_versions, v.severity)
        for v in fragment.vulnerabilities
    ]
    assert rows == [
        ("CVE-2021-3711", "apk", "fixed", ["1.1.1l-r0"], "critical"),
        ("CVE-2021-42378", "apk", "unknown", [], "high"),
        ("CVE-2021-23337", "npm", "fixed", ["4.17.21"], "high"),
    ]
    assert fragment.vulnerabilities[0].cvss == Cvss(
        score=9.8,
        vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        version="3.1",
        source="nvd",
    )


def test_null_report_is_an_empty_legacy_scan() -> None:
    data = load("null.json")
    assert data is None and SOURCE.matches(data)
    assert parse(data) == Fragment(format="trivy-json", tool="trivy", kinds=["vulnerability"])


# --- refusals and malformed input -----------------------------------------------------


@pytest.mark.parametrize(
    "report",
    [
        pytest.param(load("k8s-cluster.json"), id="cluster-resources"),
        pytest.param(
            {"ClusterName": "arn:aws:eks:eu-west-1:000000000000:cluster/prod",
             "Vulnerabilities": [{"Namespace": "default", "Kind": "Deployment", "Name": "web",
                                  "Results": []}],
             "Misconfigurations": []},
            id="summary-lists",
        ),
    ],
)  # fmt: skip
def test_kubernetes_cluster_report_is_refused(report: dict[str, Any]) -> None:
    assert SOURCE.matches(report)
    with pytest.raises(SourceError) as caught:
        parse(report, "k8s.json")
    assert caught.value.where == "k8s.json: ClusterName"
    assert caught.value.message == "Trivy Kubernetes cluster report is not an image scan"
    assert caught.value.hint is not None and "trivy image" in caught.value.hint


def _v2(*results: Any, **report: Any) -> dict[str, Any]:
    """Return a SchemaVersion 2 report with ``results``; keyword arguments override keys."""
    return {"SchemaVersion": 2, "ArtifactName": "x", "Results": list(results)} | report


GOOD = {"VulnerabilityID": "CVE-2024-0004", "PkgName": "libfoo", "InstalledVersion": "1"}


@pytest.mark.parametrize(
    ("report", "place"),
    [
        (_v2(Results={"Target": "t"}), "Results"),
        (_v2("not a result"), "Results[0]"),
        (_v2({"Target": "t"}, {"Target": "u", "Vulnerabilities": {"CVE": 1}}),
         "Results[1].Vulnerabilities"),
        (_v2({"Target": "t", "Vulnerabilities": [GOOD, {"VulnerabilityID": "CVE-2024-0005"}]}),
         "Results[0].Vulnerabilities[1].PkgName"),
        (_v2({"Target": "t", "Vulnerabilities": [GOOD | {"VulnerabilityID": 5}]}),
         "Results[0].Vulnerabilities[0].VulnerabilityID"),
        (_v2({"Target": "t", "Vulnerabilities": [["CVE-2024-0006"]]}),
         "Results[0].Vulnerabilities[0]"),
        (_v2({"Target": "t", "Vulnerabilities": [GOOD | {"CVSS": [7.5]}]}),
         "Results[0].Vulnerabilities[0].CVSS"),
        (_v2({"Target": "t", "Vulnerabilities": [GOOD | {"CVSS": {"nvd": 7.5}}]}),
         "Results[0].Vulnerabilities[0].CVSS.nvd"),
        (_v2({"Target": "t", "Vulnerabilities": [GOOD | {"References": "https://x"}]}),
         "Results[0].Vulnerabilities[0].References"),
        (_v2({"Target": "env", "Secrets": [{"Severity": "HIGH"}]}), "Results[0].Secrets[0].RuleID"),
        (_v2({"Target": "Dockerfile", "Misconfigurations": [{"Status": "FAIL"}]}),
         "Results[0].Misconfigurations[0].ID"),
        (_v2({"Target": "OS Packages", "Licenses": [{"PkgName": "bash"}]}),
         "Results[0].Licenses[0].Name"),
        (_v2(Metadata=["alpine"]), "Metadata"),
        (_v2(Metadata={"ImageConfig": {"config": {"Env": "PATH=/bin"}}}),
         "Metadata.ImageConfig.config.Env"),
        (_v2(Metadata={"RepoTags": "app:1"}), "Metadata.RepoTags"),
        (_v2(SchemaVersion=3), "SchemaVersion"),
        ([{"Target": "t", "Vulnerabilities": [{"VulnerabilityID": "CVE-2024-0007"}]}],
         "[0].Vulnerabilities[0].PkgName"),
        ([{"Target": "t"}, 7], "[1]"),
    ],
    ids=["results-not-a-list", "result-not-an-object", "vulnerabilities-not-a-list",
         "missing-pkgname", "id-not-a-string", "vulnerability-not-an-object", "cvss-not-an-object",
         "cvss-entry-not-an-object", "references-not-a-list", "secret-without-rule",
         "misconfiguration-without-id", "license-without-name", "metadata-not-an-object",
         "env-not-a-list", "repo-tags-not-a-list", "schema-version-3", "legacy-missing-pkgname",
         "legacy-item-not-an-object"],
)  # fmt: skip
def test_malformed_report_names_file_and_json_path(report: Any, place: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse(report, "scans/bad.json")
    assert caught.value.where == f"scans/bad.json: {place}"
    assert str(caught.value).startswith(f"scans/bad.json: {place}: ")


def _paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Yield the path of every node under ``value`` (the root excluded).

    Of a list of plain values only the first item is visited: the others are read alike.
    """
    if isinstance(value, dict):
        items: list[tuple[str | int, Any]] = list(value.items())
    elif isinstance(value, list):
        plain = not any(isinstance(item, dict | list) for item in value)
        items = list(enumerate(value[:1] if plain else value))
    else:
        return
    for key, child in items:
        yield (*path, key)
        yield from _paths(child, (*path, key))


def test_any_wrong_type_anywhere_is_a_source_error() -> None:
    """No KeyError/TypeError escapes, whatever value sits anywhere in a real-shaped report."""
    trimmed = load("v2-image.json")
    # One listing per result keeps this fast; the others are read by the same code.
    for result in trimmed["Results"]:
        if "Vulnerabilities" in result:
            result["Vulnerabilities"] = result["Vulnerabilities"][:1]
    del trimmed["Metadata"]["ImageConfig"]["history"]
    replacements: tuple[Any, ...] = (None, 7, "x", [], {}, True, [1])
    for path in _paths(trimmed):
        for replacement in replacements:
            try:
                parse(replaced(trimmed, path, replacement))
            except SourceError:
                pass


# --- format detection -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, True),
        ({"ClusterName": "prod", "Vulnerabilities": [], "Misconfigurations": []}, True),
        ({"SchemaVersion": 2, "ArtifactName": "alpine:3.20", "ArtifactType": "container_image"},
         True),
        ([], False),
        ({}, False),
        ({"matches": [], "source": {"type": "image", "target": {"userInput": "alpine:3.20"}},
          "distro": {"name": "alpine"}, "descriptor": {"name": "grype", "version": "0.74.0"}},
         False),
        ([{"Id": "sha256:" + "a" * 64, "RepoTags": ["alpine:3.20"], "Config": {"User": ""}}],
         False),
        ({"architecture": "amd64", "os": "linux", "config": {},
          "rootfs": {"type": "layers", "diff_ids": []}}, False),
        ({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
          "config": {}, "layers": []}, False),
        ({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}, False),
        ({"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
          "runs": []}, False),
        ({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "VulnerabilityReport",
          "metadata": {}, "report": {"scanner": {"name": "Trivy"}}}, False),
        ([{"Target": "t"}, "x"], False),
        ("null", False),
        (0, False),
    ],
    ids=["null", "k8s-summary", "v2-no-results", "empty-list", "empty-object", "grype",
         "docker-inspect", "oci-config", "oci-manifest", "cyclonedx", "sarif",
         "trivy-operator-cr", "mixed-list", "string", "number"],
)  # fmt: skip
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


# --- scale ----------------------------------------------------------------------------


def test_large_report_parses_in_linear_time() -> None:
    listings = [
        {
            "VulnerabilityID": f"CVE-2024-{n % 3000:05d}",
            "PkgName": f"pkg-{n % 2000}",
            "PkgPath": f"app/lib/{n}.jar",
            "InstalledVersion": "1.0",
            "FixedVersion": "1.1, 2.0",
            "Severity": "HIGH",
            "PrimaryURL": f"https://avd.aquasec.com/nvd/cve-2024-{n % 3000:05d}",
            "References": ["https://example.com/a", "https://example.com/b"],
            "CVSS": {"nvd": {"V3Score": 7.5, "V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N"}},
        }
        for n in range(12_000)
    ]
    report = image_report(
        Results=[{"Target": "Java", "Class": "lang-pkgs", "Type": "jar",
                  "Vulnerabilities": listings}]
    )  # fmt: skip
    fragment = parse(report)
    assert len(fragment.vulnerabilities) == 6_000  # lcm(3000, 2000) distinct pairs


def test_listing_without_a_vulnerability_id_is_kept_not_dropped() -> None:
    fragment = parse([{"Target": "composer.lock", "Type": "composer",
                       "Vulnerabilities": [{"PkgName": "simplito/elliptic-php"}]}])  # fmt: skip
    [vuln] = fragment.vulnerabilities
    assert (vuln.id, vuln.package.name, vuln.package.type, vuln.severity) == (
        UNIDENTIFIED,
        "simplito/elliptic-php",
        "composer",
        "unknown",
    )


# --- the real corpus (../shared/corpus, optional) -------------------------------------


def _expected_counts(data: Any) -> tuple[int, int, int, int]:
    """Count, straight from the raw JSON, what the source should produce.

    Vulnerabilities: distinct (id, package URL type, package name, installed version), the
    within-report de-duplication rule; misconfigurations: FAIL entries only.
    """
    results = data if isinstance(data, list) else (data or {}).get("Results") or []
    vulnerabilities = set()
    secrets = misconfigurations = licenses = 0
    for result in results:
        for listing in result.get("Vulnerabilities") or []:
            purl = (listing.get("PkgIdentifier") or {}).get("PURL")
            package_type = purl_type(result.get("Type"), purl)
            vulnerabilities.add(
                (
                    (listing.get("VulnerabilityID") or UNIDENTIFIED).upper(),
                    package_type,
                    package_name_key(package_type, listing["PkgName"]),
                    listing.get("InstalledVersion") or None,
                )
            )
        secrets += len(result.get("Secrets") or [])
        misconfigurations += sum(
            1 for item in result.get("Misconfigurations") or [] if item.get("Status") == "FAIL"
        )
        licenses += len(result.get("Licenses") or [])
    return len(vulnerabilities), secrets, misconfigurations, licenses


@pytest.mark.parametrize("local_path", corpus_params("trivy-json"))
def test_corpus_trivy_report(local_path: str) -> None:
    data, source = load_input(CORPUS / local_path, local_path)
    assert SOURCE.matches(data)
    if isinstance(data, dict) and "ClusterName" in data:
        with pytest.raises(SourceError, match="Kubernetes cluster report is not an image scan"):
            SOURCE.parse(data, source)
        return
    fragment = SOURCE.parse(data, source)
    produced = (
        len(fragment.vulnerabilities),
        len(fragment.secrets),
        len(fragment.misconfigurations),
        len(fragment.licenses),
    )
    assert produced == _expected_counts(data)
