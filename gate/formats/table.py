"""Human output: a summary line, then violations, warnings, waived results and waiver problems."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from gate.formats.annotations import baseline_mark
from gate.output import printable
from gate.policy import is_bundled
from gate.verdict import Result, Verdict

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

SEVERITY_STYLES = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "negligible": "dim",
    "unknown": "dim",
}


def subject_label(verdict: Verdict) -> str:
    """The image as people name it: reference, else digest, else 'image'."""
    subject = verdict.subject
    return subject.reference or subject.digest or subject.image_id or "(image not identified)"


def summary_line(verdict: Verdict) -> str:
    """One line for logs: decision, image, stage and tallies (control characters escaped)."""
    counts = verdict.counts
    parts = [
        f"{counts.violations} violation{'s' if counts.violations != 1 else ''}",
        f"{counts.warnings} warning{'s' if counts.warnings != 1 else ''}",
    ]
    if counts.waived:
        parts.append(f"{counts.waived} waived")
    if counts.waiver_problems:
        parts.append(f"{counts.waiver_problems} waiver problem(s)")
    if counts.new is not None and counts.existing is not None:
        parts.append(f"{counts.new} new, {counts.existing} existing (baseline)")
    advisory = " (advisory: does not fail the step)" if verdict.advisory else ""
    return printable(
        f"{verdict.decision.upper()}{advisory}: {subject_label(verdict)} at stage "
        f"{verdict.stage}: " + ", ".join(parts)
    )


def relaxed_line(verdict: Verdict) -> str | None:
    """One line naming what a data file other than the bundled pack's relaxes or tunes (rules
    kept from blocking, settings), or None when there is nothing."""
    shown = [
        f"{r.id} {r.action} ({r.set_by or 'unknown data file'})"
        for r in verdict.relaxed
        if not is_bundled(r.set_by)
    ]
    shown += [
        f"{s.name}={json.dumps(s.value)} ({s.set_by or 'unknown data file'})"
        for s in verdict.settings_overridden
    ]
    if not shown:
        return None
    return printable(f"relaxed in {verdict.stage} by policy data: {', '.join(shown)}")


def _reason(result: Result) -> str:
    text = _escape(baseline_mark(result) + result.msg)
    if result.remediation:
        text += f"\n[dim]fix: {_escape(result.remediation)}[/dim]"
    explanation = result.explanation
    if explanation is not None:
        if explanation.rule is not None:
            text += f"\n[dim]rule: {_escape(explanation.rule.file)}:{explanation.rule.line}[/dim]"
        for key, value in explanation.evidence.items():
            plain = isinstance(value, str) and value
            shown = value if plain else json.dumps(value, ensure_ascii=False)
            text += f"\n[dim]{_escape(str(key))}: {_escape(shown)}[/dim]"
    return text


def _escape(text: str) -> str:
    """Text from inputs, policies or waivers shown as written: no control codes, no markup."""
    from rich.markup import escape

    return escape(printable(text, keep_newlines=True))


class TableFormatter:
    """Rich tables for a terminal; plain text (no colour) when not a terminal."""

    name = "table"

    def render(self, verdict: Verdict, *, color: bool = False, width: int | None = None) -> str:
        """Return the report as text, styled with ANSI codes only when ``color``."""
        from gate.output import render_rich

        return render_rich(lambda console: self._write(console, verdict), color=color, width=width)

    def _write(self, console: Console, verdict: Verdict) -> None:
        style = "bold green" if verdict.decision == "pass" else "bold red"
        console.print(f"[{style}]{_escape(summary_line(verdict))}[/{style}]")
        vulns = ", ".join(f"{n} {sev}" for sev, n in verdict.counts.vulnerabilities.items() if n)
        console.print(
            f"[dim]vulnerabilities in input: {vulns or 'none'}"
            f" · policy {verdict.policy.digest[:19]}"
            f" · {verdict.engine.name} {verdict.engine.version}[/dim]"
        )
        self._results(console, "Violations (block promotion)", verdict.violations)
        self._results(console, "Warnings", verdict.warnings)
        if verdict.waived:
            table = self._table(console, f"Waived ({len(verdict.waived)})")
            table.add_column("Waiver")
            for waived in verdict.waived:
                w = waived.waiver
                table.add_row(
                    self._severity(waived.severity),
                    _escape(waived.id),
                    _escape(waived.msg),
                    _escape(
                        f"{w.owner or '?'} until {w.expires}"
                        + (f" ({w.ticket})" if w.ticket else "")
                    ),
                )
            console.print(table)
        self._relaxed(console, verdict)
        if verdict.waiver_problems:
            console.print()
            console.print("[bold]Waiver problems[/bold]")
            for problem in verdict.waiver_problems:
                mark = (
                    "[red]expired[/red]"
                    if problem.kind == "expired"
                    else f"[yellow]{problem.kind}[/yellow]"
                )
                console.print(f"  {mark}  {_escape(problem.msg)}")

    @staticmethod
    def _relaxed(console: Console, verdict: Verdict) -> None:
        """Settings other files tune, and rules the data keeps from blocking: a laxer data
        file shows in every report.

        The bundled pack's own warn-only rules (its reviewed defaults) are counted, not
        listed; everything switched off, and everything another file relaxes, is named.
        """
        groups: dict[tuple[str, str | None], list[str]] = {}
        for rule in verdict.relaxed:
            groups.setdefault((rule.action, rule.set_by), []).append(rule.id)
        if verdict.settings_overridden:
            console.print()
            console.print(
                f"[bold]Settings for {_escape(verdict.stage)}[/bold] from data files other "
                "than the bundled pack's"
            )
        for setting in verdict.settings_overridden:
            console.print(
                f"  [bold yellow]{_escape(setting.name)}[/bold yellow] = "
                f"{_escape(json.dumps(setting.value))}"
                f" [dim]({_escape(setting.set_by or 'unknown data file')})[/dim]"
            )
        if not groups:
            return
        console.print()
        console.print(f"[bold]Not blocking in {_escape(verdict.stage)}[/bold] (policy data)")
        for (action, set_by), ids in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or "")):
            bundled = is_bundled(set_by)
            what = "off" if action == "off" else "warn only"
            style = "dim" if bundled else "bold yellow"
            listed = f"{len(ids)} rules" if bundled and action == "warn" else ", ".join(ids)
            console.print(
                f"  [{style}]{what}[/{style}]  {_escape(listed)}"
                f" [dim]({_escape(set_by or 'unknown data file')})[/dim]"
            )

    def _table(self, console: Console, title: str) -> Table:
        from rich import box
        from rich.table import Table

        console.print()
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, expand=False)
        table.add_column("Severity", no_wrap=True)
        table.add_column("Rule", no_wrap=True)
        table.add_column("Reason", overflow="fold")
        return table

    def _results(self, console: Console, title: str, results: list[Result]) -> None:
        if not results:
            return
        table = self._table(console, f"{title} ({len(results)})")
        for result in results:
            table.add_row(self._severity(result.severity), _escape(result.id), _reason(result))
        console.print(table)

    @staticmethod
    def _severity(severity: str) -> str:
        style = SEVERITY_STYLES.get(severity, "")
        return f"[{style}]{severity.upper()}[/{style}]" if style else severity.upper()
