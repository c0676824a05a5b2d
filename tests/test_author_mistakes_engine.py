"""Policy authors' mistakes caught by the loader and the engine before `check` (issue 10):
data files mounted like OPA bundles, compile errors in branches no test takes, Rego v0
syntax, the values of a failing test's expression, builtin errors at `check`, and
`--explain` pointing at the rule body."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RULE_USING_KEV = """package gate.kev
import rego.v1
deny contains msg if {
\tsome v in input.vulnerabilities
\tv.id in {c.cveID | some c in data.kev.vulnerabilities}
\tmsg := sprintf("%s is known exploited", [v.id])
}
"""

KEV_TEST = """package gate.kev_test
import rego.v1
import data.gate.kev
test_listed_cve_denied if {
\tkev.deny == {"CVE-1 is known exploited"} with input as {"vulnerabilities": [{"id": "CVE-1"}]}
}
"""

CISA_KEV = {"catalogVersion": "2026.01.01", "vulnerabilities": [{"cveID": "CVE-1"}]}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# ---------------------------------------------------------------------------------------
# 1. data files: OPA bundle mounts, --data NAME=FILE
# ---------------------------------------------------------------------------------------


def test_subfolder_data_json_is_mounted_at_its_folder(gate_cli, tmp_path: Path) -> None:
    policies = write(
        tmp_path / "policies",
        {
            "gate/kev.rego": RULE_USING_KEV,
            "gate/kev_test.rego": KEV_TEST,
            "kev/data.json": json.dumps(CISA_KEV),
        },
    )
    result = gate_cli("policy", "test", policies)
    assert result.code == 0, result.out + result.err
    assert "PASS: 1/1" in result.out


def test_subfolder_data_does_not_land_at_the_root(tmp_path: Path) -> None:
    from gate.policy import load_bundle

    policies = write(
        tmp_path / "p",
        {
            "gate/kev.rego": RULE_USING_KEV,
            "data.json": '{"gate_config": {"stages": {"prod": {"actions": {}}}}}',
            "kev/data.json": json.dumps({**CISA_KEV, "gate_config": {"stages": {"x": {}}}}),
        },
    )
    bundle = load_bundle([policies])
    assert "vulnerabilities" not in bundle.data
    assert bundle.data["kev"]["vulnerabilities"] == CISA_KEV["vulnerabilities"]
    # gate_config comes from the root only: a mounted file's is data under the mount.
    assert bundle.data["gate_config"] == {"stages": {"prod": {"actions": {}}}}
    assert bundle.data["kev"]["gate_config"] == {"stages": {"x": {}}}
    assert [layer for _, layer in bundle.stage_layers] == [{"prod": {"actions": {}}}, {}]
    assert [path for path, _ in bundle.files][-1].endswith("kev/data.json")


def test_data_option_mounts_a_raw_third_party_file(gate_cli, tmp_path: Path) -> None:
    policies = write(
        tmp_path / "policies",
        {"gate/kev.rego": RULE_USING_KEV, "gate/kev_test.rego": KEV_TEST},
    )
    kev = tmp_path / "known_exploited_vulnerabilities.json"
    kev.write_text(json.dumps(CISA_KEV))
    assert gate_cli("policy", "test", policies, "--data", f"kev={kev}").code == 0
    # Without a mount point the file merges at the root: data.kev is undefined, test fails.
    assert gate_cli("policy", "test", policies, "--data", kev).code == 1


def test_data_option_takes_a_dotted_mount_point(tmp_path: Path) -> None:
    from gate.policy import load_bundle

    policies = write(tmp_path / "p", {"gate/kev.rego": RULE_USING_KEV})
    kev = tmp_path / "kev.json"
    kev.write_text(json.dumps(CISA_KEV))
    bundle = load_bundle([policies], [f"feeds.kev={kev}"])
    assert bundle.data == {"feeds": {"kev": CISA_KEV}}


@pytest.mark.parametrize("name", ["fe-eds", "1kev", "kev..x", "kev.", "a b"])
def test_data_mount_name_must_be_an_identifier(gate_cli, tmp_path: Path, name: str) -> None:
    policies = write(tmp_path / "p", {"gate/kev.rego": RULE_USING_KEV})
    kev = tmp_path / "kev.json"
    kev.write_text("{}")
    result = gate_cli("policy", "test", policies, "--data", f"{name}={kev}")
    assert result.code == 2
    assert "is not an identifier" in result.err and f"--data {name}=" in result.err


def test_data_folder_name_must_be_an_identifier(gate_cli, tmp_path: Path) -> None:
    policies = write(tmp_path / "p", {"gate/kev.rego": RULE_USING_KEV, "my-feeds/data.json": "{}"})
    result = gate_cli("policy", "test", policies)
    assert result.code == 3
    assert "my-feeds/data.json" in result.err and "'my-feeds' is not an identifier" in result.err


def test_data_conflict_names_both_files(gate_cli, tmp_path: Path) -> None:
    policies = write(
        tmp_path / "p",
        {"gate/kev.rego": RULE_USING_KEV, "data.json": '{"kev": [1]}', "kev/data.json": "{}"},
    )
    result = gate_cli("policy", "test", policies)
    assert result.code == 3
    assert "data.kev is an object in one data file and another value in another" in result.err
    assert f"{policies}/data.json" in result.err and f"{policies}/kev/data.json" in result.err


def test_root_data_option_may_not_replace_a_mounted_object(gate_cli, tmp_path: Path) -> None:
    policies = write(tmp_path / "p", {"gate/kev.rego": RULE_USING_KEV})
    kev, root = tmp_path / "kev.json", tmp_path / "root.json"
    kev.write_text(json.dumps(CISA_KEV))
    root.write_text('{"feeds": {"kev": "off"}}')
    result = gate_cli("policy", "test", policies, "--data", f"feeds.kev={kev}", "--data", root)
    assert result.code == 3
    assert "data.feeds.kev" in result.err and str(root) in result.err and str(kev) in result.err


def test_mounted_objects_merge_and_root_files_still_override(tmp_path: Path) -> None:
    from gate.policy import load_bundle

    policies = write(
        tmp_path / "p",
        {
            "gate/kev.rego": RULE_USING_KEV,
            "data.json": '{"limit": 1, "kev": {"local": true}}',
            "kev/data.json": '{"catalogVersion": "old"}',
        },
    )
    override = tmp_path / "o.json"
    override.write_text('{"limit": 2}')
    newer = tmp_path / "k.json"
    newer.write_text('{"catalogVersion": "new"}')
    bundle = load_bundle([policies], [str(override), f"kev={newer}"])
    assert bundle.data == {"limit": 2, "kev": {"local": True, "catalogVersion": "new"}}


def test_mounted_data_cannot_shadow_a_policy_package(gate_cli, tmp_path: Path) -> None:
    policies = write(
        tmp_path / "p", {"gate/kev.rego": RULE_USING_KEV, "gate/kev/data.json": '{"deny": []}'}
    )
    result = gate_cli("policy", "test", policies)
    assert result.code == 3
    assert "would shadow policy package gate.kev" in result.err
    assert "gate/kev/data.json" in result.err


# ---------------------------------------------------------------------------------------
# 2. compile errors in branches no test takes; Rego v0 syntax
# ---------------------------------------------------------------------------------------

UNTAKEN = """package gate.r
import rego.v1
deny contains msg if {{
\tinput.never == true
\tmsg := {call}
}}
"""
PASSING_TEST = """package gate.r_test
import rego.v1
import data.gate.r
test_nothing_denied if { count(r.deny) == 0 with input as {} }
"""


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("no_such_fn(input.x)", "Unknown function: 'no_such_fn'"),
        ('sprintf("%v")', "sprintf expects 2 arguments, the call gives 1"),
        ("count(input.x, 1, 2)", "count expects 1 argument, the call gives 3"),
        ("helper(1)", "helper expects 2 arguments, the call gives 1"),
    ],
)
def test_compile_error_in_an_untaken_branch_fails_policy_test(
    gate_cli, tmp_path: Path, call: str, message: str | None
) -> None:
    rule = UNTAKEN.format(call=call) + "helper(a, b) := a + b\n"
    policies = write(tmp_path / "p", {"r.rego": rule, "r_test.rego": PASSING_TEST})
    result = gate_cli("policy", "test", policies)
    assert result.code == 3, result.out + result.err
    first = result.err.splitlines()[0]
    assert first.startswith(f"error: {policies}/r.rego:5:")
    if message:
        assert message in first


def test_output_argument_form_is_not_an_arity_error(gate_cli, tmp_path: Path) -> None:
    rule = UNTAKEN.format(call="n") + "n := 1 if count([1], 1)\n"
    policies = write(tmp_path / "p", {"r.rego": rule, "r_test.rego": PASSING_TEST})
    assert gate_cli("policy", "test", policies).code == 0


def test_rego_v0_syntax_gets_the_v1_form_as_hint(gate_cli, tmp_path: Path) -> None:
    policies = write(
        tmp_path / "p", {"r.rego": 'package gate.r\ndeny[msg] {\n\tinput.x\n\tmsg := "a"\n}\n'}
    )
    result = gate_cli("policy", "test", policies)
    assert result.code == 3
    assert result.err.startswith(f"error: {policies}/r.rego:2:")
    assert "hint:" in result.err and "deny contains msg if {" in result.err


# ---------------------------------------------------------------------------------------
# 5. --explain points at the body that produced the result
# ---------------------------------------------------------------------------------------

TWO_BODIES = """# METADATA
# custom:
#   id: org-user
package gate.r

