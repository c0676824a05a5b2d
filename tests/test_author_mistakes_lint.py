"""Policy authors' mistakes that `check` would silently ignore are errors at authoring time:
deny/warn outside `gate.`, a result id that is not the METADATA id, and `data.json` typos
(unknown rule ids, actions, settings no rule reads, stages out of `stage_order`).
Each through the CLI (exit code and the file:line message with its fix)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import fixture

from gate.policy import RuleInfo
from gate.verdict import apply_rollout, collect_results

OUTSIDE_GATE = """\
# METADATA
# title: Tags are promoted, not rebuilt
# description: A tag must name an image that passed the previous stage.
# custom:
#   id: org-tag-promotion
#   severity: medium
package org.tag_promotion

import rego.v1

deny contains {"id": "org-tag-promotion", "msg": "latest"} if input.subject.tag == "latest"
"""

ID_MISMATCH = """\
# METADATA
# title: Owner team
# description: Images say which team owns them.
# custom:
#   id: org-owner
#   severity: low
package gate.org.owner

import data.lib.org as lib
import rego.v1

rule_id := "org-owners"

deny contains lib.result(rule_id, "no owner", "low", "", {}) if input.subject.tag == "x"

warn contains lib.result("org-owner-x", "no owner", "low", "", {}) if input.subject.tag == "y"

