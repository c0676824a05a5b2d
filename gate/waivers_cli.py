"""``gate waivers import|check``: start a waivers file from scanners' ignore files, and check one.

Importing never accepts anything silently. A scanner's ignore entry has no owner and usually
no expiry; the imported waiver gets the placeholder ``TODO`` for what the source lacks, which
``gate waivers check`` reports (exit 1); ``gate check`` refuses the whole file while an
``expires: TODO`` is left (not a date), so no imported waiver applies without an expiry.
An ignore entry a gate waiver cannot express exactly - a misconfiguration or secret id, a
wildcard, a vendor advisory, a Grype rule narrowed by fix state, version, location… - is
skipped with the reason, never widened into a broader waiver.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import click

from gate.cli import _parse_time as parse_time_option
from gate.errors import ExitCode, InputError, UsageError
from gate.waivers import PLACEHOLDER, placeholders

MAX_IGNORE_FILE_BYTES = 16 * 1024 * 1024
_TRIVY_EXPIRY = "exp:"

_VULNERABILITY_ID = re.compile(
    r"""^(?:
        CVE-\d{4}-\d{4,}
      | GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}
      | (?:GO|PYSEC|RUSTSEC|OSV|GSD|MAL|BIT|CGA|TEMP|SNYK|DEBIAN-CVE|UBUNTU-CVE)
        -[A-Za-z0-9][A-Za-z0-9._:-]*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
"""Ids that name one vulnerability. Anything else a .trivyignore holds (AVD-DS-0002, a
secret rule such as aws-access-key-id, a licence) names a check, not a finding, and a gate
waiver for it would have to name a whole gate rule."""

GRYPE_KEYS_KEPT = frozenset({"vulnerability", "reason", "package", "include-aliases"})
"""Grype ignore-rule keys a gate waiver expresses (``include-aliases``: gate waivers always
match the aliases of the vulnerability, which name that same vulnerability)."""


@dataclass(frozen=True)
class Imported:
    """A waiver made from one ignore entry; ``None`` fields become placeholders."""

    origin: str
    vulnerability: str
    package: str | None = None
    reason: str | None = None
    expires: str | None = None


@dataclass(frozen=True)
class Skipped:
    """An ignore entry gate cannot express without widening it, and why."""

    origin: str
    reason: str


Parsed = tuple[list[Imported], list[Skipped]]


def _id_problem(identifier: str) -> str | None:
    """Why ``identifier`` cannot become a waiver's ``vulnerability``, or None when it can."""
    from gate.identifiers import is_advisory

    if not identifier.strip():
        return "empty id"
    if any(char in identifier for char in "*?[]{}"):
        return "a wildcard id: gate waives named vulnerabilities only"
    if is_advisory(identifier):
        return "a vendor advisory, which may cover many vulnerabilities: name each CVE it covers"
    if not _VULNERABILITY_ID.match(identifier):
        return (
            "not a vulnerability id (a misconfiguration check, secret rule or licence): a "
            "gate waiver for it would name a whole gate rule; write that waiver by hand"
        )
    return None


def parse_trivyignore(text: str, name: str) -> Parsed:
    """Read a ``.trivyignore`` as trivy does: an id per line, ``#`` comments, blank lines,
    and an optional ``exp:YYYY-MM-DD`` field after the id (the ignore stops that day)."""
    imported: list[Imported] = []
    skipped: list[Skipped] = []
    seen: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        origin = f"{name} line {number}"
        identifier, *fields = stripped.split()
        expiries = [f.removeprefix(_TRIVY_EXPIRY) for f in fields if f.startswith(_TRIVY_EXPIRY)]
        problem = _id_problem(identifier) or _expiry_problem(expiries)
        if problem is None and identifier.upper() in seen:
            problem = f"the same id as {seen[identifier.upper()]}"
        if problem is not None:
            skipped.append(Skipped(origin, f"{_shown(identifier)}: {problem}"))
            continue
        seen[identifier.upper()] = origin
        imported.append(Imported(origin, identifier, expires=expiries[0] if expiries else None))
    return imported, skipped


def _expiry_problem(expiries: list[str]) -> str | None:
    if len(expiries) > 1:
        return "more than one exp: field"
    for expiry in expiries:
        try:
            valid = re.fullmatch(r"\d{4}-\d{2}-\d{2}", expiry) and dt.date.fromisoformat(expiry)
        except ValueError:
            valid = None
        if not valid:
            return f"exp:{_shown(expiry)} is not a date (YYYY-MM-DD)"
    return None


