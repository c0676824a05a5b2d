"""SARIF 2.1.0 logs (``--format sarif``) from Trivy, Grype, Snyk, Dockle or any other scanner.

SARIF gives every scanner the same envelope (runs → rules + results) and leaves what a
finding *is* to free text, so each scanner's conventions are read where it writes them.
One fragment per file. Its tool and version come from the first run's ``tool.driver``
(``name`` shortened to ``trivy``, ``grype`` (also old Grype's "Anchore …"), ``snyk`` (every
"Snyk …" product), ``dockle``, else the lower-cased name; ``version``, else
``semanticVersion``); every finding is attributed to the tool of its own run. ``created``
is the first invocation's ``endTimeUtc`` (else ``startTimeUtc``).

Results whose ``kind`` is ``pass`` or ``notApplicable``, or whose ``baselineState`` is
``absent``, are not findings and are skipped. ``suppressions`` are ignored: a gate takes
exceptions from VEX and waivers, not from the scanner's own output.

What a result becomes:

* a **secret** / **licence** when its rule is tagged ``secret`` / ``license`` (Trivy's
  ``properties.tags``); a **misconfiguration** when tagged ``misconfiguration``;
* otherwise a **vulnerability** when it names both an advisory id and a package;
* otherwise a **misconfiguration** (Dockle, Trivy config checks, any other tool).

Text fields. Trivy and Grype write ``Key: value`` lines (``Package:``, ``Installed
Version:`` / ``Version:``, ``Fixed Version:`` / ``Fix Version:``, ``Type:``, ``Severity:``,
``Message:``, ``Match:``, ``Link: [id](url)``) and a ``Vulnerability <id>`` line; they are
read from the result's message first, then from the rule's help text (Trivy writes one rule
per advisory, whose help names only the first package it met).

Vulnerability ids: the ``Vulnerability <id>`` line; the CVEs in parentheses heading a Snyk
rule's ``fullDescription`` (``(CVE-…,CVE-…) name@version``); a CVE or GHSA id inside the
``ruleId`` (Grype's rule ids are ``<id>-<package>``); the ``ruleId`` itself for Snyk rules
and rules tagged ``vulnerability``. The first CVE is the id, the others (Snyk ``SNYK-…``
ids, GHSA) aliases; without a CVE the first id found is the id. A result naming several
CVEs (a Snyk issue for two curl CVEs) is one finding per CVE, its other ids advisories
(:func:`gate.identifiers.split_listing`).

Package: Grype's result sentence ("The path P reports NAME at version V … vulnerable (TYPE)
package …", or the older "A <sev> vulnerability in TYPE package: NAME, version V was found
at: P"); else the ``Package:``/version/``Type:`` lines; else a Snyk rule's
``name@version`` with its ecosystem tag (the tag other than ``security`` and ``CWE-…``), the
binary name after ``/`` for OS packages (Snyk writes ``source/binary``). The package type
is the package URL type of that ecosystem. Trivy's SARIF names no ecosystem, so:

* a ``LanguageSpecificPackageVulnerability`` rule's type comes from the file it was found
  in (``package-lock.json`` → npm, ``*.jar`` / a ``group:artifact`` name → maven, …);
* an ``OsPackageVulnerability`` rule's type comes from the distribution marks in the run's
  OS package versions (``+deb12u1``, ``~bpo``, ``ubuntu1``, ``+b1`` → deb; ``-r0`` → apk;
  ``.el8``, ``.amzn2`` … → rpm): one image has one package manager, so when the run's
  versions point at exactly one type, every OS package of the run gets it; otherwise
  (no marks, or contradictory ones) the type stays unknown.

Fixed versions come from the ``Fixed Version:`` / ``Fix Version:`` line (comma-separated)
or a Snyk help text's "… to version X[, Y] or higher"; status is ``fixed`` when one is known,
else ``unknown``. CVSS comes from rule properties ``cvssv40_*`` / ``cvssv3_*`` /
``cvssv2_*`` (Trivy, Snyk) when numeric.

Misconfigurations: id = ``ruleId``; title = rule ``shortDescription``; description = rule
``fullDescription``; message = the ``Message:`` line of the result message, else the whole
message; type = its ``Type:`` line (lower case); target and line = the first location's
artifact URI and ``region.startLine``; resolution = the rule's help text unless it is a bare
URL (then a reference) or Trivy's generated summary; urls = the ``Link:`` URL, the rule's
``helpUri`` and a bare-URL help text, without the driver's ``informationUri`` (Grype points
every rule at its homepage).

Severity, first that applies:

1. the scanner's own severity word: a ``Severity:`` line of the result message or the rule
   help text (Trivy, Grype), a severity tag in the rule's ``properties.tags`` (Trivy), or a
   rule ``shortDescription`` starting "<Word> severity" (Snyk), mapped like every source's
   words (critical, high/important, medium/moderate, low, negligible, unknown);
2. ``security-severity`` of the result's, else the rule's, properties (a 0–10 number or
   numeric string): ≥ 9.0 critical, ≥ 7.0 high, ≥ 4.0 medium, > 0 low, 0 negligible;
3. the result's ``level``, else the rule's ``defaultConfiguration.level``: ``error`` →
   high, ``warning`` → medium, ``note`` → low, ``none`` → negligible;
4. otherwise ``unknown``.

The word comes first because ``security-severity`` is a CVSS score where the scanner has
one (Grype writes NVD's base score next to its own, often lower, distribution severity),
so the word keeps a scanner's SARIF verdict equal to its JSON verdict.

Scan kinds: what the findings show, plus what the tool always scans for: Grype and Snyk
Container / Open Source → vulnerability; Trivy with an image in ``run.properties`` (image
scans run the vulnerability scanner by default) → vulnerability; Dockle → misconfiguration.

Subject hints: Trivy's ``run.properties`` (``imageName``, ``repoDigests``, ``imageID``);
Snyk's artifact URI ``name@sha256_<hex>``; Grype's logical location
``<image>@<layer digest>:<path>``. ``artifact_digests`` = image ID and repo digests.

De-duplication rule: Trivy writes one result per (advisory, package) and Grype one per
match, so one vulnerability in one package can be listed several times (several paths,
matchers or runs). Within one file, listings with the same (id, package URL type, package
name, version) become ONE vulnerability by the rule that merges scanners
(:func:`gate.merge.merge_vulnerabilities`). Other findings are kept as listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gate.document import (
    Cvss,
    FindingSource,
    License,
    Misconfiguration,
    Package,
    ScanKind,
    Secret,
    Severity,
    Vulnerability,
)
from gate.inputs import InputFile
from gate.merge import merge_vulnerabilities
from gate.sources.base import (
    Attributions,
    Fragment,
    fail,
    licensed_package,
    purl_type,
    rfc3339,
    severity,
    text,
)
from gate.sources.cvss import cvss_version
from gate.sources.image_config import first_reference, image_id, repo_digest, subject, unique
from gate.sources.shape import (
    Place,
    array,
    at,
    integer,
    kind,
    mapping,
    mapping_at,
    objects_at,
    string_list,
    string_list_at,
    text_at,
    where,
)

SARIF_VERSION = "2.1.0"
CONTAINER_IMAGE = "container_image"
UNKNOWN_TOOL = "unknown"
"""Tool of a log without runs: nothing in it says who wrote it."""

_TOOL_NAMES = (
    ("trivy", "trivy"),
    ("grype", "grype"),
    ("anchore", "grype"),
    ("snyk", "snyk"),
    ("dockle", "dockle"),
)
"""(word in the driver name, short tool name), first match wins."""

_VULNERABILITY_DRIVERS = frozenset({"grype", "snyk container", "snyk open source"})
"""Lower-cased driver names of tools that only ever scan for vulnerabilities."""

_LEVELS: dict[str, Severity] = {
    "error": "high",
    "warning": "medium",
    "note": "low",
    "none": "negligible",
}

_SKIPPED_KINDS = frozenset({"pass", "notApplicable"})

_FIELD = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?): ?(.*?)\s*$")
_HEADING = re.compile(r"^\s*(Vulnerability|Misconfiguration|Secret|License)[ \t]+(\S.*?)\s*$")
_MARKDOWN_LINK = re.compile(r"\]\((\S+?)\)")
_BARE_URL = re.compile(r"^https?://\S+$")
_ADVISORY = re.compile(r"CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}")

_GRYPE_SENTENCES = (
    re.compile(
        r"^The path (?P<path>.+?) reports (?P<name>\S+) at version (?P<version>\S+)\s+"
        r"which (?:is|would result in) a vulnerable \((?P<type>[^)]*)\) package"
    ),
    re.compile(
        r"^An? \w+ vulnerability in (?P<type>\S+) package: (?P<name>[^,\s]+), "
        r"version (?P<version>\S+) was found at: (?P<path>.+)$"
    ),
)
_SNYK_PACKAGE = re.compile(r"^(?:\((?P<ids>[^)]*)\)\s+)?(?P<name>\S+)@(?P<version>\S+)$")
_SNYK_SEVERITY = re.compile(r"^(\w+) severity\b", re.IGNORECASE)
_SNYK_FIX = re.compile(r"\bto version (\S.*?) or higher")
_SNYK_IMAGE_URI = re.compile(r"^(?P<name>[^\s@]+)@sha256_(?P<hex>[0-9a-f]{64})$")
_GRYPE_LOCATION = re.compile(r"^(?P<image>\S+)@sha256:[0-9a-f]{64}:/")

_OS_PACKAGE_RULE = "OsPackageVulnerability"
_LANGUAGE_PACKAGE_RULE = "LanguageSpecificPackageVulnerability"
_OS_TYPES = frozenset({"deb", "apk", "rpm"})
_OS_VERSION_MARKS = (
    ("deb", re.compile(r"[+~](?:deb\d|bpo\d)|ubuntu\d|\+b\d+$")),
    ("apk", re.compile(r"-r\d+$")),
    ("rpm", re.compile(r"\.(?:el\d|amzn\d|fc\d|ph\d|cm\d|azl\d)")),
)
_FILE_TYPES = {
    "package.json": "npm",
    "package-lock.json": "npm",
    "yarn.lock": "npm",
    "pnpm-lock.yaml": "npm",
    "pom.xml": "maven",
    "requirements.txt": "pypi",
    "pipfile.lock": "pypi",
    "poetry.lock": "pypi",
    "uv.lock": "pypi",
    "metadata": "pypi",
    "pkg-info": "pypi",
    "go.mod": "golang",
    "go.sum": "golang",
    "gemfile.lock": "gem",
    "cargo.lock": "cargo",
    "composer.lock": "composer",
    "packages.lock.json": "nuget",
    "packages.config": "nuget",
}
"""Trivy language-package files (lower-case base name) → package URL type."""
_SUFFIX_TYPES = (
    (".jar", "maven"),
    (".war", "maven"),
    (".ear", "maven"),
    (".gemspec", "gem"),
    (".deps.json", "nuget"),
)

# Rule property names of CVSS ratings (Trivy, Snyk), newest CVSS version first, with the
# version to assume when the vector does not say.
_CVSS_PROPERTIES = (
    ("cvssv40_baseScore", "cvssv40_vector", "4.0"),
    ("cvssv3_baseScore", "cvssv3_vector", "3.0"),
    ("cvssv2_score", "cvssv2_vector", "2.0"),
)


class SarifSource:
    """A SARIF 2.1.0 log from any scanner."""

    format: ClassVar[str] = "sarif"
    expected_shape: ClassVar[str] = 'a "runs" array and a SARIF "$schema" or "version": "2.1.0"'

    def matches(self, data: Any) -> bool:
        """Return True for an object with a ``runs`` array that declares itself SARIF.

        The declaration is a ``$schema`` naming SARIF or ``version`` 2.1.0; ``runs`` alone
        is too common a word to claim a file on.
        """
        if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
            return False
        schema = data.get("$schema")
        return (isinstance(schema, str) and "sarif" in schema.lower()) or data.get(
            "version"
        ) == SARIF_VERSION

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Normalise a SARIF log read from ``source`` (see the module docstring).

        Raises :class:`~gate.errors.SourceError`, naming the file and JSON path, for a
        value of the wrong type, a run without ``tool.driver.name`` or a result without a
        rule id.
        """
        log = mapping(data, source, "")
        runs = [
            _Run.read(raw, source, at("runs", index))
            for index, raw in enumerate(array(log.get("runs"), source, "runs"))
        ]
        first = runs[0] if runs else None
        reference = next((run.reference for run in runs if run.reference), None)
        pinned = [pin for run in runs for pin in run.repo_digests]
        own_id = next((run.image_id for run in runs if run.image_id), None)
        kinds: set[ScanKind] = set()
        for run in runs:
            kinds |= run.kinds
        return Fragment(
            format=self.format,
            tool=first.tool if first else UNKNOWN_TOOL,
            tool_version=first.tool_version if first else None,
            created=next((run.created for run in runs if run.created), None),
            artifact_name=reference,
            artifact_type=CONTAINER_IMAGE if reference else None,
            artifact_digests=unique([own_id, *pinned, repo_digest(reference)]),
            kinds=sorted(kinds),
            subject=subject(reference, digest=next(iter(pinned), None), image_id=own_id),
            vulnerabilities=merge_vulnerabilities(v for run in runs for v in run.vulnerabilities),
            secrets=[s for run in runs for s in run.secrets],
            misconfigurations=[m for run in runs for m in run.misconfigurations],
            licenses=[lic for run in runs for lic in run.licenses],
        )


