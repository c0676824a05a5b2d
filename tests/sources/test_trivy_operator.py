"""trivy-operator VulnerabilityReport CRs: detection, lists, subject, package types, CVSS."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import FIXTURES, format_params, load_input
from tests_support import parse_corpus, refusal, replaced, stand_in

from gate.errors import SourceError
from gate.sources.base import Fragment, purl_type
from gate.sources.trivy_operator import TrivyOperatorSource

CR = FIXTURES / "reports" / "trivy-operator" / "vulnerabilityreport.json"
MANIFEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
API = "aquasecurity.github.io/v1alpha1"
SOURCE = TrivyOperatorSource()


def load() -> dict[str, Any]:
    """A fresh copy of the fixture custom resource."""
    data: dict[str, Any] = copy.deepcopy(load_input(CR)[0])
    return data


def parse(data: Any, path: str = "inline-vulns.json") -> Fragment:
    """Parse an in-test resource."""
    return SOURCE.parse(data, stand_in(path))


def listed(*items: dict[str, Any], kind: str = "List") -> dict[str, Any]:
    """``kubectl get vulns -o json`` output holding ``items``."""
    return {"apiVersion": "v1", "kind": kind, "items": list(items), "metadata": {}}


def resource(
    repository: str = "library/nginx", tag: str = "alpine", **report: Any
) -> dict[str, Any]:
    """A minimal report resource for ``index.docker.io/<repository>:<tag>``."""
    return {
        "apiVersion": API,
        "kind": "VulnerabilityReport",
        "metadata": {"name": "replicaset-web-nginx"},
        "report": {
            "artifact": {"repository": repository, "tag": tag},
            "registry": {"server": "index.docker.io"},
            "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "0.38.2"},
            "updateTimestamp": "2023-03-23T16:23:01Z",
            "vulnerabilities": [
                {"vulnerabilityID": "CVE-2023-23914", "resource": "curl",
                 "installedVersion": "7.87.0-r1", "fixedVersion": "7.87.0-r2",
                 "severity": "CRITICAL", "title": "curl: HSTS ignored", "links": [],
                 "primaryLink": "https://avd.aquasec.com/nvd/cve-2023-23914", "target": ""}
            ],
            **report,
        },
    }  # fmt: skip


def by_name(fragment: Fragment) -> dict[str, Any]:
    """Index findings by package name."""
    return {v.package.name: v for v in fragment.vulnerabilities}


# --- detection ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(resource(), True, id="report"),
        pytest.param({**resource(), "kind": "ClusterVulnerabilityReport"}, True, id="cluster"),
        pytest.param({**resource(), "apiVersion": "aquasecurity.github.io/v1beta1"}, True,
                     id="v1beta1"),
        pytest.param(listed(resource(), resource()), True, id="list"),
        pytest.param(listed(kind="VulnerabilityReportList"), True, id="typed-empty-list"),
        pytest.param(listed(), False, id="generic-empty-list"),
        pytest.param(listed(resource(), {"apiVersion": API, "kind": "ConfigAuditReport"}), False,
                     id="list-with-other-kinds"),
        pytest.param({"apiVersion": API, "kind": "ExposedSecretReport", "report": {}}, False,
                     id="secret-report"),
        pytest.param({**resource(), "apiVersion": "example.com/v1"}, False, id="other-group"),
        pytest.param({"kind": "VulnerabilityReport", "report": {}}, False, id="no-api-version"),
        pytest.param(resource()["report"], False, id="report-body"),
        pytest.param({"apiVersion": "v1", "kind": "Pod", "metadata": {}}, False, id="pod"),
        pytest.param({"SchemaVersion": 2, "Results": []}, False, id="trivy"),
        pytest.param({"ClusterName": "prod", "Resources": []}, False, id="trivy-k8s"),
        pytest.param({"ok": True, "vulnerabilities": [], "packageManager": "npm"}, False,
                     id="snyk"),
        pytest.param([resource()], False, id="json-array"),
        pytest.param(None, False, id="null"),
    ],
)  # fmt: skip
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


# --- one report ------------------------------------------------------------------------


def test_scan_facts() -> None:
    fragment = parse(load())
    assert fragment.format == "trivy-operator"
    assert (fragment.tool, fragment.tool_version) == ("trivy", "0.52.2")
    assert fragment.created == "2024-10-14T07:20:05Z"
    assert fragment.artifact_name == f"ghcr.io/acme/shop-api:1.4.2@{MANIFEST}"
    assert fragment.artifact_type == "container_image"
    assert fragment.artifact_digests == [MANIFEST]
    assert fragment.kinds == ["vulnerability"]


def test_subject_and_image() -> None:
    fragment = parse(load())
    subject = fragment.subject
    assert (subject.registry, subject.repository, subject.tag, subject.digest) == (
        "ghcr.io",
        "acme/shop-api",
        "1.4.2",
        MANIFEST,
    )
    assert subject.image_id is None
    image = fragment.image
    assert image is not None and fragment.authority == 0
    assert (image.os_family, image.os_version) == ("debian", "12.5")
    assert image.user is None and image.os is None  # the CR holds no image config


def test_docker_hub_server_is_normalised() -> None:
    fragment = parse(resource())
    subject = fragment.subject
    assert (subject.reference, subject.registry, subject.repository, subject.tag) == (
        "index.docker.io/library/nginx:alpine",
        "docker.io",
        "library/nginx",
        "alpine",
    )
    assert fragment.image is None  # no os section: nothing image-like to say


@pytest.mark.parametrize(
    ("artifact", "registry", "reference", "digest"),
    [
        pytest.param({"repository": "acme/api", "digest": MANIFEST}, {"server": "quay.io"},
                     f"quay.io/acme/api@{MANIFEST}", MANIFEST, id="digest-only"),
        pytest.param({"repository": "acme/api", "tag": "2", "digest": f"acme/api@{MANIFEST}"},
                     {"server": "quay.io"}, f"quay.io/acme/api:2@{MANIFEST}", MANIFEST,
                     id="image-id-style-digest"),
        pytest.param({"repository": "acme/api", "tag": "2", "digest": "REDACTED"},
                     {"server": "quay.io"}, "quay.io/acme/api:2", None, id="bad-digest-dropped"),
        pytest.param({"repository": "acme/api", "tag": "2"}, {}, "acme/api:2", None,
                     id="no-server"),
        pytest.param({"tag": "2"}, {"server": "quay.io"}, None, None, id="no-repository"),
    ],
)  # fmt: skip
def test_reference(
    artifact: dict[str, Any], registry: dict[str, Any], reference: str | None, digest: str | None
) -> None:
    data = resource()
    data["report"]["artifact"] = artifact
    data["report"]["registry"] = registry
    fragment = parse(data)
    assert (fragment.subject.reference, fragment.subject.digest) == (reference, digest)
    assert fragment.artifact_digests == ([digest] if digest else [])


def test_findings_and_de_duplication() -> None:
    fragment = parse(load())
    # jackson-databind is listed twice (two jars): one finding.
    assert sorted(by_name(fragment)) == [
        "com.fasterxml.jackson.core:jackson-databind",
        "libssl3",
        "stdlib",
        "zlib1g",
    ]
    jackson = by_name(fragment)["com.fasterxml.jackson.core:jackson-databind"]
    assert jackson.package.path == "app/lib/jackson-databind-2.13.3.jar"
    assert jackson.urls == [
        "https://avd.aquasec.com/nvd/cve-2022-42003",
        "https://github.com/advisories/GHSA-jjjh-jjxp-wpff",
    ]
    assert jackson.fixed_versions == ["2.12.7.1", "2.13.4.2"]


@pytest.mark.parametrize(
    ("name", "package_type", "path"),
    [
        pytest.param("libssl3", "deb", None, id="from-purl"),
        pytest.param("zlib1g", "deb", None, id="os-pkgs-from-os-family"),
        pytest.param("stdlib", "golang", "usr/local/bin/healthcheck", id="gobinary-target-path"),
        pytest.param("com.fasterxml.jackson.core:jackson-databind", "maven",
                     "app/lib/jackson-databind-2.13.3.jar", id="jar-package-path"),
    ],
)  # fmt: skip
def test_package_type_and_path(name: str, package_type: str, path: str | None) -> None:
    vuln = by_name(parse(load()))[name]
    assert (vuln.package.type, vuln.package.path) == (package_type, path)


def test_legacy_listing_without_class_has_no_type() -> None:
    # The corpus report (trivy-operator 0.38) lists a Go module beside apk packages with
    # nothing to tell them apart: guessing the OS type would mislabel it.
    data = load()
    for item in data["report"]["vulnerabilities"]:
        for key in ("class", "packageType", "packagePURL", "packagePath"):
            item.pop(key, None)
    assert {v.package.type for v in parse(data).vulnerabilities} == {None}


@pytest.mark.parametrize(
    ("name", "cvss"),
    [
        pytest.param("libssl3", (5.9, "3.1", "redhat"), id="cvsssource-first"),
        pytest.param("zlib1g", (9.8, "3.0", None), id="bare-score"),
        pytest.param("com.fasterxml.jackson.core:jackson-databind", (7.5, "3.1", "ghsa"),
                     id="ghsa-source"),
    ],
)  # fmt: skip
def test_cvss(name: str, cvss: tuple[float, str, str | None]) -> None:
    rating = by_name(parse(load()))[name].cvss
    assert rating is not None
    assert (rating.score, rating.version, rating.source) == cvss


def test_cvss_prefers_nvd_then_newest_version() -> None:
    data = resource()
    data["report"]["vulnerabilities"][0]["cvss"] = {
        "redhat": {"V3Score": 5.9, "V3Vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"},
        "nvd": {"V2Score": 5.0, "V2Vector": "AV:N/AC:L/Au:N/C:N/I:N/A:P", "V3Score": 7.5},
    }
    [vuln] = parse(data).vulnerabilities
    assert vuln.cvss is not None
    assert (vuln.cvss.score, vuln.cvss.vector, vuln.cvss.version, vuln.cvss.source) == (
        7.5,
        None,
        "3.0",
        "nvd",
    )


def test_finding_details() -> None:
    vuln = by_name(parse(load()))["libssl3"]
    assert (vuln.id, vuln.severity, vuln.status, vuln.fix_available) == (
        "CVE-2024-5535",
        "critical",
        "fixed",
        True,
    )
    assert vuln.package.version == "3.0.11-1~deb12u2"
    assert vuln.package.purl is not None and vuln.package.purl.startswith("pkg:deb/debian/")
    assert vuln.title == "openssl: SSL_select_next_proto buffer overread"
    assert vuln.description is not None and vuln.description.startswith("Issue summary")
    assert vuln.urls == [
        "https://avd.aquasec.com/nvd/cve-2024-5535",
        "https://www.openssl.org/news/secadv/20240627.txt",
    ]
    assert vuln.published == "2024-06-27T11:15:24.447Z"
    assert vuln.sources[0].tool == "trivy" and vuln.sources[0].severity == "critical"
    no_fix = by_name(parse(load()))["zlib1g"]
    assert (no_fix.status, no_fix.fixed_versions, no_fix.fix_available) == ("unknown", [], False)


def test_creation_time_is_the_fallback() -> None:
    data = load()
    del data["report"]["updateTimestamp"]
    assert parse(data).created == "2024-10-14T07:19:58Z"


# --- lists -----------------------------------------------------------------------------


def test_list_of_one_image_merges() -> None:
    first = resource()
    second = resource()
    second["report"]["vulnerabilities"][0]["severity"] = "HIGH"
    second["report"]["vulnerabilities"].append(
        {"vulnerabilityID": "CVE-2023-0464", "resource": "libcrypto3",
         "installedVersion": "3.0.8-r0", "fixedVersion": "3.0.8-r1", "severity": "MEDIUM"}
    )  # fmt: skip
    second["report"]["registry"]["server"] = "docker.io"
    fragment = parse(listed(first, second))
    assert [(v.id, v.severity) for v in fragment.vulnerabilities] == [
        ("CVE-2023-23914", "critical"),
        ("CVE-2023-0464", "medium"),
    ]
    assert fragment.subject.repository == "library/nginx"


def test_list_of_different_images_is_refused() -> None:
    data = listed(resource(), resource(tag="1.27"), resource())
    with pytest.raises(SourceError, match="describe 2 different images") as caught:
        parse(data, "vulns.json")
    message = str(caught.value)
    assert message.startswith("vulns.json: items: ")
    assert "index.docker.io/library/nginx:alpine, index.docker.io/library/nginx:1.27" in message
    assert caught.value.hint is not None and "one image" in caught.value.hint


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(listed(kind="VulnerabilityReportList"),
                     "vulns.json: items: the list holds no VulnerabilityReport", id="empty"),
        pytest.param(listed(resource(), {"apiVersion": API, "kind": "ConfigAuditReport"},
                            kind="VulnerabilityReportList"),
                     "vulns.json: items[1]: expected a VulnerabilityReport, "
                     "got 'ConfigAuditReport'",
                     id="other-kind"),
        pytest.param(listed(resource(), 5, kind="VulnerabilityReportList"),
                     "vulns.json: items[1]: expected a VulnerabilityReport, got a number",
                     id="item-number"),
        pytest.param({**resource(), "report": None}, "vulns.json: report: missing report",
                     id="no-report"),
    ],
)  # fmt: skip
def test_unusable_resources_are_refused(data: Any, expected: str) -> None:
    message = refusal(SOURCE, data, "vulns.json")
    assert message == expected


VULNS = ["report", "vulnerabilities"]


@pytest.mark.parametrize(
    ("path", "value", "place"),
    [
        pytest.param(VULNS, {}, "report.vulnerabilities", id="vulnerabilities-object"),
        pytest.param([*VULNS, 2], "CVE-1", "report.vulnerabilities[2]", id="item-string"),
        pytest.param([*VULNS, 0, "vulnerabilityID"], "",
                     "report.vulnerabilities[0].vulnerabilityID", id="no-id"),
        pytest.param([*VULNS, 1, "resource"], None, "report.vulnerabilities[1].resource",
                     id="no-resource"),
        pytest.param([*VULNS, 0, "score"], "5.9", "report.vulnerabilities[0].score",
                     id="score-string"),
        pytest.param([*VULNS, 0, "cvss", "redhat", "V3Score"], "5.9",
                     "report.vulnerabilities[0].cvss.redhat.V3Score", id="cvss-score-string"),
        pytest.param([*VULNS, 0, "links"], "https://x", "report.vulnerabilities[0].links",
                     id="links-string"),
        pytest.param([*VULNS, 3, "packageType"], 1, "report.vulnerabilities[3].packageType",
                     id="package-type-number"),
        pytest.param(["report", "artifact"], "acme/shop-api", "report.artifact",
                     id="artifact-string"),
        pytest.param(["report", "os", "family"], ["debian"], "report.os.family",
                     id="family-list"),
        pytest.param(["metadata"], [], "metadata", id="metadata-list"),
    ],
)  # fmt: skip
def test_malformed_reports_name_file_and_place(
    path: list[str | int], value: Any, place: str
) -> None:
    message = refusal(SOURCE, replaced(load(), path, value), "vulns.json")
    assert message.startswith(f"vulns.json: {place}:")


def test_malformed_list_item_names_its_index() -> None:
    broken = load()
    broken["report"]["vulnerabilities"][0]["title"] = 3
    message = refusal(SOURCE, listed(load(), broken), "vulns.json")
    assert message.startswith("vulns.json: items[1].report.vulnerabilities[0].title:")


# --- the real corpus (../shared/corpus, optional) -------------------------------------


def distinct_keys(data: dict[str, Any]) -> int:
    """Count findings by the module's rule, computed straight from the raw JSON."""
    report = data["report"]
    os_type = purl_type(((report.get("os") or {}).get("family") or "").lower() or None)
    keys = set()
    for item in report["vulnerabilities"]:
        kind = purl_type(item.get("packageType"), item.get("packagePURL"))
        if kind is None and item.get("class") == "os-pkgs":
            kind = os_type
        keys.add((item["vulnerabilityID"], kind, item["resource"], item.get("installedVersion")))
    return len(keys)


@pytest.mark.parametrize("local_path", format_params("trivy-operator"))
def test_corpus(local_path: str) -> None:
    data, fragment = parse_corpus(SOURCE, local_path)
    assert len(fragment.vulnerabilities) == distinct_keys(data) == 41
    assert fragment.subject.reference == "index.docker.io/library/nginx:alpine"
    assert (fragment.tool, fragment.tool_version) == ("trivy", "0.38.2")
