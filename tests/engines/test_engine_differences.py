"""Builtins one engine has and the other lacks: lint says so, and regorus never passes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import fixture

RULE = """\
# METADATA
# scope: package
# title: Certificate label
# description: A certificate in a label must parse.
# custom:
#   id: t-cert
#   severity: low
package gate.t

import rego.v1

rule_id := "t-cert"

deny contains {{"id": rule_id, "msg": "bad certificate"}} if {{
	some c in {call}(input.image.labels.cert)
	not c.Subject
}}
"""


def _rule(tmp_path: Path, call: str) -> Path:
    (tmp_path / "r.rego").write_text(RULE.format(call=call))
    return tmp_path


def test_an_opa_only_builtin_is_a_lint_warning_naming_the_engine(
    gate_cli: Any, tmp_path: Path
) -> None:
    policies = _rule(tmp_path, "crypto.x509.parse_certificates")
    result = gate_cli("policy", "lint", policies)
    assert result.code == 0
    assert "crypto.x509.parse_certificates is an OPA builtin the embedded engine" in result.out
    assert "[engine-builtin]" in result.out
    assert gate_cli("policy", "lint", "--strict", policies).code == 1


def test_regorus_refuses_it_at_check(gate_cli: Any, tmp_path: Path) -> None:
    policies = _rule(tmp_path, "crypto.x509.parse_certificates")
    result = gate_cli(
        "check", fixture("image/inspect.json"), "--policy", "gate:policies", "--policy", policies
    )
    assert result.code == 3
    assert "Unknown function: 'crypto.x509.parse_certificates'" in result.err


def test_a_function_no_engine_has_stays_an_error(gate_cli: Any, tmp_path: Path) -> None:
    result = gate_cli("policy", "lint", _rule(tmp_path, "cryptox.parse"))
    assert result.code == 1
    assert "[compile]" in result.out and "engine-builtin" not in result.out
