"""GitLab Code Quality: the fields GitLab requires, stable fingerprints, severity mapping."""

from __future__ import annotations

import json

from ci_support import fixture_verdict

from gate.fingerprint import FINGERPRINT_NAME
from gate.formats.gitlab import GitlabFormatter, code_quality_severity
from gate.formats.sarif import SarifFormatter

REQUIRED = {"description", "check_name", "fingerprint", "severity", "location"}
SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def test_issues_have_every_required_field(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    issues = json.loads(GitlabFormatter().render(verdict))
    assert isinstance(issues, list)
    assert len(issues) == len(verdict.violations) + len(verdict.warnings)  # waived left out
    for issue in issues:
        assert REQUIRED <= set(issue)
        assert issue["severity"] in SEVERITIES
        assert issue["location"]["lines"]["begin"] == 1
        path = issue["location"]["path"]
        assert path and not path.startswith(("/", "./")) and "://" not in path
    assert [issue["check_name"] for issue in issues] == [
        r.id for r in [*verdict.violations, *verdict.warnings]
    ]
    fingerprints = [issue["fingerprint"] for issue in issues]
    assert len(set(fingerprints)) == len(fingerprints)


def test_fingerprints_are_the_sarif_ones(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    issues = json.loads(GitlabFormatter().render(verdict))
    results = json.loads(SarifFormatter().render(verdict))["runs"][0]["results"]
    sarif = [r["partialFingerprints"][FINGERPRINT_NAME] for r in results if r["level"] != "note"]
    assert [issue["fingerprint"] for issue in issues] == sarif


def test_severity_mapping(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    base = verdict.violations[0]
    cases = {
        ("deny", "critical"): "blocker",
        ("deny", "high"): "critical",
        ("deny", "medium"): "major",
        ("deny", "unknown"): "major",
        ("warn", "critical"): "minor",
        ("warn", "low"): "minor",
    }
    for (level, severity), expected in cases.items():
        result = base.model_copy(update={"level": level, "severity": severity})
        assert code_quality_severity(result) == expected


def test_dockerfile_is_the_path_when_given(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch).model_copy(update={"dockerfile": "Dockerfile"})
    issues = json.loads(GitlabFormatter().render(verdict))
    assert {issue["location"]["path"] for issue in issues} == {"Dockerfile"}


def test_render_is_deterministic_and_pure(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    before = verdict.model_dump()
    assert GitlabFormatter().render(verdict) == GitlabFormatter().render(verdict)
    assert verdict.model_dump() == before
