"""Formatters: pure functions of the verdict, one registry, readable and machine output."""

from __future__ import annotations

import json

import pytest

from gate.document import Subject
from gate.formats import EXTENSIONS, FORMATS
from gate.formats.table import summary_line
from gate.verdict import (
    Counts,
    EngineInfo,
    InputInfo,
    PolicyInfo,
    Result,
    Verdict,
    WaivedResult,
    WaiverProblem,
    WaiverRef,
)

WAIVER = WaiverRef(
    index=0,
    rule="image-root-user",
    reason="vendor image",
    owner="team-a",
    ticket="SEC-9",
    expires="2026-12-01",
)


def result(rule: str, level: str, severity: str = "high", msg: str = "why") -> Result:
    return Result(
        id=rule,
        msg=msg,
        severity=severity,
        level=level,
        package="gate.x",
        remediation="do this",
        finding={"kind": "vulnerability", "id": "CVE-1"},
    )


def verdict(**changes) -> Verdict:
    fields = {
        "decision": "fail",
        "stage": "prod",
        "subject": Subject(reference="ghcr.io/acme/api:1.0"),
        "violations": [result("vuln-fixable-critical", "deny", "critical", "CVE-1 [in] openssl")],
        "warnings": [result("image-healthcheck-missing", "warn", "low")],
        "waived": [WaivedResult(**result("image-root-user", "deny").model_dump(), waiver=WAIVER)],
        "waiver_problems": [
            WaiverProblem(kind="unused", msg="waiver #1 matches nothing", waiver=WAIVER)
        ],
        "counts": Counts(
            violations=1,
            warnings=1,
            waived=1,
            waiver_problems=1,
            vulnerabilities={"critical": 1, "high": 0},
        ),
        "policy": PolicyInfo(digest="sha256:" + "a" * 64, files=[]),
        "input": InputInfo(sha256="sha256:" + "b" * 64, files=[]),
        "engine": EngineInfo(name="regorus", version="0.13.0"),
        "gate_version": "0.1.0",
        "evaluated_at": "2026-11-27T12:00:00Z",
    }
    fields.update(changes)
    return Verdict(**fields)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_registered_format_renders_without_changing_the_verdict(name):
    subject = verdict()
    before = subject.model_dump()
    text = FORMATS[name].render(subject)
    assert text.endswith("\n")
    assert subject.model_dump() == before
    assert FORMATS[name].name == name


def test_extensions_name_registered_formats_or_are_refused():
    # An extension may name a format gate cannot write yet; output_format_for refuses those
    # (tests/test_output_files.py), so only the written ones need a formatter.
    assert "json" in EXTENSIONS.values()
    assert {EXTENSIONS[".json"], "table"} <= set(FORMATS)


def test_json_is_the_verdict():
    text = FORMATS["json"].render(verdict())
    # the optional top-level parts are written only when present (promote, --baseline, …)
    absent = {"promotion", "baseline", "dockerfile", "config_file"}
    assert json.loads(text) == verdict().model_dump(mode="json", exclude=absent)


def test_table_sections_in_order_and_markup_is_not_interpreted():
    text = FORMATS["table"].render(verdict())
    lines = text.splitlines()
    assert lines[0] == summary_line(verdict())
    order = [text.index(h) for h in ("Violations", "Warnings", "Waived", "Waiver problems")]
    assert order == sorted(order)
    assert "CVE-1 [in] openssl" in text  # rich markup in a message is shown, not applied
    assert "fix: do this" in text
    assert "team-a until 2026-12-01 (SEC-9)" in text
    assert "\x1b[" not in text
    assert all(line == line.rstrip() for line in lines)


def test_table_colour_only_when_asked():
    assert "\x1b[" in FORMATS["table"].render(verdict(), color=True)


def test_table_width_is_respected():
    narrow = FORMATS["table"].render(verdict(), width=60)
    assert max(len(line) for line in narrow.splitlines()) <= 60


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        (
            {},
            "FAIL: ghcr.io/acme/api:1.0 at stage prod: "
            "1 violation, 1 warning, 1 waived, 1 waiver problem(s)",
        ),
        (
            {
                "decision": "pass",
                "violations": [],
                "warnings": [],
                "waived": [],
                "waiver_problems": [],
                "counts": Counts(
                    violations=0, warnings=0, waived=0, waiver_problems=0, vulnerabilities={}
                ),
                "subject": Subject(digest="sha256:" + "c" * 64),
            },
            f"PASS: sha256:{'c' * 64} at stage prod: 0 violations, 0 warnings",
        ),
        ({"subject": Subject()}, "FAIL: (image not identified) at stage prod"),
    ],
    ids=["fail", "pass-by-digest", "unidentified"],
)
def test_summary_line(changes, line):
    assert summary_line(verdict(**changes)).startswith(line)


def test_exit_code_follows_the_decision():
    assert verdict().exit_code == 1
    assert verdict(decision="pass", violations=[]).exit_code == 0


@pytest.mark.parametrize(
    "changes",
    [{"decision": "pass"}, {"violations": []}],
    ids=["pass-with-violations", "fail-without"],
)
def test_a_verdict_cannot_contradict_itself(changes):
    with pytest.raises(ValueError, match="decision must be 'fail' exactly when"):
        verdict(**changes)
