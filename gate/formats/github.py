"""GitHub Actions workflow commands: an annotation per result, then a summary line.

GitHub shows at most 10 error and 10 warning annotations per step, so gate writes the 10
most severe of each level (and of notices) and says how many more there are; the job
summary (:func:`append_job_summary`) and the JSON verdict hold them all. Values are escaped
as the actions toolkit escapes them, so that text from a report can neither end a command
early nor start another one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from gate.errors import GateError
from gate.formats.annotations import (
    Status,
    baseline_mark,
    each_result,
    repository_file,
    rule_title,
)
from gate.output import printable
from gate.verdict import Verdict

ANNOTATIONS_PER_LEVEL = 10
"""GitHub shows 10 error and 10 warning annotations per step; more are not displayed."""

COMMANDS: dict[Status, str] = {"violation": "error", "warning": "warning", "waived": "notice"}


def escape_data(text: str) -> str:
    """A command's message, as ``escapeData`` in @actions/core does it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command property, as ``escapeProperty`` in @actions/core does it."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str) -> str:
    """``::name key=value,…::message`` with every part escaped (and control characters
    other than line breaks shown as escapes: they would reach the log as they are)."""
    shown = ",".join(
        f"{key}={escape_property(printable(value, keep_newlines=True))}"
        for key, value in properties.items()
    )
    head = f"::{name} {shown}" if shown else f"::{name}"
    return f"{head}::{escape_data(printable(message, keep_newlines=True))}"


def render_commands(verdict: Verdict) -> str:
    """The annotations and the final summary command, one per line."""
    lines = []
    left_out: dict[str, int] = {}
    written: dict[str, int] = {}
    for status, result in each_result(verdict):
        name = COMMANDS[status]
        if written.get(name, 0) >= ANNOTATIONS_PER_LEVEL:
            left_out[name] = left_out.get(name, 0) + 1
            continue
        written[name] = written.get(name, 0) + 1
        message = baseline_mark(result) + result.msg
        if status == "waived":
            message = f"waived: {message}"
        if result.remediation:
            message += f"\nFix: {result.remediation}"
        properties = {"title": f"{result.id}: {rule_title(verdict, result)}"}
        # Without a repository file the annotation belongs to the run: a file name GitHub
        # cannot find would hide it from the pull request's files.
        path = repository_file(verdict, result)
        if path is not None:
            properties["file"] = path
        lines.append(command(name, message, **properties))
    counts = verdict.counts
    summary = (
        f"{verdict.decision.upper()}: "
        f"{verdict.subject.reference or verdict.subject.digest or 'image'} at stage "
        f"{verdict.stage}: {counts.violations} violation(s), {counts.warnings} warning(s), "
        f"{counts.waived} waived"
    )
    if left_out:
        more = ", ".join(f"{count} {name}" for name, count in sorted(left_out.items()))
        summary += f" ({more} not annotated: see the job summary or the JSON verdict)"
    if verdict.decision == "pass":
        level = "notice"
    elif verdict.advisory:
        level = "warning"
        summary += " (advisory: the step does not fail)"
    else:
        level = "error"
    lines.append(command(level, summary, title=f"gate {verdict.decision}"))
    return "\n".join(lines) + "\n"


def job_summary(verdict: Verdict) -> str:
    """The Markdown for ``$GITHUB_STEP_SUMMARY``: the markdown format's comment."""
    from gate.formats.markdown import render_markdown

    return render_markdown(verdict)


def append_job_summary(verdict: Verdict, env: Mapping[str, str] = os.environ) -> bool:
    """Append :func:`job_summary` to the file ``GITHUB_STEP_SUMMARY`` names, if it is set.

    Returns whether it wrote. The runner creates the file for the step; gate only appends,
    so summaries of earlier commands in the step stay. Raises :class:`GateError` (no
    verdict: exit 3) when the file cannot be written: a summary that silently went missing
    would hide the verdict from the people reading the run.
    """
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    text = job_summary(verdict) + "\n"
    try:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(text)
    except OSError as exc:
        raise GateError(
            f"cannot append the job summary: {exc.strerror or exc}",
            where=path,
            hint="GITHUB_STEP_SUMMARY must name a file the step can write (the runner sets it)",
        ) from exc
    return True


class GithubFormatter:
    """Workflow commands for a GitHub Actions log (annotations on the run and the PR)."""

    name = "github"

    def render(self, verdict: Verdict, *, color: bool = False, width: int | None = None) -> str:
        """Return the commands; never writes a file (see :func:`append_job_summary`)."""
        return render_commands(verdict)
