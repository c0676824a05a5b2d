"""hadolint Dockerfile lint results (``hadolint --format json``) as a document fragment.

The report is a top-level array of findings, each ``{file, line, column, code, level,
message}``. Each finding becomes a :class:`~gate.document.Misconfiguration` of type
``dockerfile``:

* ``id`` is the rule code (``DL3008`` for hadolint's own rules, ``SC2086`` for the
  ShellCheck rules it runs on ``RUN`` lines); hadolint gives no rule title, so ``title``
  and ``message`` are both the message;
* ``target`` is the Dockerfile as hadolint named it (``-`` for standard input), and
  ``start_line`` its line;
* ``urls`` is the rule's wiki page: the hadolint wiki for ``DL`` codes, the ShellCheck
  wiki for ``SC`` codes, none for anything else.

Severity mapping (hadolint's ``level``): ``error`` → high, ``warning`` → medium,
``info`` → low, ``style`` → negligible; any other level → unknown. hadolint's levels say
how sure and how serious a lint is, not how exploitable, so ``error`` stops at high.

De-duplication rule: findings with the same (code, file, line, message) are one
misconfiguration, the first listing kept; hadolint repeats a ShellCheck finding when one
``RUN`` line trips it at several columns, and the column is not part of the identity.

A clean Dockerfile gives ``[]``, which many tools write; it is therefore not recognised
by content. Pass ``--type hadolint-json`` to read it (an empty list parses to no findings).
"""

from __future__ import annotations

from typing import Any, ClassVar

from gate.document import FindingSource, Misconfiguration, Severity
from gate.inputs import InputFile
from gate.sources.base import Fragment, fail
from gate.sources.shape import array, at, integer, kind, text_at

TOOL = "hadolint"

_LEVELS: dict[str, Severity] = {
    "error": "high",
    "warning": "medium",
    "info": "low",
    "style": "negligible",
}
_WIKIS = {
    "DL": "https://github.com/hadolint/hadolint/wiki/{}",
    "SC": "https://www.shellcheck.net/wiki/{}",
}
_FINDING_KEYS = ("code", "level", "file")


class HadolintSource:
    """hadolint's JSON output: an array of Dockerfile lint findings."""

    format: ClassVar[str] = "hadolint-json"
    expected_shape: ClassVar[str] = 'an array of objects with "code", "level" and "file"'

    def matches(self, data: Any) -> bool:
        """Return True for a non-empty array whose items all have ``code``, ``level``, ``file``.

        An empty array is refused (see the module docstring).
        """
        return (
            isinstance(data, list)
            and bool(data)
            and all(
                isinstance(item, dict) and all(key in item for key in _FINDING_KEYS)
                for item in data
            )
        )

    def accepts_forced(self, data: Any) -> bool:
        """Under ``--type hadolint-json``, also accept the ``[]`` of a clean Dockerfile."""
        return data == [] or self.matches(data)

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Map every finding; raise :class:`~gate.errors.SourceError` for a misshapen one."""
        seen: dict[tuple[str, str | None, int | None, str | None], Misconfiguration] = {}
        for index, raw in enumerate(array(data, source, "")):
            finding = _finding(raw, source, at("", index))
            key = (finding.id, finding.target, finding.start_line, finding.message)
            seen.setdefault(key, finding)
        return Fragment(
            format=self.format,
            tool=TOOL,
            kinds=["misconfiguration"],
            misconfigurations=list(seen.values()),
        )


def _finding(raw: Any, source: InputFile, place: str) -> Misconfiguration:
    """Map one finding object found at JSON path ``place``."""
    if not isinstance(raw, dict):
        raise fail(source, place, f"expected a finding object, got {kind(raw)}")
    code = text_at(raw, "code", source, place)
    if code is None:
        raise fail(source, at(place, "code"), "missing rule code")
    rated = _severity(text_at(raw, "level", source, place))
    message = text_at(raw, "message", source, place)
    wiki = _WIKIS.get(code[:2].upper())
    return Misconfiguration(
        id=code,
        type="dockerfile",
        title=message,
        message=message,
        severity=rated,
        target=text_at(raw, "file", source, place),
        start_line=integer(raw.get("line"), source, at(place, "line")),
        urls=[wiki.format(code)] if wiki else [],
        sources=[FindingSource(tool=TOOL, input=source.path, severity=rated)],
    )


def _severity(level: str | None) -> Severity:
    """Map hadolint's level onto gate's scale (see the module docstring)."""
    return _LEVELS.get(level.strip().lower(), "unknown") if level else "unknown"
