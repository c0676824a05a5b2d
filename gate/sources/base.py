"""The source seam: recognise one input format and turn it into a document fragment."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, ClassVar, Protocol

from gate.document import (
    Attestation,
    FindingSource,
    Image,
    InventoryPackage,
    License,
    Misconfiguration,
    Package,
    ScanKind,
    Secret,
    Severity,
    Subject,
    Vulnerability,
)
from gate.errors import SourceError
from gate.inputs import InputFile as InputFile  # re-exported: sources take it
from gate.vex import VexStatement


@dataclass
class Fragment:
    """What one input file contributes to the document.

    Sources fill the scan facts (``tool`` … ``kinds``) and whatever findings and
    metadata the file holds; the core merges fragments and records the scan.
    ``subject`` holds hints (reference, digests) that the core combines across files.
    ``authority`` orders image metadata: higher wins when two files disagree
    (dedicated image metadata beats the copy a scanner embeds in its report).
    """

    format: str
    tool: str
    tool_version: str | None = None
    created: str | None = None
    artifact_name: str | None = None
    artifact_type: str | None = None
    artifact_digests: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    """Every other reference the file gives for its artifact (all of an image's tags)."""
    database: dict[str, str] = field(default_factory=dict)
    kinds: list[ScanKind] = field(default_factory=list)
    subject: Subject = field(default_factory=Subject)
    image: Image | None = None
    authority: int = 0
    vulnerabilities: list[Vulnerability] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    misconfigurations: list[Misconfiguration] = field(default_factory=list)
    licenses: list[License] = field(default_factory=list)
    packages: list[InventoryPackage] = field(default_factory=list)
    """SBOM inventory: merged by package URL across inputs."""
    vex: list[VexStatement] = field(default_factory=list)
    """VEX statements: applied to the merged vulnerabilities, never findings themselves."""
    attestations: list[Attestation] = field(default_factory=list)
    verdicts: list[VerdictClaim] = field(default_factory=list)
    """Earlier gate verdicts the file holds; their signatures are checked by the core."""
    signatures: list[SignatureClaim] = field(default_factory=list)
    """Image signatures the file holds; checked by the core against the trusted keys."""


@dataclass(frozen=True)
class VerdictClaim:
    """An earlier verdict as read, before its signature is checked."""

    stage: str | None
    decision: str | None
    evaluated_at: str | None
    policy_digest: str | None
    subject_digests: list[str]
    envelope: Any = None
    """The DSSE envelope it came in (None: an unsigned verdict file)."""
    source: str | None = None
    """Where it was found when not the input itself (a registry artifact)."""


@dataclass(frozen=True)
class SignatureClaim:
    """A cosign simple-signing payload and its base64 signature, before checking."""

    payload: bytes
    signature: str
    source: str | None = None
    """Where it was found when not the input itself (a registry tag)."""


class Source(Protocol):
    """One input format. Implementations are stateless; one module each under ``sources/``."""

    format: ClassVar[str]
    """Registry key and ``--type`` value, e.g. ``trivy-json``."""

    expected_shape: ClassVar[str]
    """What :meth:`matches` looks for, in words: the message when ``--type`` forces a misfit."""

    def matches(self, data: Any) -> bool:
        """Return True when parsed JSON ``data`` looks like this format (cheap, no deep walk)."""
        ...

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Normalise ``data`` read from ``source``; raise :class:`SourceError` if it is invalid."""
        ...


class Attributions:
    """The attributions of one report's findings to the tool that wrote it.

    One :class:`FindingSource` per (severity, severity source), shared by the findings that
    have them (nothing changes a model in place once built): a report of 10,000 findings
    has a handful, so building one per finding is waste.
    """

    def __init__(self, tool: str, source: InputFile) -> None:
        self.tool = tool
        self.input = source.path
        self._built: dict[tuple[Severity, str | None], FindingSource] = {}

    def __call__(self, rated: Severity, severity_source: str | None = None) -> FindingSource:
        """Return the attribution of a finding rated ``rated`` (by ``severity_source``'s word)."""
        key = (rated, severity_source)
        found = self._built.get(key)
        if found is None:
            found = self._built[key] = FindingSource(
                tool=self.tool, input=self.input, severity=rated, severity_source=severity_source
            )
        return found


# A report lists a package once for each of its vulnerabilities (three to five times is
# usual): its listings share one model (frozen), as findings share a CVSS rating.
@lru_cache(maxsize=8192)
def shared_package(
    name: str, version: str | None, type: str | None, purl: str | None, path: str | None
) -> Package:
    """The :class:`Package` named ``name`` at ``version`` (of ``type``, ``purl``, ``path``),
    one shared model per distinct package."""
    return Package(name=name, version=version, type=type, purl=purl, path=path)


def accepts_forced(source: Source, data: Any) -> bool:
    """Return True when ``data`` may be read as ``source``'s format because ``--type`` says so.

    The source's own ``matches`` decides, so that forcing a format never turns another
    tool's report into an empty scan; a source with a shape that only ``--type`` may claim
    (hadolint's ``[]``) widens this with its own ``accepts_forced``.
    """
    widened = getattr(source, "accepts_forced", None)
    return bool(widened(data)) if callable(widened) else source.matches(data)


def describe_json(data: Any) -> str:
    """Name the top-level shape of parsed JSON briefly, for messages (keys are quoted, capped)."""
    if isinstance(data, dict):
        if not data:
            return "an empty object"
        keys = [json.dumps(str(key)) for key in list(data)[:_KEYS_SHOWN]]
        more = f" and {len(data) - _KEYS_SHOWN} more" if len(data) > _KEYS_SHOWN else ""
        return f"an object with keys {', '.join(keys)}{more}"
    if isinstance(data, list):
        return f"an array of {len(data)} item{'s' if len(data) != 1 else ''}"
    if isinstance(data, str):
        return "a string"
    return "null" if data is None else f"the {type(data).__name__} {data!r}"


_KEYS_SHOWN = 6


def fail(source: InputFile, place: str, message: str) -> SourceError:
    """Build the error for a malformed value at JSON path ``place`` (e.g. ``Results[3].Target``)."""
    return SourceError(message, where=f"{source.path}: {place}" if place else source.path)


_SEVERITIES: dict[str, Severity] = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "medium": "medium",
    "moderate": "medium",
    "low": "low",
    "negligible": "negligible",
    "minimal": "negligible",
    "none": "negligible",
    "info": "negligible",
    "informational": "negligible",
    "unknown": "unknown",
    "unspecified": "unknown",
    "": "unknown",
}


def severity(value: Any) -> Severity:
    """Map a scanner's severity word (any case) onto gate's one scale; unrecognised → unknown."""
    if not isinstance(value, str):
        return "unknown"
    return _SEVERITIES.get(value.strip().lower(), "unknown")


_ZERO_TIMES = ("0001-01-01",)
_FRACTION = re.compile(r"\.(\d+)")


def rfc3339(value: Any) -> str | None:
    """Normalise a timestamp to RFC 3339 UTC with a ``Z`` (what Rego's time builtins take).

    Returns None for empty, zero (Go's ``0001-01-01…``) or unparseable values, since a
    wrong time is worse than none. Sub-second digits are kept up to nanoseconds.
    """
    if not isinstance(value, str) or not value.strip() or value.startswith(_ZERO_TIMES):
        return None
    return _rfc3339(value)


# Reports repeat their timestamps (a CVE's publication date in every package it affects).
@lru_cache(maxsize=8192)
def _rfc3339(value: str) -> str | None:
    text = value.strip().replace(" ", "T", 1) if "T" not in value else value.strip()
    fraction = ""
    match = _FRACTION.search(text)
    if match:
        fraction = match.group(1)[:9].rstrip("0")
        text = text[: match.start()] + text[match.end() :]
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        # OverflowError: a time at the edge of year 1 or 9999 whose UTC falls outside them
        utc = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    stamp = utc.replace(tzinfo=None, microsecond=0).isoformat()
    return f"{stamp}.{fraction}Z" if fraction else f"{stamp}Z"


_ECOSYSTEM_TO_PURL = {
    # Trivy result types, Grype artifact types and Snyk package managers → package URL types
    "alpine": "apk",
    "apk": "apk",
    "wolfi": "apk",
    "chainguard": "apk",
    "debian": "deb",
    "ubuntu": "deb",
    "deb": "deb",
    "redhat": "rpm",
    "rhel": "rpm",
    "centos": "rpm",
    "rocky": "rpm",
    "alma": "rpm",
    "almalinux": "rpm",
    "amazon": "rpm",
    "amzn": "rpm",
    "oracle": "rpm",
    "fedora": "rpm",
    "photon": "rpm",
    "suse linux enterprise server": "rpm",
    "opensuse": "rpm",
    "opensuse.leap": "rpm",
    "opensuse.tumbleweed": "rpm",
    "sles": "rpm",
    "cbl-mariner": "rpm",
    "azurelinux": "rpm",
    "rpm": "rpm",
    "jar": "maven",
    "pom": "maven",
    "gradle": "maven",
    "sbt": "maven",
    "java-archive": "maven",
    "jenkins-plugin": "maven",
    "java": "maven",
    "maven": "maven",
    "npm": "npm",
    "yarn": "npm",
    "pnpm": "npm",
    "node-pkg": "npm",
    "bun": "npm",
    "python": "pypi",
    "python-pkg": "pypi",
    "pip": "pypi",
    "pipenv": "pypi",
    "poetry": "pypi",
    "uv": "pypi",
    "pypi": "pypi",
    "gemspec": "gem",
    "rubygems": "gem",
    "bundler": "gem",
    "gem": "gem",
    "gobinary": "golang",
    "gomod": "golang",
    "go-module": "golang",
    "golang": "golang",
    "gomodules": "golang",
    "golangdep": "golang",
    "govendor": "golang",
    "cargo": "cargo",
    "rust-binary": "cargo",
    "rust-crate": "cargo",
    "nuget": "nuget",
    "dotnet-core": "nuget",
    "dotnet": "nuget",
    "packages-props": "nuget",
    "paket": "nuget",
    "composer": "composer",
    "php-composer": "composer",
    "php-pecl": "pecl",
    "conan": "conan",
    "cocoapods": "cocoapods",
    "pod": "cocoapods",
    "swift": "swift",
    "hex": "hex",
    "pub": "pub",
    "dart-pub": "pub",
    "conda": "conda",
    "conda-pkg": "conda",
    "binary": "generic",
    "cpp": "generic",
    "unmanaged": "generic",
    "linux-kernel": "generic",
    "linux-kernel-module": "generic",
}


def purl_type(ecosystem: str | None, purl: str | None = None) -> str | None:
    """Return the package URL type for a scanner's ecosystem name (the purl's own type wins)."""
    if purl and purl.startswith("pkg:"):
        kind = purl[4:].split("/", 1)[0].lower()
        if kind:
            return kind
    if not ecosystem:
        return None
    key = ecosystem.strip().lower()
    return _ECOSYSTEM_TO_PURL.get(key, key or None)


def licensed_package(name: str | None) -> Package | None:
    """The package a licence finding names only by ``name``; None for a file's licence."""
    return Package(name=name) if name else None


def text(value: Any) -> str | None:
    """Return ``value`` when it is a non-empty string, else None."""
    return value if isinstance(value, str) and value.strip() else None


def strings(value: Any) -> list[str]:
    """Return the non-empty strings of a JSON list (anything else → empty list)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str) and item.strip()]
