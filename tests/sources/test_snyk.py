"""Snyk JSON: detection, container and --all-projects shapes, ids, names, de-duplication."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import CORPUS, FIXTURES, corpus_params, load_input
from tests_support import parse_corpus, refusal, replaced, stand_in

from gate.document import Package
from gate.errors import SourceError
from gate.merge import package_name_key
from gate.sources.base import Fragment, purl_type
from gate.sources.snyk import SnykSource

SNYK = FIXTURES / "reports" / "snyk"
SOURCE = SnykSource()


def load(name: str) -> dict[str, Any] | list[Any]:
    """The parsed JSON of a Snyk fixture, as a fresh copy the test may change."""
    data: Any = load_input(SNYK / name)[0]
    return copy.deepcopy(data)


def parse(data: Any, path: str = "inline-snyk.json") -> Fragment:
    """Parse in-test Snyk JSON."""
    return SOURCE.parse(data, stand_in(path))


def parse_fixture(name: str) -> Fragment:
    """Parse a fixture under fixtures/reports/snyk."""
    data, source = load_input(SNYK / name)
    return SOURCE.parse(data, source)


def by_key(fragment: Fragment) -> dict[tuple[str, str], Any]:
    """Index findings by (id, package name)."""
    return {(v.id, v.package.name): v for v in fragment.vulnerabilities}


def project(*vulnerabilities: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A minimal project result."""
    return {
        "ok": False,
        "packageManager": "npm",
        "vulnerabilities": list(vulnerabilities),
        **fields,
    }


def listing(**fields: Any) -> dict[str, Any]:
    """A minimal vulnerability listing."""
    return {
        "id": "SNYK-JS-LODASH-1018905",
        "identifiers": {"CVE": ["CVE-2020-28500"], "CWE": ["CWE-400"]},
        "name": "lodash",
        "version": "4.17.20",
        "severity": "medium",
        **fields,
    }


def container(path: str, **fields: Any) -> dict[str, Any]:
    """A minimal container result for the image at ``path``."""
    return project(listing(), **{"packageManager": "deb", "docker": {}, "path": path, **fields})


# --- detection ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(project(), True, id="project"),
        pytest.param({"ok": True, "vulnerabilities": []}, True, id="ok-only"),
        pytest.param({"projectName": "x", "vulnerabilities": []}, True, id="project-name"),
        pytest.param([project(), project()], True, id="all-projects"),
        pytest.param({"vulnerabilities": []}, False, id="vulnerabilities-alone"),
        pytest.param(
            {"ok": False, "error": "Could not detect supported target files"},
            False,
            id="snyk-error",
        ),
        pytest.param({"ok": True, "vulnerabilities": {}}, False, id="vulnerabilities-object"),
        pytest.param([project(), {"Target": "x"}], False, id="mixed-list"),
        pytest.param([], False, id="empty-list"),
        pytest.param(
            {"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": []},
            False,
            id="cyclonedx",
        ),
        pytest.param(
            {"generated_at": "2024-01-01T00:00:00Z", "scanner": {}, "vulnerabilities": []},
            False,
            id="harbor",
        ),
        pytest.param(
            {
                "apiVersion": "aquasecurity.github.io/v1alpha1",
                "kind": "VulnerabilityReport",
                "report": {"vulnerabilities": []},
            },
            False,
            id="trivy-operator",
        ),
        pytest.param({"SchemaVersion": 2, "Results": []}, False, id="trivy"),
        pytest.param({"matches": [], "descriptor": {}}, False, id="grype"),
        pytest.param([{"code": "DL3008", "line": 3, "level": "warning"}], False, id="hadolint"),
        pytest.param(None, False, id="null"),
    ],
)
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


# --- container results ---------------------------------------------------------------


def test_container_scan_facts() -> None:
    fragment = parse_fixture("container.json")
    assert fragment.format == "snyk-json"
    assert fragment.tool == "snyk"
    assert (fragment.tool_version, fragment.created) == (None, None)
    assert fragment.artifact_name == "ghcr.io/acme/shop-api:1.4.2"
    assert fragment.artifact_type == "container_image"
    assert fragment.kinds == ["license", "vulnerability"]
    assert fragment.authority == 0