def _short_tool_name(driver_name: str) -> str:
    """Return the short, stable tool name for a driver name (see the module docstring)."""
    lowered = driver_name.strip().lower()
    return next((short for word, short in _TOOL_NAMES if word in lowered), lowered)


def _fields(value: str | None) -> dict[str, str]:
    """Read the ``Key: value`` and ``Vulnerability <id>`` lines of a text; first one wins."""
    found: dict[str, str] = {}
    for line in (value or "").splitlines():
        match = _HEADING.match(line) or _FIELD.match(line)
        if match:
            found.setdefault(match.group(1), match.group(2))
    return found


def _stated(word: Any) -> Severity | None:
    """Return the severity a word states, or None when the word is not a severity."""
    rated = severity(word)
    if rated == "unknown" and not (isinstance(word, str) and word.strip().lower() == "unknown"):
        return None
    return rated


def _scored(value: Any) -> Severity | None:
    """Map a ``security-severity`` score (0–10, number or numeric string) onto a severity."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        score = float(value)
    except ValueError:  # e.g. Snyk's "undefined" when it has no CVSS score
        return None
    if not 0.0 <= score <= 10.0:
        return None
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low" if score > 0.0 else "negligible"


def _number(value: Any) -> float | None:
    """Return a JSON number as a float; property bags are free-form, so others are None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _link(value: str | None) -> str | None:
    """Return the URL of a ``[text](url)`` link, or the value itself when it is a URL."""
    if not value:
        return None
    match = _MARKDOWN_LINK.search(value)
    if match:
        return match.group(1)
    return value if _BARE_URL.match(value) else None


