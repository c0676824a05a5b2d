"""The finding key and fingerprint: same finding -> same key; different finding -> different."""

from __future__ import annotations

import json
from typing import Any

from gate.document import Subject
from gate.fingerprint import finding_key, fingerprint
from gate.verdict import Result

SUBJECT = Subject(registry="ghcr.io", repository="acme/api", tag="1.0", digest="sha256:" + "a" * 64)


def vulnerability(**changes: Any) -> Result:
    finding: dict[str, Any] = {
        "kind": "vulnerability",
        "id": "CVE-2024-5535",
        "package": "libssl3",
        "version": "3.0.11-1",
        "purl": "pkg:deb/debian/libssl3@3.0.11-1?arch=amd64&distro=debian-12.5",
        "fixed_versions": ["3.0.13-1"],
        "aliases": [],
        "advisories": [],
    }
    finding.update(changes.pop("finding", {}))
    fields: dict[str, Any] = {
        "id": "vuln-fixable-critical",
        "msg": "CVE-2024-5535 in libssl3",
        "severity": "critical",
        "level": "deny",
        "package": "gate.vulnerabilities.fixable_critical",
        "finding": finding,
    }
    fields.update(changes)
    return Result(**fields)


def test_key_is_canonical_json_of_rule_and_identifying_fields():
    key = json.loads(finding_key(vulnerability()))
    assert key == {
        "rule": "vuln-fixable-critical",
        "finding": {
            "kind": "vulnerability",
            "id": "CVE-2024-5535",
            "package": "pkg:deb/debian/libssl3",
            "version": "3.0.11-1",
        },
    }


def test_volatile_fields_do_not_change_the_key():
    base = vulnerability()
    rewritten = vulnerability(
        msg="another message",
        severity="high",
        level="warn",
        remediation="upgrade",
        finding={
            "fixed_versions": ["3.0.14-1"],
            "aliases": ["GHSA-x"],
            "purl": "pkg:deb/debian/libssl3@3.0.11-1?distro=debian-12",
            "package": "debian/libssl3",
            "vex": {"status": "affected"},
        },
    )
    assert finding_key(rewritten) == finding_key(base)
    other_tag = SUBJECT.model_copy(update={"tag": "2.0", "digest": "sha256:" + "b" * 64})
    assert fingerprint(rewritten, other_tag) == fingerprint(base, SUBJECT)


def test_different_findings_get_different_keys():
    base = vulnerability()
    others = [
        vulnerability(id="vuln-fixable-high"),
        vulnerability(finding={"id": "CVE-2024-0001"}),
        vulnerability(finding={"purl": "pkg:deb/debian/openssl@3.0.11-1"}),
        vulnerability(finding={"purl": None, "package": "openssl"}),
        vulnerability(finding={"version": "3.0.12-1"}),
        vulnerability(finding={"purl": "pkg:npm/libssl3@3.0.11-1"}),
        vulnerability(finding={"target": "usr/lib"}),
    ]
    keys = {finding_key(result) for result in [base, *others]}
    assert len(keys) == len(others) + 1


def test_results_without_a_finding_are_told_apart_by_their_message():
    first = vulnerability(msg="one").model_copy(update={"finding": None})
    second = first.model_copy(update={"msg": "two"})
    assert finding_key(first) != finding_key(second)


def test_fingerprint_depends_on_the_repository_not_the_digest():
    result = vulnerability()
    assert len(fingerprint(result, SUBJECT)) == 64
    moved = SUBJECT.model_copy(update={"repository": "acme/other"})
    assert fingerprint(result, moved) != fingerprint(result, SUBJECT)
    assert fingerprint(result, None) != fingerprint(result, SUBJECT)


def test_scanners_spelling_of_a_package_does_not_change_the_key():
    trivy = vulnerability(
        finding={
            "package": "org.apache.tomcat.embed:tomcat-embed-core",
            "version": "1:10.1.33",
            "purl": "pkg:maven/org.apache.tomcat.embed/tomcat-embed-core@10.1.33?epoch=1",
        }
    )
    grype = vulnerability(
        finding={
            "package": "tomcat-embed-core",
            "version": "1:10.1.33",
            "purl": "pkg:maven/org.apache.tomcat.embed/tomcat-embed-core@1%3A10.1.33",
        }
    )
    assert finding_key(trivy) == finding_key(grype)


def test_version_comes_from_the_purl_when_the_finding_has_none():
    with_purl = vulnerability(finding={"version": None, "purl": "pkg:npm/%40scope/x@1.0.0"})
    other = vulnerability(finding={"version": None, "purl": "pkg:npm/%40scope/x@2.0.0"})
    key = json.loads(finding_key(with_purl))["finding"]
    assert key["package"] == "pkg:npm/@scope/x" and key["version"] == "1.0.0"
    assert finding_key(with_purl) != finding_key(other)