import rego.v1

findings contains {"id": "org-user", "msg": "no labels", "finding": {"kind": "label"}} if {
\tcount(object.get(input.image, "labels", {})) == 0
}

findings contains {"id": "org-user", "msg": "root", "finding": {"kind": "image"}} if {
\tinput.image.user in {"", "0", "root"}
}

deny contains f if {
\tsome f in findings
}
"""


def test_explain_points_at_the_findings_body_not_the_deny_wrapper(gate_cli, tmp_path: Path) -> None:
    from conftest import fixture

    policies = write(tmp_path / "p", {"gate/r.rego": TWO_BODIES})
    result = gate_cli(
        "check", fixture("image/inspect-root.json"), "--policy", policies, "-f", "json",
        "--explain",
    )  # fmt: skip
    assert result.code == 1
    violations = json.loads(result.out)["violations"]
    assert [v["msg"] for v in violations] == ["root"]
    rule = violations[0]["explanation"]["rule"]
    assert rule == {"file": f"{policies}/gate/r.rego", "line": 12}


# ---------------------------------------------------------------------------------------
# 3. a failing test shows its failing expression with the values in it
# ---------------------------------------------------------------------------------------

RULES = """package gate.r
import rego.v1
findings contains {"id": "r", "severity": "medium", "msg": m} if {
\tsome label in object.keys(input.labels)
\tm := sprintf("label %s", [label])
}
"""

FAILING_TESTS = """package gate.r_test
import data.gate.r as rule
import rego.v1

