"""The authoring scenario of issue 10: the usual mistakes in a fresh `gate init` repository,
every one caught before `gate check` would silently do nothing or the wrong thing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import fixture

OUTSIDE_GATE = """\
# METADATA
# scope: package
# title: Promoted tags
# description: The latest tag is never promoted.
# custom:
#   id: org-tag-promotion
#   severity: high
package org.tag_promotion

import rego.v1

deny contains {"id": "org-tag-promotion", "msg": "tag latest is never promoted"} if {
	input.subject.tag == "latest"
}
"""

EXPLOITED = """\
# METADATA
# scope: package
# title: Known exploited
# description: Vulnerabilities on the organisation's known-exploited list.
# custom:
#   id: org-exploited
#   severity: critical
package gate.org.exploited

import rego.v1

rule_id := "org-exploited"

findings contains {"id": rule_id, "msg": msg, "severity": "critical"} if {
	some v in input.vulnerabilities
	v.id in data.known_exploited
	msg := sprintf("%s is known exploited", [v.id])
}

findings contains {"id": rule_id, "msg": msg, "severity": "critical"} if {
	some v in input.vulnerabilities
	v.cvss.score > 9.8
	msg := sprintf("%s is critical")
}

deny contains f if {
	some f in findings
}
"""


@pytest.fixture
def repo(gate_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    assert gate_cli("init", tmp_path / "repo").code == 0
    root = tmp_path / "repo"
    monkeypatch.chdir(root)
    policies = root / "policies"
    # 1. a rule in a package check never evaluates
    (policies / "promotion").mkdir()
    (policies / "promotion" / "tag_promotion.rego").write_text(OUTSIDE_GATE)
    # 2. an emitted id other than the METADATA id
    team = policies / "org" / "team_label.rego"
    team.write_text(
        team.read_text().replace('rule_id := "org-team-label"', 'rule_id := "org-team-labels"')
    )
    # 3. a data.json in a subfolder, read as if it were at the root
    (policies / "kev").mkdir()
    (policies / "kev" / "data.json").write_text(json.dumps({"known_exploited": ["CVE-2024-5535"]}))
    # 4. a typo in data.json
    data = json.loads((policies / "data.json").read_text())
    data["gate_config"]["stages"]["prod"]["actions"]["org-registry-unaproved"] = "deny"
    (policies / "data.json").write_text(json.dumps(data, indent=2))
    # 5. a compile error in a branch no test takes
    (policies / "org" / "exploited.rego").write_text(EXPLOITED)
    return root


def test_lint_names_every_mistake(gate_cli: Any, repo: Path) -> None:
    result = gate_cli("policy", "lint", "policies")
    assert result.code == 1
    text = result.out + result.err
    expected = [
        "policies/promotion/tag_promotion.rego:8:1: error: package org.tag_promotion defines deny",
        "hint: rename the package to gate.org.tag_promotion",
        'error: the rule emits id "org-team-labels" but its METADATA custom.id is "org-team-label"',
        "data.known_exploited is undefined",
        "gate_config.stages.prod.actions.org-registry-unaproved: no rule has this id",
        "did you mean org-registry-unapproved?",
        "policies/org/exploited.rego:23:12: error: sprintf expects 2 arguments, the call gives 1",
    ]
    for words in expected:
        assert words in text, words


def test_policy_tests_fail_on_the_compile_error(gate_cli: Any, repo: Path) -> None:
    result = gate_cli("policy", "test", "policies")
    assert result.code == 3
    assert "sprintf expects 2 arguments" in result.err


def test_check_never_passes_with_them(gate_cli: Any, repo: Path) -> None:
    result = gate_cli(
        "check", fixture("reports/grype/image.json"), fixture("image/inspect.json"),
        "--policy", "gate:policies", "--policy", "policies", "--stage", "dev",
    )  # fmt: skip
    assert result.code == 3
    assert result.err.startswith("error: policies/org/exploited.rego:23:12")
