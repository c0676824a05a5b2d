"""Policy sets and data files that must never give a verdict (issue 7 §3).

Each case runs the real entry point and asserts the exit code and the message: a call to
an unknown function in a branch no input takes, a policy set without deny/warn rules
under data.gate, and data keys that would shadow a policy package.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import AT, fixture

from gate.errors import PolicyError
from gate.policy import DefinedRule, module_package, require_rules
from gate.verdict import collect_results

TRIVY = fixture("reports/trivy/v2-image.json")
HEADER = "package {package}\n\nimport rego.v1\n\n"


def policy_dir(root: Path, body: str, package: str = "gate.x", name: str = "p.rego") -> Path:
    """A policy directory holding one module ``name`` of ``package`` with ``body``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(HEADER.format(package=package) + body)
    return root


def check(gate_cli, *args: str | Path):
    return gate_cli("check", TRIVY, "--at", AT, *args)


DENIES = 'deny contains {"id": "x", "msg": "always"} if true\n'
# regorus counts a tab as four columns: the call below is at 7:5.
UNTAKEN_UNKNOWN = 'deny contains "x" if {\n\tinput.never == 1\n\tnosuchfn(1)\n}\n'


# ---------------------------------------------------------------------------------------
# Every call resolves before anything is evaluated
# ---------------------------------------------------------------------------------------


def test_unknown_function_in_an_untaken_branch_stops_check(gate_cli, tmp_path: Path) -> None:
    policies = policy_dir(tmp_path / "p", UNTAKEN_UNKNOWN)
    result = check(gate_cli, "-p", policies)
    assert result.code == 3
    assert result.err.startswith(
        f"error: {policies / 'p.rego'}:7:5: policy does not compile: Unknown function: 'nosuchfn'"
    )


def test_unknown_function_in_an_untaken_branch_stops_policy_test(gate_cli, tmp_path) -> None:
    policies = policy_dir(tmp_path / "p", UNTAKEN_UNKNOWN)
    (policies / "p_test.rego").write_text(
        HEADER.format(package="gate.x_test") + "test_quiet if count(data.gate.x.deny) == 0\n"
    )
    result = gate_cli("policy", "test", policies)
    assert result.code == 3
    assert f"{policies / 'p.rego'}:7:5: policy does not compile: Unknown function: 'nosuchfn'" in (
        result.err
    )
    assert "PASS" not in result.out


def test_unknown_function_in_a_test_module_stops_policy_test(gate_cli, tmp_path: Path) -> None:
    policies = policy_dir(tmp_path / "p", DENIES)
    (policies / "p_test.rego").write_text(
        HEADER.format(package="gate.x_test")
        + "test_fires if {\n\tcount(data.gate.x.deny) == 1\n}\n\n"
        + "test_never if {\n\tinput.never\n\tnot_a_builtin(input.x)\n}\n"
    )
    result = gate_cli("policy", "test", policies)
    assert result.code == 3
    assert "p_test.rego:11:5: policy does not compile: Unknown function: 'not_a_builtin'" in (
        result.err
    )


def test_calls_through_imports_data_paths_and_packages_resolve(gate_cli, tmp_path) -> None:
    policies = tmp_path / "p"
    policy_dir(policies, "double(x) := 2 * x\n", package="lib.util", name="util.rego")
    policy_dir(
        policies,
        "import data.lib.util\nimport data.lib.util as u\n\n"
        "local(x) := x + 1\n\n"
        'deny contains {"id": "x", "msg": sprintf("%d", [n])} if {\n'
        "\tn := util.double(u.double(data.lib.util.double(local(1))))\n"
        '\tstartswith("gate", "g")\n'
        "}\n",
    )
    result = check(gate_cli, "-p", policies, "-f", "json")
    assert result.code == 1, result.err
    assert json.loads(result.out)["violations"][0]["msg"] == "16"


@pytest.mark.parametrize(
    ("call", "name"),
    [
        ("u.nosuch(1)", "u.nosuch"),  # an imported package without that function
        ("data.lib.util.nosuch(1)", "data.lib.util.nosuch"),
        ('crypto.sha256("x")', "crypto.sha256"),  # an OPA builtin regorus lacks
    ],
)
def test_unknown_function_through_an_import_or_path(gate_cli, tmp_path, call, name) -> None:
    policies = tmp_path / "p"
    policy_dir(policies, "double(x) := 2 * x\n", package="lib.util", name="util.rego")
    policy_dir(
        policies,
        f'import data.lib.util as u\n\ndeny contains "x" if {{\n\tinput.never\n\t{call}\n}}\n',
    )
    result = check(gate_cli, "-p", policies)
    assert result.code == 3
    assert f"policy does not compile: Unknown function: '{name}'" in result.err


# ---------------------------------------------------------------------------------------
# A policy set without deny/warn rules under data.gate passes nothing
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "package", "hint"),
    [
        (
            'violation contains {"msg": "x"} if true\n',
            "gate.x",
            "hint: found violation in package gate.x (",
        ),
        ('Deny contains {"msg": "x"} if true\n', "gate.x", "Deny in package gate.x"),
        ("helper := 1\n", "gate.x", "define packages gate.x but no deny or warn rule under gate"),
        (DENIES, "main", "found deny in package main ("),
        ("deny(x) := x\n", "gate.x", "deny(…) in package gate.x"),
    ],
    ids=["conftest-violation", "capitalised", "bare-package", "outside-gate", "function"],
)
def test_no_rules_to_evaluate(gate_cli, tmp_path, body, package, hint) -> None:
    result = check(gate_cli, "-p", policy_dir(tmp_path / "p", body, package=package))
    assert result.code == 3
    assert result.err.startswith(
        "error: no rules to evaluate: no deny or warn rule under data.gate\n"
    )
    assert hint in result.err


