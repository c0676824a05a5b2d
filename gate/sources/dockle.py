"""Dockle image lint reports (``dockle --format json``) as a document fragment.

The report is ``{"image": …, "summary": {fatal, warn, info, skip, pass}, "details":
[{code, title, level, alerts[]}]}`` (``image`` since dockle 0.4; older reports lack it).
Each detail that is a finding becomes a :class:`~gate.document.Misconfiguration` of type
``image``: ``id`` is the checkpoint code (``CIS-DI-0001``, ``DKL-DI-0006`` …), ``title``
its title, ``message`` the alerts joined with ``"; "``, ``target`` the image name.

Severity mapping (dockle's ``level``): ``FATAL`` → high, ``WARN`` → medium, ``INFO`` →
low. ``SKIP`` (the check could not run), ``IGNORE`` (the user silenced it with
``.dockleignore`` or ``-i``) and ``PASS`` are not findings and are dropped; an unknown
level is kept with severity unknown, since dropping a finding would be the unsafe guess.

De-duplication rule: dockle writes one detail per checkpoint code; should a code repeat
with the same alerts, the repeats are one misconfiguration (the first listing kept), by the
document's own identity (id, target, line, message).

The image name is a subject hint (reference, and digest when pinned), unless it is an
archive path (``dockle --input image.tar``), which names no image.
"""

from __future__ import annotations

from typing import Any, ClassVar

from gate.document import FindingSource, Misconfiguration, Severity
from gate.inputs import InputFile
from gate.sources.base import Fragment, fail
from gate.sources.image_config import first_reference, subject
from gate.sources.shape import array, at, kind, mapping, string_list, text_at

TOOL = "dockle"

_LEVELS: dict[str, Severity] = {"FATAL": "high", "WARN": "medium", "INFO": "low"}
_NOT_FINDINGS = frozenset({"SKIP", "IGNORE", "PASS"})


class DockleSource:
    """Dockle's JSON report: CIS Docker benchmark and Dockle checkpoints of one image."""

    format: ClassVar[str] = "dockle-json"
    expected_shape: ClassVar[str] = (
        'a "details" array and a "summary" object with "fatal" and "pass"'
    )

    def matches(self, data: Any) -> bool:
        """Return True for an object with a ``details`` array and a dockle ``summary``.

        dockle always writes every summary counter, so ``fatal`` and ``pass`` are required.
        """
        if not isinstance(data, dict) or not isinstance(data.get("details"), list):
            return False
        summary = data.get("summary")
        return isinstance(summary, dict) and "fatal" in summary and "pass" in summary

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Map every finding detail; raise :class:`~gate.errors.SourceError` when misshapen."""
        report = mapping(data, source, "")
        mapping(report.get("summary"), source, "summary")
        image = text_at(report, "image", source, "")
        reference = first_reference([image]) if image else None
        seen: dict[tuple[str, str | None], Misconfiguration] = {}
        for index, raw in enumerate(array(report.get("details"), source, "details")):
            finding = _finding(raw, image, source, at("details", index))
            if finding is not None:
                seen.setdefault((finding.id, finding.message), finding)
        return Fragment(
            format=self.format,
            tool=TOOL,
            artifact_name=image,
            artifact_type="container_image" if image else None,
            kinds=["misconfiguration"],
            subject=subject(reference, digest=None, image_id=None),
            misconfigurations=list(seen.values()),
        )


def _finding(raw: Any, image: str | None, source: InputFile, place: str) -> Misconfiguration | None:
    """Map one detail at JSON path ``place``; None when its level is not a finding."""
    if not isinstance(raw, dict):
        raise fail(source, place, f"expected a detail object, got {kind(raw)}")
    code = text_at(raw, "code", source, place)
    if code is None:
        raise fail(source, at(place, "code"), "missing checkpoint code")
    level = (text_at(raw, "level", source, place) or "").strip().upper()
    if level in _NOT_FINDINGS:
        return None
    rated = _LEVELS.get(level, "unknown")
    alerts = string_list(raw.get("alerts"), source, at(place, "alerts"))
    return Misconfiguration(
        id=code,
        type="image",
        title=text_at(raw, "title", source, place),
        message="; ".join(alerts) or None,
        severity=rated,
        target=image,
        sources=[FindingSource(tool=TOOL, input=source.path, severity=rated)],
    )
