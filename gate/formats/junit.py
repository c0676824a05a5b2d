"""JUnit XML, as GitLab, Jenkins and Azure DevOps read test reports.

One testsuite for the stage evaluated. Each rule is a passing testcase, or a skipped one
when the policy data turns it off at this stage; a rule that fails gives one failing
testcase per violation instead (GitLab and junitparser show one failure per testcase).
Warnings and waived results do not fail: they are written to the system-out of the rule's
testcase.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from gate.formats.annotations import finding_label
from gate.output import printable
from gate.verdict import Result, RuleSummary, Verdict, WaivedResult

_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _text(text: str) -> str:
    """Text XML 1.0 can hold: control characters (and ANSI sequences) shown as escapes,
    the code points XML forbids (lone surrogates, U+FFFE, U+FFFF) replaced."""
    return _NOT_XML.sub("\ufffd", printable(text, keep_newlines=True))


@dataclass
class _Rule:
    id: str
    title: str
    group: str
    action: str
    violations: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _rules(verdict: Verdict) -> list[_Rule]:
    rules = {summary.id: _from_summary(summary) for summary in verdict.rules}
    for result in [*verdict.violations, *verdict.warnings, *verdict.waived]:
        if result.id not in rules:
            rules[result.id] = _Rule(
                id=result.id,
                title=result.title or result.id,
                group=result.package.removeprefix("gate."),
                action=result.level,
            )
    for result in verdict.violations:
        rules[result.id].violations.append(result)
    for result in verdict.warnings:
        rules[result.id].notes.append(f"warning: {result.msg}")
    for waived in verdict.waived:
        rules[waived.id].notes.append(_waived_note(waived))
    return [rules[rule_id] for rule_id in sorted(rules)]


def _from_summary(summary: RuleSummary) -> _Rule:
    return _Rule(
        id=summary.id,
        title=summary.title or summary.id,
        group=(summary.package or summary.id).removeprefix("gate."),
        action=summary.action,
    )


def _waived_note(result: WaivedResult) -> str:
    waiver = result.waiver
    who = ", ".join(part for part in (waiver.owner, waiver.ticket) if part)
    return (
        f"waived by waiver #{waiver.index + 1} ({waiver.reason or 'no reason'}"
        f"{'; ' + who if who else ''}; expires {waiver.expires}): {result.msg}"
    )


def _failure_text(result: Result) -> str:
    lines = [result.msg]
    if result.remediation:
        lines.append(f"Fix: {result.remediation}")
    if result.finding is not None:
        lines.append("Finding: " + json.dumps(result.finding, sort_keys=True, ensure_ascii=False))
    if result.inputs:
        lines.append("Inputs: " + ", ".join(result.inputs))
    if result.baseline is not None:
        lines.append(f"Baseline: {result.baseline}")
    return "\n".join(lines)


def render_junit(verdict: Verdict) -> str:
    """The report as an XML document (UTF-8 declaration, indented)."""
    import xml.etree.ElementTree as ET

    stage = verdict.stage
    suite = ET.Element("testsuite", name=_text(f"gate.{stage}"))
    properties = ET.SubElement(suite, "properties")
    subject = verdict.subject
    for name, value in (
        ("decision", verdict.decision),
        ("advisory", str(verdict.advisory).lower()),
        ("subject", subject.reference or subject.digest or ""),
        ("subject_digest", subject.digest or ""),
        ("policy_digest", verdict.policy.digest),
        ("gate_version", verdict.gate_version),
    ):
        ET.SubElement(properties, "property", name=name, value=_text(value))
    tests = failures = skipped = 0

    def testcase(rule: _Rule, name: str, notes: Iterable[str]) -> ET.Element:
        nonlocal tests
        tests += 1
        case = ET.SubElement(
            suite,
            "testcase",
            classname=_text(f"gate.{stage}.{rule.group}"),
            name=_text(name),
            time="0",
        )
        text = "\n".join(notes)
        if text:
            ET.SubElement(case, "system-out").text = _text(text)
        return case

    for rule in _rules(verdict):
        if rule.violations:
            for position, result in enumerate(rule.violations):
                notes = rule.notes if position == 0 else []
                case = testcase(rule, f"{rule.id}: {finding_label(result)}", notes)
                failure = ET.Element("failure", message=_text(result.msg), type=result.severity)
                failure.text = _text(_failure_text(result))
                case.insert(0, failure)
                failures += 1
        elif rule.action == "off" and not rule.notes:
            case = testcase(rule, f"{rule.id}: {rule.title}", [])
            ET.SubElement(case, "skipped", message=_text(f"off in {stage}"))
            skipped += 1
        else:
            testcase(rule, f"{rule.id}: {rule.title}", rule.notes)
    counts = {"tests": tests, "failures": failures, "errors": 0, "skipped": skipped}
    root = ET.Element("testsuites", name="gate")
    for element in (root, suite):
        for name, count in counts.items():
            element.set(name, str(count))
        element.set("time", "0")
    suite.set("timestamp", _text(verdict.evaluated_at.removesuffix("Z")))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


class JunitFormatter:
    """JUnit XML: one testsuite per stage, a testcase per rule (per violation when failing)."""

    name = "junit"

    def render(self, verdict: Verdict, *, color: bool = False, width: int | None = None) -> str:
        """Return the XML report; the same verdict gives the same bytes."""
        return render_junit(verdict)