labels := {"team": "x", "owner": "y"}

test_severity_is_high if {
\tfound := rule.findings with input as {"labels": labels}
\tsome f in found
\tcount(found) == 2
\tf.severity == "high"
}

test_long_value if {
\tbig := concat("", [s | some _ in numbers.range(1, 300); s := "ab"])
\tbig == "short"
}

test_passes if {
\tcount(rule.findings) == 1 with input as {"labels": {"a": 1}}
}
"""


def test_failing_test_shows_the_false_expression_and_its_values(gate_cli, tmp_path: Path) -> None:
    policies = write(tmp_path / "p", {"r.rego": RULES, "r_test.rego": FAILING_TESTS})
    result = gate_cli("policy", "test", policies)
    assert result.code == 1
    lines = result.out.splitlines()
    at = lines.index(f"FAIL: {policies}/r_test.rego:7: gate.r_test.test_severity_is_high")
    assert lines[at + 1 : at + 5] == [
        "  undefined",
        f'  {policies}/r_test.rego:11: f.severity == "high" is false or undefined',
        '    f = {"id": "r", "msg": "label owner", "severity": "medium"} | '
        '{"id": "r", "msg": "label team", "severity": "medium"}',
        '    f.severity = "medium" | "medium"',
    ]
    assert "PASS: 1/3" in result.out


def test_failing_expression_values_are_bounded(gate_cli, tmp_path: Path) -> None:
    policies = write(tmp_path / "p", {"r.rego": RULES, "r_test.rego": FAILING_TESTS})
    result = gate_cli("policy", "test", policies, "--format", "json")
    tests = {t["name"]: t for t in json.loads(result.out)["tests"]}
    details = tests["test_long_value"]["details"]
    assert details[0].endswith('r_test.rego:16: big == "short" is false or undefined')
    assert details[1].startswith('  big = "abab') and details[1].endswith("...")
    assert len(details[1]) < 250
    assert tests["test_passes"]["details"] == []


# ---------------------------------------------------------------------------------------
# 4. a builtin error at check names the rule, file:line and the offending value
# ---------------------------------------------------------------------------------------

BUILTIN_ERRORS = """package gate.r

