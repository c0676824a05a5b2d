"""`gate policy doc`: the rule catalogue in Markdown and JSON, and the committed docs/rules.md."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from conftest import FIXTURES, ROOT

from gate.catalog import build_catalog, render_json, render_markdown, stage_actions
from gate.policy import load_bundle

CATALOG = FIXTURES / "policies" / "catalog"
PACK = CATALOG / "pack"
RULES_MD = ROOT / "docs" / "rules.md"
UPDATE = os.environ.get("GATE_UPDATE_GOLDEN") == "1"

PACK_JSON: dict[str, Any] = {
    "stages": ["qa", "prod"],
    "rules": [
        {
            "id": "alpha-rule",
            "title": "Alpha | pipes in titles",
            "description": "Alpha's description, folded onto one line.",
            "severity": "high",
            "remediation": "Fix alpha.",
            "package": "gate.catalog.alpha",
            "file": f"{PACK}/zeta.rego",
            "line": 2,
            "effective_from": "2030-01-01",
            "actions": {"qa": "warn", "prod": "deny"},
            "unset_stages": [],
        },
        {
            "id": "beta-rule",
            "title": "Beta",
            "description": "Beta has no remediation.",
            "severity": "low",
            "remediation": None,
            "package": "gate.catalog.beta",
            "file": f"{PACK}/beta.rego",
            "line": 1,
            "effective_from": None,
            "actions": {"qa": "deny", "prod": "deny"},
            "unset_stages": ["qa", "prod"],
        },
    ],
}
"""The fixture pack: ids sorted though zeta.rego holds alpha; a test module, a helper
package without METADATA; qa misspells beta's action and prod omits it (both deny)."""


def test_json_describes_every_rule_sorted_by_id(gate_cli):
    result = gate_cli("policy", "doc", PACK, "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == PACK_JSON


def test_markdown_has_a_summary_table_with_a_column_per_stage(gate_cli):
    result = gate_cli("policy", "doc", PACK)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "# Policy rules"
    header = lines.index("| id | title | severity | qa | prod |")
    assert lines[header + 1 : header + 4] == [
        "|---|---|---|---|---|",
        "| [`alpha-rule`](#alpha-rule) | Alpha \\| pipes in titles | high | warn "
        "| deny (from 2030-01-01) |",
        "| [`beta-rule`](#beta-rule) | Beta | low | deny (unset) | deny (unset) |",
    ]


def test_markdown_has_a_section_per_rule_with_its_anchor(gate_cli):
    text = gate_cli("policy", "doc", PACK).out
    alpha = text[text.index('<a id="alpha-rule"></a>') : text.index('<a id="beta-rule"></a>')]
    assert alpha.splitlines() == [
        '<a id="alpha-rule"></a>',
        "",
        "### `alpha-rule`: Alpha | pipes in titles",
        "",
        "Alpha's description, folded onto one line.",
        "",
        "- **Severity:** high",
        "- **Stages:** qa: warn · prod: deny (from 2030-01-01)",
        "- **Blocking from:** 2030-01-01 (until then its denials are reported as warnings)",
        "- **Remediation:** Fix alpha.",
        f"- **Defined in:** `{PACK}/zeta.rego:2` (package `gate.catalog.alpha`)",
        "",
    ]
    beta = text[text.index('<a id="beta-rule"></a>') :]
    assert "Remediation" not in beta and "Blocking from" not in beta
    assert "- **Stages:** qa: deny (unset) · prod: deny (unset)" in beta


def test_tests_and_helpers_are_not_rules(gate_cli):
    text = gate_cli("policy", "doc", PACK).out
    assert "test-only-rule" not in text
    assert "lib.catalog" not in text


def _action(rule: str, action: Any) -> dict[str, Any]:
    return {"gate_config": {"stages": {"prod": {"actions": {rule: action}}}}}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, ({"prod": "deny"}, ["prod"])),
        ({"gate_config": "junk"}, ({"prod": "deny"}, ["prod"])),
        ({"gate_config": {"stages": "junk"}}, ({"prod": "deny"}, ["prod"])),
        ({"gate_config": {"stages": {"prod": None}}}, ({"prod": "deny"}, ["prod"])),
        ({"gate_config": {"stages": {"prod": {"actions": []}}}}, ({"prod": "deny"}, ["prod"])),
        (_action("r", "warn"), ({"prod": "warn"}, [])),
        (_action("r", "off"), ({"prod": "off"}, [])),
        (_action("r", "deny"), ({"prod": "deny"}, [])),
        (_action("r", "Warn"), ({"prod": "deny"}, ["prod"])),
        (_action("r", None), ({"prod": "deny"}, ["prod"])),
        (_action("other", "off"), ({"prod": "deny"}, ["prod"])),
    ],
    ids=[
        "no-data", "config-not-object", "stages-not-object", "stage-null", "actions-not-object",
        "warn", "off", "deny", "wrong-case", "null-action", "rule-missing",
    ],
)  # fmt: skip
def test_a_missing_or_invalid_action_denies(data, expected):
    assert stage_actions(data, ["prod"], "r") == expected