warn contains {"id": "org-0wner", "msg": "no owner"} if input.subject.tag == "z"
"""


@pytest.fixture
def repo(gate_cli: Any, tmp_path: Path) -> Path:
    """A fresh `gate init` repository (which lints clean)."""
    assert gate_cli("init", tmp_path).code == 0
    assert gate_cli("policy", "lint", "--strict", tmp_path / "policies").code == 0
    return tmp_path


def _edit_data(repo: Path, change: Any) -> Path:
    path = repo / "policies" / "data.json"
    data = json.loads(path.read_text())
    change(data["gate_config"])
    path.write_text(json.dumps(data, indent=2))
    return path


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


# -- deny/warn outside gate. ------------------------------------------------------------------


def test_rules_outside_gate_are_a_lint_error_at_the_package_line(gate_cli, repo):
    rule = repo / "policies" / "org" / "tag_promotion.rego"
    rule.write_text(OUTSIDE_GATE)
    result = gate_cli("policy", "lint", repo / "policies")
    assert result.code == 1
    assert (
        f"{rule}:7:1: error: package org.tag_promotion defines deny, but `gate check` "
        "evaluates only packages under gate. (data.gate): this rule never runs [not-evaluated]"
    ) in result.out
    assert "  hint: rename the package to gate.org.tag_promotion" in result.out


def test_the_fix_the_hint_names_makes_lint_clean(gate_cli, repo):
    rule = repo / "policies" / "org" / "tag_promotion.rego"
    rule.write_text(OUTSIDE_GATE.replace("package org.", "package gate.org."))
    _edit_data(
        repo,
        lambda c: [
            s["actions"].update({"org-tag-promotion": "warn"}) for s in c["stages"].values()
        ],
    )
    result = gate_cli("policy", "lint", "--strict", repo / "policies")
    assert result.code == 0, result.out


def test_a_library_outside_gate_is_fine(gate_cli, repo):
    # The scaffold's lib.org lives outside gate. and defines no deny/warn: no finding.
    result = gate_cli("policy", "lint", "--format", "json", repo / "policies")
    assert json.loads(result.out)["findings"] == []


def test_policy_doc_lists_rules_outside_gate_only_as_not_evaluated(gate_cli, repo):
    (repo / "policies" / "org" / "tag_promotion.rego").write_text(OUTSIDE_GATE)
    catalog = json.loads(gate_cli("policy", "doc", "-f", "json", repo / "policies").out)
    assert "org-tag-promotion" not in [rule["id"] for rule in catalog["rules"]]
    assert [rule["id"] for rule in catalog["rules"]] == [
        "org-registry-unapproved",
        "org-team-label",
    ]
    assert catalog["not_evaluated"] == [
        {
            "id": "org-tag-promotion",
            "package": "org.tag_promotion",
            "file": str(repo / "policies" / "org" / "tag_promotion.rego"),
            "line": 1,
        }
    ]
    markdown = gate_cli("policy", "doc", repo / "policies").out
    table, _, note = markdown.partition("## Not evaluated")
    assert "org-tag-promotion" not in table
    assert "- `org-tag-promotion` (package `org.tag_promotion`" in note


def test_policy_doc_of_only_unevaluated_rules_is_no_catalogue(gate_cli, tmp_path):
    (tmp_path / "rule.rego").write_text(OUTSIDE_GATE)
    result = gate_cli("policy", "doc", tmp_path)
    assert result.code == 3
    assert "no rules to document: no # METADATA block with custom.id in a package under gate." in (
        result.err
    )
    assert "hint: rename the packages to gate.<name>" in result.err


# -- the emitted id differs from METADATA custom.id --------------------------------------------


def test_an_emitted_id_other_than_the_metadata_id_is_an_error(gate_cli, repo):
    rule = repo / "policies" / "org" / "owner.rego"
    rule.write_text(ID_MISMATCH)
    result = gate_cli("policy", "lint", repo / "policies")
    assert result.code == 1
    expected = {
        (_line_of(rule, 'rule_id := "org-owners"'), "org-owners"),
        (_line_of(rule, '"org-owner-x"'), "org-owner-x"),
        (_line_of(rule, '"org-0wner"'), "org-0wner"),
    }
    found = {
        (line, text.split('emits id "')[1].split('"')[0])
        for text in result.out.splitlines()
        if "[rule-id-mismatch]" in text
        for line in [int(text.split(":")[1])]
    }
    assert found == expected
    assert (
        f'{rule}:{_line_of(rule, "rule_id :=")}:13: error: the rule emits id "org-owners" '
        'but its METADATA custom.id is "org-owner" [rule-id-mismatch]'
    ) in result.out
    assert 'hint: use one id: emit "org-owner", or set `id: org-owners` under custom:' in result.out


def test_the_bundled_pack_emits_its_metadata_ids(gate_cli):
    result = gate_cli("policy", "lint", "--format", "json")
    codes = {finding["code"] for finding in json.loads(result.out)["findings"]}
    assert result.code == 0
    assert not codes & {"rule-id-mismatch", "not-evaluated", "data-unknown-rule", "data-setting"}


def _info(rule_id: str, package: str, **custom: Any) -> RuleInfo:
    return RuleInfo(
        id=rule_id,
        title=f"{rule_id} title",
        description=None,
        severity="high",
        remediation=f"fix {rule_id}",
        package=package,
        path="p.rego",
        line=1,
        custom={"id": rule_id, **custom},
    )


def test_results_without_an_id_take_their_packages_metadata():
    rules = {"org-owner": _info("org-owner", "gate.org.owner", effective_from="2099-01-01")}
    tree = {"org": {"owner": {"deny": ["bare string", {"msg": "object without id"}]}}}
    results = collect_results(tree, rules)
    assert [(r.id, r.severity, r.title, r.remediation) for r in results] == [
        ("org-owner", "high", "org-owner title", "fix org-owner")
    ] * 2
    # effective_from finds the rule by that id: its denials are warnings until the date.
    staged = apply_rollout(results, rules, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert {r.level for r in staged} == {"warn"}


def test_results_without_an_id_in_a_package_of_several_rules_keep_the_package():
    rules = {
        "a": _info("a", "gate.org.two"),
        "b": _info("b", "gate.org.two"),
    }
    [result] = collect_results({"org": {"two": {"deny": ["m"]}}}, rules)
    assert result.id == "gate.org.two"
    assert result.severity == "unknown"


def test_an_emitted_id_is_kept_even_when_it_differs_from_the_metadata():
    rules = {"org-owner": _info("org-owner", "gate.org.owner")}
    [result] = collect_results({"org": {"owner": {"deny": [{"id": "other", "msg": "m"}]}}}, rules)
    assert result.id == "other"


# -- data.json ---------------------------------------------------------------------------------


def test_data_json_typos_are_errors_with_the_json_path_and_a_suggestion(gate_cli, repo):
    def typos(config: dict[str, Any]) -> None:
        prod = config["stages"]["prod"]
        prod["actions"]["org-registry-unaproved"] = "deny"
        prod["actions"]["org-team-label"] = "dney"
        prod["settings"]["max_image_age_dayz"] = 10

    data = _edit_data(repo, typos)
    result = gate_cli("policy", "lint", repo / "policies")
    assert result.code == 1
    lines = result.out.splitlines()
    unknown = _line_of(data, '"org-registry-unaproved"')
    assert (
        f"{data}:{unknown}:11: error: gate_config.stages.prod.actions.org-registry-unaproved: "
        "no rule has this id [data-unknown-rule]"
    ) in lines
    assert "  hint: did you mean org-registry-unapproved?" in lines
    assert (
        f"{data}:{_line_of(data, 'dney')}:11: error: gate_config.stages.prod.actions."
        'org-team-label: action "dney" is not one of deny, warn, off (the rule denies here) '
        "[data-action]"
    ) in lines
    assert '  hint: did you mean "deny"?' in lines
    assert (
        f"{data}:{_line_of(data, 'max_image_age_dayz')}:11: error: gate_config.stages.prod."
        "settings.max_image_age_dayz: no rule reads this setting [data-setting]"
    ) in lines


def test_stages_and_stage_order_must_agree(gate_cli, repo):
    def mismatch(config: dict[str, Any]) -> None:
        config["stage_order"] = ["dev", "staging", "prdo"]

    data = _edit_data(repo, mismatch)
    result = gate_cli("policy", "lint", repo / "policies")
    assert result.code == 1
    prod_line = _line_of(data, '"prod": {')
    assert (
        f"{data}:{prod_line}:7: error: gate_config.stages.prod: this stage "
        "is missing from gate_config.stage_order [data-stage-order]"
    ) in result.out
    assert "hint: did you mean prdo?" in result.out
    assert (
        'error: gate_config.stage_order.2: stage "prdo" has no entry in gate_config.stages '
        "(every rule denies there) [data-stage-order]"
    ) in result.out


def test_a_stage_that_leaves_a_rule_unset_is_a_warning(gate_cli, repo):
    _edit_data(repo, lambda c: c["stages"]["prod"]["actions"].pop("org-team-label"))
    result = gate_cli("policy", "lint", repo / "policies")
    assert result.code == 0
    assert (
        "warning: gate_config.stages.prod.actions: no action for rule org-team-label: it "
        "denies in this stage (fail closed) [data-action-unset]"
    ) in result.out
    assert gate_cli("policy", "lint", "--strict", repo / "policies").code == 1


def test_settings_rules_read_by_name_and_the_cores_are_accepted(gate_cli, repo):
    reader = repo / "policies" / "org" / "team_label.rego"
    reader.write_text(
        reader.read_text() + '\n_max_age := lib.setting("max_age", 30)\n'
        '_raw := data.gate_config.stages.prod.settings["raw_flag"]\n'
    )
    settings = {"max_age": 10, "raw_flag": True, "block_existing": True}
    _edit_data(repo, lambda c: c["stages"]["prod"]["settings"].update(settings))
    result = gate_cli("policy", "lint", "--strict", repo / "policies")
    assert "data-setting" not in result.out
    assert result.code == 0, result.out


def test_a_data_file_given_with_data_is_named_in_the_error(gate_cli, repo, tmp_path):
    extra = tmp_path / "org-data.json"
    extra.write_text(
        json.dumps({"gate_config": {"stages": {"dev": {"actions": {"org-team-lable": "off"}}}}})
    )
    result = gate_cli("policy", "lint", repo / "policies", "--data", extra)
    assert result.code == 1
    column = extra.read_text().index('"org-team-lable"') + 1
    assert (
        f"{extra}:1:{column}: error: "
        "gate_config.stages.dev.actions.org-team-lable: no rule has this id"
    ) in result.out
    assert "hint: did you mean org-team-label?" in result.out


def test_ids_of_the_bundled_pack_are_known_to_a_pack_layered_over_it(gate_cli, repo):
    def layered(config: dict[str, Any]) -> None:
        config["stages"]["prod"]["actions"]["vuln-fixable-high"] = "warn"
        config["stages"]["prod"]["settings"]["max_image_age_days"] = 90
        config["stages"]["dev"]["actions"]["vuln-fixabel-high"] = "warn"

    _edit_data(repo, layered)
    result = gate_cli("policy", "lint", repo / "policies")
    assert result.code == 1
    errors = [line for line in result.out.splitlines() if ": error: " in line]
    assert len(errors) == 1
    assert "gate_config.stages.dev.actions.vuln-fixabel-high: no rule has this id" in errors[0]
    assert "hint: did you mean vuln-fixable-high?" in result.out


# -- the authoring scenario ----------------------------------------------------------------------


def test_a_fresh_repository_with_the_usual_mistakes_fails_lint_naming_each(gate_cli, repo):
    (repo / "policies" / "org" / "tag_promotion.rego").write_text(OUTSIDE_GATE)
    (repo / "policies" / "org" / "owner.rego").write_text(ID_MISMATCH)
    _edit_data(repo, lambda c: c["stages"]["prod"]["actions"].update({"org-team-lable": "deny"}))
    result = gate_cli("policy", "lint", repo / "policies")
    assert result.code == 1
    codes = {
        line.rsplit("[", 1)[1].rstrip("]")
        for line in result.out.splitlines()
        if ": error: " in line
    }
    assert codes == {"not-evaluated", "rule-id-mismatch", "data-unknown-rule"}
    assert "rename the package to gate.org.tag_promotion" in result.out
    assert "org-team-lable: no rule has this id" in result.out


def test_a_hostile_data_key_cannot_forge_or_flood_lint_output(gate_cli, repo):
    forged = "x\n/etc/passwd:1:1: error: forged [compile]"
    _edit_data(repo, lambda c: c["stages"]["prod"]["actions"].update({forged: "z" * 100_000}))
    result = gate_cli("policy", "lint", repo / "policies")
    assert result.code == 1
    lines = result.out.splitlines()
    assert not any(line.startswith("/etc/passwd") for line in lines)
    assert max(len(line) for line in lines) < 400
    assert any(
        'actions."x\\n/etc/passwd:1:1: error: forged [compile]": no rule' in line for line in lines
    )


def test_gate_check_waives_an_id_less_result_by_its_metadata_id(gate_cli, tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "legacy.rego").write_text(
        "# METADATA\n# title: Legacy rule\n# description: Written before ids.\n"
        "# custom:\n#   id: org-legacy\n#   severity: high\npackage gate.org.legacy\n\n"
        'import rego.v1\n\ndeny contains "legacy rule fired" if input.schema_version\n'
    )
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - rule: org-legacy\n    reason: migrating\n    owner: sec\n"
        "    expires: 2099-01-01\n"
    )
    image = fixture("image/inspect.json")
    blocked = gate_cli("check", image, "--policy", pack, "-f", "json")
    assert blocked.code == 1
    [violation] = json.loads(blocked.out)["violations"]
    assert (violation["id"], violation["severity"]) == ("org-legacy", "high")
    waived = gate_cli("check", image, "--policy", pack, "-f", "json", "--waivers", waivers)
    assert waived.code == 0, waived.err
    assert [w["id"] for w in json.loads(waived.out)["waived"]] == ["org-legacy"]