TRIVY_YAML_KEYS_KEPT = frozenset({"id", "purls", "statement", "expired_at"})
"""Keys of a ``.trivyignore.yaml`` vulnerability entry a gate waiver expresses (``paths``,
a file inside the image, it cannot)."""

TRIVY_YAML_OTHER_SECTIONS = ("misconfigurations", "secrets", "licenses")


def parse_trivyignore_yaml(data: Any, name: str) -> Parsed:
    """Read a ``.trivyignore.yaml``: ``vulnerabilities`` entries (id, purls, statement,
    expired_at); the other sections name checks, not vulnerabilities, and are skipped."""
    sections = ("vulnerabilities", *TRIVY_YAML_OTHER_SECTIONS)
    if not isinstance(data, dict) or not any(key in data for key in sections):
        raise InputError(
            f"not a .trivyignore.yaml: expected one of {', '.join(sections)}", where=name
        )
    imported: list[Imported] = []
    skipped: list[Skipped] = []
    for section in sections:
        entries = data.get(section) or []
        if not isinstance(entries, list):
            raise InputError(f"{section} is not a list", where=name)
        for index, entry in enumerate(entries):
            origin = f"{name} {section}[{index}]"
            if section != "vulnerabilities":
                skipped.append(Skipped(origin, f"{section} name checks, not vulnerabilities"))
                continue
            made = _trivy_yaml_entry(entry, origin)
            if isinstance(made, str):
                skipped.append(Skipped(origin, made))
            else:
                imported.extend(made)
    return imported, skipped


def _trivy_yaml_entry(entry: Any, origin: str) -> list[Imported] | str:
    """The waivers of one vulnerability entry (one per purl), or why it is skipped."""
    problem = _unexpressible(entry, TRIVY_YAML_KEYS_KEPT, "id", "no id")
    if problem is not None:
        return problem
    identifier = entry["id"]
    purls = entry.get("purls", [None])
    if not isinstance(purls, list) or not purls or not all(_is_one_purl(p) for p in purls):
        return "purls is not a list of package URLs (pkg:…, no wildcards)"
    expires = entry.get("expired_at")
    if isinstance(expires, dt.date) and not isinstance(expires, dt.datetime):
        expires = expires.isoformat()
    if expires is not None and (not isinstance(expires, str) or _expiry_problem([expires])):
        return "expired_at is not a date (YYYY-MM-DD)"
    statement = entry.get("statement")
    reason = statement if isinstance(statement, str) and statement.strip() else None
    return [Imported(origin, identifier, package=p, reason=reason, expires=expires) for p in purls]


def _unexpressible(entry: Any, kept: Any, id_key: str, no_id: str) -> str | None:
    """Why an ignore entry cannot become a waiver exactly (a narrowing key gate waivers lack,
    or a missing or too broad id), or None when it can."""
    if not isinstance(entry, dict):
        return "not a mapping"
    narrowing = sorted(str(key) for key in entry if key not in kept)
    if narrowing:
        return (
            f"matches on {', '.join(narrowing)}, which gate waivers cannot express; "
            "without it the waiver would cover more"
        )
    identifier = entry.get(id_key)
    if not isinstance(identifier, str):
        return no_id
    problem = _id_problem(identifier)
    return None if problem is None else f"{_shown(identifier)}: {problem}"


def _is_one_purl(value: Any) -> bool:
    return value is None or (
        isinstance(value, str)
        and value.startswith("pkg:")
        and "/" in value
        and not any(char in value for char in "*?[")
    )


def parse_grype(data: Any, name: str) -> Parsed:
    """Read the ``ignore:`` rules of a Grype configuration (``.grype.yaml``)."""
    if not isinstance(data, dict) or not isinstance(data.get("ignore"), list):
        raise InputError(
            "not a Grype configuration with an ignore: list",
            where=name,
            hint="give --format trivyignore for a .trivyignore file",
        )
    imported: list[Imported] = []
    skipped: list[Skipped] = []
    for index, rule in enumerate(data["ignore"]):
        origin = f"{name} ignore[{index}]"
        made = _grype_rule(rule)
        if isinstance(made, str):
            skipped.append(Skipped(origin, made))
        else:
            vulnerability, package, reason = made
            imported.append(Imported(origin, vulnerability, package=package, reason=reason))
    return imported, skipped