@pytest.mark.parametrize(
    ("config", "columns"),
    [
        ({"stage_order": ["dev", "qa", "prod"]}, ["dev", "qa", "prod"]),
        ({"stage_order": ["prod", "dev"]}, ["prod", "dev"]),
        ({"stages": {"a": {}, "b": {}}}, ["a", "b"]),
        ({}, ["prod"]),
    ],
    ids=["stage-order", "order-as-written", "stages-without-order", "no-stages-fallback"],
)
def test_stage_columns_come_from_the_data(tmp_path, config, columns):
    rule = tmp_path / "rule.rego"
    rule.write_text((PACK / "beta.rego").read_text())
    (tmp_path / "data.json").write_text(json.dumps({"gate_config": config}))
    catalog = build_catalog(load_bundle([tmp_path]), [str(tmp_path)])
    assert catalog.stages == columns
    assert json.loads(render_json(catalog))["stages"] == columns
    assert f"| id | title | severity | {' | '.join(columns)} |" in render_markdown(catalog)


def test_data_files_override_the_pack(gate_cli):
    result = gate_cli("policy", "doc", PACK, "--data", CATALOG / "overrides.yaml", "-f", "json")
    beta = json.loads(result.out)["rules"][1]
    assert (beta["actions"], beta["unset_stages"]) == ({"qa": "deny", "prod": "off"}, ["qa"])


def test_output_is_deterministic(gate_cli):
    first = gate_cli("policy", "doc", PACK, "-f", "json").out
    again = gate_cli("policy", "doc", PACK, "-f", "json").out
    assert first == again
    bundle = load_bundle([PACK])
    assert render_markdown(build_catalog(bundle, ["x"])) == render_markdown(
        build_catalog(load_bundle([PACK]), ["x"])
    )


@pytest.mark.parametrize(
    ("name", "expected_format"),
    [("rules.json", "json"), ("rules.md", "markdown"), ("rules.txt", "markdown")],
    ids=["json-extension", "md-extension", "other-extension"],
)
def test_output_file_format_follows_the_extension(gate_cli, tmp_path, name, expected_format):
    target = tmp_path / name
    result = gate_cli("policy", "doc", PACK, "-o", target)
    assert (result.code, result.out) == (0, "")
    text = target.read_text()
    assert text.startswith("{") if expected_format == "json" else text.startswith("# Policy")


@pytest.mark.parametrize(
    "target",
    [PACK / "beta.rego", PACK / "data.yaml", PACK / "new.rego", CATALOG / "overrides.yaml"],
    ids=["a-rule", "the-pack-data", "a-new-rego-in-the-pack", "a-data-file"],
)
def test_output_never_overwrites_policies_or_data(gate_cli, target):
    before = target.read_bytes() if target.exists() else None
    result = gate_cli("policy", "doc", PACK, "--data", CATALOG / "overrides.yaml", "-o", target)
    assert result.code == 2
    assert "would overwrite" in result.err
    assert (target.read_bytes() if target.exists() else None) == before


def test_output_may_live_beside_the_rules(gate_cli, tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "beta.rego").write_text((PACK / "beta.rego").read_text())
    result = gate_cli("policy", "doc", pack, "-o", pack / "RULES.md")
    assert result.code == 0, result.err
    assert "beta-rule" in (pack / "RULES.md").read_text()


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("broken-metadata", 3, r"bad\.rego:\d+: METADATA block is not valid YAML"),
        ("no-rules", 3, "no rules to document"),
        ("bad-effective-from", 3, "custom.effective_from 'next quarter' is not a date"),
        ("missing", 2, "no such policy file or directory"),
    ],
    ids=["broken-metadata", "no-rules", "bad-effective-from", "missing-path"],
)
def test_broken_policies_are_errors(gate_cli, path, code, message):
    result = gate_cli("policy", "doc", CATALOG / path)
    assert result.code == code
    assert result.out == ""
    assert result.err.startswith("error: ") and re.search(message, result.err)
    assert len(result.err.splitlines()) <= 2  # one error line, maybe a hint


def test_bundled_pack_sets_every_rule_in_every_stage(gate_cli):
    catalog = json.loads(gate_cli("policy", "doc", "-f", "json").out)
    assert catalog["stages"] == ["dev", "staging", "prod"]
    ids = [rule["id"] for rule in catalog["rules"]]
    assert ids == sorted(ids) and len(ids) >= 20
    assert all(rule["unset_stages"] == [] for rule in catalog["rules"])
    assert all(rule["file"].startswith("gate:policies/gate/") for rule in catalog["rules"])


def test_docs_rules_md_is_the_bundled_pack_catalogue(gate_cli):
    """docs/rules.md is generated: GATE_UPDATE_GOLDEN=1 pytest rewrites it after a change."""
    result = gate_cli("policy", "doc")
    assert result.code == 0, result.err
    if UPDATE:
        RULES_MD.write_text(result.out, encoding="utf-8")
    assert RULES_MD.exists(), "docs/rules.md missing: run with GATE_UPDATE_GOLDEN=1"
    assert result.out == RULES_MD.read_text(encoding="utf-8"), (
        "docs/rules.md differs from `gate policy doc`; if intended, GATE_UPDATE_GOLDEN=1"
    )
