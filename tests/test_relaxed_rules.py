"""A laxer data file is visible in every verdict: rules the data keeps from blocking."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import fixture

from gate.verdict import RelaxedRule, relaxed_rules

SCAN_DAY = "2024-10-14T12:00:00Z"
TRIVY = fixture("reports/trivy/v2-image.json")
INSPECT = fixture("image/inspect.json")
BUNDLED_WARN_IN_PROD = [
    "image-healthcheck-missing",
    "image-metadata-missing",
    "provenance-builder-untrusted",
    "vex-missing-justification",
    "vex-not-blocking",
    "vuln-unfixed-critical-aged",
]


def data_file(tmp_path: Path, name: str, actions: dict[str, str], stage: str = "prod") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"gate_config": {"stages": {stage: {"actions": actions}}}}))
    return path


def run(gate_cli, *extra):
    result = gate_cli("check", TRIVY, INSPECT, "--at", SCAN_DAY, "-f", "json", *extra)
    return result, json.loads(result.out)


def test_the_bundled_pack_lists_what_it_only_warns_about_in_prod(gate_cli):
    _, verdict = run(gate_cli)
    assert [r["id"] for r in verdict["relaxed"]] == BUNDLED_WARN_IN_PROD
    assert {(r["action"], r["set_by"]) for r in verdict["relaxed"]} == {
        ("warn", "gate:policies/data.json")
    }


def test_a_data_file_that_switches_a_rule_off_is_named_in_json_table_and_summary(
    gate_cli, tmp_path
):
    lax = data_file(tmp_path, "lax.json", {"vuln-fixable-critical": "off", "scan-required": "warn"})
    result, verdict = run(gate_cli, "--data", lax)
    relaxed = {r["id"]: (r["action"], r["set_by"]) for r in verdict["relaxed"]}
    assert relaxed["vuln-fixable-critical"] == ("off", str(lax))
    assert relaxed["scan-required"] == ("warn", str(lax))
    assert f"vuln-fixable-critical off ({lax})" in result.err  # the stderr summary says so too
    table = gate_cli("check", TRIVY, INSPECT, "--at", SCAN_DAY, "--data", lax)
    assert "Not blocking in prod" in table.out
    assert f"vuln-fixable-critical ({lax})" in table.out


def test_the_last_file_to_set_an_action_is_named(gate_cli, tmp_path):
    first = data_file(tmp_path, "first.json", {"secret-found": "off"})
    second = data_file(tmp_path, "second.json", {"secret-found": "warn"})
    _, verdict = run(gate_cli, "--data", first, "--data", second)
    [secret] = [r for r in verdict["relaxed"] if r["id"] == "secret-found"]
    assert (secret["action"], secret["set_by"]) == ("warn", str(second))


def test_dev_lists_the_rules_it_switches_off(gate_cli):
    _, verdict = run(gate_cli, "--stage", "dev")
    off = {r["id"] for r in verdict["relaxed"] if r["action"] == "off"}
    assert {"scan-required", "sbom-required", "provenance-required", "image-tag-latest"} <= off


def test_only_warn_and_off_relax_a_rule():
    stages = {"prod": {"actions": {"a": "deny", "b": "nonsense", "c": "warn", "d": None}}}
    layers = [("data.json", stages)]
    assert relaxed_rules(["a", "b", "c", "d", "e"], stages, layers, "prod") == [
        RelaxedRule(id="c", action="warn", set_by="data.json")
    ]
    assert relaxed_rules(["a"], stages, layers, "staging") == []  # unknown stage: all deny
    assert relaxed_rules(["a"], {"prod": "x"}, [], "prod") == []


def test_the_bundled_defaults_are_counted_not_listed_and_silent_on_stderr(gate_cli):
    result, _ = run(gate_cli)
    assert "relaxed in" not in result.err
    table = gate_cli("check", TRIVY, INSPECT, "--at", SCAN_DAY)
    assert f"warn only  {len(BUNDLED_WARN_IN_PROD)} rules (gate:policies/data.json)" in table.out


def test_a_policy_directory_with_its_own_lax_data_is_named(gate_cli, tmp_path):
    """Layering a directory whose data.json relaxes the bundled rules shows that directory."""
    layer = tmp_path / "org"
    layer.mkdir()
    (layer / "extra.rego").write_text(
        'package gate.org\nimport rego.v1\ndeny contains {"id": "org", "msg": "x"} if false\n'
    )
    lax = data_file(layer, "data.json", {"secret-found": "off"})
    result, verdict = run(gate_cli, "--policy", "gate:policies", "--policy", layer)
    [secret] = [r for r in verdict["relaxed"] if r["id"] == "secret-found"]
    assert secret["set_by"] == str(lax)
    assert f"secret-found off ({lax})" in result.err


def test_settings_a_data_file_sets_are_reported_whichever_way_they_point(gate_cli, tmp_path):
    lax = tmp_path / "lax.json"
    lax.write_text(
        json.dumps(
            {
                "gate_config": {
                    "stages": {
                        "prod": {
                            "settings": {"require_vulnerability_scan": False},
                            "actions": {},
                        },
                        "dev": {"settings": {"max_scan_age_hours": 1}},
                    }
                }
            }
        )
    )
    result, verdict = run(gate_cli, "--data", lax)
    assert verdict["settings_overridden"] == [
        {"name": "require_vulnerability_scan", "value": False, "set_by": str(lax)}
    ]  # prod's other settings are the bundled pack's; dev's are not this stage's
    assert f"require_vulnerability_scan=false ({lax})" in result.err
    table = gate_cli("check", TRIVY, INSPECT, "--at", SCAN_DAY, "--data", lax)
    assert "Settings for prod from data files other than the bundled pack's" in table.out
    assert f"require_vulnerability_scan = false ({lax})" in table.out


def test_the_bundled_settings_are_not_reported(gate_cli):
    _, verdict = run(gate_cli)
    assert verdict["settings_overridden"] == []


def test_a_reordered_stage_order_shows_which_stage_was_judged(gate_cli, tmp_path):
    reorder = tmp_path / "order.json"
    reorder.write_text(json.dumps({"gate_config": {"stage_order": ["prod", "staging", "dev"]}}))
    result, verdict = run(gate_cli, "--data", reorder)  # no --stage: "the strictest"
    assert verdict["stage"] == "dev"
    assert "at stage dev" in result.err
    assert "scan-required" in {r["id"] for r in verdict["relaxed"] if r["action"] == "off"}