def test_container_subject_and_image() -> None:
    fragment = parse_fixture("container.json")
    subject = fragment.subject
    assert (subject.reference, subject.registry, subject.repository, subject.tag) == (
        "ghcr.io/acme/shop-api:1.4.2",
        "ghcr.io",
        "acme/shop-api",
        "1.4.2",
    )
    assert subject.digest is None
    image = fragment.image
    assert image is not None
    assert (image.os, image.architecture, image.variant) == ("linux", "amd64", None)
    assert image.base is not None
    assert (image.base.name, image.base.digest, image.base.source) == (
        "debian:12.5-slim",
        None,
        "snyk",
    )
    # REMEDIATION_AVAILABLE is advice, not Snyk saying the base is out of date
    assert image.base.outdated is None
    assert image.base.remediation is not None
    assert image.base.remediation.startswith("Recommendations for base image upgrade:")
    assert "debian:12.7-slim" in image.base.remediation


@pytest.mark.parametrize(
    ("remediation", "outdated"),
    [
        (
            {
                "code": "OUTDATED_BASE_IMAGE",
                "advice": [{"message": "Your base image is out of date"}],
            },
            True,
        ),
        ({"baseImageOutdated": False, "advice": []}, False),
        ({"code": "REMEDIATION_AVAILABLE"}, None),
    ],
    ids=["outdated-code", "explicit-flag", "advice-only"],
)
def test_base_image_outdated_flag(remediation: dict[str, Any], outdated: bool | None) -> None:
    data = container(
        "alpine:3.20",
        docker={"baseImage": "alpine:3.20", "baseImageRemediation": remediation},
    )
    image = parse(data).image
    assert image is not None and image.base is not None
    assert image.base.outdated is outdated


def test_container_findings_fold_paths_and_name_binary_packages() -> None:
    fragment = parse_fixture("container.json")
    # 5 OS listings (libssl3 twice, by two dependency paths) and 2 app vulnerabilities.
    assert sorted(by_key(fragment)) == [
        ("CVE-2019-1010022", "libc6"),
        ("CVE-2023-45133", "@babel/traverse"),
        ("CVE-2023-45853", "zlib1g"),
        ("CVE-2023-5678", "libssl3"),
        ("CVE-2023-5678", "openssl"),
        ("npm:ms:20170412", "ms"),
    ]
    libssl = by_key(fragment)[("CVE-2023-5678", "libssl3")]
    assert len(libssl.sources) == 1
    assert (libssl.package.type, libssl.package.version, libssl.package.path) == (
        "deb",
        "3.0.11-1~deb12u2",
        None,
    )


@pytest.mark.parametrize(
    ("key", "severity", "status", "fixed", "aliases"),
    [
        pytest.param(("CVE-2023-5678", "libssl3"), "medium", "fixed", ["3.0.13-1~deb12u1"],
                     ["SNYK-DEBIAN12-OPENSSL-6048822"], id="fixed"),
        pytest.param(("CVE-2019-1010022", "libc6"), "low", "affected", [],
                     ["SNYK-DEBIAN12-GLIBC-1296899"], id="empty-fixedIn-is-affected"),
        pytest.param(("CVE-2023-45853", "zlib1g"), "critical", "unknown", [],
                     ["SNYK-DEBIAN12-ZLIB-6008963"], id="severityWithCritical-no-fixedIn"),
        pytest.param(("CVE-2023-45133", "@babel/traverse"), "critical", "fixed",
                     ["7.23.2", "8.0.0-alpha.4"],
                     ["SNYK-JS-BABELTRAVERSE-5962462", "GHSA-67hx-6x53-jw92"], id="npm-ghsa"),
        pytest.param(("npm:ms:20170412", "ms"), "low", "fixed", ["2.0.0"], ["SNYK-JS-MS-10064"],
                     id="no-cve-keeps-snyk-id"),
    ],
)  # fmt: skip
def test_container_finding_details(
    key: tuple[str, str], severity: str, status: str, fixed: list[str], aliases: list[str]
) -> None:
    vuln = by_key(parse_fixture("container.json"))[key]
    assert (vuln.severity, vuln.status, vuln.fixed_versions, vuln.aliases) == (
        severity,
        status,
        fixed,
        aliases,
    )
    assert vuln.fix_available is bool(fixed)
    assert vuln.sources[0].tool == "snyk" and vuln.sources[0].severity == severity


