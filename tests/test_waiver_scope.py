"""A waiver covers what it names and nothing else (issue 7 §2 and §3).

- ``vulnerability:`` matches vulnerability findings only, by ids of that one vulnerability:
  never an advisory shared by many CVEs, never another CVE, never a secret or check whose
  id happens to be the same text.
- ``package:`` matches findings that have a package.
- ``custom.waivable: false`` in a rule's METADATA keeps every waiver off that rule; the
  attempt is reported as a ``not-waivable`` waiver problem.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import fixture

from gate.errors import PolicyError
from gate.policy import RuleInfo
from gate.verdict import Result
from gate.waivers import apply_waivers, load_waivers

TRIVY = "reports/trivy/vendor-advisories.json"
LOCKED = "policies/waivable"
AT = "2024-04-03T00:00:00Z"
NOW = dt.datetime(2024, 4, 3, tzinfo=dt.UTC)
DSA_HIGH = ["CVE-2022-4450", "CVE-2023-0215", "CVE-2023-0286"]


def waivers_file(tmp_path: Path, *entries: dict[str, str]) -> Path:
    path = tmp_path / "waivers.json"
    base = {"reason": "accepted for the release", "owner": "billing-team", "expires": "2024-12-31"}
    path.write_text(json.dumps({"waivers": [{**entry, **base} for entry in entries]}))
    return path


def check(gate_cli, *args: str | Path, code: int = 1) -> dict[str, Any]:
    run = gate_cli("check", fixture(TRIVY), "--stage", "prod", "--at", AT, "-f", "json", *args)
    assert run.code == code, run.err
    verdict: dict[str, Any] = json.loads(run.out)
    return verdict


def vulnerability_results(results: list[dict[str, Any]], rule: str) -> list[tuple[str, str]]:
    return sorted((r["finding"]["id"], r["finding"]["package"]) for r in results if r["id"] == rule)


def test_a_waiver_for_one_cve_covers_exactly_that_one(gate_cli, tmp_path):
    waivers = waivers_file(tmp_path, {"vulnerability": "CVE-2023-0215"})
    verdict = check(gate_cli, "--waivers", waivers)
    assert vulnerability_results(verdict["waived"], "vuln-fixable-high") == [
        ("CVE-2023-0215", "libssl1.1"),
        ("CVE-2023-0215", "openssl"),
    ]
    still = vulnerability_results(verdict["violations"], "vuln-fixable-high")
    for cve in ("CVE-2022-4450", "CVE-2023-0286"):
        assert (cve, "libssl1.1") in still and (cve, "openssl") in still
    # The advisory shared by all of them reaches the verdict, for people to read.
    waived = verdict["waived"][0]["finding"]
    assert (waived["aliases"], waived["advisories"]) == ([], ["DSA-5343-1"])


def test_a_waiver_naming_an_advisory_waives_nothing_and_says_why(gate_cli, tmp_path):
    waivers = waivers_file(tmp_path, {"vulnerability": "DSA-5343-1"})
    verdict = check(gate_cli, "--waivers", waivers)
    assert verdict["waived"] == []
    for cve in DSA_HIGH:
        assert (cve, "libssl1.1") in vulnerability_results(
            verdict["violations"], "vuln-fixable-high"
        )
    [problem] = verdict["waiver_problems"]
    assert problem["kind"] == "unused"
    assert "DSA-5343-1 is a vendor advisory" in problem["msg"]
    assert "cannot be waived as a group" in problem["msg"]


def test_a_waiver_naming_the_ghsa_covers_its_cve(gate_cli, tmp_path):
    waivers = waivers_file(tmp_path, {"vulnerability": "GHSA-jjjh-jjxp-wpff"})
    verdict = check(gate_cli, "--waivers", waivers)
    assert [r["finding"]["id"] for r in verdict["waived"]] == ["CVE-2022-42003"]


# --- matching rules, on results as policies produce them ---------------------------------


def result(rule: str, finding: dict[str, Any]) -> Result:
    return Result(
        id=rule, msg=rule, severity="high", level="deny", package="gate.x", finding=finding
    )


def vulnerability(cve: str, aliases: list[str], package: str = "openssl") -> dict[str, Any]:
    return {
        "kind": "vulnerability",
        "id": cve,
        "aliases": aliases,
        "package": package,
        "version": "1.1.1n-0+deb11u3",
        "purl": f"pkg:deb/debian/{package}@1.1.1n-0+deb11u3",
    }


def waived_ids(tmp_path: Path, results: list[Result], **entry: str) -> list[str]:
    waivers = load_waivers(str(waivers_file(tmp_path, entry)))
    outcome = apply_waivers(results, waivers, ["ghcr.io/acme/billing:2.3.0"], NOW)
    return [str((w.finding or {}).get("id") or w.id) for w in outcome.waived]


SECRET = result("secret-found", {"kind": "secret", "id": "CVE-2023-0215", "file": "/app/.env"})
CHECK = result("misconfig-high", {"kind": "misconfiguration", "id": "CVE-2023-0215"})


def test_a_vulnerability_waiver_never_waives_a_secret_or_check_with_the_same_id(tmp_path):
    findings = [SECRET, CHECK, result("vuln-fixable-high", vulnerability("CVE-2023-0215", []))]
    assert waived_ids(tmp_path, findings, vulnerability="CVE-2023-0215") == ["CVE-2023-0215"]
    assert waived_ids(tmp_path, [SECRET, CHECK], vulnerability="CVE-2023-0215") == []


def test_a_vulnerability_waiver_never_reaches_another_cve_listed_among_aliases(tmp_path):
    # A policy or source that let a second CVE into aliases must not widen a waiver.
    other = result("vuln-fixable-high", vulnerability("CVE-2023-0286", ["CVE-2023-0215"]))
    advisory = result("vuln-fixable-high", vulnerability("CVE-2022-4450", ["DSA-5343-1"]))
    assert waived_ids(tmp_path, [other, advisory], vulnerability="CVE-2023-0215") == []
    assert waived_ids(tmp_path, [other, advisory], vulnerability="DSA-5343-1") == []


def test_a_package_waiver_matches_only_findings_that_have_a_package(tmp_path):
    image = result("image-root-user", {"kind": "image", "field": "user", "id": "openssl"})
    vuln = result("vuln-fixable-high", vulnerability("CVE-2023-0215", []))
    assert waived_ids(tmp_path, [image, vuln], rule="image-root-user", package="openssl") == []
    assert waived_ids(tmp_path, [image, vuln], package="openssl", rule="vuln-fixable-high") == [
        "CVE-2023-0215"
    ]


# --- custom.waivable: false ------------------------------------------------------------


def test_a_rule_that_is_not_waivable_stays_a_violation_and_the_attempt_is_reported(
    gate_cli, tmp_path
):
    waivers = waivers_file(tmp_path, {"vulnerability": "CVE-2023-0286"})
    verdict = check(gate_cli, "-p", "gate:policies", "-p", fixture(LOCKED), "--waivers", waivers)
    assert vulnerability_results(verdict["violations"], "known-exploited") == [
        ("CVE-2023-0286", "libssl1.1"),
        ("CVE-2023-0286", "openssl"),
    ]
    # The same waiver still waives what may be waived: the fixable-high results.
    assert vulnerability_results(verdict["waived"], "vuln-fixable-high") == [
        ("CVE-2023-0286", "libssl1.1"),
        ("CVE-2023-0286", "openssl"),
    ]
    [problem] = verdict["waiver_problems"]
    assert problem["kind"] == "not-waivable"
    assert problem["msg"] == (
        "waiver #0 (CVE-2023-0286) would waive known-exploited but the rule is not waivable "
        "(custom.waivable: false)"
    )
    assert verdict["counts"]["waiver_problems"] == 1


def test_a_rule_only_waiver_of_a_locked_rule_is_reported_in_the_table(gate_cli, tmp_path):
    waivers = waivers_file(tmp_path, {"rule": "known-exploited"})
    run = gate_cli(
        "check", fixture(TRIVY), "--stage", "prod", "--at", AT,
        "-p", "gate:policies", "-p", fixture(LOCKED), "--waivers", waivers,
    )  # fmt: skip
    assert run.code == 1, run.err
    assert "not-waivable" in run.out
    assert "would waive known-exploited but the rule is not waivable" in run.out
    assert "known-exploited" in run.out.split("Waiver problems")[0]  # still a violation


def test_a_waivable_value_that_is_not_a_boolean_is_a_policy_error(gate_cli, tmp_path):
    run = gate_cli(
        "check", fixture(TRIVY), "--stage", "prod", "--at", AT,
        "-p", "gate:policies", "-p", fixture("policies/waivable-typo"),
    )  # fmt: skip
    assert run.code == 3
    assert "custom.waivable must be true or false, not 'no'" in run.err
    assert "waivable-typo/gate/locked.rego:1" in run.err


@pytest.mark.parametrize("value", ["no", "false", 0, None, [False]])
def test_waivable_typos_fail_closed(value: Any):
    info = RuleInfo(
        id="known-exploited", title=None, description=None, severity=None, remediation=None,
        package=None, path="p.rego", line=3, custom={"id": "known-exploited", "waivable": value},
    )  # fmt: skip
    with pytest.raises(PolicyError):
        apply_waivers([], [], [], NOW, {"known-exploited": info})


def test_an_expired_waiver_of_a_locked_rule_is_reported_as_expired_only(tmp_path):
    path = tmp_path / "w.json"
    path.write_text(
        json.dumps(
            {
                "waivers": [
                    {
                        "rule": "known-exploited",
                        "reason": "r",
                        "owner": "o",
                        "expires": "2024-01-01",
                    }
                ]
            }
        )
    )
    info = RuleInfo(
        id="known-exploited", title=None, description=None, severity=None, remediation=None,
        package=None, path="p.rego", line=3, custom={"id": "known-exploited", "waivable": False},
    )  # fmt: skip
    locked = result("known-exploited", vulnerability("CVE-2023-0286", []))
    outcome = apply_waivers([locked], load_waivers(str(path)), [], NOW, {"known-exploited": info})
    assert outcome.kept == [locked]
    assert [p.kind for p in outcome.problems] == ["expired"]
