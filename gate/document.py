"""The normalised document: the one shape every policy sees as ``input``.

Field names here are the contract policy authors write against; the JSON Schema generated
from these models is committed as ``gate/schema/document.schema.json`` and printed by
``gate schema``. Change a name and every organisation's policies break: add, never rename,
unless ``SCHEMA_VERSION`` changes with it (v2 gave each idea one name: ``input`` for the
input file, ``id``, a Package object for a package, ``*_count`` for counts).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "2"
SCHEMA_ID = "https://gate.dev/schema/document/v2.json"

Severity = Literal["critical", "high", "medium", "low", "negligible", "unknown"]
SEVERITY_ORDER: tuple[Severity, ...] = (
    "unknown",
    "negligible",
    "low",
    "medium",
    "high",
    "critical",
)
"""Severities from least to most severe; ``unknown`` ranks lowest for sorting only."""

FixStatus = Literal[
    "fixed",
    "affected",
    "not_fixed",
    "will_not_fix",
    "fix_deferred",
    "end_of_life",
    "not_affected",
    "unknown",
]


class Model(BaseModel):
    """Base of all document models: immutable in spirit, strict about unknown keys."""

    # defer_build: a model's validator is built when first used, not at import. A check
    # uses about half of the document and verdict models; the rest serve `gate schema`.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class Subject(Model):
    """The image being promoted."""

    reference: str | None = Field(
        None, description="Full reference, e.g. 'ghcr.io/acme/api:1.2.3@sha256:…'."
    )
    registry: str | None = Field(None, description="Registry host, e.g. 'ghcr.io', 'docker.io'.")
    repository: str | None = Field(None, description="Repository path, e.g. 'acme/api'.")
    tag: str | None = Field(
        None,
        description="The tag being gated, e.g. '1.2.3': the one --image names, else the "
        "first tag of the image metadata (or of the first input naming the image) that "
        "agrees with it; null when unknown or untagged. Every tag is in 'tags'.",
    )
    tags: list[str] = Field(
        default_factory=list,
        description="Every tag the inputs name for this image (docker inspect RepoTags, a "
        "scan's artifact name and RepoTags, …), 'tag' first, then in input order, without "
        "repeats; tags of other repositories that name the same image are included. Rules "
        "about tag conventions read these: an image tagged both '1.2.3' and 'latest' has both "
        "here.",
    )
    digest: str | None = Field(
        None, description="Manifest (repo) digest 'sha256:…' of the image, when known."
    )
    image_id: str | None = Field(
        None, description="Image ID (config digest 'sha256:…'), when known."
    )
    index_digest: str | None = Field(
        None,
        description="Digest of the image index the platform manifest (digest) was picked "
        "from, when the image was read from a registry through an index.",
    )
    names: list[str] = Field(
        default_factory=list,
        description="Every reference under which the inputs themselves name this image (the "
        "metadata's tags, the targets of scans about it); --image alone adds none. Waiver "
        "'image:' scopes are matched against these.",
    )


class Healthcheck(Model):
    """The image's HEALTHCHECK instruction."""

    test: list[str] = Field(default_factory=list, description="Command, e.g. ['CMD', 'curl', …].")
    interval: str | None = Field(None, description="Interval between checks (Go duration).")
    timeout: str | None = Field(None, description="Timeout of one check (Go duration).")
    retries: int | None = Field(None, description="Consecutive failures before unhealthy.")


class Layer(Model):
    """One filesystem layer."""

    digest: str | None = Field(None, description="Layer blob digest or diff ID.")
    size: int | None = Field(None, description="Compressed size in bytes, when known.")
    media_type: str | None = Field(None, description="Layer media type, when known.")


class BaseImage(Model):
    """The base image this image was built from, when recorded."""

    name: str | None = Field(
        None,
        description="From 'org.opencontainers.image.base.name', e.g. 'docker.io/library/alpine'.",
    )
    digest: str | None = Field(None, description="From 'org.opencontainers.image.base.digest'.")
    source: str | None = Field(
        None,
        description="Where this came from: 'label' (OCI base labels/annotations), 'snyk' "
        "(Snyk's docker.baseImage), 'provenance' (SLSA materials).",
    )
    outdated: bool | None = Field(
        None, description="True when a scanner says a newer base image exists (Snyk)."
    )
    remediation: str | None = Field(
        None, description="The scanner's advice for a better base image, as written."
    )


