"""`gate policy init-rule NAME`: a new rule and its tests that lint clean and pass, its stage
actions in data.json, and no file ever overwritten."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def repo(gate_cli: Any, tmp_path: Path) -> Path:
    assert gate_cli("init", tmp_path).code == 0
    return tmp_path


def test_the_new_rule_lints_clean_and_its_tests_pass(gate_cli, repo):
    org = repo / "policies" / "org"
    result = gate_cli("policy", "init-rule", "tag_promotion", "--dir", org)
    assert result.code == 0, result.err
    assert f"created {org / 'tag_promotion.rego'}" in result.out
    assert f"created {org / 'tag_promotion_test.rego'}" in result.out
    text = (org / "tag_promotion.rego").read_text()
    assert "package gate.org.tag_promotion\n" in text
    assert "#   id: org-tag-promotion\n" in text
    assert 'rule_id := "org-tag-promotion"' in text
    lint = gate_cli("policy", "lint", "--strict", repo / "policies")
    assert lint.code == 0, lint.out
    tests = gate_cli("policy", "test", repo / "policies", "--run", "tag_promotion")
    assert tests.code == 0, tests.out
    assert "PASS: 3/3" in tests.out


def test_the_generated_tests_fail_when_the_rule_does_not_fire(gate_cli, repo):
    org = repo / "policies" / "org"
    assert gate_cli("policy", "init-rule", "tag_promotion", "--dir", org).code == 0
    rule = org / "tag_promotion.rego"
    rule.write_text(rule.read_text().replace('tag == "latest"', 'tag == "never"'))
    tests = gate_cli("policy", "test", repo / "policies", "--run", "tag_promotion")
    assert tests.code == 1
    assert "test_a_violating_image_is_denied" in tests.out


def test_every_stage_gets_an_explicit_deny_action(gate_cli, repo):
    data = repo / "policies" / "data.json"
    result = gate_cli("policy", "init-rule", "tag_promotion", "--dir", repo / "policies" / "org")
    assert f"updated {data}" in result.out
    stages = json.loads(data.read_text())["gate_config"]["stages"]
    assert {stage: config["actions"]["org-tag-promotion"] for stage, config in stages.items()} == {
        "dev": "deny",
        "staging": "deny",
        "prod": "deny",
    }
    assert stages["dev"]["actions"]["org-registry-unapproved"] == "warn"  # the rest untouched


def test_package_and_id_options(gate_cli, repo):
    org = repo / "policies" / "org"
    result = gate_cli(
        "policy", "init-rule", "base", "--dir", org, "--package", "gate.acme.base",
        "--id", "acme-base", "--severity", "high",
    )  # fmt: skip
    assert result.code == 0, result.err
    text = (org / "base.rego").read_text()
    assert "package gate.acme.base\n" in text
    assert "#   id: acme-base\n#   severity: high\n" in text
    assert gate_cli("policy", "lint", "--strict", repo / "policies").code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["org_rule", "--package", "org.rule"], "package 'org.rule' is not under gate."),
        (["org_rule", "--package", "gate"], "package 'gate' is not under gate."),
        (["org_rule", "--package", "gate.a-b"], "package 'gate.a-b' is not under gate."),
        (["rule_test"], "ends in _test"),
        (["../escape"], "is not a Rego identifier"),
        (["ok", "--id", "bad id"], "rule id 'bad id'"),
        (["ok", "--severity", "severe"], "severity 'severe' is not one of critical, high"),
    ],
)
def test_bad_names_are_usage_errors(gate_cli, repo, args, message):
    org = repo / "policies" / "org"
    before = sorted(p.name for p in org.iterdir())
    result = gate_cli("policy", "init-rule", *args, "--dir", org)
    assert result.code == 2
    assert message in result.err
    assert sorted(p.name for p in org.iterdir()) == before


def test_existing_files_are_never_overwritten(gate_cli, repo):
    org = repo / "policies" / "org"
    (org / "team_label_test.rego").write_text("# mine\n")
    data_before = (repo / "policies" / "data.json").read_bytes()
    result = gate_cli("policy", "init-rule", "team_label", "--dir", org)
    assert result.code == 2
    assert "refusing to overwrite" in result.err
    assert str(org / "team_label.rego") in result.err
    assert (org / "team_label_test.rego").read_text() == "# mine\n"
    assert (repo / "policies" / "data.json").read_bytes() == data_before


def test_a_dangling_symlink_is_not_followed(gate_cli, repo, tmp_path):
    org = repo / "policies" / "org"
    target = tmp_path / "elsewhere.rego"
    (org / "evil.rego").symlink_to(target)
    result = gate_cli("policy", "init-rule", "evil", "--dir", org)
    assert result.code == 2
    assert not target.exists()
    assert not (org / "evil_test.rego").exists()


def test_a_broken_data_json_is_a_usage_error_and_nothing_is_written(gate_cli, repo):
    data = repo / "policies" / "data.json"
    data.write_text("{not json")
    org = repo / "policies" / "org"
    result = gate_cli("policy", "init-rule", "tag_promotion", "--dir", org)
    assert result.code == 2
    assert "cannot add the rule's actions: not JSON" in result.err
    assert not (org / "tag_promotion.rego").exists()
    assert data.read_text() == "{not json"


def test_without_data_json_only_the_rule_is_written(gate_cli, tmp_path):
    result = gate_cli("policy", "init-rule", "solo", "--dir", tmp_path / "rules")
    assert result.code == 0, result.err
    assert sorted(p.name for p in (tmp_path / "rules").iterdir()) == ["solo.rego", "solo_test.rego"]
    assert "note: the rule imports data.lib.org" in result.out
