"""Version order of package ecosystems, for fixed versions and remediation advice.

Comparison is univers's (aboutcode), one comparator per package URL type; gate writes none
of its own, since a hand-written order gets Debian epochs, RPM tildes or Maven qualifiers
wrong. An ecosystem univers does not know, or a version its ecosystem cannot parse, leaves
the order as the scanner gave it and names no single fix: advice then lists them all
rather than guess (a wrong guess could advise a downgrade).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from univers.versions import Version

_COMPARATORS: dict[str, str] = {
    # Package URL type (the document's package.type) -> univers version class; npm, cargo
    # and hex version by SemVer (univers's own schemes for them say the same).
    "deb": "DebianVersion",
    "rpm": "RpmVersion",
    "apk": "AlpineLinuxVersion",
    "maven": "MavenVersion",
    "npm": "SemverVersion",
    "cargo": "SemverVersion",
    "hex": "SemverVersion",
    "pypi": "PypiVersion",
    "golang": "GolangVersion",
    "gem": "RubygemsVersion",
    "nuget": "NugetVersion",
    "composer": "ComposerVersion",
    "conan": "ConanVersion",
    "alpm": "ArchLinuxVersion",
}


_LONGEST_VERSION = 256
"""Longer is no version anyone releases; parsing it would only give a report a way to
spend time in the comparators' regular expressions."""


def known_ecosystem(ecosystem: str | None) -> bool:
    """True when gate can order the versions of ``ecosystem`` (a package URL type)."""
    return (ecosystem or "").lower() in _COMPARATORS


@lru_cache(maxsize=8192)
def _parse(ecosystem: str, version: str) -> Version | None:
    # Many findings share a version string (one package, many CVEs): parse each once.
    comparator = _COMPARATORS.get(ecosystem.lower())
    if comparator is None or len(version) > _LONGEST_VERSION:
        return None  # before the import: univers costs ~20 ms to load, for nothing here
    import univers.versions

    try:
        parsed: Version = getattr(univers.versions, comparator)(version.strip())
    except Exception:  # univers raises InvalidVersion, ValueError or TypeError by scheme
        return None
    return parsed


def _parsed_all(ecosystem: str | None, versions: Sequence[str]) -> list[Version] | None:
    if not ecosystem:
        return None
    parsed = [_parse(ecosystem, version) for version in versions]
    if any(p is None for p in parsed):
        return None
    return [p for p in parsed if p is not None]


def sort_versions(ecosystem: str | None, versions: Sequence[str]) -> list[str]:
    """``versions`` lowest first in ``ecosystem``'s order, as written, without repeats.

    When the ecosystem is unknown or any version does not parse in it, the order is kept
    as given: a partial order would put an unparsed version in an arbitrary place.
    """
    if len(versions) < 2:  # most findings name one fixed version, or none: nothing to order
        return list(versions)
    return list(_sorted(ecosystem, tuple(dict.fromkeys(versions))))


# Comparisons cost far more than parsing (univers compares Debian versions in Python): a
# report lists the same package's fixes once per CVE, so whole answers are cached.
@lru_cache(maxsize=4096)
def _sorted(ecosystem: str | None, unique: tuple[str, ...]) -> tuple[str, ...]:
    if len(unique) < 2:  # nothing to order: no parse, and no univers import for it
        return unique
    parsed = _parsed_all(ecosystem, unique)
    if parsed is None:
        return unique
    try:
        order = sorted(range(len(unique)), key=lambda i: parsed[i])
    except Exception:  # a comparator that cannot compare two of its own versions
        return unique
    return tuple(unique[i] for i in order)


def lowest_fix(ecosystem: str | None, installed: str | None, fixed: Sequence[str]) -> str | None:
    """The lowest of ``fixed`` not below ``installed``: the version to upgrade to.

    None when it cannot be told: the ecosystem or the installed version is unknown or does
    not parse, or every fixed version is below the installed one (the fixes are on other
    release lines). Fixed versions that do not parse are passed over.
    """
    if not ecosystem or not installed or not fixed:
        return None
    return _lowest_fix(ecosystem, installed, tuple(fixed))


@lru_cache(maxsize=4096)
def _lowest_fix(ecosystem: str, installed: str, fixed: tuple[str, ...]) -> str | None:
    current = _parse(ecosystem, installed)
    if current is None:
        return None
    best: tuple[Version, str] | None = None
    for candidate in fixed:
        parsed = _parse(ecosystem, candidate)
        try:
            if parsed is None or parsed < current:
                continue
            if best is None or parsed < best[0]:
                best = (parsed, candidate)
        except Exception:  # incomparable within the scheme: not a safe advice
            continue
    return best[1] if best else None
