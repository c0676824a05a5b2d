"""A pull/merge request comment (and GitHub job summary): decision, counts, the violations
table, the rest collapsed; always under GitHub's 65,536-character comment limit."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from gate.formats.annotations import finding_label, rule_title
from gate.output import printable
from gate.policy import is_bundled
from gate.verdict import Result, Verdict, WaivedResult

COMMENT_LIMIT = 65_536
"""GitHub's limit on a comment body, in characters."""

BUDGET = COMMENT_LIMIT - 1_536
"""What gate fills: the rest is left for a CI step that adds a line of its own."""

CELL_LIMIT = 600
"""Characters of one table cell: a single huge message cannot crowd out every other row."""

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
"""What could start emphasis, code, a link or image, or end a cell; ``<`` and ``@`` (HTML,
mentions) become entities."""


def cell(text: str, limit: int = CELL_LIMIT) -> str:
    """Text from inputs made inert in a table cell: one line, no HTML, no links, images,
    mentions or emphasis; ``|`` cannot end the cell."""
    flat = " ".join(printable(text, keep_newlines=True).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    flat = _MARKDOWN_SPECIAL.sub(r"\\\1", flat)
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace("@", "&#64;")


@dataclass
class _Table:
    """A section whose rows may be cut to stay under the limit."""

    title: str
    header: Sequence[str]
    rows: list[Sequence[str]]
    collapsed: bool
    shown: list[str] = field(default_factory=list)

    def head(self) -> str:
        lines = []
        if self.collapsed:
            lines += [f"<details><summary>{self.title} ({len(self.rows)})</summary>", ""]
        else:
            lines += [f"### {self.title} ({len(self.rows)})", ""]
        lines += [
            "| " + " | ".join(self.header) + " |",
            "|" + "---|" * len(self.header),
        ]
        return "\n".join(lines) + "\n"

    def tail(self) -> str:
        left_out = len(self.rows) - len(self.shown)
        text = f"\n… {left_out} more (see the JSON verdict)\n" if left_out else ""
        return text + ("\n</details>\n\n" if self.collapsed else "\n")


def _row(values: Sequence[str]) -> str:
    return "| " + " | ".join(values) + " |\n"


def _reason(result: Result) -> str:
    reason = cell(result.msg)
    if result.remediation:
        reason += "<br>**Fix:** " + cell(result.remediation, CELL_LIMIT // 2)
    return reason


def _result_row(verdict: Verdict, result: Result, with_baseline: bool) -> list[str]:
    values = [
        cell(result.id, 120),
        cell(rule_title(verdict, result), 160),
        result.severity,
        cell(finding_label(result), 200),
        _reason(result),
    ]
    if with_baseline:
        values.append(result.baseline or "")
    return values


def _waived_row(verdict: Verdict, result: WaivedResult) -> list[str]:
    waiver = result.waiver
    who = ", ".join(
        cell(part, 120) for part in (waiver.owner, waiver.ticket, f"until {waiver.expires}") if part
    )
    return [
        cell(result.id, 120),
        result.severity,
        cell(finding_label(result), 200),
        cell(waiver.reason or f"waiver #{waiver.index + 1}", 300),
        who,
    ]


def heading(verdict: Verdict) -> str:
    """``## gate: **FAIL** — image at stage prod``."""
    subject = verdict.subject
    image = subject.reference or subject.digest or "(image not identified)"
    stage = cell(verdict.stage, 80)
    return f"## gate: **{verdict.decision.upper()}** — {cell(image, 300)} at stage {stage}"


def _counts_line(verdict: Verdict) -> str:
    counts = verdict.counts
    parts = [
        f"**{counts.violations}** violation{'s' if counts.violations != 1 else ''}",
        f"**{counts.warnings}** warning{'s' if counts.warnings != 1 else ''}",
        f"**{counts.waived}** waived",
    ]
    if counts.waiver_problems:
        parts.append(f"**{counts.waiver_problems}** waiver problem(s)")
    if counts.new is not None or counts.existing is not None:
        parts.append(f"**{counts.new or 0}** new, **{counts.existing or 0}** existing")
    return " · ".join(parts)


def _preamble(verdict: Verdict) -> str:
    lines = [heading(verdict), "", _counts_line(verdict), ""]
    if verdict.advisory:
        lines += [
            "> **Advisory run:** the decision is reported, but a failing verdict does not "
            "fail the CI step (`--advisory`).",
            "",
        ]
    if verdict.baseline is not None:
        baseline = verdict.baseline
        blocking = "still block" if baseline.block_existing else "do not block"
        lines += [
            f"Compared with the baseline verdict {cell(baseline.file, 200)} (stage "
            f"{cell(baseline.stage, 80)}, {cell(baseline.evaluated_at, 40)}): violations it "
            f"already had {blocking} at this stage.",
            "",
        ]
    relaxed = [
        f"{cell(rule.id, 120)} {rule.action} ({cell(rule.set_by or 'unknown data file', 200)})"
        for rule in verdict.relaxed
        if not is_bundled(rule.set_by)
    ]
    relaxed += [
        f"{cell(setting.name, 120)} = {cell(json.dumps(setting.value), 120)} "
        f"({cell(setting.set_by or 'unknown data file', 200)})"
        for setting in verdict.settings_overridden
    ]
    if relaxed:
        lines += [
            f"**Relaxed in {cell(verdict.stage, 80)} by policy data:** " + ", ".join(relaxed),
            "",
        ]
    return "\n".join(lines) + "\n"


def _footer(verdict: Verdict) -> str:
    return (
        f"<sub>gate {cell(verdict.gate_version, 40)} · "
        f"policy {cell(verdict.policy.digest[:19])}… · "
        f"evaluated {cell(verdict.evaluated_at, 40)}</sub>\n"
    )


def _tables(verdict: Verdict) -> list[_Table]:
    with_baseline = verdict.baseline is not None
    header = ["Rule", "Title", "Severity", "Finding", "Reason"] + (
        ["Baseline"] if with_baseline else []
    )
    tables = [
        _Table(
            "Violations",
            header,
            [_result_row(verdict, r, with_baseline) for r in verdict.violations],
            collapsed=False,
        ),
        _Table(
            "Warnings",
            header,
            [_result_row(verdict, r, with_baseline) for r in verdict.warnings],
            collapsed=True,
        ),
        _Table(
            "Waived",
            ["Rule", "Severity", "Finding", "Waiver reason", "Owner, ticket, expiry"],
            [_waived_row(verdict, r) for r in verdict.waived],
            collapsed=True,
        ),
        _Table(
            "Waiver problems",
            ["Problem", "Waiver", "Message"],
            [[p.kind, f"#{p.waiver.index + 1}", cell(p.msg)] for p in verdict.waiver_problems],
            collapsed=True,
        ),
    ]
    return [table for table in tables if table.rows]


def render_markdown(verdict: Verdict, budget: int = BUDGET) -> str:
    """The comment; rows are cut (the first ones, most severe, stay) to fit ``budget``."""
    tables = _tables(verdict)
    preamble, footer = _preamble(verdict), _footer(verdict)
    # The fixed text, with every table's "… N more" line at its longest, comes first; rows
    # fill what is left, in order: violations before warnings before waived.
    fixed = len(preamble) + len(footer)
    for table in tables:
        table.shown = []
        fixed += len(table.head()) + len(
            f"\n… {len(table.rows)} more (see the JSON verdict)\n\n</details>\n\n"
        )
    room = budget - fixed
    full = False
    for table in tables:
        for values in table.rows:
            row = _row(values)
            if full or len(row) > room:
                full = True
                break
            table.shown.append(row)
            room -= len(row)
    parts = [preamble]
    if not verdict.violations:
        parts.append("No violations.\n\n")
    for table in tables:
        parts += [table.head(), *table.shown, table.tail()]
    parts.append(footer)
    return "".join(parts)


class MarkdownFormatter:
    """GitHub/GitLab-flavoured Markdown for a PR/MR comment or a job summary."""

    name = "markdown"

    def render(self, verdict: Verdict, *, color: bool = False, width: int | None = None) -> str:
        """Return the comment; at most :data:`BUDGET` characters whatever the verdict holds."""
        return render_markdown(verdict)
