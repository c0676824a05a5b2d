"""Merge fragments from several inputs into one document, in time linear in the findings.

Rules, documented in the README:
- A vulnerability is one entry per (id, package type, package name, package version),
  with package names compared as the ecosystem does (see :func:`package_name_key`).
  The same key from several scanners (or several times in one report) merges: every
  source is kept with its own severity, the entry's severity is the highest, aliases,
  fixed versions and URLs are unions in first-seen order; a source saying ``fixed`` beats
  one saying there is no fix yet. Then the fix fields are made to agree (fixed versions in
  the ecosystem's order, the version to upgrade to, status and fix_available:
  :func:`settle_fix`).
- Across reports, entries of one package version whose ids are each other's aliases
  (a GHSA in one report, its CVE in another that states the alias) join into one, named
  by the CVE (:func:`join_aliases`).
- VEX statements are applied after merging (:func:`gate.vex.apply_vex`).
- SBOM packages merge by package URL, qualifiers ignored (:func:`merge_packages`).
- Attestations are kept as given and marked as matching the gated image or not.
- Which image is gated, and which inputs are about it, is :mod:`gate.evidence`'s to
  decide; image configuration and VEX come only from inputs about the gated image.
- Secrets merge on (rule, file, line), misconfigurations on (id, target, line, message),
  licences on (name, package, target).
- Image fields come from the input about the gated image with the highest authority that
  has a value: dedicated image metadata (docker inspect, image config, manifest) beats
  what a scanner copied into its report; ties go to input order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from gate.document import (
    SEVERITY_ORDER,
    Attestation,
    Cvss,
    Epss,
    FindingSource,
    Image,
    InventoryPackage,
    License,
    Misconfiguration,
    Secret,
    Severity,
    Subject,
    Vulnerability,
)
from gate.evidence import resolve
from gate.identifiers import id_kind, identity_keys, named_cve, split_listing
from gate.identity import ImageIdentity
from gate.versions import lowest_fix, sort_versions
from gate.vex import apply_vex

if TYPE_CHECKING:  # sources use this module: importing them here would be circular
    from gate.sources.base import Fragment

T = TypeVar("T", Vulnerability, Secret, Misconfiguration, License, InventoryPackage)
Finding = TypeVar("Finding", Secret, Misconfiguration, License)


def _union(first: list[str], second: list[str]) -> list[str]:
    if not second:
        return first
    return list(dict.fromkeys([*first, *second]))


def _higher(a: Severity, b: Severity) -> Severity:
    return a if SEVERITY_ORDER.index(a) >= SEVERITY_ORDER.index(b) else b


_PYPI_SEPARATORS = re.compile(r"[-_.]+")


def package_name_key(package_type: str | None, name: str) -> str:
    """The name scanners agree on for a package of ``package_type``.

    Trivy names a Maven package ``group:artifact`` where Grype and most SBOMs use the
    artifact id alone; PyPI names compare case- and separator-insensitively (PEP 503).
    """
    if package_type == "maven":
        return name.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    if package_type == "pypi":
        return _PYPI_SEPARATORS.sub("-", name).lower()
    return name


def vulnerability_key(vuln: Vulnerability) -> tuple[str, str, str, str]:
    """The identity of a vulnerability finding across scanners."""
    package = vuln.package
    return (
        vuln.id.upper(),
        package.type or "",
        package_name_key(package.type, package.name),
        package.version or "",
    )


def is_cve(identifier: str) -> bool:
    """True for a CVE id (the id every scanner and VEX document can agree on)."""
    return id_kind(identifier) == "cve"


def cvss_rank(cvss: Cvss | None) -> tuple[int, bool, int]:
    """Order CVSS ratings: the newest CVSS version first, then NVD's, then the minor version."""
    if cvss is None:
        return (-1, False, -1)
    major, _, minor = (cvss.version or "").partition(".")
    return (
        int(major) if major.isdigit() else 0,
        cvss.source == "nvd",
        int(minor) if minor.isdigit() else 0,
    )


def _merge_attributions(old: list[FindingSource], new: list[FindingSource]) -> list[FindingSource]:
    # One attribution per report: a report listing a finding twice (a jar at two paths, two
    # matchers) is still one scanner's opinion, the more severe of its listings.
    merged = {(s.tool, s.input): s for s in old}
    for source in new:
        known = merged.get((source.tool, source.input))
        if known is None or SEVERITY_ORDER.index(source.severity) > SEVERITY_ORDER.index(
            known.severity
        ):
            merged[(source.tool, source.input)] = source
    return list(merged.values())