class Image(Model):
    """Image configuration and metadata."""

    created: str | None = Field(None, description="Build time, RFC 3339 UTC ('…Z').")
    user: str | None = Field(
        None,
        description="The configured USER, as written. Null means unknown: no image "
        "configuration was read, which is no evidence of root (rules about the image "
        "configuration stay silent, image-metadata-missing reports the gap). Root is a string "
        "whose user part (before any ':group', spaces trimmed) is empty, '0' or 'root', e.g. "
        "'', '0', 'root', '0:0', 'root:wheel'. Any other name or uid is not root: only the "
        "image's /etc/passwd could map a name to uid 0, and the document does not carry it.",
    )
    env: dict[str, str] = Field(default_factory=dict, description="Environment, NAME → value.")
    labels: dict[str, str] = Field(default_factory=dict, description="Image labels.")
    exposed_ports: list[str] = Field(
        default_factory=list, description="Exposed ports, e.g. ['80/tcp'], sorted."
    )
    entrypoint: list[str] | None = Field(None, description="ENTRYPOINT, when set.")
    cmd: list[str] | None = Field(None, description="CMD, when set.")
    workdir: str | None = Field(None, description="WORKDIR, when set.")
    healthcheck: Healthcheck | None = Field(None, description="HEALTHCHECK; null when none.")
    os: str | None = Field(None, description="Image OS, e.g. 'linux'.")
    architecture: str | None = Field(None, description="CPU architecture, e.g. 'amd64'.")
    variant: str | None = Field(None, description="Architecture variant, e.g. 'v8'.")
    size: int | None = Field(None, description="Image size in bytes, when known.")
    layers: list[Layer] = Field(default_factory=list, description="Layers, base first.")
    base: BaseImage | None = Field(None, description="Base image from OCI labels, when present.")
    os_family: str | None = Field(
        None, description="Distribution, lower case, e.g. 'debian', 'alpine', 'redhat'."
    )
    os_version: str | None = Field(None, description="Distribution version, e.g. '12.4'.")


class Cvss(Model):
    """A CVSS rating."""

    # Shared by every finding with the same rating (gate.sources.cvss): never changed in place.
    model_config = ConfigDict(frozen=True)

    score: float | None = Field(None, description="Base score 0.0–10.0.")
    vector: str | None = Field(None, description="Vector string, e.g. 'CVSS:3.1/AV:N/…'.")
    version: str | None = Field(None, description="CVSS version, e.g. '3.1', '2.0', '4.0'.")
    source: str | None = Field(None, description="Who rated it, e.g. 'nvd', 'redhat'.")


class Package(Model):
    """The package a finding is in."""

    # Shared by the listings of one package (gate.sources.base.shared_package): never
    # changed in place, only copied.
    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Package name as the ecosystem spells it.")
    version: str | None = Field(None, description="Installed version.")
    type: str | None = Field(
        None,
        description="Package URL type: 'deb', 'apk', 'rpm', 'maven', 'npm', 'pypi', 'golang', …",
    )
    purl: str | None = Field(None, description="Package URL, when known.")
    path: str | None = Field(None, description="File the package was found in, when known.")
    unresolved: str | None = Field(
        None,
        description="Set when the report names no package for the finding (a reference that "
        "resolves to nothing, to the image itself or to its operating system): why. The "
        "finding is kept, as one of the image; 'name' is then what the reference named.",
    )


class FindingSource(Model):
    """One scanner's report of a finding, with that scanner's own opinion of it."""

    tool: str = Field(description="Scanner name, lower case: 'trivy', 'grype', …")
    input: str = Field(description="File name of the report it came from.")
    severity: Severity = Field(description="Severity this scanner gave.")
    severity_source: str | None = Field(
        None, description="Whose severity the scanner used, e.g. 'nvd', 'debian'."
    )


VexStatus = Literal["not_affected", "affected", "fixed", "under_investigation"]


class VexAssessment(Model):
    """The VEX statement that applies to a vulnerability (the latest, when several do)."""

    status: VexStatus = Field(
        description="'not_affected', 'affected', 'fixed' or 'under_investigation' (OpenVEX terms)."
    )
    justification: str | None = Field(
        None,
        description="Why not affected, e.g. 'vulnerable_code_not_present' (OpenVEX / CycloneDX "
        "/ CSAF flag names as written); null when the statement gives none.",
    )
    impact_statement: str | None = Field(None, description="Free-text impact statement.")
    action_statement: str | None = Field(None, description="What to do, for 'affected'.")
    timestamp: str | None = Field(None, description="When the statement was made, RFC 3339 UTC.")
    input: str = Field(description="Input file of the VEX document.")
    document_id: str | None = Field(None, description="Id of the VEX document, when it has one.")
    author: str | None = Field(None, description="Author or publisher of the VEX document.")