def _split_versions(value: str | None) -> list[str]:
    """Split a comma-separated list of fixed versions."""
    return unique([part.strip() for part in (value or "").split(",")])


def _file_type(path: str | None) -> str | None:
    """Return the package URL type of a Trivy language-package file, when recognised."""
    if not path:
        return None
    name = path.rsplit("/", 1)[-1].lower()
    return _FILE_TYPES.get(name) or next(
        (kind for suffix, kind in _SUFFIX_TYPES if name.endswith(suffix)), None
    )


@dataclass
class _Rule:
    """The parts of a rule (``reportingDescriptor``) that results are read with."""

    id: str | None = None
    name: str | None = None
    short: str | None = None
    full: str | None = None
    help: str | None = None
    help_markdown: str | None = None
    help_uri: str | None = None
    level: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class _Location:
    """The first location of a result."""

    uri: str | None = None
    start_line: int | None = None
    end_line: int | None = None
    logical_names: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Reading:
    """One result as read, before it becomes a finding of one kind or another."""

    rule_id: str
    rule: _Rule
    message: str | None
    fields: dict[str, str]
    location: _Location
    rated: Severity
    attribution: list[FindingSource]


@dataclass
class _Run:
    """One run, read: its scan facts and findings."""

    source: InputFile
    tool: str
    driver_name: str
    tool_version: str | None = None
    information_uri: str | None = None
    created: str | None = None
    reference: str | None = None
    repo_digests: list[str] = field(default_factory=list)
    image_id: str | None = None
    kinds: set[ScanKind] = field(default_factory=set)
    rules: list[_Rule] = field(default_factory=list)
    rules_by_id: dict[str, _Rule] = field(default_factory=dict)
    vulnerabilities: list[Vulnerability] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    misconfigurations: list[Misconfiguration] = field(default_factory=list)
    licenses: list[License] = field(default_factory=list)
    os_packages: list[int] = field(default_factory=list)
    """Indexes of vulnerabilities in Trivy OS packages, whose type the run decides."""
    os_types: set[str] = field(default_factory=set)
    """Package types the versions of those OS packages point at."""
    attribution: Attributions = field(init=False)

    def __post_init__(self) -> None:
        self.attribution = Attributions(self.tool, self.source)

    @classmethod
    def read(cls, raw: Any, source: InputFile, place: str) -> _Run:
        """Read the run ``raw`` found at JSON path ``place``."""
        obj = mapping(raw, source, place)
        tool_place = at(place, "tool")
        driver_place = at(tool_place, "driver")
        tool = mapping(obj.get("tool"), source, tool_place)
        driver = mapping(tool.get("driver"), source, driver_place)
        driver_name = text_at(driver, "name", source, driver_place)
        if driver_name is None:
            raise fail(source, at(driver_place, "name"), "missing tool name")
        run = cls(
            source=source,
            tool=_short_tool_name(driver_name),
            driver_name=driver_name,
            tool_version=text_at(driver, "version", source, driver_place)
            or text_at(driver, "semanticVersion", source, driver_place),
            information_uri=text_at(driver, "informationUri", source, driver_place),
        )
        run._read_rules(driver.get("rules"), (driver_place, "rules"))
        run._read_properties(obj.get("properties"), at(place, "properties"))
        run._read_invocations(obj.get("invocations"), at(place, "invocations"))
        results_place = (place, "results")
        for index, result in enumerate(array(obj.get("results"), source, results_place)):
            run._read_result(result, (results_place, index))
        run._settle_os_types()
        run._add_tool_kinds()
        return run

    # --- run-level facts -------------------------------------------------------------

    def _read_rules(self, value: Any, place: Place) -> None:
        for index, raw in enumerate(array(value, self.source, place)):
            here = (place, index)
            rule = mapping(raw, self.source, here)
            config = mapping_at(rule, "defaultConfiguration", self.source, here)
            help_place = (here, "help")
            help_text = mapping_at(rule, "help", self.source, here)
            properties = mapping_at(rule, "properties", self.source, here)
            parsed = _Rule(
                id=text_at(rule, "id", self.source, here),
                name=text_at(rule, "name", self.source, here),
                short=self._message_text(rule.get("shortDescription"), (here, "shortDescription")),
                full=self._message_text(rule.get("fullDescription"), (here, "fullDescription")),
                help=text_at(help_text, "text", self.source, help_place),
                help_markdown=text_at(help_text, "markdown", self.source, help_place),
                help_uri=text_at(rule, "helpUri", self.source, here),
                level=text_at(config, "level", self.source, (here, "defaultConfiguration")),
                properties=properties,
                tags=string_list_at(properties, "tags", self.source, (here, "properties")),
            )
            parsed.fields = _fields(parsed.help)
            self.rules.append(parsed)
            if parsed.id is not None:
                self.rules_by_id.setdefault(parsed.id, parsed)

    def _read_properties(self, value: Any, here: str) -> None:
        """Read Trivy's image facts from ``run.properties``."""
        properties = mapping(value, self.source, here)
        image_name = text_at(properties, "imageName", self.source, here)
        tags = string_list(properties.get("repoTags"), self.source, at(here, "repoTags"))
        pinned = string_list(properties.get("repoDigests"), self.source, at(here, "repoDigests"))
        self.reference = first_reference([name for name in (image_name, *tags, *pinned) if name])
        self.repo_digests = unique([repo_digest(entry) for entry in pinned])
        self.image_id = image_id(text_at(properties, "imageID", self.source, here))
        if self.tool == "trivy" and image_name:
            self.kinds.add("vulnerability")

    def _read_invocations(self, value: Any, place: str) -> None:
        for index, raw in enumerate(array(value, self.source, place)):
            here = at(place, index)
            invocation = mapping(raw, self.source, here)
            self.created = self.created or rfc3339(
                text_at(invocation, "endTimeUtc", self.source, here)
                or text_at(invocation, "startTimeUtc", self.source, here)
            )

    def _settle_os_types(self) -> None:
        """Give every Trivy OS package of the run the one type its versions point at."""
        if len(self.os_types) != 1:
            return
        os_type = next(iter(self.os_types))
        for index in self.os_packages:
            vuln = self.vulnerabilities[index]
            package = vuln.package.model_copy(update={"type": os_type})
            self.vulnerabilities[index] = vuln.model_copy(update={"package": package})

    def _add_tool_kinds(self) -> None:
        if self.driver_name.strip().lower() in _VULNERABILITY_DRIVERS:
            self.kinds.add("vulnerability")
        if self.tool == "dockle":
            self.kinds.add("misconfiguration")

    # --- results ---------------------------------------------------------------------

    def _message_text(self, value: Any, place: Place) -> str | None:
        """Return the ``text`` of a SARIF message object."""
        return text_at(mapping(value, self.source, place), "text", self.source, place)

    def _rule_of(self, result: dict[str, Any], place: Place) -> tuple[str, _Rule]:
        """Return the result's rule id and rule (an empty rule when the run lists none)."""
        reference_place = (place, "rule")
        reference = mapping_at(result, "rule", self.source, place)
        rule_id = text_at(result, "ruleId", self.source, place) or text_at(
            reference, "id", self.source, reference_place
        )
        index = integer(result.get("ruleIndex"), self.source, (place, "ruleIndex"))
        if index is None:
            index = integer(reference.get("index"), self.source, (reference_place, "index"))
        rule = None
        if index is not None and 0 <= index < len(self.rules):
            rule = self.rules[index]
            if rule_id is not None and rule.id != rule_id:
                rule = None  # a stale index: the id is the stronger reference
        if rule is None and rule_id is not None:
            rule = self.rules_by_id.get(rule_id)
        rule_id = rule_id or (rule.id if rule else None)
        if rule_id is None:
            raise fail(self.source, at(place, "ruleId"), "missing rule id")
        return rule_id, rule or _Rule(id=rule_id)

    def _location(self, result: dict[str, Any], place: Place) -> _Location:
        """Read the first location of a result."""
        locations_place = (place, "locations")
        locations = array(result.get("locations"), self.source, locations_place)
        if not locations:
            return _Location()
        here = (locations_place, 0)
        location = mapping(locations[0], self.source, here)
        physical_place = (here, "physicalLocation")
        physical = mapping_at(location, "physicalLocation", self.source, here)
        artifact = mapping_at(physical, "artifactLocation", self.source, physical_place)
        region_place = (physical_place, "region")
        region = mapping_at(physical, "region", self.source, physical_place)
        logical_names = []
        for logical, logical_here in objects_at(location, "logicalLocations", self.source, here):
            name = text_at(logical, "fullyQualifiedName", self.source, logical_here)
            if name:
                logical_names.append(name)
        return _Location(
            uri=text_at(artifact, "uri", self.source, (physical_place, "artifactLocation")),
            start_line=integer(region.get("startLine"), self.source, (region_place, "startLine")),
            end_line=integer(region.get("endLine"), self.source, (region_place, "endLine")),
            logical_names=logical_names,
        )

    def _read_result(self, raw: Any, place: Place) -> None:
        if not isinstance(raw, dict):
            raise fail(self.source, where(place), f"expected a result object, got {kind(raw)}")
        if text_at(raw, "kind", self.source, place) in _SKIPPED_KINDS:
            return
        if text_at(raw, "baselineState", self.source, place) == "absent":
            return
        rule_id, rule = self._rule_of(raw, place)
        message = self._message_text(raw.get("message"), (place, "message"))
        fields = {**rule.fields, **_fields(message)}
        location = self._location(raw, place)
        self._note_image(location)
        rated = self._severity(raw, rule, fields, place)
        found = _Reading(
            rule_id=rule_id,
            rule=rule,
            message=message,
            fields=fields,
            location=location,
            rated=rated,
            attribution=[self.attribution(rated)],
        )
        if "secret" in rule.tags:
            self.secrets.append(self._secret(found))
            self.kinds.add("secret")
        elif "license" in rule.tags:
            self.licenses.append(self._license(found))
            self.kinds.add("license")
        elif "misconfiguration" not in rule.tags and self._vulnerability(found):
            self.kinds.add("vulnerability")
        else:
            self.misconfigurations.append(self._misconfiguration(found))
            self.kinds.add("misconfiguration")

    def _note_image(self, location: _Location) -> None:
        """Take the image reference from a Snyk artifact URI or a Grype logical location."""
        if self.reference:
            return
        snyk = _SNYK_IMAGE_URI.match(location.uri or "")
        if snyk:
            self.reference = first_reference([f"{snyk['name']}@sha256:{snyk['hex']}"])
            return
        for name in location.logical_names:
            grype = _GRYPE_LOCATION.match(name)
            if grype:
                self.reference = first_reference([grype["image"]])
                return

    def _severity(
        self, result: dict[str, Any], rule: _Rule, fields: dict[str, str], place: Place
    ) -> Severity:
        """Rate a result by the documented order: word, security-severity, level."""
        snyk_word = _SNYK_SEVERITY.match(rule.short or "") if self.tool == "snyk" else None
        words = [fields.get("Severity"), *rule.tags, snyk_word.group(1) if snyk_word else None]
        for word in words:
            stated = _stated(word)
            if stated is not None:
                return stated
        properties = mapping_at(result, "properties", self.source, place)
        for bag in (properties, rule.properties):
            scored = _scored(bag.get("security-severity"))
            if scored is not None:
                return scored
        level = text_at(result, "level", self.source, place) or rule.level
        return _LEVELS.get(level or "", "unknown")

    def _vulnerability(self, found: _Reading) -> bool:
        """Record the result as a vulnerability; False when it names no advisory or package."""
        snyk = _SNYK_PACKAGE.match(found.rule.full or "") if self.tool == "snyk" else None
        ids = [found.fields.get("Vulnerability")]
        if snyk and snyk["ids"]:
            ids.extend(part.strip() for part in snyk["ids"].split(","))
        ids.extend(_ADVISORY.findall(found.rule_id))
        if snyk or "vulnerability" in found.rule.tags:
            ids.append(found.rule_id)
        known = unique(ids)
        if not known:
            return False
        package = self._package(found.rule, found.message, found.fields, found.location, snyk)
        if package is None:
            return False
        primary = next((i for i in known if i.upper().startswith("CVE-")), known[0])
        fixed = _split_versions(
            found.fields.get("Fixed Version") or found.fields.get("Fix Version")
        )
        if not fixed and snyk:
            fix = _SNYK_FIX.search(found.rule.help_markdown or "")
            fixed = _split_versions(fix.group(1) if fix else None)
        title = found.rule.short if found.rule.short not in (primary, found.rule_id) else None
        description = found.rule.full if not snyk and found.rule.full != title else None
        if found.rule.name == _OS_PACKAGE_RULE and package.type is None:
            self.os_packages.append(len(self.vulnerabilities))
            self.os_types.update(
                os_type
                for os_type, mark in _OS_VERSION_MARKS
                if package.version and mark.search(package.version)
            )
        self.vulnerabilities.append(
            Vulnerability(
                id=primary,
                aliases=[i for i in known if i.upper() != primary.upper()],
                severity=found.rated,
                cvss=self._cvss(found.rule),
                package=package,
                fixed_versions=fixed,
                fix_available=bool(fixed),
                status="fixed" if fixed else "unknown",
                title=title,
                description=description,
                urls=self._urls(found.fields, found.rule),
                sources=found.attribution,
            )
        )
        return True

    def _package(
        self,
        rule: _Rule,
        message: str | None,
        fields: dict[str, str],
        location: _Location,
        snyk: re.Match[str] | None,
    ) -> Package | None:
        """Find the package a vulnerability result is about (see the module docstring)."""
        sentence = next(
            (found for pattern in _GRYPE_SENTENCES if (found := pattern.match(message or ""))),
            None,
        )
        if sentence:
            name, version = sentence["name"], sentence["version"]
            ecosystem, path = text(sentence["type"]), sentence["path"]
        else:
            name = text(fields.get("Package"))
            version = text(fields.get("Installed Version")) or text(fields.get("Version"))
            ecosystem, path = text(fields.get("Type")), text(fields.get("Location"))
        if name is None and snyk:
            name, version = snyk["name"], snyk["version"]
            ecosystem = next(
                (t for t in reversed(rule.tags) if t != "security" and not t.startswith("CWE-")),
                None,
            )
        if name is None:
            return None
        package_type = purl_type(ecosystem)
        if snyk and package_type in _OS_TYPES:
            name = name.rsplit("/", 1)[-1]
        if rule.name == _LANGUAGE_PACKAGE_RULE:
            path = path or location.uri
            package_type = package_type or ("maven" if ":" in name else _file_type(location.uri))
        return Package(name=name, version=version, type=package_type, path=path)

    def _cvss(self, rule: _Rule) -> Cvss | None:
        """Return the newest CVSS rating in the rule's properties, if any."""
        for score_key, vector_key, default_version in _CVSS_PROPERTIES:
            score = _number(rule.properties.get(score_key))
            vector = text(rule.properties.get(vector_key))
            if score is not None or vector is not None:
                return Cvss(
                    score=score, vector=vector, version=cvss_version(vector, default_version)
                )
        return None

    def _urls(self, fields: dict[str, str], rule: _Rule) -> list[str]:
        """Return the Link URL, the help URI and a bare-URL help text, minus the homepage."""
        help_url = rule.help.strip() if rule.help and _BARE_URL.match(rule.help.strip()) else None
        return [
            url
            for url in unique([_link(fields.get("Link")), rule.help_uri, help_url])
            if url != self.information_uri
        ]

    def _misconfiguration(self, found: _Reading) -> Misconfiguration:
        help_text = found.rule.help.strip() if found.rule.help else None
        summary = help_text is not None and (
            _BARE_URL.match(help_text) is not None or "Misconfiguration" in found.rule.fields
        )
        config_type = text(found.fields.get("Type"))
        return Misconfiguration(
            id=found.rule_id,
            type=config_type.lower() if config_type else None,
            title=found.rule.short,
            description=found.rule.full,
            message=text(found.fields.get("Message")) or found.message,
            severity=found.rated,
            resolution=None if summary else help_text,
            target=found.location.uri,
            start_line=found.location.start_line,
            urls=self._urls(found.fields, found.rule),
            sources=found.attribution,
        )

    def _secret(self, found: _Reading) -> Secret:
        return Secret(
            id=found.rule_id,
            severity=found.rated,
            title=found.rule.short,
            target=found.location.uri,
            start_line=found.location.start_line,
            end_line=found.location.end_line,
            match=text(found.fields.get("Match")),
            sources=found.attribution,
        )

    def _license(self, found: _Reading) -> License:
        # Trivy's licence found.rule id is "<package>:<licence>"; the found.message spells both out.
        return License(
            name=text(found.fields.get("License")) or found.rule_id.rpartition(":")[2],
            severity=found.rated,
            category=text(found.fields.get("Classification")),
            package=licensed_package(text(found.fields.get("PkgName"))),
            target=text(found.fields.get("Path")) or found.location.uri,
            sources=found.attribution,
        )
