"""SARIF: valid SARIF 2.1.0 that GitHub code scanning accepts, stable alerts, within limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ci_support import big_verdict, fixture_verdict, many_results
from conftest import ROOT

from gate.fingerprint import FINGERPRINT_NAME
from gate.formats import sarif
from gate.formats.sarif import MAX_RESULTS, SarifFormatter, camel_case

SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"


def render(verdict) -> dict:
    return json.loads(SarifFormatter().render(verdict))


def validate_against_schema(log: dict) -> None:
    if not SCHEMA.exists():
        pytest.skip(f"SARIF schema not found at {SCHEMA}")
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(log)


def check_github_rules(log: dict) -> None:
    """What code scanning requires of an upload (docs: SARIF support for code scanning)."""
    assert log["version"] == "2.1.0"
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids))
    assert len(run["results"]) <= MAX_RESULTS
    for rule in rules:
        severity = float(rule["properties"]["security-severity"])
        assert 0.0 <= severity <= 10.0
        assert rule["help"]["text"] and rule["shortDescription"]["text"]
        assert len(rule["properties"]["tags"]) <= 10
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        [location] = result["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        assert uri and ":" not in uri.split("/")[0] and not uri.startswith(("/", "./"))
        assert len(result["partialFingerprints"][FINGERPRINT_NAME]) == 64


def test_fixture_verdict_is_valid_sarif_github_accepts(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    log = render(verdict)
    validate_against_schema(log)
    check_github_rules(log)
    run = log["runs"][0]
    assert run["automationDetails"]["id"] == "gate/prod/"
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 1}]
    assert run["properties"]["decision"] == "fail"
    assert run["properties"]["policyDigest"] == verdict.policy.digest
    driver = run["tool"]["driver"]
    assert driver["name"] == "gate" and driver["version"] == verdict.gate_version
    # Only rules with a result, each described from the verdict's rules[].
    assert {rule["id"] for rule in driver["rules"]} == {r["ruleId"] for r in run["results"]}
    summaries = {rule.id: rule for rule in verdict.rules}
    for rule in driver["rules"]:
        summary = summaries[rule["id"]]
        assert rule["shortDescription"]["text"] == summary.title
        assert rule["name"] == camel_case(rule["id"])
        assert summary.description in rule["help"]["markdown"]
        assert (
            rule["defaultConfiguration"]["level"]
            == {"deny": "error", "warn": "warning"}[summary.action]
        )


def test_levels_and_suppressions_follow_the_verdict(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    results = render(verdict)["runs"][0]["results"]
    levels = [result["level"] for result in results]
    assert levels == (
        ["error"] * len(verdict.violations)
        + ["warning"] * len(verdict.warnings)
        + ["note"] * len(verdict.waived)
    )
    waived = [result for result in results if result["level"] == "note"]
    for result, source in zip(waived, verdict.waived, strict=True):
        [suppression] = result["suppressions"]
        assert suppression["kind"] == "external"
        assert source.waiver.reason in suppression["justification"]
    assert not any("suppressions" in r for r in results if r["level"] != "note")


def test_security_severity_maps_to_githubs_bands():
    bands = {"critical": (9.0, 10.0), "high": (7.0, 8.9), "medium": (4.0, 6.9), "low": (0.1, 3.9)}
    for severity, (low, high) in bands.items():
        assert low <= float(sarif.SECURITY_SEVERITY[severity]) <= high


def test_fingerprints_are_stable_across_time_and_input_order(gate_cli, monkeypatch):
    first = fixture_verdict(gate_cli, monkeypatch)
    later = fixture_verdict(
        gate_cli,
        monkeypatch,
        at="2024-10-14T18:00:00Z",
        inputs="image/inspect.json reports/grype/image.json reports/trivy/v2-image.json",
    )
    assert later.evaluated_at != first.evaluated_at

    def alerts(verdict) -> dict[str, str]:
        return {
            r["partialFingerprints"][FINGERPRINT_NAME]: r["ruleId"]
            for r in render(verdict)["runs"][0]["results"]
        }

    first_alerts = alerts(first)
    assert first_alerts == alerts(later)
    # Different findings, different alerts: no two results of the run share one.
    total = len(first.violations) + len(first.warnings) + len(first.waived)
    assert len(first_alerts) == total


def test_dockerfile_is_the_location_when_given(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch).model_copy(
        update={"dockerfile": "./docker/my app/Dockerfile"}
    )
    log = render(verdict)
    validate_against_schema(log)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris == {"docker/my%20app/Dockerfile"}


@pytest.mark.parametrize(
    "inputs",
    [
        ["/etc/passwd"],
        ["../../outside.json"],
        ["registry://ghcr.io/acme/api:1"],
        ["<stdin>"],
        ["-"],
        ["C:/reports/trivy.json"],
        ["https://example.com/x.json"],
        [],
    ],
)
def test_results_in_no_repository_file_point_at_the_image(gate_cli, monkeypatch, inputs):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    subject = verdict.subject.model_copy(update={"registry": "localhost:5000"})
    moved = verdict.violations[0].model_copy(update={"inputs": inputs})
    verdict = verdict.model_copy(update={"subject": subject, "violations": [moved]})
    result = render(verdict)["runs"][0]["results"][0]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "localhost_5000/acme/shop-api"


def test_a_thousand_findings_validate(tmp_path):
    verdict = big_verdict(tmp_path, 1000)
    log = render(verdict)
    validate_against_schema(log)
    check_github_rules(log)
    assert len(log["runs"][0]["results"]) == len(verdict.violations) + len(verdict.warnings)


def test_more_results_than_github_stores_keeps_the_most_important(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    violations = verdict.violations
    warnings = many_results(verdict, MAX_RESULTS, level="warn")
    big = verdict.model_copy(update={"warnings": warnings})
    log = render(big)
    check_github_rules(log)
    run = log["runs"][0]
    levels = [result["level"] for result in run["results"]]
    assert len(levels) == MAX_RESULTS
    assert levels.count("error") == len(violations)  # every violation kept
    assert "note" not in levels  # waived results go first
    left_out = len(violations) + len(warnings) + len(verdict.waived) - MAX_RESULTS
    [notification] = run["invocations"][0]["toolExecutionNotifications"]
    assert notification["message"]["text"].startswith(f"{left_out} of ")
    assert "--format json" in notification["message"]["text"]
    validate_against_schema(log)


def test_the_size_limit_leaves_out_results_and_says_so(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    huge = verdict.violations[0].model_copy(update={"msg": "x" * 100_000})
    verdict = verdict.model_copy(update={"violations": [*verdict.violations, huge]})
    log = render(verdict)
    [kept] = [r for r in log["runs"][0]["results"] if r["message"]["text"].startswith("xxx")]
    assert len(kept["message"]["text"]) <= sarif.MESSAGE_LIMIT
    monkeypatch.setattr(sarif, "MAX_BYTES", 5_000)
    run = render(verdict)["runs"][0]
    assert 0 < len(run["results"]) < len(verdict.violations)
    assert "toolExecutionNotifications" in run["invocations"][0]


def test_advisory_run_reports_exit_code_zero(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch).model_copy(update={"advisory": True})
    run = render(verdict)["runs"][0]
    assert run["invocations"][0]["exitCode"] == 0
    assert run["properties"]["advisory"] is True


def test_render_is_deterministic_and_pure(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    before = verdict.model_dump()
    assert SarifFormatter().render(verdict) == SarifFormatter().render(verdict)
    assert verdict.model_dump() == before


def test_camel_case():
    assert camel_case("vuln-fixable-critical") == "VulnFixableCritical"
    assert camel_case("a.b_c") == "ABC"


def test_output_extension_picks_sarif(gate_cli, monkeypatch, tmp_path: Path):
    from ci_support import check_args
    from conftest import FIXTURES

    monkeypatch.chdir(FIXTURES)
    target = tmp_path / "gate.sarif"
    written = gate_cli(*check_args("-o", str(target)))
    printed = gate_cli(*check_args("-f", "sarif"))
    assert written.code == printed.code == 1
    assert target.read_text() == printed.out