def test_rename_hints_say_what_to_do(tmp_path: Path) -> None:
    rules = [DefinedRule(("gate", "x", "violation"), ("gate", "x"), False, "p.rego:5")]
    with pytest.raises(PolicyError) as caught:
        require_rules(rules, "data.gate")
    assert caught.value.hint == "found violation in package gate.x (p.rego:5): rename it to deny"
    rules = [DefinedRule(("main", "warn_old"), ("main",), False, "m.rego:3")]
    with pytest.raises(PolicyError) as caught:
        require_rules(rules, "data.gate")
    assert caught.value.hint is not None
    assert "rename it to warn, and move it to a package named gate.*" in caught.value.hint


def test_a_warn_rule_alone_is_enough_and_tests_do_not_count() -> None:
    require_rules([DefinedRule(("gate", "x", "warn"), ("gate", "x"), False, "p:1")], "data.gate")
    only_a_test = [DefinedRule(("gate", "x", "test_a", "deny"), ("gate", "x"), False, "p:1")]
    with pytest.raises(PolicyError):
        require_rules(only_a_test, "data.gate")


def test_the_evaluated_tree_is_checked_too() -> None:
    # Whatever the engine: a data.gate value without a deny/warn set is no verdict.
    with pytest.raises(PolicyError) as caught:
        collect_results({"x": {"violation": [{"msg": "m"}], "helper": 1}}, {})
    assert caught.value.message == "no rules to evaluate: no deny or warn rule under data.gate"
    assert caught.value.hint is not None and "gate.x.violation" in caught.value.hint
    with pytest.raises(PolicyError, match="no rules to evaluate"):
        collect_results(None, {})
    assert collect_results({"x": {"deny": []}}, {}) == []


# ---------------------------------------------------------------------------------------
# Data keys that would shadow a policy package
# ---------------------------------------------------------------------------------------


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value))
    return path


@pytest.mark.parametrize(
    ("data", "key", "package"),
    [
        ({"gate": {"x": {"deny": []}}}, "gate.x", "gate.x"),
        ({"gate": 1}, "gate", "gate.x"),
        ({"lib": {"gate": {"action": "off"}}}, "lib.gate", "lib.gate"),
        ({"lib": {"other": True}}, "lib", "lib.gate"),
    ],
    ids=["empty-deny", "scalar", "lib-gate-override", "lib-namespace"],
)
def test_data_cannot_shadow_a_failing_policy(gate_cli, tmp_path, data, key, package) -> None:
    policies = tmp_path / "p"
    policy_dir(policies, DENIES)
    policy_dir(policies, 'action(_) := "deny"\n', package="lib.gate", name="lib.rego")
    assert check(gate_cli, "-p", policies).code == 1  # the image fails without the data file
    data_file = write_json(tmp_path / "x.json", data)
    result = check(gate_cli, "-p", policies, "-d", data_file)
    assert result.code == 3
    assert result.err.startswith(
        f"error: {data_file}: data key '{key}' would shadow policy package {package}\n"
    )


def test_data_cannot_turn_off_the_bundled_pack(gate_cli, tmp_path: Path) -> None:
    data_file = write_json(tmp_path / "off.json", {"lib": {"gate": {"action": "off"}}})
    result = check(gate_cli, "-d", data_file)
    assert result.code == 3
    assert f"{data_file}: data key 'lib.gate' would shadow policy package lib.gate" in result.err


def test_the_file_that_brought_the_key_is_named(gate_cli, tmp_path: Path) -> None:
    policies = policy_dir(tmp_path / "p", DENIES)
    write_json(policies / "data.json", {"limits": {"gate": 1}})  # harmless: not at the top
    first = write_json(tmp_path / "first.json", {"limits": {"x": 2}})
    second = write_json(tmp_path / "second.json", {"gate": {"x": {}}})
    result = check(gate_cli, "-p", policies, "-d", first, "-d", second)
    assert result.code == 3
    assert result.err.startswith(f"error: {second}: data key 'gate.x' would shadow")
    write_json(policies / "data.json", {"gate": {}})
    result = check(gate_cli, "-p", policies, "-d", first)
    assert result.err.startswith(f"error: {policies / 'data.json'}: data key 'gate' would")


def test_unrelated_data_keys_are_fine(gate_cli, tmp_path: Path) -> None:
    policies = policy_dir(tmp_path / "p", DENIES)
    data_file = write_json(tmp_path / "d.json", {"gate_config": {"x": 1}, "gates": [1]})
    assert check(gate_cli, "-p", policies, "-d", data_file).code == 1


@pytest.mark.parametrize(
    ("text", "package"),
    [
        ("package gate.x\n", ("gate", "x")),
        ("# METADATA\n# title: x\n\n  package  gate . y\nimport rego.v1\n", ("gate", "y")),
        ('package lib["gate"].z\n', ("lib", "gate", "z")),
        ("import rego.v1\npackage gate.x\n", None),
    ],
)
def test_module_package_reads_the_declaration(text: str, package) -> None:
    assert module_package(text) == package