class Epss(Model):
    """FIRST's Exploit Prediction Scoring System estimate for a CVE."""

    score: float = Field(
        ge=0, le=1, description="Probability of exploitation in the next 30 days, 0–1."
    )
    percentile: float | None = Field(
        None, ge=0, le=1, description="Share of all scored CVEs scored at or below it, 0–1."
    )
    date: str | None = Field(None, description="Day the score was computed, 'YYYY-MM-DD'.")


class Vulnerability(Model):
    """One vulnerability in one package version, merged across scanners."""

    id: str = Field(description="Primary id: the CVE when one is known, else the scanner's id.")
    aliases: list[str] = Field(
        default_factory=list,
        description="Other ids of this same vulnerability (GHSA, OSV, a distro's per-CVE id); "
        "findings sharing one are one vulnerability, and waivers and VEX match them.",
    )
    advisories: list[str] = Field(
        default_factory=list,
        description="Vendor advisories that cover this vulnerability (RHSA, DSA, USN, ALAS…), "
        "or the id of a scanner listing that named several CVEs; an advisory may cover many "
        "vulnerabilities, so it never joins findings and waivers and VEX never match it.",
    )
    severity: Severity = Field(description="Highest severity any source gave.")
    cvss: Cvss | None = Field(
        None, description="Preferred CVSS rating (newest version, NVD first)."
    )
    package: Package = Field(description="Affected package.")
    fixed_versions: list[str] = Field(
        default_factory=list,
        description="Versions that fix it, lowest first in the package ecosystem's version "
        "order (deb, rpm, apk, maven, npm, pypi, golang, gem, nuget, composer, cargo, …); in "
        "the scanners' order when the ecosystem is not one of those or a version does not "
        "parse. Empty when no fixed version is known. Fixes on other release lines are "
        "included: read fix_version for the one to upgrade to.",
    )
    fix_version: str | None = Field(
        None,
        description="The version to upgrade to: the lowest of fixed_versions not below the "
        "installed version. Null when no fixed version is known, when the installed version "
        "or the ecosystem's version order is unknown, or when every fixed version is below "
        "the installed one; advice then names all of fixed_versions.",
    )
    fix_available: bool = Field(
        description="True exactly when a fix is released: fixed_versions is not empty or "
        "status is 'fixed' (a scanner can know a fix exists without naming its version). "
        "The one field to test for 'is it fixable'."
    )
    status: FixStatus = Field(
        "unknown",
        description="Fix state: 'fixed' (a fix is released), 'affected' / 'not_fixed' (none "
        "yet), 'will_not_fix', 'fix_deferred', 'end_of_life', 'not_affected' (the vendor "
        "says so), 'unknown'. When a fixed version is known, 'unknown', 'affected' and "
        "'not_fixed' become 'fixed'; the vendor's other statements are kept as they are "
        "(a distribution's 'will_not_fix' with an upstream fixed version from another "
        "scanner), and fix_available is then true all the same.",
    )
    title: str | None = Field(None, description="Short title.")
    description: str | None = Field(None, description="Longer description.")
    urls: list[str] = Field(default_factory=list, description="Primary URL first, then references.")
    published: str | None = Field(
        None, description="Publication date, RFC 3339 UTC, where the scanner has it."
    )
    epss: Epss | None = Field(
        None,
        description="EPSS estimate the scanner attached (Grype ≥ 0.88; Trivy does not carry "
        "it); the most recent when several sources give one. Null when none did: no "
        "evidence of a low probability.",
    )
    known_exploited: bool = Field(
        False,
        description="True when a source lists it as known exploited (CISA KEV: Grype's "
        "knownExploited). False means no input said so, not that it is not exploited.",
    )
    cwes: list[str] = Field(
        default_factory=list,
        description="CWE ids of the weakness, as 'CWE-79' (Trivy CweIDs, Grype cwes, "
        "CycloneDX cwes), union across sources.",
    )
    sources: list[FindingSource] = Field(description="Every scanner that reported it.")
    vex: VexAssessment | None = Field(
        None, description="The VEX statement that applies, when any VEX input covers it."
    )