def test_finding_text_cvss_and_urls() -> None:
    vuln = by_key(parse_fixture("container.json"))[("CVE-2019-1010022", "libc6")]
    assert vuln.title == "Out-of-bounds Write"
    assert vuln.description is not None and "CVE-2019-1010022" in vuln.description
    assert vuln.published == "2019-07-15T18:15:11.237Z"
    assert vuln.urls == [
        "https://security-tracker.debian.org/tracker/CVE-2019-1010022",
        "https://nvd.nist.gov/vuln/detail/CVE-2019-1010022",
    ]
    assert vuln.cvss is not None
    assert (vuln.cvss.score, vuln.cvss.version, vuln.cvss.source) == (9.8, "3.0", "snyk")
    assert vuln.cvss.vector == "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def test_application_findings_carry_their_target_file() -> None:
    vuln = by_key(parse_fixture("container.json"))[("CVE-2023-45133", "@babel/traverse")]
    assert (vuln.package.type, vuln.package.version, vuln.package.path) == (
        "npm",
        "7.22.5",
        "/app/package.json",
    )


def test_cwe_and_nsp_identifiers_are_not_aliases() -> None:
    fragment = parse_fixture("container.json")
    aliases = {alias for vuln in fragment.vulnerabilities for alias in vuln.aliases}
    assert not {alias for alias in aliases if alias.startswith("CWE-")}
    assert "46" not in aliases  # the NSP advisory number of npm:ms:20170412


def test_licence_issues_are_licences_not_vulnerabilities() -> None:
    fragment = parse_fixture("container.json")
    [licence] = fragment.licenses  # listed twice, by two dependency paths
    assert (licence.name, licence.severity, licence.target) == (
        "GPL-2.0",
        "high",
        "/app/package.json",
    )
    # The package object of a vulnerability in the same package, as Snyk names it.
    assert licence.package == Package(
        name="node-forge", version="1.3.1", type="npm", path="/app/package.json"
    )
    assert all(not v.id.startswith("snyk:lic:") for v in fragment.vulnerabilities)


def test_without_licence_issues_only_vulnerabilities_are_claimed() -> None:
    data = load("container.json")
    assert isinstance(data, dict)
    data["applications"][0]["vulnerabilities"] = data["applications"][0]["vulnerabilities"][:2]
    fragment = parse(data)
    assert fragment.kinds == ["vulnerability"] and fragment.licenses == []


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        pytest.param("linux/arm64/v8", ("linux", "arm64", "v8"), id="variant"),
        pytest.param("linux", ("linux", None, None), id="os-only"),
        pytest.param(None, (None, None, None), id="absent"),
    ],
)
def test_platform(platform: str | None, expected: tuple[str | None, ...]) -> None:
    data = container("alpine:3.20", platform=platform, docker={"baseImage": "alpine:3.20"})
    image = parse(data).image
    assert image is not None
    assert (image.os, image.architecture, image.variant) == expected


def test_container_without_platform_or_base_has_no_image() -> None:
    assert parse(container("alpine:3.20")).image is None


@pytest.mark.parametrize(
    ("fields", "app_paths", "reference"),
    [
        pytest.param({"path": "nginx:1.27"}, [], "nginx:1.27", id="path"),
        pytest.param(
            {"path": "sarim04/juiceshop:latest/juiceshop"},
            ["sarim04/juiceshop:latest"],
            "sarim04/juiceshop:latest",
            id="path-with-app-suffix-falls-back-to-app-path",
        ),
        pytest.param(
            {"path": "docker-archive:build/image.tar", "projectName": "docker-image|acme/api"},
            [],
            "acme/api",
            id="archive-path-falls-back-to-project-name",
        ),
        pytest.param(
            {"path": "nginx:1.27", "docker": {"image": "ghcr.io/acme/web:2"}},
            [],
            "ghcr.io/acme/web:2",
            id="docker-image-first",
        ),
    ],
)
def test_reference_choice(fields: dict[str, Any], app_paths: list[str], reference: str) -> None:
    data = {"ok": True, "vulnerabilities": [], "packageManager": "deb", "docker": {}, **fields}
    data["applications"] = [project(path=path) for path in app_paths]
    fragment = parse(data)
    assert fragment.subject.reference == reference
    assert fragment.artifact_name == reference


