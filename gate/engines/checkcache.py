"""Remember, per user, which exact policy sets passed gate's static checks.

Before evaluating, gate checks every module statically (every call resolves, arities
match, no function recurses: :mod:`gate.engines.outline`). That reads regorus' whole AST
(about 60 ms for the bundled pack) and gives the same answer for the same modules every
time, so the answer is kept on disk: one small file per policy set under
``$XDG_CACHE_HOME/gate/checks/`` (``~/.cache/gate/checks/`` by default), named by the
SHA-256 of gate's version, regorus' version, the checking code and every module's path and
text in load order.

An entry says only "these exact modules passed the static checks", with the rules they
define (what :func:`gate.policy.require_rules` needs). Compiling, regorus' own analysis and
the data are not cached: they run on every evaluation. A failing check is never written.
An entry that cannot be read, or is not exactly what this module writes, is ignored (the
checks run again); a cache directory that another user owns, or that others may write, is
not used at all. ``GATE_NO_CACHE=1`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gate import __version__
from gate.policy import DefinedRule, PolicyModule

NO_CACHE_ENV = "GATE_NO_CACHE"
ENTRY_FORMAT = 1
MAX_ENTRY_BYTES = 8 * 1024 * 1024
MAX_ENTRIES = 256
"""Entries kept: every edit of a policy set makes a new one; the oldest go first."""
_CHECKING_CODE = ("outline.py", "regorus.py")
"""Where the checks are written: a changed check must not trust what the old one passed,
even when gate's version number stayed the same (an editable install)."""


def cache_enabled() -> bool:
    """False when ``$GATE_NO_CACHE`` is ``1``, ``true`` or ``yes`` (as ``GATE_NO_CONFIG``)."""
    return os.environ.get(NO_CACHE_ENV, "").strip().lower() not in ("1", "true", "yes")


def policy_set_key(modules: Sequence[PolicyModule], engine_version: str) -> str | None:
    """The cache key of ``modules`` checked by this gate with regorus ``engine_version``;
    None when the cache is off or the checking code cannot be read."""
    if not cache_enabled():
        return None
    hasher = hashlib.sha256()
    try:
        code = [Path(__file__).with_name(name).read_bytes() for name in _CHECKING_CODE]
    except OSError:
        return None
    # Length-prefixed parts: no choice of paths and texts can make two sets hash alike.
    for part in (
        f"gate static checks {ENTRY_FORMAT}".encode(),
        __version__.encode(),
        engine_version.encode(),
        *code,
        *(text.encode() for module in modules for text in (module.path, module.text)),
    ):
        hasher.update(len(part).to_bytes(8, "big"))
        hasher.update(part)
    return hasher.hexdigest()


def cached_rules(key: str) -> list[DefinedRule] | None:
    """The rules of the policy set ``key`` if it passed the static checks before, else None
    (never cached, cache off, or an entry that is unreadable or not exactly as written)."""
    folder = _cache_folder(create=False)
    if folder is None:
        return None
    try:
        descriptor = os.open(folder / f"{key}.json", os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        with os.fdopen(descriptor, "rb") as entry:
            if not _private(os.fstat(entry.fileno()), directory=False):
                return None
            raw = entry.read(MAX_ENTRY_BYTES + 1)
    except OSError:
        return None
    if len(raw) > MAX_ENTRY_BYTES:
        return None
    try:
        return _rules_of(json.loads(raw), key)
    except (ValueError, TypeError, KeyError):
        return None


def remember_rules(key: str, rules: Sequence[DefinedRule]) -> None:
    """Record that the policy set ``key`` passed the static checks, defining ``rules``.
    Best effort: a cache that cannot be written only costs the next run the checks."""
    folder = _cache_folder(create=True)
    if folder is None:
        return
    entry = json.dumps(
        {
            "format": ENTRY_FORMAT,
            "key": key,
            "rules": [
                {
                    "path": list(rule.path),
                    "package": list(rule.package),
                    "function": rule.function,
                    "where": rule.where,
                }
                for rule in rules
            ],
        },
        separators=(",", ":"),
    ).encode()
    if len(entry) > MAX_ENTRY_BYTES:
        return  # it would not be read back
    try:
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".new-", suffix=".json")
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(entry)
        os.replace(temporary, folder / f"{key}.json")  # readers see all of it or nothing
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return
    _prune(folder)


def _rules_of(entry: Any, key: str) -> list[DefinedRule] | None:
    """The rules of a parsed entry, or None unless every field has exactly its type."""
    if (
        type(entry) is not dict
        or entry.get("format") != ENTRY_FORMAT
        or entry.get("key") != key
        or type(entry.get("rules")) is not list
    ):
        return None
    rules = []
    for item in entry["rules"]:
        path, package = item["path"], item["package"]
        function, where = item["function"], item["where"]
        if not (
            _names(path)
            and path
            and _names(package)
            and type(function) is bool
            and type(where) is str
        ):
            return None
        rules.append(DefinedRule(tuple(path), tuple(package), function, where))
    return rules


def _names(value: Any) -> bool:
    return type(value) is list and all(type(name) is str for name in value)


def _cache_folder(*, create: bool) -> Path | None:
    """``$XDG_CACHE_HOME/gate/checks``, created 0700 when ``create``; None when the cache is
    off, the folder is missing, or it (or ``gate/``) is not private to this user."""
    if not cache_enabled():
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: a relative value is ignored
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    gate_folder = Path(base) / "gate"
    folder = gate_folder / "checks"
    try:
        if create:
            os.makedirs(base, exist_ok=True)
            for part in (gate_folder, folder):
                try:
                    os.mkdir(part, 0o700)
                except FileExistsError:
                    pass
        for part in (gate_folder, folder):
            if not _private(os.lstat(part), directory=True):
                return None
    except OSError:
        return None
    return folder


def _private(status: os.stat_result, *, directory: bool) -> bool:
    """Whether a cache file or folder is this user's own and only this user may write it
    (a symlink is neither)."""
    kind = stat.S_ISDIR if directory else stat.S_ISREG
    return (
        kind(status.st_mode)
        and status.st_uid == os.geteuid()
        and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _prune(folder: Path) -> None:
    try:
        entries = [(entry.stat().st_mtime, entry.path) for entry in os.scandir(folder)]
    except OSError:
        return
    for _, path in sorted(entries, reverse=True)[MAX_ENTRIES:]:
        try:
            os.unlink(path)
        except OSError:
            pass