class Secret(Model):
    """A secret found in the image or repository."""

    id: str = Field(description="Scanner rule id, e.g. 'aws-access-key-id'.")
    category: str | None = Field(None, description="Category, e.g. 'AWS'.")
    severity: Severity = Field(description="Severity.")
    title: str | None = Field(None, description="Title.")
    target: str | None = Field(None, description="File the secret is in.")
    start_line: int | None = Field(None, description="First line of the match.")
    end_line: int | None = Field(None, description="Last line of the match.")
    match: str | None = Field(None, description="Matched text as the scanner redacted it.")
    layer: str | None = Field(None, description="Layer digest/diff ID it was found in.")
    sources: list[FindingSource] = Field(description="Every scanner that reported it.")


class Misconfiguration(Model):
    """A failed configuration check (Dockerfile, Kubernetes, IaC…)."""

    id: str = Field(description="Check id, e.g. 'DS002', 'AVD-AWS-0086'.")
    aliases: list[str] = Field(default_factory=list, description="Other ids of the same check.")
    type: str | None = Field(None, description="Config type, e.g. 'dockerfile', 'terraform'.")
    title: str | None = Field(None, description="Title of the check.")
    description: str | None = Field(None, description="What the check verifies.")
    message: str | None = Field(None, description="What failed here.")
    severity: Severity = Field(description="Severity.")
    status: str = Field("fail", description="Result: 'fail' (only failures are recorded).")
    resolution: str | None = Field(None, description="How to fix it.")
    target: str | None = Field(None, description="File or resource checked.")
    start_line: int | None = Field(None, description="First line of the offending code.")
    urls: list[str] = Field(default_factory=list, description="References.")
    sources: list[FindingSource] = Field(description="Every scanner that reported it.")


class License(Model):
    """A licence detected in a package or file."""

    name: str = Field(description="Licence name or SPDX id, e.g. 'GPL-3.0-only'.")
    severity: Severity = Field("unknown", description="Severity the scanner gave.")
    category: str | None = Field(
        None, description="Scanner category, e.g. 'forbidden', 'restricted', 'notice'."
    )
    package: Package | None = Field(
        None, description="Package the licence is of; null when it is the licence of a file."
    )
    target: str | None = Field(None, description="File or package path.")
    confidence: float | None = Field(None, description="Detection confidence 0–1, for files.")
    sources: list[FindingSource] = Field(description="Every scanner that reported it.")

    @property
    def package_name(self) -> str | None:
        """Name of the package the licence is of; None for the licence of a file."""
        return self.package.name if self.package else None


class Attribution(Model):
    """Which input said something."""

    tool: str = Field(description="Producing tool, lower case: 'syft', 'trivy', …")
    input: str = Field(description="File name of the input.")


class InventoryPackage(Model):
    """A package an SBOM (or scanner inventory) lists, merged by package URL."""

    name: str = Field(description="Package name as the ecosystem spells it.")
    version: str | None = Field(None, description="Version.")
    type: str | None = Field(None, description="Package URL type: 'deb', 'apk', 'npm', …")
    purl: str | None = Field(None, description="Package URL, when known.")
    licenses: list[str] = Field(
        default_factory=list,
        description="Licences as SPDX expressions where the input gives them (declared first, "
        "then concluded), else as written.",
    )
    cpes: list[str] = Field(default_factory=list, description="CPE names.")
    locations: list[str] = Field(default_factory=list, description="Files it was found in.")
    sources: list[Attribution] = Field(description="Every input that listed it.")


class Material(Model):
    """A build input recorded in provenance."""

    uri: str | None = Field(None, description="Where it came from, e.g. 'git+https://…'.")
    digest: dict[str, str] = Field(default_factory=dict, description="Algorithm → hex digest.")


AttestationKind = Literal["provenance", "sbom", "vulnerability-scan", "vex", "other"]