def test_project_name_alone_marks_a_container_result() -> None:
    data = {
        "ok": True,
        "vulnerabilities": [],
        "projectName": "docker-image|redis",
        "path": "redis:7",
    }
    fragment = parse(data)
    assert (fragment.artifact_type, fragment.subject.repository) == (
        "container_image",
        "library/redis",
    )


def test_results_for_one_image_merge() -> None:
    fragment = parse([container("nginx:1.27"), container("docker.io/library/nginx:1.27")])
    assert fragment.subject.repository == "library/nginx"
    assert len(fragment.vulnerabilities) == 1


def test_results_for_different_images_are_refused() -> None:
    with pytest.raises(SourceError, match="2 different images: nginx:1.27, redis:7") as caught:
        parse([container("nginx:1.27"), container("redis:7")], "reports/snyk.json")
    assert str(caught.value).startswith("reports/snyk.json: ")
    assert caught.value.hint is not None and "one image" in caught.value.hint


# --- snyk test / --all-projects --------------------------------------------------------


def test_all_projects_list() -> None:
    fragment = parse_fixture("all-projects.json")
    assert fragment.artifact_type == "filesystem"
    assert fragment.artifact_name == "/home/ci/work/shop"
    assert fragment.image is None
    assert fragment.subject.reference is None and fragment.subject.repository is None
    found = {
        (v.id, v.package.name): (v.package.type, v.package.path) for v in fragment.vulnerabilities
    }
    # sqlparse is listed twice (two dependency paths); the nuget project has none.
    assert found == {
        ("CVE-2024-24680", "django"): ("pypi", "admin/requirements.txt"),
        ("CVE-2024-4340", "sqlparse"): ("pypi", "admin/requirements.txt"),
        ("CVE-2023-45857", "axios"): ("npm", "web/package-lock.json"),
    }


def test_ok_project_without_vulnerabilities_is_an_empty_scan() -> None:
    fragment = parse_fixture("ok-no-vulns.json")
    assert fragment.vulnerabilities == [] and fragment.licenses == []
    assert fragment.kinds == ["vulnerability"]
    assert (fragment.artifact_type, fragment.artifact_name) == (
        "filesystem",
        "/home/ci/work/billing",
    )
    assert fragment.image is None and fragment.subject.reference is None


def test_relative_project_path_is_not_an_image_reference() -> None:
    fragment = parse(project(listing(), path="frontend"))
    assert fragment.artifact_name == "frontend"
    assert fragment.subject.reference is None


@pytest.mark.parametrize(
    ("listed", "project_manager", "name", "expected"),
    [
        pytest.param("debian:12", "deb", "openssl/libssl3", ("deb", "libssl3"), id="deb"),
        pytest.param("alpine:3.20", "apk", "openssl/libcrypto3", ("apk", "libcrypto3"), id="apk"),
        pytest.param("rhel:8", "rpm", "openssl/openssl-libs", ("rpm", "openssl-libs"), id="rhel"),
        pytest.param("amzn:2", "rpm", "curl/libcurl", ("rpm", "libcurl"), id="amzn"),
        pytest.param("ubuntu:22.04", "deb", "bash", ("deb", "bash"), id="no-source-name"),
        pytest.param("npm", "npm", "@babel/core", ("npm", "@babel/core"), id="npm-scope-kept"),
        pytest.param(None, "gomodules", "golang.org/x/net", ("golang", "golang.org/x/net"),
                     id="project-manager-gomodules"),
        pytest.param("rubygems", "rubygems", "rack", ("gem", "rack"), id="rubygems"),
        pytest.param("pip", "poetry", "Django", ("pypi", "Django"), id="pip"),
        pytest.param("maven", "gradle", "org.yaml:snakeyaml", ("maven", "org.yaml:snakeyaml"),
                     id="maven"),
    ],
)  # fmt: skip
def test_package_type_and_name(
    listed: str | None, project_manager: str, name: str, expected: tuple[str, str]
) -> None:
    item = listing(name=name)
    if listed is not None:
        item["packageManager"] = listed
    [vuln] = parse(project(item, packageManager=project_manager)).vulnerabilities
    assert (vuln.package.type, vuln.package.name) == expected


