"""Output formats by name; ``--format`` choices come from this registry."""

from __future__ import annotations

from gate.formats.base import Formatter
from gate.formats.json import JsonFormatter
from gate.formats.table import TableFormatter

FORMATS: dict[str, Formatter] = {f.name: f for f in (TableFormatter(), JsonFormatter())}
"""Formatters by name, ``table`` (for people) first."""

EXTENSIONS = {".json": "json", ".txt": "table"}
"""``--output`` file extensions that imply a format when ``--format`` is not given."""

__all__ = ["EXTENSIONS", "FORMATS", "Formatter"]
