"""Merge fragments from several inputs into one document, in time linear in the findings.

Rules, documented in the README:
- A vulnerability is one entry per (id, package type, package name, package version),
  with package names compared as the ecosystem does (see :func:`package_name_key`).
  The same key from several scanners (or several times in one report) merges: every
  source is kept with its own severity, the entry's severity is the highest, aliases,
  fixed versions and URLs are unions in first-seen order.
- Secrets merge on (rule, file, line), misconfigurations on (id, target, line, message),
  licences on (name, package, target).
- Subject and image fields come from the input with the highest authority that has a
  value: ``--image`` beats dedicated image metadata (docker inspect, image config,
  manifest) which beats what a scanner copied into its report; ties go to input order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from gate.document import (
    SEVERITY_ORDER,
    Cvss,
    FindingSource,
    Image,
    License,
    Misconfiguration,
    Secret,
    Severity,
    Subject,
    Vulnerability,
)

if TYPE_CHECKING:  # sources use this module: importing them here would be circular
    from gate.sources.base import Fragment

T = TypeVar("T", Vulnerability, Secret, Misconfiguration, License)


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


def _merge_vulnerability(old: Vulnerability, new: Vulnerability) -> Vulnerability:
    package = old.package
    if (package.purl is None and new.package.purl) or (package.path is None and new.package.path):
        package = package.model_copy(
            update={
                "purl": package.purl or new.package.purl,
                "path": package.path or new.package.path,
            }
        )
    fixed = _union(old.fixed_versions, new.fixed_versions)
    status = old.status if old.status != "unknown" else new.status
    if fixed and status in ("unknown", "affected"):
        status = "fixed"
    return old.model_copy(
        update={
            "aliases": [a for a in _union(old.aliases, new.aliases) if a.upper() != old.id.upper()],
            "severity": _higher(old.severity, new.severity),
            "cvss": new.cvss if cvss_rank(new.cvss) > cvss_rank(old.cvss) else old.cvss,
            "package": package,
            "fixed_versions": fixed,
            "fix_available": bool(fixed) or old.fix_available or new.fix_available,
            "status": status,
            "title": old.title or new.title,
            "description": old.description or new.description,
            "urls": _union(old.urls, new.urls),
            "published": old.published or new.published,
            "sources": _merge_attributions(old.sources, new.sources),
        }
    )


def _merge_sources(old: T, new: T) -> T:
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
    core on all fragments together (one entry per finding across scanners).
    """
    return _merge_all(items, vulnerability_key, _merge_vulnerability)


def _worst_first(vuln: Vulnerability) -> tuple[int, str, str, str]:
    return (
        -SEVERITY_ORDER.index(vuln.severity),
        vuln.id,
        vuln.package.name,
        vuln.package.version or "",
    )


def merge_fragments(
    fragments: list[Fragment], image_reference: Subject | None = None
) -> dict[str, Any]:
    """Combine fragments into the keyword arguments of :class:`gate.document.Document`."""
    ranked = sorted(range(len(fragments)), key=lambda i: -fragments[i].authority)
    subjects = [fragments[i].subject for i in ranked]
    if image_reference is not None:
        subjects.insert(0, image_reference)
    images = [image for i in ranked if (image := fragments[i].image) is not None]
    return {
        "subject": _merge_subjects(subjects),
        "image": _merge_images(images),
        "vulnerabilities": sorted(
            merge_vulnerabilities(v for f in fragments for v in f.vulnerabilities),
            key=_worst_first,
        ),
        "secrets": _merge_all(
            (s for f in fragments for s in f.secrets),
            lambda s: (s.rule_id, s.target, s.start_line),
            _merge_sources,
        ),
        "misconfigurations": _merge_all(
            (m for f in fragments for m in f.misconfigurations),
            lambda m: (m.id, m.target, m.start_line, m.message),
            _merge_sources,
        ),
        "licenses": _merge_all(
            (lic for f in fragments for lic in f.licenses),
            lambda lic: (lic.name, lic.package, lic.target),
            _merge_sources,
        ),
    }


_NAME_FIELDS = ("reference", "registry", "repository", "tag")


def _merge_subjects(candidates: list[Subject]) -> Subject:
    """Name fields come together from the first subject with a reference; ids one by one."""
    named = next((s for s in candidates if s.reference), Subject())
    values = {name: getattr(named, name) for name in _NAME_FIELDS}
    for name in ("digest", "image_id"):
        values[name] = next((getattr(s, name) for s in candidates if getattr(s, name)), None)
    return Subject(**values)


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
