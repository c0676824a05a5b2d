"""Output formats by name; ``--format`` choices come from this registry."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import PurePath

from gate import LazyRegistry
from gate.errors import UsageError
from gate.formats.base import Formatter

FORMATS: LazyRegistry[Formatter] = LazyRegistry(
    {
        "table": "gate.formats.table:TableFormatter",
        "json": "gate.formats.json:JsonFormatter",
        "sarif": "gate.formats.sarif:SarifFormatter",
        "junit": "gate.formats.junit:JunitFormatter",
        "github": "gate.formats.github:GithubFormatter",
        "gitlab": "gate.formats.gitlab:GitlabFormatter",
        "markdown": "gate.formats.markdown:MarkdownFormatter",
    },
    lambda formatter: formatter.name,
)
"""Formatters by name, ``table`` (for people) first; each module is imported when its
format is first written."""

EXTENSIONS = {
    ".json": "json",
    ".sarif": "sarif",
    ".xml": "junit",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".csv": "csv",
    ".yaml": "yaml",
    ".yml": "yaml",
}
"""``--output`` extensions that name a format: the format written must be that one (whether
or not gate can write it yet), so that a table never lands in ``verdict.json``."""

JSON_BODIED = frozenset({"sarif", "gitlab"})
"""Formats whose files are JSON documents: a ``.json`` name fits them too (GitLab's Code
Quality artifact is conventionally ``gl-code-quality-report.json``)."""

PLAIN_TEXT_EXTENSIONS = frozenset({"", ".txt", ".text", ".log", ".out"})
"""Extensions that name no format: table unless ``--format`` says otherwise."""

DEFAULT_FORMAT = "table"


def output_format_for(
    requested: str | None,
    output: str | None,
    *,
    available: Collection[str] = tuple(FORMATS),
    default: str = DEFAULT_FORMAT,
) -> str:
    """The format to write: ``--format`` if given, else the ``--output`` extension's.

    ``available`` and ``default`` are the command's formats (``gate policy doc`` writes
    markdown and json). Raises :class:`UsageError` when the two disagree, when the
    extension names a format the command cannot write, or when an unknown extension
    leaves the format a guess.
    """
    if output is None or output == "-":
        return requested or default
    suffix = PurePath(output).suffix.lower()
    named = EXTENSIONS.get(suffix)
    if named is None:
        if requested is None and suffix not in PLAIN_TEXT_EXTENSIONS:
            raise UsageError(
                f"cannot tell the output format from the extension {suffix!r}",
                where=output,
                hint=f"give --format ({', '.join(available)})",
            )
        return requested or default
    if named == "json" and requested in JSON_BODIED and requested in available:
        return requested
    if requested is not None and requested != named:
        raise UsageError(
            f"--format {requested} would write {requested} into a {suffix} file ({named})",
            where=output,
            hint=f"use --format {named} or an output name ending in the format's extension",
        )
    if named not in available:
        raise UsageError(
            f"a {suffix} file asks for {named} output, which gate cannot write here",
            where=output,
            hint=f"choose one of {', '.join(available)} with --format and a matching name",
        )
    return named


__all__ = ["EXTENSIONS", "FORMATS", "Formatter", "output_format_for"]
