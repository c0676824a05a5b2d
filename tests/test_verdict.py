"""The Rego contract as the verdict reads it: results, validation, ordering, schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.errors import ExitCode, PolicyError
from gate.policy import RuleInfo
from gate.verdict import collect_results, verdict_schema_text

RULES = {
    "r-1": RuleInfo(
        id="r-1",
        title="Rule one",
        description="d",
        severity="high",
        remediation="do the thing",
        package="gate.a",
        path="a.rego",
        line=1,
    )
}


def test_collects_deny_and_warn_at_any_depth_in_severity_order():
    tree = {
        "a": {"deny": [{"id": "r-1", "msg": "one"}], "helper": 3},
        "b": {
            "c": {
                "warn": [{"id": "r-2", "msg": "two", "severity": "low"}],
                "deny": [{"id": "r-3", "msg": "three", "severity": "critical", "extra": 1}],
            }
        },
    }
    results = collect_results(tree, RULES)
    assert [(r.id, r.level, r.severity, r.package) for r in results] == [
        ("r-3", "deny", "critical", "gate.b.c"),
        ("r-1", "deny", "high", "gate.a"),
        ("r-2", "warn", "low", "gate.b.c"),
    ]
    one = results[1]
    assert (one.title, one.remediation) == ("Rule one", "do the thing")
    assert results[0].metadata == {"extra": 1}


def test_bare_string_results_are_accepted_conftest_style():
    [result] = collect_results({"legacy": {"deny": ["no root please"]}}, {})
    assert (result.id, result.msg, result.severity) == ("gate.legacy", "no root please", "unknown")


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        (None, "define nothing under data.gate"),
        ([], "expected packages"),
        ({"a": {"deny": {"x": 1}}}, "must be a set"),
        ({"a": {"deny": [{"id": "x"}]}}, "string 'msg'"),
        ({"a": {"deny": [3]}}, "string 'msg'"),
        ({"a": {"deny": [{"id": 5, "msg": "m"}]}}, "'id' must be a string"),
        ({"a": {"deny": [{"id": "x", "msg": "m", "severity": "HIGH!"}]}}, "severity"),
        (
            {"a": {"deny": [{"id": "x", "msg": "m", "finding": "CVE-1"}]}},
            "'finding' must be an object",
        ),
    ],
    ids=[
        "undefined",
        "not-object",
        "deny-not-set",
        "no-msg",
        "number",
        "id-type",
        "bad-severity",
        "finding-type",
    ],
)
def test_broken_contract_is_no_verdict(tree, message):
    with pytest.raises(PolicyError, match=message) as caught:
        collect_results(tree, {})
    assert caught.value.exit_code == ExitCode.NO_VERDICT


def test_committed_verdict_schema_is_current():
    committed = Path(__file__).resolve().parents[1] / "gate" / "schema" / "verdict.schema.json"
    assert committed.read_text() == verdict_schema_text(), (
        "run: gate schema verdict > gate/schema/verdict.schema.json"
    )
    json.loads(committed.read_text())
