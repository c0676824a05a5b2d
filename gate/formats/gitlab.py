"""GitLab Code Quality JSON (the ``codequality`` report artifact): an array of issues with
description, check_name, fingerprint, severity and location (path, lines.begin).

Violations and warnings are issues; waived results are left out, since GitLab has no way to
show an issue as accepted and listing it would ask every merge request to fix it again.
"""

from __future__ import annotations

import json
from typing import Any

from gate.fingerprint import fingerprint
from gate.formats.annotations import baseline_mark, each_result, result_path
from gate.verdict import Result, Verdict

DESCRIPTION_LIMIT = 2_000
"""Characters of one description (the widget shows one line per issue)."""

_DENY_SEVERITIES = {"critical": "blocker", "high": "critical"}


def code_quality_severity(result: Result) -> str:
    """deny: critical -> blocker, high -> critical, other -> major; warn -> minor."""
    if result.level == "warn":
        return "minor"
    return _DENY_SEVERITIES.get(result.severity, "major")


def _issue(verdict: Verdict, result: Result) -> dict[str, Any]:
    description = baseline_mark(result) + result.msg
    if len(description) > DESCRIPTION_LIMIT:
        description = description[: DESCRIPTION_LIMIT - 1] + "…"
    return {
        "description": description,
        "check_name": result.id,
        "fingerprint": fingerprint(result, verdict.subject),
        "severity": code_quality_severity(result),
        "location": {"path": result_path(verdict, result), "lines": {"begin": 1}},
        "categories": ["Security"],
        "type": "issue",
    }


def build_issues(verdict: Verdict) -> list[dict[str, Any]]:
    """Violations then warnings, as Code Quality issues."""
    return [_issue(verdict, r) for status, r in each_result(verdict) if status != "waived"]


class GitlabFormatter:
    """GitLab Code Quality report (``artifacts: reports: codequality``)."""

    name = "gitlab"

    def render(self, verdict: Verdict, *, color: bool = False, width: int | None = None) -> str:
        """Return the JSON array; the same verdict gives the same bytes."""
        return json.dumps(build_issues(verdict), indent=2, ensure_ascii=False) + "\n"
