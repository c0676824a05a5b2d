"""JUnit XML as GitLab/Jenkins read it (junitparser): a failure per violation, rules off skipped."""

from __future__ import annotations

from pathlib import Path

from ci_support import check_args, fixture_verdict
from conftest import FIXTURES
from junitparser import Failure, JUnitXml, Skipped

from gate.formats.junit import JunitFormatter
from gate.verdict import RuleSummary


def parse(text: str, tmp_path: Path) -> JUnitXml:
    report = tmp_path / "junit.xml"
    report.write_text(text, encoding="utf-8")
    return JUnitXml.fromfile(str(report))


def outcomes(suite) -> list[tuple[str, str, list]]:
    return [(case.classname, case.name, list(case.result)) for case in suite]


def test_counts_match_the_verdict(gate_cli, monkeypatch, tmp_path):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    off = RuleSummary(id="zz-off-rule", action="off", file="x.rego", line=1, title="Off")
    verdict = verdict.model_copy(update={"rules": [*verdict.rules, off]})
    xml = parse(JunitFormatter().render(verdict), tmp_path)
    [suite] = list(xml)
    assert suite.name == "gate.prod"
    cases = outcomes(suite)
    failures = [r for _, _, results in cases for r in results if isinstance(r, Failure)]
    skipped = [name for _, name, results in cases if any(isinstance(r, Skipped) for r in results)]
    assert len(failures) == len(verdict.violations) == suite.failures == xml.failures
    assert skipped == ["zz-off-rule: Off"] and suite.skipped == 1
    assert [f.message for f in failures] == [
        v.msg for v in sorted(verdict.violations, key=lambda v: v.id)
    ]
    assert {f.type for f in failures} <= {"critical", "high", "medium", "low"}
    failing_rules = {v.id for v in verdict.violations}
    other_rules = {rule.id for rule in verdict.rules} - failing_rules  # passing or off
    assert suite.tests == len(verdict.violations) + len(other_rules)
    assert all(classname.startswith("gate.prod.") for classname, _, _ in cases)


def test_warnings_and_waived_results_pass_with_their_text(gate_cli, monkeypatch, tmp_path):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    [suite] = list(parse(JunitFormatter().render(verdict), tmp_path))
    by_rule: dict[str, list] = {}
    for case in suite:
        by_rule.setdefault(case.name.split(":")[0], []).append(case)
    failing_rules = {v.id for v in verdict.violations}
    for warning in verdict.warnings:
        if warning.id in failing_rules:
            continue
        [case] = by_rule[warning.id]
        assert case.is_passed and f"warning: {warning.msg}" in case.system_out
    for waived in verdict.waived:
        cases = by_rule[waived.id]
        outs = "".join(case.system_out or "" for case in cases)
        assert f"waiver #{waived.waiver.index + 1}" in outs and waived.msg in outs


def test_hostile_text_is_escaped_and_still_parses(gate_cli, monkeypatch, tmp_path):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    hostile = "]]></failure><x a='&amp;'>&lt;\x1b[2J\x00\ufffe\ud800 \"quoted\""
    violation = verdict.violations[0].model_copy(update={"msg": hostile, "title": hostile})
    verdict = verdict.model_copy(update={"violations": [violation], "stage": "p<r>od&"})
    text = JunitFormatter().render(verdict)
    [suite] = list(parse(text, tmp_path))
    [failure] = [r for case in suite for r in case.result if isinstance(r, Failure)]
    assert failure.message.startswith("]]></failure><x a='&amp;'>&lt;\\x1b[2J\\x00")
    assert "\x1b" not in text and "\x00" not in text
    assert suite.name == "gate.p<r>od&"


def test_render_is_deterministic_and_pure(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    before = verdict.model_dump()
    assert JunitFormatter().render(verdict) == JunitFormatter().render(verdict)
    assert verdict.model_dump() == before


def test_output_extension_picks_junit(gate_cli, monkeypatch, tmp_path):
    monkeypatch.chdir(FIXTURES)
    target = tmp_path / "gate.xml"
    written = gate_cli(*check_args("-o", str(target)))
    printed = gate_cli(*check_args("-f", "junit"))
    assert written.code == printed.code == 1
    assert target.read_text() == printed.out