class Attestation(Model):
    """An in-toto statement (provenance, SBOM, …) about an artifact, as present in the inputs.

    Presence only: signatures are recorded as present or not, never as verified.
    """

    kind: AttestationKind = Field(description="What the predicate is, from its predicate type.")
    predicate_type: str | None = Field(None, description="In-toto predicate type URI.")
    subjects: list[dict[str, Any]] = Field(
        default_factory=list, description="Statement subjects: [{'name', 'digest': {alg: hex}}]."
    )
    subject_digests: list[str] = Field(
        default_factory=list, description="Subject digests as 'sha256:…', for easy matching."
    )
    matches_subject: bool | None = Field(
        None,
        description="True when a statement subject digest equals the gated image's digest or "
        "image ID; null when either is unknown.",
    )
    builder_id: str | None = Field(None, description="Builder id (SLSA builder.id).")
    build_type: str | None = Field(None, description="SLSA buildType.")
    source_repository: str | None = Field(None, description="Source repository URI.")
    source_revision: str | None = Field(None, description="Source revision (commit).")
    materials: list[Material] = Field(
        default_factory=list, description="Build inputs (SLSA materials / resolvedDependencies)."
    )
    envelope: Literal["none", "dsse", "sigstore-bundle", "oci-manifest"] = Field(
        "none", description="How the statement was wrapped."
    )
    signed: bool = Field(
        False, description="True when the envelope carries a signature (NOT verified)."
    )
    packages: int | None = Field(
        None,
        description="For an SBOM attestation whose content is in the input: how many packages "
        "its SBOM lists (0: an empty SBOM describes nothing). Null when the content is not "
        "in the input (a referrer manifest) or for other kinds.",
    )
    input: str = Field(description="Input file it came from.")


ScanKind = Literal[
    "vulnerability",
    "secret",
    "misconfiguration",
    "license",
    "metadata",
    "sbom",
    "vex",
    "attestation",
]


SubjectMatch = Literal["defines", "digest", "name", "other-image", "unnamed", "unverifiable"]


class Evidence(Model):
    """Whether an input is about the image being gated, and so what it can prove."""

    match: SubjectMatch = Field(
        description="How the input relates to the gated image: 'defines' (image metadata or "
        "--image: where the identity comes from), 'digest' (one of its digests is the image's), "
        "'name' (same registry and repository, and tag when both have one; no digests to "
        "compare), 'other-image' (it names another image), 'unnamed' (it names no image), "
        "'unverifiable' (it names an image, but the gated image is known by nothing "
        "comparable)."
    )
    names: list[str] = Field(
        default_factory=list,
        description="What the input names: image references, digests, pkg:oci URLs.",
    )
    counts_for: list[ScanKind] = Field(
        default_factory=list,
        description="The kinds this input proves about the gated image: its kinds when it is "
        "about it ('defines', 'digest', 'name'), none otherwise; an SBOM without packages "
        "is not an SBOM of anything. Required-evidence rules count only these.",
    )
    note: str | None = Field(
        None, description="Why the input counts for less than its kinds, for messages."
    )


class Scan(Model):
    """One input file and what it says about where it came from."""

    tool: str = Field(description="Producing tool, lower case: 'trivy', 'grype', 'docker', 'oci'.")
    tool_version: str | None = Field(None, description="Tool version, when recorded.")
    format: str = Field(description="Input format gate detected, e.g. 'trivy-json'.")
    kinds: list[ScanKind] = Field(
        default_factory=list, description="What this scan looked for (covered), sorted."
    )
    created: str | None = Field(None, description="When the scan ran, RFC 3339 UTC.")
    artifact_name: str | None = Field(None, description="What was scanned, as the tool named it.")
    artifact_type: str | None = Field(
        None, description="'container_image', 'filesystem', 'repository', …"
    )
    artifact_digests: list[str] = Field(
        default_factory=list,
        description="Digests of the scanned artifact (image ID and repo digests 'sha256:…').",
    )
    database: dict[str, str] = Field(
        default_factory=dict, description="Vulnerability database facts, e.g. built, schema."
    )
    input: str = Field(description="Path of the input file as given.")
    input_sha256: str = Field(description="SHA-256 of the input file's bytes.")
    finding_count: int = Field(
        0,
        description="Findings this file contributed (vulnerabilities, secrets, "
        "misconfigurations, licences), after merging its own repeats.",
    )
    package_count: int = Field(0, description="SBOM packages this file listed.")
    vex_statement_count: int = Field(0, description="VEX statements this file made.")
    attestation_count: int = Field(0, description="Attestations this file carried.")
    evidence: Evidence = Field(
        default_factory=lambda: Evidence(match="unnamed"),
        description="Whether this input is about the gated image (only then does it count).",
    )


SignatureState = Literal["verified", "unverified", "untrusted", "invalid", "unsigned"]
"""verified: a trusted key verified it; unverified: signed, but no trusted key was given to
check it; untrusted: signed by keys that are not trusted; invalid: a trusted key's
signature that does not verify, or a malformed signature; unsigned: no signature."""