def maven_name(name: str, purl: str | None) -> str:
    """A Maven package's ``group:artifact``, whichever scanner named it: Trivy writes that,
    Grype and most SBOMs the artifact id alone, with the group in the package URL."""
    if ":" in name or not purl or not purl.startswith("pkg:maven/"):
        return name
    from urllib.parse import unquote

    path = purl[len("pkg:maven/") :].split("?", 1)[0].split("#", 1)[0].split("@", 1)[0]
    group, _, artifact = path.rpartition("/")
    if not group or unquote(artifact) != name:
        return name
    return f"{unquote(group).replace('/', '.')}:{name}"


def _more_recent(old: Epss | None, new: Epss | None) -> Epss | None:
    if old is None or (new is not None and (new.date or "") > (old.date or "")):
        return new
    return old


def _merge_vulnerability(old: Vulnerability, new: Vulnerability) -> Vulnerability:
    package = old.package
    name = package.name
    if package.type == "maven" and ":" not in name and ":" in new.package.name:
        name = new.package.name  # group:artifact (maven_name), whoever reported it first
    if (
        (package.purl is None and new.package.purl)
        or (package.path is None and new.package.path)
        or name != package.name
    ):
        package = package.model_copy(
            update={
                "name": name,
                "purl": package.purl or new.package.purl,
                "path": package.path or new.package.path,
            }
        )
    fixed = _union(old.fixed_versions, new.fixed_versions)
    status = old.status if old.status != "unknown" else new.status
    if status in _NO_FIX_YET and new.status == "fixed":
        status = "fixed"
    # When an alias joins two entries, the CVE (if either is one) names the result.
    primary = new.id if is_cve(new.id) and not is_cve(old.id) else old.id
    aliases = _union(old.aliases, [old.id, new.id, *new.aliases])
    return old.model_copy(
        update={
            "id": primary,
            "aliases": [a for a in dict.fromkeys(aliases) if a.upper() != primary.upper()],
            "severity": _higher(old.severity, new.severity),
            "cvss": new.cvss if cvss_rank(new.cvss) > cvss_rank(old.cvss) else old.cvss,
            "package": package,
            "fixed_versions": fixed,
            "fix_available": bool(fixed) or old.fix_available or new.fix_available,
            "status": status,
            "title": old.title or new.title,
            "description": old.description or new.description,
            "advisories": _union(old.advisories, new.advisories),
            "urls": _union(old.urls, new.urls),
            "published": old.published or new.published,
            "epss": _more_recent(old.epss, new.epss),
            "known_exploited": old.known_exploited or new.known_exploited,
            "cwes": _union(old.cwes, new.cwes),
            "sources": _merge_attributions(old.sources, new.sources),
        }
    )


def _merge_sources(old: Finding, new: Finding) -> Finding:
    return old.model_copy(
        update={
            "severity": _higher(old.severity, new.severity),
            "sources": _merge_attributions(old.sources, new.sources),
        }
    )


def _merge_all(
    items: Iterable[T], key: Callable[[T], Hashable], combine: Callable[[T, T], T]
) -> list[T]:
    merged: dict[Hashable, T] = {}
    for item in items:
        k = key(item)
        existing = merged.get(k)
        merged[k] = item if existing is None else combine(existing, item)
    return list(merged.values())


def merge_vulnerabilities(items: Iterable[Vulnerability]) -> list[Vulnerability]:
    """Merge duplicates, keeping first-seen order.

    Sources call this on their own listings (a report's repeats become one entry) and the
    core on all fragments together (one entry per finding across scanners). Each listing
    is first made one finding per vulnerability it names, advisories set apart
    (:func:`gate.identifiers.split_listing`), whatever the source put in its aliases.
    """
    listed = (finding for item in items for finding in split_listing(item))
    return _merge_all(listed, vulnerability_key, _merge_vulnerability)


def package_key(vuln: Vulnerability) -> tuple[str, str, str]:
    """The package version a vulnerability is in, as scanners agree on it."""
    package = vuln.package
    return (package.type or "", package_name_key(package.type, package.name), package.version or "")


def _root(parent: dict[str, str], name: str) -> str:
    """Union-find root of ``name``, halving paths on the way."""
    while parent.setdefault(name, name) != name:
        parent[name] = parent[parent[name]]
        name = parent[name]
    return name


