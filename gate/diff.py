"""``gate diff OLD NEW``: what changed between two verdicts of one image repository.

Violations are matched by :func:`gate.fingerprint.finding_key` (rule id + the finding's
identifying fields), the key ``--baseline`` uses, with its meaning of "existing": *new*
violations are findings OLD did not report at all; *escalated* ones OLD reported as a warning
or waived (another stage, an expired waiver); *fixed* ones are OLD's violations that NEW does
not have (NEW may still report them as a warning or waived: said next to each); *unchanged*
ones are violations in both. The exit code makes it a gate of its own, as ``--baseline``
with existing violations not blocking would: 0 when NEW has no new violation, 1 when it has,
3 when a verdict cannot be read or the two are about different repositories.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import click

from gate.baseline import baseline_keys
from gate.cli import text_or_json_option
from gate.errors import ExitCode
from gate.fingerprint import finding_key
from gate.verdict import Result, Verdict


@dataclass(frozen=True)
class Fixed:
    """A violation of OLD that NEW no longer has, and what NEW makes of its finding."""

    result: Result
    now: str
    """'gone', 'warning' or 'waived'."""


@dataclass(frozen=True)
class VerdictDiff:
    """Violations and warnings of two verdicts, matched by key."""

    new: list[Result]
    escalated: list[Result]
    fixed: list[Fixed]
    unchanged: list[Result]
    new_warnings: list[Result]
    gone_warnings: list[Result]

    @property
    def exit_code(self) -> ExitCode:
        """1 when NEW adds a violation, else 0."""
        return ExitCode.FAILED if self.new else ExitCode.PASSED


def diff_verdicts(old: Verdict, new: Verdict) -> VerdictDiff:
    """Match the violations (and warnings) of ``old`` and ``new`` by key."""
    old_violations = {finding_key(r) for r in old.violations}
    old_any = baseline_keys(old)
    new_violations = {finding_key(r) for r in new.violations}
    new_warnings = {finding_key(r) for r in new.warnings}
    new_waived = {finding_key(r) for r in new.waived}
    old_warnings = {finding_key(r) for r in old.warnings}

    def now_of(key: str) -> str:
        if key in new_waived:
            return "waived"
        return "warning" if key in new_warnings else "gone"

    return VerdictDiff(
        new=[r for r in new.violations if finding_key(r) not in old_any],
        escalated=[r for r in new.violations if finding_key(r) in old_any - old_violations],
        fixed=[
            Fixed(r, now_of(key))
            for r in old.violations
            if (key := finding_key(r)) not in new_violations
        ],
        unchanged=[r for r in new.violations if finding_key(r) in old_violations],
        new_warnings=[
            r
            for r in new.warnings
            if finding_key(r) not in old_warnings and finding_key(r) not in old_violations
        ],
        gone_warnings=[
            r
            for r in old.warnings
            if finding_key(r) not in new_warnings and finding_key(r) not in new_violations
        ],
    )


def _summary(verdict: Verdict, path: str) -> dict[str, Any]:
    return {
        "file": path,
        "stage": verdict.stage,
        "decision": verdict.decision,
        "evaluated_at": verdict.evaluated_at,
        "subject": verdict.subject.reference or verdict.subject.repository,
        "digest": verdict.subject.digest,
    }


def _result_json(result: Result) -> dict[str, Any]:
    return {
        "key": finding_key(result),
        "id": result.id,
        "severity": result.severity,
        "msg": result.msg,
        "finding": result.finding,
    }


def render_json(diff: VerdictDiff, old: dict[str, Any], new: dict[str, Any]) -> str:
    """The diff as a JSON document (keys sorted, stable order)."""
    document = {
        "old": old,
        "new": new,
        "counts": {
            "new": len(diff.new),
            "escalated": len(diff.escalated),
            "fixed": len(diff.fixed),
            "unchanged": len(diff.unchanged),
            "new_warnings": len(diff.new_warnings),
            "gone_warnings": len(diff.gone_warnings),
        },
        "new_violations": [_result_json(r) for r in diff.new],
        "escalated_violations": [_result_json(r) for r in diff.escalated],
        "fixed_violations": [{**_result_json(f.result), "now": f.now} for f in diff.fixed],
        "unchanged_violations": [_result_json(r) for r in diff.unchanged],
        "new_warnings": [_result_json(r) for r in diff.new_warnings],
        "gone_warnings": [_result_json(r) for r in diff.gone_warnings],
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def render_text(diff: VerdictDiff, old: dict[str, Any], new: dict[str, Any]) -> str:
    """The diff for a terminal or a CI log: one line per violation, hostile text escaped."""
    from gate.output import printable

    def line(mark: str, result: Result, note: str = "") -> str:
        return f"  {mark} {result.id} [{result.severity}] {printable(result.msg)}{note}"

    lines = [
        f"old: {printable(str(old['subject']))} at {old['stage']}, {old['evaluated_at']} "
        f"({old['decision']})",
        f"new: {printable(str(new['subject']))} at {new['stage']}, {new['evaluated_at']} "
        f"({new['decision']})",
        f"new violations ({len(diff.new)}):",
        *(line("+", r) for r in diff.new),
        f"violations OLD reported as a warning or waived ({len(diff.escalated)}):",
        *(line("^", r) for r in diff.escalated),
        f"fixed violations ({len(diff.fixed)}):",
        *(line("-", f.result, "" if f.now == "gone" else f" (now {f.now})") for f in diff.fixed),
        f"unchanged violations ({len(diff.unchanged)}):",
        *(line("=", r) for r in diff.unchanged),
        f"warnings: {len(diff.new_warnings)} new, {len(diff.gone_warnings)} gone",
        *(line("+", r) for r in diff.new_warnings),
        *(line("-", r) for r in diff.gone_warnings),
    ]
    return "\n".join(lines) + "\n"


@click.command("diff")
@click.argument("old_file", metavar="OLD.json")
@click.argument("new_file", metavar="NEW.json")
@text_or_json_option
def diff_command(old_file: str, new_file: str, output_format: str) -> None:
    """Show the violations NEW adds, fixes and keeps compared with OLD (two saved verdicts).

    \b
    Violations are matched by rule id and finding (vulnerability and package, secret
    location, ...), as --baseline matches them; a violation whose finding OLD reported
    as a warning or waived is listed apart and is not new. Verdicts may be signed
    (DSSE envelopes). Exit codes: 0 no new violation, 1 new violations, 3 a verdict
    cannot be read or the two verdicts are about different image repositories.
    """
    from gate.baseline import check_comparable, load_verdict
    from gate.output import write_output

    old = load_verdict(old_file)
    new = load_verdict(new_file)
    check_comparable(old, new.subject, old_file, role="OLD")
    diff = diff_verdicts(old, new)
    render = render_json if output_format == "json" else render_text
    write_output(render(diff, _summary(old, old_file), _summary(new, new_file)), None)
    sys.exit(int(diff.exit_code))


__all__ = ["VerdictDiff", "diff_command", "diff_verdicts", "render_json", "render_text"]