class PreviousVerdict(Model):
    """A verdict of an earlier evaluation (attached to the image in its registry, or given as
    a file): the proof ``promotion-order`` looks for that the previous stage passed."""

    input: str = Field(description="Input file, or the registry artifact it was read from.")
    stage: str | None = Field(None, description="Stage it was evaluated for.")
    decision: Literal["pass", "fail"] | None = Field(None, description="Its decision.")
    evaluated_at: str | None = Field(None, description="When it was evaluated, RFC 3339 UTC.")
    policy_digest: str | None = Field(None, description="Digest of the policy set it used.")
    subject_digests: list[str] = Field(
        default_factory=list, description="Digests of the image(s) it is about."
    )
    about_subject: bool = Field(
        description="True when one of subject_digests is subject.digest or subject.index_digest."
    )
    signature: SignatureState = Field(description="What checking its signature found.")
    signer: str | None = Field(None, description="Key id ('sha256:…') that signed it.")
    signature_reason: str = Field(description="What the signature check found, in words.")


class Promotion(Model):
    """What the run knows about the image's way through the stages."""

    enforced: bool = Field(
        False,
        description="True for `gate promote` and when the image was read from a registry: "
        "a missing previous-stage verdict then blocks instead of warning.",
    )
    trust_keys: int = Field(
        0, description="How many trusted keys (--trust-key) signatures are checked against."
    )
    verdicts: list[PreviousVerdict] = Field(
        default_factory=list, description="Every earlier verdict found, counted or not."
    )


class ImageSignature(Model):
    """A signature of an image manifest (cosign, key-based), and what checking it found."""

    kind: Literal["cosign"] = Field(description="Signature scheme.")
    input: str = Field(description="Input file, or the registry tag it was read from.")
    signed_digest: str | None = Field(None, description="Manifest digest the signed payload names.")
    docker_reference: str | None = Field(
        None, description="Image reference the signed payload names."
    )
    about_subject: bool = Field(
        description="True when signed_digest is subject.digest or subject.index_digest."
    )
    state: SignatureState = Field(description="What checking the signature found.")
    verified: bool = Field(
        description="True only when a trusted key verified it (state 'verified')."
    )
    key_id: str | None = Field(None, description="Key id ('sha256:…') of the signing key.")
    reason: str = Field(description="What the check found, in words.")


class Context(Model):
    """The evaluation this document is for."""

    stage: str = Field(description="Promotion stage being gated, e.g. 'prod'.")
    evaluated_at: str = Field(description="Evaluation time, RFC 3339 UTC; policies' 'now'.")


class Document(Model):
    """The normalised document a policy sees as ``input``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "$id": SCHEMA_ID,
            "$schema": "https://json-schema.org/draft/2020-12/schema",
        },
    )

    schema_version: Literal["2"] = Field("2", description="Document schema version.")
    subject: Subject = Field(default_factory=Subject, description="The image being promoted.")
    image: Image = Field(default_factory=Image, description="Image configuration and metadata.")
    vulnerabilities: list[Vulnerability] = Field(
        default_factory=list, description="Vulnerabilities, one per id and package version."
    )
    secrets: list[Secret] = Field(default_factory=list, description="Secrets found.")
    misconfigurations: list[Misconfiguration] = Field(
        default_factory=list, description="Failed configuration checks."
    )
    licenses: list[License] = Field(default_factory=list, description="Licences detected.")
    packages: list[InventoryPackage] = Field(
        default_factory=list, description="Packages SBOMs list, one per package URL."
    )
    attestations: list[Attestation] = Field(
        default_factory=list, description="Provenance and other attestations present."
    )
    signatures: list[ImageSignature] = Field(
        default_factory=list, description="Image signatures found, verified or not."
    )
    promotion: Promotion = Field(
        default_factory=Promotion, description="Earlier verdicts on the way to this stage."
    )
    scans: list[Scan] = Field(default_factory=list, description="Every input, in the order given.")
    context: Context = Field(description="The stage and time of this evaluation.")


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema of :class:`Document` as committed in ``gate/schema``."""
    return Document.model_json_schema(mode="serialization")


def json_schema_text() -> str:
    """Return the JSON Schema as the exact text committed (sorted keys, trailing newline)."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def severity_rank(severity: str) -> int:
    """Rank a severity for comparison: higher is more severe."""
    return SEVERITY_ORDER.index(severity)
