"""The stable identity of a result: the same finding of the same rule gives the same key.

Code scanning (SARIF ``partialFingerprints``, GitLab ``fingerprint``) uses it to update one
alert across runs instead of opening a new one, and baseline gating uses it to tell a
violation the baseline verdict already had from a new one. A key shared by two different
findings would let a new violation pass as an existing one, so everything in the finding
counts except what changes while the finding stays the same (advice, scores, messages).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gate.document import Subject
    from gate.verdict import Result

FINGERPRINT_NAME = "gateFinding/v1"
"""The key's version, as SARIF ``partialFingerprints`` names it; a new key needs a new name."""

VOLATILE_FINDING_FIELDS = frozenset(
    {
        # Change when a scanner's database does, while the finding stays the same.
        "fixed_versions",
        "aliases",
        "advisories",
        "severity",
        "cvss",
        "published",
        "description",
        "title",
        "msg",
        # A VEX statement changes what gate does about a finding, not which finding it is.
        "vex",
    }
)


def finding_key(result: Result) -> str:
    """Canonical JSON of the rule id and the identifying fields of the result's finding.

    Left out: the message, severity, fix versions, aliases and other advice that a newer
    scanner database rewrites. A package is named by its package URL without version,
    qualifiers and percent-encoding (``pkg:deb/debian/zlib1g``) when the finding has one:
    scanners spell the same package differently (``tomcat-embed-core`` and
    ``org.apache.tomcat.embed:tomcat-embed-core``; ``?distro=debian-12.5``; ``1%3A1.2``),
    and which spelling the merged finding keeps depends on the order of the inputs. A result
    without a finding is identified by its message: two such results of one rule must not
    share a key.
    """
    identity: dict[str, Any] = {"rule": result.id}
    if result.finding is None:
        identity["msg"] = result.msg
        return _canonical(identity)
    fields = {
        name: value for name, value in result.finding.items() if name not in VOLATILE_FINDING_FIELDS
    }
    purl = fields.pop("purl", None)
    if isinstance(purl, str) and purl.startswith("pkg:"):
        package, version = _purl_parts(purl)
        fields["package"] = package
        if fields.get("version") is None and version is not None:
            fields["version"] = version
    elif purl is not None:
        fields["purl"] = purl
    identity["finding"] = fields
    return _canonical(identity)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(result: Result, subject: Subject | None) -> str:
    """SHA-256 hex of :func:`finding_key` and the image's registry and repository.

    Neither the digest nor the tag counts: a rebuild of the same repository keeps its
    alerts (and its baseline), while two repositories never share one.
    """
    repository = {
        "registry": subject.registry if subject is not None else None,
        "repository": subject.repository if subject is not None else None,
    }
    text = finding_key(result) + "\n" + json.dumps(repository, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _purl_parts(purl: str) -> tuple[str, str | None]:
    """``pkg:type/ns/name@version?q#sub`` -> (``pkg:type/ns/name``, ``version``), decoded."""
    from urllib.parse import unquote

    base = purl.split("#", 1)[0].split("?", 1)[0]
    head, slash, last = base.rpartition("/")
    name, at, version = last.partition("@")
    return unquote(head + slash + name), (unquote(version) if at else None)


__all__ = ["FINGERPRINT_NAME", "VOLATILE_FINDING_FIELDS", "finding_key", "fingerprint"]