def _grype_rule(rule: Any) -> tuple[str, str | None, str | None] | str:
    """(vulnerability, package name, reason) of a Grype ignore rule, or why it is skipped."""
    problem = _unexpressible(
        rule,
        GRYPE_KEYS_KEPT,
        "vulnerability",
        "no vulnerability: gate waivers name the vulnerability they waive",
    )
    if problem is not None:
        return problem
    vulnerability = rule["vulnerability"]
    package = rule.get("package")
    name = None
    if package is not None:
        if not isinstance(package, dict) or set(package) != {"name"}:
            fields = sorted(package) if isinstance(package, dict) else [type(package).__name__]
            return (
                f"package matches on {', '.join(map(str, fields))}: a gate waiver limits to a "
                "package by its name alone, which would cover more"
            )
        name = package["name"]
        if not isinstance(name, str) or not name.strip() or any(c in name for c in "*?["):
            return "package.name is not one package's name"
    reason = rule.get("reason")
    return vulnerability, name, reason if isinstance(reason, str) and reason.strip() else None


def _shown(text: str) -> str:
    from gate.output import printable

    return printable(text[:200])


def render_waivers(imported: list[Imported], source: str) -> str:
    """The waivers YAML: one entry per import, a comment saying where it came from and what
    to fill in. Strings are written as JSON strings, which YAML reads back unchanged."""
    lines = [
        f"# Waivers imported by `gate waivers import` from {_one_line(source)}.",
        f"# Replace every {PLACEHOLDER} with the owner, the reason and the expiry date: "
        "`gate waivers check`",
        f"# fails while a {PLACEHOLDER} is left, and `gate check` refuses this file while an "
        "expires is one.",
    ]
    if not imported:
        return "\n".join([*lines, "waivers: []", ""])
    lines.append("waivers:")
    for entry in imported:
        missing = [
            field
            for field, value in (
                ("owner", None),
                ("reason", entry.reason),
                ("expires", entry.expires),
            )
            if value is None
        ]
        lines.append(f"  # imported from {_one_line(entry.origin)}: fill in {_listed(missing)}")
        lines.append(f"  - vulnerability: {_quoted(entry.vulnerability)}")
        if entry.package is not None:
            lines.append(f"    package: {_quoted(entry.package)}")
        lines.append(f"    reason: {_quoted(entry.reason or PLACEHOLDER)}")
        lines.append(f"    owner: {_quoted(PLACEHOLDER)}")
        lines.append(f"    expires: {_quoted(entry.expires or PLACEHOLDER)}")
    return "\n".join([*lines, ""])


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=True)


def _one_line(text: str) -> str:
    return json.dumps(text, ensure_ascii=True)[1:-1]


