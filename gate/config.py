"""`.gate.yaml`: what `gate check` reads in a repository when run with no arguments.

Found upwards from the working directory to the repository root (the first `.gate.yaml` or
`.gate.yml`), or named
with `--config FILE` / `GATE_CONFIG`; `--no-config` (or `GATE_NO_CONFIG=1`) ignores it.
Precedence, as click resolves it: command-line flags > `GATE_*` environment variables >
the config file > defaults. Relative paths in the file are relative to the file's folder.

The file is part of the repository, so it is trusted as much as the repository: it can
only set what flags can, an unknown key is an error (a typo must not be silently ignored),
and the verdict records which file was used (`config_file`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gate.errors import UsageError

NAMES = (".gate.yaml", ".gate.yml")
MAX_CONFIG_BYTES = 1024 * 1024

_PATHS = {
    "waivers", "baseline", "dockerfile", "output", "registry_ca", "sign_key",
}  # fmt: skip
_PATH_LISTS = {"inputs", "policies", "data", "trust_keys"}
_TEXT = {"stage", "image", "format", "engine", "platform", "timeout"}
_TEXT_LISTS = {"insecure_registries"}
_FLAGS = {"advisory", "attached"}
KEYS = _PATHS | _PATH_LISTS | _TEXT | _TEXT_LISTS | _FLAGS | {"reports"}
"""What the file may set: the options of check, promote and normalize that describe the
repository's gate (not --force, --dry-run or --to: those are decisions of one run)."""

_PARAMETER = {"format": "output_format", "reports": "report"}
"""Config keys whose click parameter has another name."""


def find_config(start: Path | None = None) -> Path | None:
    """The nearest `.gate.yaml` in ``start`` (default: the working directory) or above it,
    up to the root of the git repository ``start`` is in (only ``start`` outside one).

    The search never leaves the repository: a `.gate.yaml` someone left in a shared parent
    folder (`/builds/`, `/tmp/`) must not configure another project's gate.
    """
    here = (start or Path.cwd()).resolve()
    folders = [here, *here.parents]
    root = next((i for i, folder in enumerate(folders) if (folder / ".git").exists()), 0)
    for folder in folders[: root + 1]:
        for name in NAMES:
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


def requested_config(args: Sequence[str], env: Mapping[str, str]) -> tuple[bool, str | None]:
    """(use a config at all, explicit file) from ``--config``/``--no-config`` and the env."""
    explicit = env.get("GATE_CONFIG") or None
    use = env.get("GATE_NO_CONFIG", "").lower() not in ("1", "true", "yes")
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--no-config":
            use = False
        elif arg == "--config" and index + 1 < len(args):
            explicit = args[index + 1]
        elif arg.startswith("--config="):
            explicit = arg.split("=", 1)[1]
    return use, explicit


def load_config(path: Path, parameters: set[str]) -> dict[str, Any]:
    """The file as click defaults for a command whose parameter names are ``parameters``."""
    from gate.inputs import decode_text, parse_structured, read_bounded

    shown = str(path)
    raw = read_bounded(path, MAX_CONFIG_BYTES, shown, UsageError)
    try:
        document = parse_structured(decode_text(raw, shown), as_yaml=True)
    except ValueError as exc:
        raise UsageError(f"not valid YAML: {exc}", where=shown) from exc
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise UsageError("expected a mapping of option names to values", where=shown)
    base = path.parent
    defaults: dict[str, Any] = {}
    for key, value in document.items():
        if key not in KEYS:
            raise UsageError(
                f"unknown key {key!r}",
                where=shown,
                hint=f"the file may set: {', '.join(sorted(KEYS))}",
            )
        parameter = _PARAMETER.get(key, key)
        if parameter not in parameters:
            continue  # an option of another command (reports for normalize, …)
        defaults[parameter] = _value(key, value, base, shown)
    return defaults


def _value(key: str, value: Any, base: Path, shown: str) -> Any:
    where = f"{shown}: {key}"
    if key in _FLAGS:
        if not isinstance(value, bool):
            raise UsageError("expected true or false", where=where)
        return value
    if key == "reports":
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise UsageError(
                "expected a mapping of format to file, e.g. sarif: gate.sarif", where=where
            )
        return [f"{fmt}={_relative(path, base)}" for fmt, path in value.items()]
    if key in _PATH_LISTS or key in _TEXT_LISTS:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise UsageError("expected a list of strings", where=where)
        return [_relative(i, base) for i in items] if key in _PATH_LISTS else items
    if isinstance(value, int | float) and not isinstance(value, bool) and key == "timeout":
        return str(value)
    if not isinstance(value, str):
        raise UsageError("expected a string", where=where)
    return _relative(value, base) if key in _PATHS else value


def _relative(value: str, base: Path) -> str:
    """A path of the file as the working directory reaches it (inputs keep their spelling)."""
    if value in ("-", "gate:policies") or value.startswith("registry://") or os.path.isabs(value):
        return value
    return os.path.relpath(base / value)
