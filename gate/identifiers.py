"""What a vulnerability identifier names: one vulnerability, or an advisory that groups several.

Scanners list, next to a finding's id, other identifiers. Some name the same vulnerability
(its CVE, the GHSA or OSV record of that CVE, a distro's per-CVE record such as
``UBUNTU-CVE-…`` or ``BIT-…``): those are *aliases*, and findings that share one are one
vulnerability. Others name a vendor's advisory or update (``RHSA-2024:1234``, ``DSA-5417-1``,
``USN-6543-1``, ``ALAS2-2024-…``): one advisory fixes many CVEs, so two findings sharing it
are still two vulnerabilities. Those are *advisories*: recorded on every finding they cover,
never used to join findings, to apply a VEX statement or to match a waiver.

:func:`id_kind` is the one classifier; :func:`split_listing` and :func:`identity_keys` are
the two ways the rest of gate uses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Literal

from gate.document import Vulnerability

IdKind = Literal["cve", "vulnerability", "advisory"]

_ADVISORY = re.compile(
    r"""^(?:
        (?:RH|CE|EL|RL|AL)[SBE]A-           # Red Hat, CentOS, Oracle, Rocky, AlmaLinux errata
      | ALAS                                # Amazon Linux: ALAS-, ALAS2-, ALAS2023-, ALASKERNEL-…
      | DSA- | DLA- | DTSA- | ELA-          # Debian (and Freexian's extended LTS)
      | USN- | LSN-                         # Ubuntu security and Livepatch notices
      | (?:OPEN)?SUSE-                      # SUSE-SU-…, SUSE-RU-…, openSUSE-SU-…
      | MGASA- | FEDORA- | GLSA[-\s]        # Mageia, Fedora (and EPEL) updates, Gentoo
      | ASA- | AVG-                         # Arch advisories and vulnerability groups
      | PHSA- | OPENEULER-SA- | EULEROS-SA- # Photon, openEuler, EulerOS
      | FREEBSD-SA- | VMSA- | MFSA | NTAP- | CISCO-SA-
    )""",
    re.IGNORECASE | re.VERBOSE,
)
"""Prefixes of advisories that may cover several CVEs. Ids that are one record per
vulnerability (GHSA-, GO-, PYSEC-, RUSTSEC-, OSV-, MAL-, BIT-, CGA-, SNYK-, UBUNTU-CVE-,
DEBIAN-CVE-, TEMP-…) are not here: an unknown prefix is taken as naming one vulnerability,
and :func:`identity_keys` still never lets it stand for two different CVEs."""


def id_kind(identifier: str) -> IdKind:
    """Whether ``identifier`` is a CVE, another id of one vulnerability, or an advisory."""
    if identifier[:4].upper() == "CVE-":
        return "cve"
    return _other_kind(identifier)


@lru_cache(maxsize=1 << 16)
def _other_kind(identifier: str) -> IdKind:
    # Cached: one advisory (or GHSA) is repeated on every package and scanner it covers.
    return "advisory" if _ADVISORY.match(identifier) else "vulnerability"


def is_advisory(identifier: str) -> bool:
    """True for a vendor advisory id (RHSA, DSA, USN, ALAS…), which may cover many CVEs."""
    return id_kind(identifier) == "advisory"


def identity_keys(primary: str, aliases: Iterable[str]) -> list[str]:
    """The upper-cased ids that name the vulnerability ``primary`` (itself first).

    These, and only these, may join findings, apply VEX statements and match waivers.
    Advisories are left out; so is any second CVE: an entry named by a CVE is that CVE, and
    an entry not named by one whose aliases hold several CVEs (a grouping listing) is
    known by its own id alone.
    """
    own = primary.upper()
    others = [a.upper() for a in aliases if id_kind(a) != "advisory"]
    cves = list(dict.fromkeys(a for a in others if id_kind(a) == "cve" and a != own))
    if id_kind(own) == "cve" or len(cves) > 1:
        others = [a for a in others if id_kind(a) != "cve"]
    return list(dict.fromkeys([own, *others]))


def named_cve(keys: list[str]) -> str | None:
    """The CVE among ``keys`` (from :func:`identity_keys`, so there is at most one)."""
    return next((key for key in keys if id_kind(key) == "cve"), None)


def set_apart(primary: str, others: Iterable[str]) -> tuple[list[str], list[str]]:
    """``(aliases, advisories)`` of a listing named ``primary`` whose other ids are ``others``.

    For sources to build a finding in shape (no copy later); a second CVE stays among the
    aliases, for :func:`split_listing` to make it a finding of its own.
    """
    if not others:  # most listings name no other id
        return [], []
    aliases: dict[str, str] = {}
    advisories: dict[str, str] = {}
    own = primary.upper()
    for identifier in others:
        key = identifier.upper()
        if key != own:
            (advisories if id_kind(identifier) == "advisory" else aliases).setdefault(
                key, identifier
            )
    return list(aliases.values()), list(advisories.values())


def split_listing(vuln: Vulnerability) -> list[Vulnerability]:
    """One finding per vulnerability a scanner listing names, with advisories set apart.

    The listing's ids are its ``id`` and ``aliases`` (as a source read them, advisories
    included). With at most one CVE among them, it is one finding: named by the CVE when
    there is one, else by its first id that is not an advisory (else by the advisory
    itself: a scanner that knows only ``RHSA-2024:1234`` reports that); advisories move to
    ``advisories``. With several CVEs (a Grype ALAS match, a Snyk issue for two CVEs), it
    is one finding per CVE, each with the listing's other ids as advisories: which CVE a
    GHSA of a grouping listing belongs to is not known, so it may join none of them.
    """
    if not vuln.aliases and id_kind(vuln.id) != "advisory":
        return [vuln]  # the commonest case, one id and no advisory: no copy, nothing to sort
    ids = [vuln.id, *vuln.aliases]
    kinds = [id_kind(i) for i in ids]
    if "advisory" not in kinds and kinds.count("cve") <= (1 if kinds[0] == "cve" else 0):
        return [vuln]  # the common case, already in shape: no copy
    unique: dict[str, tuple[str, IdKind]] = {}
    for identifier, kind in zip(ids, kinds, strict=True):
        unique.setdefault(identifier.upper(), (identifier, kind))
    cves = [i for i, kind in unique.values() if kind == "cve"]
    advisories = [i for i, kind in unique.values() if kind == "advisory"]
    others = [i for i, kind in unique.values() if kind == "vulnerability"]
    if len(cves) > 1:
        grouped = _union(vuln.advisories, [*advisories, *others])
        return [
            vuln.model_copy(update={"id": cve, "aliases": [], "advisories": grouped})
            for cve in cves
        ]
    primary = (cves or others or advisories)[0]
    return [
        vuln.model_copy(
            update={
                "id": primary,
                "aliases": [i for i in [*cves, *others] if i != primary],
                "advisories": _union(vuln.advisories, [a for a in advisories if a != primary]),
            }
        )
    ]


def _union(first: list[str], second: list[str]) -> list[str]:
    """``first`` then ``second``, each id once (ignoring case), first spelling kept."""
    seen: dict[str, str] = {}
    for identifier in [*first, *second]:
        seen.setdefault(identifier.upper(), identifier)
    return list(seen.values())