import rego.v1

findings contains {{"id": "r", "msg": name}} if {{
\tsome name, value in input.image.labels
\tstartswith(name, "org.opencontainers.image.version")
\t{call} > 0
}}

deny contains f if {{
\tsome f in findings
}}
"""


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("to_number(value)", 'could not parse string as number: to_number("1.4.2")'),
        (
            "time.parse_rfc3339_ns(value)",
            'Failed to parse datetime: premature end of input: time.parse_rfc3339_ns("1.4.2")',
        ),
    ],
)
def test_builtin_error_at_check_names_rule_line_and_value(
    gate_cli, tmp_path: Path, call: str, message: str
) -> None:
    from conftest import fixture

    policies = write(tmp_path / "p", {"gate/r.rego": BUILTIN_ERRORS.format(call=call)})
    result = gate_cli("check", fixture("image/inspect-root.json"), "--policy", policies)
    assert result.code == 3
    assert result.out == ""
    assert result.err.splitlines()[0] == (
        f"error: {policies}/gate/r.rego:8: policy evaluation failed: {message} "
        "in rule data.gate.r.findings"
    )


def test_builtin_error_never_shows_an_environment_value(gate_cli, tmp_path: Path) -> None:
    from conftest import fixture

    rule = (
        "package gate.r\nimport rego.v1\n"
        'deny contains "x" if {\n\tsome name, value in input.image.env\n'
        '\tname == "SPRING_PROFILES_ACTIVE"\n\tto_number(value) > 1\n}\n'
    )
    policies = write(tmp_path / "p", {"gate/r.rego": rule})
    result = gate_cli("check", fixture("image/inspect-root.json"), "--policy", policies)
    assert result.code == 3
    assert 'to_number("(not shown)") in rule data.gate.r.deny' in result.err
    assert '"prod"' not in result.err


@pytest.mark.parametrize("mount", ["gate", "gate.kev", "gate.kev.deny"])
def test_data_option_cannot_mount_over_a_policy_package(
    gate_cli, tmp_path: Path, mount: str
) -> None:
    policies = write(tmp_path / "p", {"gate/kev.rego": RULE_USING_KEV})
    empty = tmp_path / "deny.json"
    empty.write_text('{"deny": []}')
    result = gate_cli("policy", "test", policies, "--data", f"{mount}={empty}")
    assert result.code == 3
    assert "would shadow policy package gate.kev" in result.err and str(empty) in result.err


def test_a_test_evaluating_to_a_set_of_objects_fails_with_its_value(
    gate_cli, tmp_path: Path
) -> None:
    policies = write(
        tmp_path / "p",
        {"r_test.rego": 'package r_test\nimport rego.v1\ntest_set contains {"a": 1} if true\n'},
    )
    result = gate_cli("policy", "test", policies)
    assert result.code == 1
    assert f"FAIL: {policies}/r_test.rego:3: r_test.test_set" in result.out
    assert '  evaluated to [{"a": 1}], not true' in result.out