def test_package_name_falls_back_to_package_name() -> None:
    item = listing()
    del item["name"]
    item["packageName"] = "minimist"
    [vuln] = parse(project(item)).vulnerabilities
    assert vuln.package.name == "minimist"


@pytest.mark.parametrize(
    ("fields", "status", "fixed"),
    [
        pytest.param({}, "unknown", [], id="absent"),
        pytest.param({"fixedIn": None}, "unknown", [], id="null"),
        pytest.param({"fixedIn": []}, "affected", [], id="empty"),
        pytest.param({"fixedIn": ["4.17.21", "4.17.21"]}, "fixed", ["4.17.21"], id="listed"),
    ],
)
def test_fix_status(fields: dict[str, Any], status: str, fixed: list[str]) -> None:
    [vuln] = parse(project(listing(**fields))).vulnerabilities
    assert (vuln.status, vuln.fixed_versions, vuln.fix_available) == (status, fixed, bool(fixed))


@pytest.mark.parametrize(
    ("fields", "severity"),
    [
        pytest.param({"severity": "high"}, "high", id="severity"),
        pytest.param({"severity": "high", "severityWithCritical": "critical"}, "critical",
                     id="with-critical-wins"),
        pytest.param({"severity": "Low"}, "low", id="any-case"),
        pytest.param({"severity": "whatever"}, "unknown", id="unrecognised"),
    ],
)  # fmt: skip
def test_severity(fields: dict[str, Any], severity: str) -> None:
    [vuln] = parse(project(listing(**fields))).vulnerabilities
    assert vuln.severity == severity


def test_several_cves_are_one_finding_each_with_the_grouping_ids_as_advisories() -> None:
    item = listing(
        identifiers={"CVE": ["CVE-2021-1", "CVE-2021-2"], "GHSA": ["GHSA-aaaa-bbbb-cccc"]},
        alternativeIds=["SNYK-JS-OLD-1"],
    )
    first, second = parse(project(item)).vulnerabilities
    # Which CVE the issue's GHSA belongs to is unknown: it may join neither.
    grouping = ["SNYK-JS-LODASH-1018905", "GHSA-aaaa-bbbb-cccc", "SNYK-JS-OLD-1"]
    assert (first.id, first.aliases, first.advisories) == ("CVE-2021-1", [], grouping)
    assert (second.id, second.aliases, second.advisories) == ("CVE-2021-2", [], grouping)


def test_same_cve_under_two_snyk_ids_is_one_finding() -> None:
    first = listing()
    second = listing(id="npm:lodash:20210215", severity="high")
    [vuln] = parse(project(first, second)).vulnerabilities
    assert vuln.severity == "high"
    assert vuln.aliases == ["SNYK-JS-LODASH-1018905", "npm:lodash:20210215"]


def test_cvss_score_without_vector() -> None:
    [vuln] = parse(project(listing(cvssScore=7))).vulnerabilities
    assert vuln.cvss is not None
    assert (vuln.cvss.score, vuln.cvss.vector, vuln.cvss.version) == (7.0, None, None)