def _listed(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def _format_of(path: str, forced: str | None) -> str:
    if forced is not None:
        return forced
    name = PurePath(path).name.lower()
    if name.endswith("trivyignore"):
        return "trivyignore"
    if name.endswith((".trivyignore.yaml", ".trivyignore.yml")):
        return "trivyignore-yaml"
    if "grype" in name and name.endswith((".yaml", ".yml")):
        return "grype"
    raise UsageError(
        "cannot tell the ignore file's format from its name", where=path, hint="give --format"
    )


def _read_text(path: str) -> tuple[str, str]:
    from gate.inputs import read_given

    shown, raw = read_given(path, MAX_IGNORE_FILE_BYTES)
    try:
        return shown, raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", where=shown) from exc


def _parse_yaml(text: str, shown: str) -> Any:
    from gate.inputs import parse_structured

    try:
        return parse_structured(text, as_yaml=True)
    except ValueError as exc:
        raise InputError(f"not valid YAML: {exc}", where=shown) from exc


def import_file(path: str, file_format: str | None) -> tuple[str, list[Imported], list[Skipped]]:
    """Read the ignore file ``path`` and return the waivers YAML, what was imported and
    what was skipped."""
    chosen = _format_of(path, file_format)
    shown, text = _read_text(path)
    if chosen == "trivyignore":
        imported, skipped = parse_trivyignore(text, shown)
    elif chosen == "trivyignore-yaml":
        imported, skipped = parse_trivyignore_yaml(_parse_yaml(text, shown), shown)
    else:
        imported, skipped = parse_grype(_parse_yaml(text, shown), shown)
    return render_waivers(imported, shown), imported, skipped


@click.group("waivers")
def waivers_group() -> None:
    """Start a waivers file from scanners' ignore files, and check one."""


@waivers_group.command("import")
@click.argument("ignore_file", metavar="FILE")
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["trivyignore", "trivyignore-yaml", "grype"]),
    help="The ignore file's format; default: from its name (.trivyignore, "
    ".trivyignore.yaml, .grype.yaml).",
)
@click.option("-o", "--output", metavar="FILE", help="Write the waivers here (default: stdout).")
def import_command(ignore_file: str, file_format: str | None, output: str | None) -> None:
    """Turn a .trivyignore(.yaml) or .grype.yaml into a gate waivers file to complete.

    \b
    Every waiver gets owner TODO (and reason/expires TODO when the source has none):
    `gate waivers check` exits 1 until no TODO is left, and `gate check` refuses the
    file while any expires is TODO. Entries a gate waiver cannot express exactly are
    skipped and listed on stderr.
    Exit codes: 0 written, 2 usage error, 3 unreadable or invalid ignore file.
    """
    from gate.output import check_output_path, write_output

    if output is not None:
        check_output_path(output, reads=[ignore_file], policy_paths=[])
    text, imported, skipped = import_file(ignore_file, file_format)
    write_output(text, output)
    for entry in skipped:
        click.echo(f"skipped {_one_line(entry.origin)}: {entry.reason}", err=True)
    click.echo(
        f"imported {len(imported)} waiver(s), each to complete (owner, and reason or expires "
        f"where the source had none: search for {PLACEHOLDER}); skipped {len(skipped)}",
        err=True,
    )


@waivers_group.command("check")
@click.argument("waivers_file", metavar="FILE")
@click.option(
    "--at",
    "at",
    metavar="TIME",
    callback=parse_time_option,
    help="Check as of this RFC 3339 time instead of now.",
)
def check_command(waivers_file: str, at: dt.datetime | None) -> None:
    """Validate a waivers file and report expired and soon-expiring waivers.

    \b
    Exit codes: 0 valid and nothing expired; 1 a waiver has expired or an imported
    placeholder (TODO) is left; 3 unreadable or invalid (schema, dates).
    """
    import sys

    now = at or dt.datetime.now(dt.UTC)
    shown, text = _read_text(waivers_file)
    pending = _pending_placeholders(_parse_yaml(text, shown))
    if pending:
        for place, fields in pending:
            click.echo(f"{shown}: {place}: still to fill in: {', '.join(fields)}")
        click.echo(f"{shown}: {len(pending)} waiver(s) with placeholders left (TODO)")
        sys.exit(int(ExitCode.FAILED))
    sys.exit(int(report_expiry(waivers_file, now)))


def _pending_placeholders(document: Any) -> list[tuple[str, list[str]]]:
    entries = document.get("waivers") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return []  # the schema check that follows names the problem
    found = []
    for index, entry in enumerate(entries):
        fields = placeholders(entry) if isinstance(entry, dict) else []
        if fields:
            found.append((f"waivers[{index}]", fields))
    return found


def report_expiry(path: str, now: dt.datetime) -> ExitCode:
    """Load ``path`` as ``gate check`` does and print expired and expiring waivers."""
    from gate.waivers import EXPIRY_WARNING, load_waivers

    waivers = load_waivers(path)
    expired = 0
    for waiver in waivers:
        ref = waiver.ref
        label = " ".join(p for p in (ref.rule, ref.vulnerability, ref.package, ref.image) if p)
        place = f"waivers[{ref.index}] ({_shown(label)})"
        if waiver.expires_at <= now:
            expired += 1
            click.echo(f"{path}: {place}: expired on {_shown(ref.expires)}")
        elif waiver.expires_at - now <= EXPIRY_WARNING:
            days = (waiver.expires_at - now).days
            click.echo(f"{path}: {place}: expires on {_shown(ref.expires)} (in {days} day(s))")
    click.echo(f"{path}: {len(waivers)} waiver(s), {expired} expired")
    return ExitCode.FAILED if expired else ExitCode.PASSED


__all__ = [
    "Imported",
    "Skipped",
    "import_file",
    "parse_grype",
    "parse_trivyignore",
    "parse_trivyignore_yaml",
    "placeholders",
    "render_waivers",
    "waivers_group",
]
