"""`gate policy eval`: any query against a document or reports, with the loaded policies and
data; and print() output at `check` carrying file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import fixture

INSPECT = fixture("image/inspect-root.json")
AT = "2025-01-01T00:00:00Z"

PRINTING = """package gate.r
import rego.v1
deny contains "not nobody" if {
\tprint("user is", input.image.user)
\tinput.image.user != "nobody"
}
"""


def write_policy(root: Path, text: str = PRINTING) -> Path:
    (root / "gate").mkdir(parents=True)
    (root / "gate" / "r.rego").write_text(text)
    return root


@pytest.fixture
def document(gate_cli, tmp_path: Path) -> Path:
    result = gate_cli("normalize", INSPECT, "--at", AT)
    assert result.code == 0
    path = tmp_path / "doc.json"
    path.write_text(result.out)
    return path


def test_eval_on_a_document_prints_the_value(gate_cli, document: Path) -> None:
    result = gate_cli("policy", "eval", "data.gate.image.root_user.deny", "--input", document)
    assert result.code == 0, result.err
    [denial] = json.loads(result.out)
    assert denial["id"] == "image-root-user"


def test_eval_on_reports_normalises_them_as_check_does(gate_cli, document: Path) -> None:
    from_reports = gate_cli("policy", "eval", "input", INSPECT, "--at", AT)
    from_document = gate_cli("policy", "eval", "input", "--input", document)
    assert from_reports.code == from_document.code == 0
    assert json.loads(from_reports.out) == json.loads(from_document.out)
    assert json.loads(from_reports.out)["context"]["stage"] == "prod"


def test_eval_prints_bindings_of_a_query_with_variables(gate_cli, document: Path) -> None:
    result = gate_cli("policy", "eval", "user := input.image.user", "--input", document)
    assert result.code == 0
    assert json.loads(result.out) == [{"user": ""}]


def test_eval_undefined_exits_1(gate_cli, document: Path) -> None:
    result = gate_cli("policy", "eval", "data.gate.no_such_rule", "--input", document)
    assert result.code == 1
    assert result.out == ""
    assert "undefined: data.gate.no_such_rule has no value" in result.err


def test_eval_uses_the_given_policies_and_mounted_data(gate_cli, tmp_path: Path) -> None:
    policies = write_policy(tmp_path / "p")
    kev = tmp_path / "kev.json"
    kev.write_text('{"vulnerabilities": [{"cveID": "CVE-1"}]}')
    result = gate_cli(
        "policy", "eval", "data.feeds.kev.vulnerabilities[0].cveID", "--policy", policies,
        "--data", f"feeds.kev={kev}",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert json.loads(result.out) == "CVE-1"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('to_number("x")', "policy evaluation failed: could not parse string as number"),
        ("input +", "policy evaluation failed"),
    ],
)
def test_eval_errors_exit_3(gate_cli, query: str, message: str) -> None:
    result = gate_cli("policy", "eval", query)
    assert result.code == 3
    assert result.out == ""
    assert result.err.startswith("error: ") and message in result.err


def test_eval_refuses_a_broken_policy(gate_cli, tmp_path: Path) -> None:
    policies = write_policy(tmp_path / "p", "package gate.r\nimport rego.v1\np := nope(1)\n")
    result = gate_cli("policy", "eval", "data.gate.r", "--policy", policies)
    assert result.code == 3
    assert "Unknown function: 'nope'" in result.err and "r.rego:3" in result.err


def test_eval_takes_a_document_or_reports_not_both(gate_cli, document: Path) -> None:
    result = gate_cli("policy", "eval", "input", "--input", document, INSPECT)
    assert result.code == 2
    assert "either --input DOCUMENT or report FILEs" in result.err


@pytest.mark.parametrize("content", ["[1]", "not json", '{"a": 1, "a": 2}'])
def test_eval_input_must_be_one_json_object(gate_cli, tmp_path: Path, content: str) -> None:
    given = tmp_path / "doc.json"
    given.write_text(content)
    result = gate_cli("policy", "eval", "input", "--input", given)
    assert result.code == 3
    assert "--input" in result.err and str(given) in result.err


def test_eval_shows_print_output_with_file_and_line(
    gate_cli, document: Path, tmp_path: Path
) -> None:
    policies = write_policy(tmp_path / "p")
    result = gate_cli("policy", "eval", "data.gate.r.deny", "--policy", policies, "-i", document)
    assert result.code == 0
    assert f"print: {policies}/gate/r.rego:4: user is " in result.err.splitlines()


def test_check_shows_print_output_with_file_and_line(gate_cli, tmp_path: Path) -> None:
    policies = write_policy(tmp_path / "p")
    result = gate_cli("check", INSPECT, "--policy", policies, "--at", AT)
    assert result.code == 1
    assert f"print: {policies}/gate/r.rego:4: user is " in result.err.splitlines()


def test_print_output_is_bounded_and_cannot_write_terminal_escapes(
    gate_cli, tmp_path: Path
) -> None:
    policies = write_policy(
        tmp_path / "p",
        'package gate.r\nimport rego.v1\ndeny contains "x" if {\n'
        '\tsome i in numbers.range(1, 500)\n\tprint("line\\u001b[2J\\nfake: ", i)\n\tfalse\n}\n',
    )
    result = gate_cli("check", INSPECT, "--policy", policies, "--at", AT)
    assert result.code == 0
    printed = [line for line in result.err.splitlines() if line.startswith("print: ")]
    assert len(printed) == 201
    assert printed[-1] == "print: … 300 more lines not shown"
    assert "\x1b" not in result.err and not any(
        ln.startswith("fake") for ln in result.err.splitlines()
    )
