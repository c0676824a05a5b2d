"""SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps, IDE viewers).

GitHub's upload rules shape it: one run; every result has a ``ruleId`` present in
``tool.driver.rules`` with its ``ruleIndex``, a repository-relative location (code scanning
rejects results without one, and URIs with a scheme), and ``partialFingerprints`` so that a
re-run updates the same alert. GitHub stores at most 5,000 results per run and rejects
files over 10 MB (gzip-compressed): gate keeps the most important results within both and
says in the run's notifications how many it left out.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from gate.fingerprint import FINGERPRINT_NAME, fingerprint
from gate.formats.annotations import Status, each_result, result_path, severity_rank
from gate.verdict import Result, RuleSummary, Verdict, WaivedResult

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"

MAX_RESULTS = 5_000
"""Results per run GitHub stores (it accepts 25,000 but keeps only the top 5,000)."""

MAX_BYTES = 9_000_000
"""Uncompressed size gate keeps under, so that the file is under GitHub's 10 MB even if
it is uploaded without compression."""

MESSAGE_LIMIT = 4_000
"""Characters of one message: a hostile report cannot make one result the whole file."""

SECURITY_SEVERITY = {
    "critical": "9.5",
    "high": "8.0",
    "medium": "5.5",
    "low": "2.0",
    "negligible": "0.0",
    "unknown": "0.0",
}
"""GitHub reads ``security-severity`` as critical >= 9.0, high 7.0-8.9, medium 4.0-6.9,
low 0.1-3.9, and none at 0."""

LEVELS: dict[Status, str] = {"violation": "error", "warning": "warning", "waived": "note"}
ACTION_LEVELS = {"deny": "error", "warn": "warning", "off": "none"}


def camel_case(rule_id: str) -> str:
    """``vuln-fixable-critical`` -> ``VulnFixableCritical``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", rule_id))


def artifact_uri(path: str) -> str:
    """A relative path as a URI reference (spaces and ``%`` percent-encoded)."""
    return quote(path, safe="/-._~!$&'()*+,;=@")


def _bounded(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def _rule_descriptor(rule_id: str, summary: RuleSummary | None, results: list[Result]) -> Any:
    title = (summary.title if summary else None) or results[0].title or rule_id
    description = (summary.description if summary else None) or title
    remediation = (summary.remediation if summary else None) or results[0].remediation
    severity = (summary.severity if summary else None) or min(results, key=severity_rank).severity
    action = summary.action if summary else results[0].level
    help_text = description + (f"\n\nRemediation: {remediation}" if remediation else "")
    help_markdown = description + (f"\n\n**Remediation:** {remediation}" if remediation else "")
    tags = ["security", severity]
    if summary and summary.package:
        tags.append(summary.package)
    return {
        "id": rule_id,
        "name": camel_case(rule_id),
        "shortDescription": {"text": _bounded(title)},
        "fullDescription": {"text": _bounded(description)},
        "help": {"text": _bounded(help_text), "markdown": _bounded(help_markdown)},
        "defaultConfiguration": {"level": ACTION_LEVELS[action]},
        "properties": {"security-severity": SECURITY_SEVERITY[severity], "tags": tags},
    }


def _suppression(result: WaivedResult) -> Any:
    waiver = result.waiver
    details = [f"waiver #{waiver.index + 1}"]
    details += [part for part in (waiver.owner, waiver.ticket) if part]
    details.append(f"expires {waiver.expires}")
    reason = waiver.reason or "waived"
    return {
        "kind": "external",
        "status": "accepted",
        "justification": _bounded(f"{reason} ({', '.join(details)})"),
    }


def _result(verdict: Verdict, status: Status, result: Result, rule_index: int) -> Any:
    text = result.msg + (f"\nFix: {result.remediation}" if result.remediation else "")
    properties: dict[str, Any] = {"stage": verdict.stage, "status": status}
    properties["severity"] = result.severity
    if result.finding is not None:
        properties["finding"] = result.finding
    if result.baseline is not None:
        properties["baseline"] = result.baseline
    if result.effective_from is not None:
        properties["effectiveFrom"] = result.effective_from
    entry: dict[str, Any] = {
        "ruleId": result.id,
        "ruleIndex": rule_index,
        "level": LEVELS[status],
        "message": {"text": _bounded(text)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(result_path(verdict, result))},
                    "region": {"startLine": 1},
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_NAME: fingerprint(result, verdict.subject)},
        "properties": properties,
    }
    if result.baseline is not None:
        entry["baselineState"] = "new" if result.baseline == "new" else "unchanged"
    if isinstance(result, WaivedResult):
        entry["suppressions"] = [_suppression(result)]
    return entry


def _kept(verdict: Verdict) -> tuple[list[tuple[Status, Result]], int]:
    """The results to write, most important first, and how many in all."""
    ranked = sorted(
        each_result(verdict),
        key=lambda item: (LEVEL_ORDER[item[0]], severity_rank(item[1])),
    )
    return ranked[:MAX_RESULTS], len(ranked)


LEVEL_ORDER: dict[Status, int] = {"violation": 0, "warning": 1, "waived": 2}


def _exit_code(verdict: Verdict) -> int:
    return 0 if verdict.advisory else int(verdict.exit_code)


def build_sarif(verdict: Verdict) -> dict[str, Any]:
    """The SARIF log as a JSON object."""
    kept, total = _kept(verdict)
    summaries = {rule.id: rule for rule in verdict.rules}
    by_rule: dict[str, list[Result]] = {}
    for _, result in kept:
        by_rule.setdefault(result.id, []).append(result)
    rule_ids = sorted(by_rule)
    index = {rule_id: position for position, rule_id in enumerate(rule_ids)}
    rules = [_rule_descriptor(r, summaries.get(r), by_rule[r]) for r in rule_ids]
    results = []
    size = 0
    for status, result in kept:
        entry = _result(verdict, status, result, index[result.id])
        size += len(json.dumps(entry, ensure_ascii=False).encode("utf-8"))
        if size > MAX_BYTES:
            break
        results.append(entry)
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "exitCode": _exit_code(verdict),
    }
    if len(results) < total:
        invocation["toolExecutionNotifications"] = [
            {
                "descriptor": {"id": "gate-results-left-out"},
                "level": "warning",
                "message": {
                    "text": f"{total - len(results)} of {total} results are left out (code "
                    f"scanning stores at most {MAX_RESULTS} per run, and {MAX_BYTES} bytes "
                    "per file): the least severe warnings and waived results go first. "
                    "Every result is in the JSON verdict (--format json)."
                },
            }
        ]
    subject = verdict.subject
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gate",
                        "version": verdict.gate_version,
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": f"gate/{verdict.stage}/"},
                "invocations": [invocation],
                "results": results,
                "properties": {
                    "stage": verdict.stage,
                    "decision": verdict.decision,
                    "advisory": verdict.advisory,
                    "subject": subject.reference or subject.digest,
                    "subjectDigest": subject.digest,
                    "policyDigest": verdict.policy.digest,
                    "counts": verdict.counts.model_dump(),
                },
            }
        ],
    }


class SarifFormatter:
    """SARIF 2.1.0, one run, as GitHub code scanning accepts it."""

    name = "sarif"

    def render(self, verdict: Verdict, *, color: bool = False, width: int | None = None) -> str:
        """Return the SARIF log; the same verdict gives the same bytes."""
        return json.dumps(build_sarif(verdict), indent=2, ensure_ascii=False) + "\n"