# --- malformed input -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "place"),
    [
        pytest.param(["vulnerabilities", 1], "CVE-1", "vulnerabilities[1]", id="listing-string"),
        pytest.param(["vulnerabilities", 0, "id"], "", "vulnerabilities[0].id", id="no-id"),
        pytest.param(["vulnerabilities", 0, "name"], 3, "vulnerabilities[0].name", id="name"),
        pytest.param(["vulnerabilities", 0, "identifiers", "CVE"], "CVE-1",
                     "vulnerabilities[0].identifiers.CVE", id="cve-string"),
        pytest.param(["vulnerabilities", 0, "identifiers"], [], "vulnerabilities[0].identifiers",
                     id="identifiers-list"),
        pytest.param(["vulnerabilities", 0, "cvssScore"], "5.3", "vulnerabilities[0].cvssScore",
                     id="score-string"),
        pytest.param(["vulnerabilities", 0, "references", 1], "https://x",
                     "vulnerabilities[0].references[1]", id="reference-string"),
        pytest.param(["vulnerabilities", 0, "references", 0, "url"], 1,
                     "vulnerabilities[0].references[0].url", id="url-number"),
        pytest.param(["applications", 0, "vulnerabilities", 0, "fixedIn"], "7.23.2",
                     "applications[0].vulnerabilities[0].fixedIn", id="fixedIn-string"),
        pytest.param(["applications", 0], 7, "applications[0]", id="application-number"),
        pytest.param(["applications"], {}, "applications", id="applications-object"),
        pytest.param(["docker"], "debian", "docker", id="docker-string"),
        pytest.param(["docker", "baseImage"], 12, "docker.baseImage", id="base-number"),
        pytest.param(["platform"], ["linux"], "platform", id="platform-list"),
    ],
)  # fmt: skip
def test_malformed_reports_name_file_and_place(
    path: list[str | int], value: Any, place: str
) -> None:
    message = refusal(SOURCE, replaced(load("container.json"), path, value), "reports/snyk.json")
    assert message.startswith(f"reports/snyk.json: {place}:")


def test_malformed_project_in_list_names_its_index() -> None:
    data = load("all-projects.json")
    assert isinstance(data, list)
    data[1]["vulnerabilities"][0]["version"] = 1.5
    message = refusal(SOURCE, data, "reports/snyk.json")
    assert message.startswith("reports/snyk.json: [1].vulnerabilities[0].version:")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param([project(), "x"], "reports/snyk.json: [1]: expected a project result",
                     id="list-item-string"),
        pytest.param([], "reports/snyk.json: no Snyk project results", id="empty-list"),
    ],
)  # fmt: skip
def test_malformed_lists(data: Any, expected: str) -> None:
    message = refusal(SOURCE, data, "reports/snyk.json")
    assert message.startswith(expected)


# --- the real corpus (../shared/corpus, optional) -------------------------------------

OS_TYPES = ("deb", "apk", "rpm")
CORPUS_COUNTS = {
    "other/snyk-container-deb-with-app-vulns.json": 2,
    # 25 deb listings are 18 (id, binary package) pairs; the summary counts 67 paths.
    "other/snyk-container-juiceshop-deb-npm.json": 30,
    "other/snyk-all-projects-list.json": 17,
    "other/snyk-maven-no-vulns.json": 0,
}


def distinct_keys(data: Any) -> int:
    """Count findings by the module's rule, computed straight from the raw JSON."""
    keys = set()
    for result in data if isinstance(data, list) else [data]:
        for scope in [result, *(result.get("applications") or [])]:
            for item in scope["vulnerabilities"]:
                if item.get("type") == "license":
                    continue
                cves = (item.get("identifiers") or {}).get("CVE") or []
                manager = item.get("packageManager") or scope["packageManager"]
                kind = purl_type(manager.split(":")[0])
                name = item.get("name") or item["packageName"]
                if kind in OS_TYPES:
                    name = name.split("/", 1)[-1]
                keys.add(
                    (
                        (cves[0] if cves else item["id"]).upper(),
                        kind,
                        package_name_key(kind, name),
                        item.get("version"),
                    )
                )
    return len(keys)


@pytest.mark.parametrize("local_path", corpus_params("snyk-json"))
def test_corpus(local_path: str) -> None:
    data, fragment = parse_corpus(SOURCE, local_path)
    assert len(fragment.vulnerabilities) == distinct_keys(data) == CORPUS_COUNTS[local_path]
    for finding in fragment.vulnerabilities:
        assert finding.id not in finding.aliases
        assert finding.sources[0].tool == "snyk"


def test_corpus_container_subjects() -> None:
    path = CORPUS / "other/snyk-container-juiceshop-deb-npm.json"
    if not path.exists():
        pytest.skip("../shared/corpus is not present")
    fragment = SOURCE.parse(*load_input(path))
    assert (fragment.subject.repository, fragment.subject.tag) == ("sarim04/juiceshop", "latest")
    assert fragment.image is not None and fragment.image.architecture == "amd64"
