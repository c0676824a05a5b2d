"""Read what the user gave: bounded, hashed, parsed as data (never evaluated as code)."""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.errors import GateError, InputError

MAX_INPUT_BYTES = 1024 * 1024 * 1024
"""A report larger than 1 GiB is refused rather than read: a gate must not be made to swap."""

STDIN = "-"


@dataclass(frozen=True)
class InputFile:
    """An input file as the user gave it: ``path`` as typed, its bytes' SHA-256 and size."""

    path: str
    sha256: str
    size: int


def read_bounded(path: Path, limit: int, shown: str, error: type[GateError] = InputError) -> bytes:
    """Read at most ``limit`` bytes of ``path``; raise ``error`` (naming ``shown``) otherwise."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except FileNotFoundError as exc:
        raise error("no such file", where=shown) from exc
    except IsADirectoryError as exc:
        raise error("is a directory, not a file", where=shown) from exc
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", where=shown) from exc
    if len(raw) > limit:
        raise error(f"larger than the {limit // (1024 * 1024)} MiB limit", where=shown)
    return raw


def read_input(given: str, limit: int = MAX_INPUT_BYTES) -> tuple[InputFile, bytes]:
    """Read one input file (``-`` is standard input) and describe it."""
    if given == STDIN:
        raw = sys.stdin.buffer.read(limit + 1)
        if len(raw) > limit:
            raise InputError(f"larger than the {limit // (1024 * 1024)} MiB limit", where="<stdin>")
        shown = "<stdin>"
    else:
        raw = read_bounded(Path(given), limit, given)
        shown = given
    return InputFile(path=shown, sha256=hashlib.sha256(raw).hexdigest(), size=len(raw)), raw


def decode_text(raw: bytes, where: str) -> str:
    """Decode JSON bytes: UTF-8 (with or without BOM) or UTF-16 with a BOM (PowerShell's ``>``)."""
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16")
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start}): not a JSON report", where=where
        ) from exc


def parse_json(raw: bytes, where: str) -> Any:
    """Parse ``raw`` as JSON; raise :class:`InputError` with line and column when it is not."""
    text = decode_text(raw, where)
    if not text.strip():
        raise InputError("empty file: expected a JSON report", where=where)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}", where=where
        ) from exc
    except RecursionError as exc:
        raise InputError("JSON nested too deeply", where=where) from exc


def parse_structured(text: str, *, as_yaml: bool) -> Any:
    """Parse JSON, or YAML with ``yaml.safe_load`` (no tags); raise ValueError naming the place."""
    if not as_yaml:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    import yaml  # lazily: only YAML files pay for it

    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        place = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        raise ValueError(f"{place}{exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from exc
