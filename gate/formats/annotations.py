"""What the CI formats (sarif, github, gitlab, junit, markdown) share: results with their
status, in one order, and the repository path each one is shown at."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal
from urllib.parse import urlsplit

from gate.document import SEVERITY_ORDER
from gate.verdict import Result, Verdict

Status = Literal["violation", "warning", "waived"]
STATUSES: tuple[Status, ...] = ("violation", "warning", "waived")


def each_result(verdict: Verdict) -> Iterator[tuple[Status, Result]]:
    """Violations, then warnings, then waived results, each list in the verdict's order."""
    for result in verdict.violations:
        yield "violation", result
    for result in verdict.warnings:
        yield "warning", result
    for result in verdict.waived:
        yield "waived", result


def severity_rank(result: Result) -> int:
    """0 for critical, growing as severity falls (unknown last)."""
    return len(SEVERITY_ORDER) - 1 - SEVERITY_ORDER.index(result.severity)


def repository_path(path: str) -> str | None:
    """``path`` as a path relative to the repository root, or None when it is not one.

    Code scanning accepts only relative paths: absolute paths, paths climbing out with
    ``..``, URLs and scheme-like names (``registry://``, ``C:``), ``-`` and ``<stdin>`` are
    not files of the repository.
    """
    text = path.replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    if not text or text.startswith("/") or text in ("-", "<stdin>") or text.startswith("<"):
        return None
    if ":" in text.split("/", 1)[0] or urlsplit(text).scheme:
        return None
    if ".." in text.split("/") or any(ord(char) < 0x20 or char == "\x7f" for char in text):
        return None
    return text


def image_path(verdict: Verdict) -> str:
    """A stable relative path naming the image, for results held in no repository file.

    It is the image's registry and repository (``ghcr.io/acme/api``), as image scanners
    write it; a port's ``:`` becomes ``_`` so that the path never reads as a URI scheme.
    """
    subject = verdict.subject
    parts = [part for part in (subject.registry, subject.repository) if part]
    text = "/".join(parts).replace(":", "_")
    return repository_path(text) or "container-image"


def repository_file(verdict: Verdict, result: Result) -> str | None:
    """The file of the repository a result is shown at: the Dockerfile (--dockerfile), else
    the first input file that holds the finding; None when neither is a repository path."""
    candidates = [verdict.dockerfile] if verdict.dockerfile else []
    candidates += result.inputs
    for candidate in candidates:
        path = repository_path(candidate)
        if path is not None:
            return path
    return None


def result_path(verdict: Verdict, result: Result) -> str:
    """:func:`repository_file`, else the image (:func:`image_path`): for formats that need
    a location for every result (SARIF, Code Quality)."""
    return repository_file(verdict, result) or image_path(verdict)


def rule_title(verdict: Verdict, result: Result) -> str:
    """The result's title, else its rule's, else the rule id."""
    if result.title:
        return result.title
    for rule in verdict.rules:
        if rule.id == result.id and rule.title:
            return rule.title
    return result.id


def finding_label(result: Result) -> str:
    """A short name of the finding (``CVE-1 in openssl 3.0``, ``secret in app/x.yml:12``)."""
    finding = result.finding or {}
    kind = finding.get("kind")
    name = finding.get("id") or finding.get("field") or kind or result.id
    label = str(name)
    package = finding.get("package")
    if package:
        version = finding.get("version")
        label += f" in {package}" + (f" {version}" if version else "")
    target = finding.get("target")
    if target:
        line = finding.get("line")
        label += f" in {target}" + (f":{line}" if line else "")
    return label


__all__ = [
    "STATUSES",
    "Status",
    "each_result",
    "finding_label",
    "image_path",
    "repository_file",
    "repository_path",
    "result_path",
    "rule_title",
    "severity_rank",
]


def baseline_mark(result: Result) -> str:
    """``[new] `` / ``[existing] `` before a result's message when a baseline was given (and
    the message does not already say it was existing)."""
    from gate.baseline import EXISTING_SUFFIX

    if result.baseline is None or result.msg.endswith(EXISTING_SUFFIX):
        return ""
    return f"[{result.baseline}] "