class _Joins:
    """A union-find over the ids of one package version's findings, in which no set ever
    holds two different CVEs: a link that would make two CVEs one is refused."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.cve: dict[str, str] = {}
        """Root → the CVE its set names."""
        self.disputed: set[str] = set()
        """Ids claimed for two different CVEs: no longer an alias of either."""

    def root(self, name: str) -> str:
        if name not in self.parent and id_kind(name) == "cve":
            self.cve[name] = name
        return _root(self.parent, name)

    def link(self, a: str, b: str) -> None:
        first, second = self.root(a), self.root(b)
        if first == second:
            return
        named, other = self.cve.get(first), self.cve.get(second)
        if named and other and named != other:
            # An id claimed for two CVEs joins neither to the other, and is kept by both as
            # an advisory only, so that a waiver or VEX statement naming it covers neither.
            self.disputed.update(i for i in (a, b) if id_kind(i) != "cve")
            return
        self.parent[second] = first
        if other and not named:
            self.cve[first] = other


def join_aliases(items: list[Vulnerability]) -> list[Vulnerability]:
    """Join entries of one package version whose ids are each other's aliases.

    One scanner files a finding under the GHSA, another under the CVE, and one of them
    states the alias: that is one vulnerability. Entries are grouped by package version
    first, so the cost stays linear; within a group, ids are joined with a union-find.
    Only ids of the same vulnerability join (:func:`gate.identifiers.identity_keys`):
    never advisories, and never two CVEs, even through a GHSA two reports tie to
    different CVEs; an entry that names a CVE joins the set of that CVE, or none.
    """
    groups: dict[tuple[str, str, str], list[Vulnerability]] = {}
    for vuln in items:
        groups.setdefault(package_key(vuln), []).append(vuln)
    joined: list[Vulnerability] = []
    for group in groups.values():
        if not _may_join(group):
            joined.extend(group)
            continue
        joins = _Joins()
        names: list[str] = []
        for vuln in group:
            keys = identity_keys(vuln.id, vuln.aliases)
            for key in keys[1:]:
                joins.link(keys[0], key)
            names.append(named_cve(keys) or keys[0])
        merged: dict[str, Vulnerability] = {}
        for vuln, name in zip(group, names, strict=True):
            key = joins.root(name)
            known = merged.get(key)
            merged[key] = vuln if known is None else _merge_vulnerability(known, vuln)
        joined.extend(_set_apart(v, joins.disputed) for v in merged.values())
    return joined


def _may_join(group: list[Vulnerability]) -> bool:
    """Whether any entries of one package version's ``group`` could join: only an alias, or
    one id named twice, ties two entries. A package's CVEs without aliases (most of a
    report) then skip the union-find."""
    if len(group) == 1:
        return False
    return any(v.aliases for v in group) or len({v.id.upper() for v in group}) < len(group)


def _set_apart(vuln: Vulnerability, disputed: set[str]) -> Vulnerability:
    """``vuln`` with the disputed ids among its aliases moved to its advisories."""
    if not disputed or not any(a.upper() in disputed for a in vuln.aliases):
        return vuln
    return vuln.model_copy(
        update={
            "aliases": [a for a in vuln.aliases if a.upper() not in disputed],
            "advisories": _union(
                vuln.advisories, [a for a in vuln.aliases if a.upper() in disputed]
            ),
        }
    )


def _purl_identity(purl: str) -> str:
    # Qualifiers (arch, distro) and subpaths differ between SBOM tools for one package.
    return purl.split("?", 1)[0].split("#", 1)[0]


def _package_identity(package: InventoryPackage) -> tuple[str, ...]:
    if package.purl:
        return ("purl", _purl_identity(package.purl))
    return (
        "name",
        package.type or "",
        package_name_key(package.type, package.name),
        package.version or "",
    )


def _merge_packages(old: InventoryPackage, new: InventoryPackage) -> InventoryPackage:
    return old.model_copy(
        update={
            "version": old.version or new.version,
            "type": old.type or new.type,
            "purl": old.purl or new.purl,
            "licenses": _union(old.licenses, new.licenses),
            "cpes": _union(old.cpes, new.cpes),
            "locations": _union(old.locations, new.locations),
            "sources": list({(s.tool, s.input): s for s in [*old.sources, *new.sources]}.values()),
        }
    )


def merge_packages(items: Iterable[InventoryPackage]) -> list[InventoryPackage]:
    """One inventory entry per package URL (qualifiers ignored), first-seen order."""
    return _merge_all(items, _package_identity, _merge_packages)


def match_attestations(
    attestations: Iterable[Attestation], identity: ImageIdentity
) -> list[Attestation]:
    """Record whether each attestation is about the gated image.

    It is when a statement subject digest is one the image goes by: its digest, its image
    ID, or another digest image metadata gives for it (the platform manifests of an index).
    """
    matched = []
    for attestation in attestations:
        verdict = None
        if identity.digests and attestation.subject_digests:
            verdict = not identity.digests.isdisjoint(
                d.lower() for d in attestation.subject_digests
            )
        matched.append(attestation.model_copy(update={"matches_subject": verdict}))
    return matched


_NO_FIX_YET = ("unknown", "affected", "not_fixed")
"""Statuses a known fixed version contradicts. The others (will_not_fix, fix_deferred,
end_of_life, not_affected) are the vendor's word about its own package and are kept even
when another source knows a fixed version (upstream's, say): fix_available still says a
fix exists."""


def settle_fix(vuln: Vulnerability) -> Vulnerability:
    """``vuln`` with its fix fields made to agree, as the document schema states them.

    - ``fixed_versions`` in the ecosystem's version order (:mod:`gate.versions`), and
      ``fix_version`` the lowest of them not below the installed version;
    - a fixed version known and a status that says there is none (or says nothing) ⇒
      ``status`` is ``fixed``;
    - ``fix_available`` ⇔ a fixed version is known or ``status`` is ``fixed``;
    - a Maven package is named ``group:artifact`` (:func:`maven_name`).

    Done once here, after merging, so that every policy reads the same answer whichever
    scanner reported the finding and however it spells "fixed".
    """
    ecosystem = vuln.package.type
    fixed = sort_versions(ecosystem, vuln.fixed_versions)
    status = "fixed" if fixed and vuln.status in _NO_FIX_YET else vuln.status
    package = vuln.package
    if ecosystem == "maven":
        package = package.model_copy(update={"name": maven_name(package.name, package.purl)})
    fix_version = lowest_fix(ecosystem, vuln.package.version, fixed)
    fix_available = bool(fixed) or status == "fixed"
    if (
        package is vuln.package
        and fix_version == vuln.fix_version
        and status == vuln.status
        and fix_available == vuln.fix_available
        and fixed == vuln.fixed_versions
    ):
        return vuln  # already in agreement (no fix known, say): a copy would be all the cost
    return vuln.model_copy(
        update={
            "package": package,
            "fixed_versions": fixed,
            "fix_version": fix_version,
            "status": status,
            "fix_available": fix_available,
        }
    )


def _worst_first(vuln: Vulnerability) -> tuple[int, str, str, str]:
    return (
        -SEVERITY_ORDER.index(vuln.severity),
        vuln.id,
        vuln.package.name,
        vuln.package.version or "",
    )


def merge_fragments(
    fragments: list[Fragment],
    image_reference: Subject | None = None,
    sources: list[str] | None = None,
) -> dict[str, Any]:
    """Combine fragments into the keyword arguments of :class:`gate.document.Document`.

    ``sources`` names each fragment's input (for messages); the result's ``evidence`` says,
    per fragment, whether it is about the gated image (:func:`gate.evidence.resolve`).
    """
    names = sources if sources is not None else [f"input {i + 1}" for i in range(len(fragments))]
    resolution = resolve(fragments, names, image_reference)
    about = [resolution.about_subject(i) for i in range(len(fragments))]
    ranked = sorted(range(len(fragments)), key=lambda i: -fragments[i].authority)
    images = [image for i in ranked if about[i] and (image := fragments[i].image) is not None]
    vulnerabilities = join_aliases(
        merge_vulnerabilities(v for f in fragments for v in f.vulnerabilities)
    )
    # VEX only from documents about this image: a statement in a document about another
    # image (or about none) must not take a finding out of this verdict.
    statements = [
        replace(statement, order=(index, *statement.order))
        for index, fragment in enumerate(fragments)
        if "vex" in resolution.evidence[index].counts_for
        for statement in fragment.vex
    ]
    if statements:
        vulnerabilities = apply_vex(vulnerabilities, statements, resolution.subject)
    vulnerabilities = [settle_fix(v) for v in vulnerabilities]
    return {
        "subject": resolution.subject,
        "image": _merge_images(images),
        "vulnerabilities": sorted(vulnerabilities, key=_worst_first),
        "secrets": _merge_all(
            (s for f in fragments for s in f.secrets),
            lambda s: (s.id, s.target, s.start_line),
            _merge_sources,
        ),
        "misconfigurations": _merge_all(
            (m for f in fragments for m in f.misconfigurations),
            lambda m: (m.id, m.target, m.start_line, m.message),
            _merge_sources,
        ),
        "licenses": _merge_all(
            (lic for f in fragments for lic in f.licenses),
            lambda lic: (lic.name, lic.package_name, lic.target),
            _merge_sources,
        ),
        "packages": merge_packages(p for f in fragments for p in f.packages),
        "attestations": match_attestations(
            (a for f in fragments for a in f.attestations), resolution.identity
        ),
        "evidence": resolution.evidence,
    }


def _merge_images(candidates: list[Image]) -> Image:
    """Field by field, the first candidate with a value wins.

    ``user`` is special: an empty string is a value (the image runs as root), only None
    means "not known".
    """
    values: dict[str, Any] = {}
    for name in Image.model_fields:
        for candidate in candidates:
            value = getattr(candidate, name)
            if value is not None and (name == "user" or value not in ("", [], {})):
                values[name] = value
                break
    return Image(**values)
