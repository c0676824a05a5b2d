"""Waivers: hand-written, time-boxed exceptions that move a result into the verdict's ``waived``."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from importlib import resources
from typing import Any

from gate.errors import PolicyError, WaiverError
from gate.identifiers import identity_keys, is_advisory
from gate.inputs import decode_text, parse_structured, read_given
from gate.policy import RuleInfo
from gate.verdict import Result, WaivedResult, WaiverProblem, WaiverRef

MAX_WAIVERS_BYTES = 16 * 1024 * 1024
EXPIRY_WARNING = dt.timedelta(days=14)


@dataclass(frozen=True)
class Waiver:
    """One validated waiver entry, with its expiry as an aware UTC time."""

    ref: WaiverRef
    expires_at: dt.datetime

    def matches(self, result: Result, names: Sequence[str]) -> bool:
        """True when every condition of the waiver holds for ``result`` on the image ``names``.

        ``names`` are the references under which the inputs themselves name the gated image
        (``subject.names``, as written and spelled out in full): an ``image:`` scope is
        never satisfied by ``--image`` alone.
        """
        ref = self.ref
        if ref.rule is not None and ref.rule != result.id:
            return False
        finding = result.finding or {}
        if ref.vulnerability is not None and not _names_vulnerability(ref.vulnerability, finding):
            return False
        if ref.package is not None and not _names_package(ref.package, finding):
            return False
        if ref.image is not None and not any(fnmatchcase(name, ref.image) for name in names):
            return False
        return True


def _names_vulnerability(wanted: str, finding: dict[str, Any]) -> bool:
    # Only a vulnerability finding, by the ids of that one vulnerability: a secret rule or
    # misconfiguration check whose id happens to equal the text is not what was waived,
    # and an advisory (RHSA, DSA…) covers many CVEs, so it names none of them.
    if finding.get("kind") != "vulnerability" or is_advisory(wanted):
        return False
    own = finding.get("id")
    aliases = finding.get("aliases")
    if not isinstance(own, str) or not isinstance(aliases, list | None):
        return False
    keys = identity_keys(own, [a for a in aliases or [] if isinstance(a, str)])
    return wanted.upper() in keys


def _names_package(wanted: str, finding: dict[str, Any]) -> bool:
    if wanted.startswith("pkg:"):
        purl = finding.get("purl")
        if not isinstance(purl, str):
            return False
        # A waiver purl without a version covers every version of the package.
        base = purl.split("?", 1)[0].split("#", 1)[0]
        return wanted in (purl, base) or ("@" not in wanted and base.split("@", 1)[0] == wanted)
    return finding.get("package") == wanted


@cache
def waivers_schema() -> dict[str, Any]:
    """Return the committed JSON Schema of waiver files."""
    text = resources.files("gate").joinpath("schema/waivers.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def load_waivers(path: str) -> list[Waiver]:
    """Read and validate a waivers file (YAML or JSON).

    Raises :class:`WaiverError` naming the file and the entry (``waivers[2].expires``)
    for the first problem found, so a hand-edited file is easy to fix.
    """
    shown, raw = read_given(path, MAX_WAIVERS_BYTES, WaiverError)
    return waivers_from_document(parse_waivers_text(raw, shown), shown)


def parse_waivers_text(raw: bytes, shown: str) -> Any:
    """Parse the bytes of a waivers file (JSON when ``shown`` ends in ``.json``, else YAML)
    into the document :func:`waivers_from_document` validates."""
    text = decode_text(raw, shown)
    try:
        return parse_structured(text, as_yaml=not shown.endswith(".json"))
    except ValueError as exc:
        raise WaiverError(f"not valid YAML/JSON: {exc}", where=shown) from exc


def waivers_from_document(document: Any, shown: str) -> list[Waiver]:
    """Validate a parsed waivers document, read from a file or given in a server request.

    ``shown`` names it in errors (``request: waivers[2].expires``); raises
    :class:`WaiverError` for the first problem, as :func:`load_waivers` does for a file.
    """
    if document is None:
        raise WaiverError("empty waivers file", where=shown, hint="start it with `waivers:`")
    loaded = _dates_as_text(document)
    _validate(loaded, shown)
    return [_to_waiver(index, entry, shown) for index, entry in enumerate(loaded["waivers"])]


def _dates_as_text(value: Any) -> Any:
    # YAML turns an unquoted 2026-12-01 into a date; the schema speaks of strings.
    if isinstance(value, dict):
        return {key: _dates_as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(item) for item in value]
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _validate(document: Any, path: str) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(
        waivers_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return
    error = errors[0]
    place = _json_path(error.absolute_path)
    message = _explain(error)
    raise WaiverError(
        message,
        where=f"{path}: {place}" if place else path,
        hint="each waiver needs rule and/or vulnerability, reason, owner and expires (YYYY-MM-DD)"
        + (f"; {len(errors) - 1} more problem(s) after this one" if len(errors) > 1 else ""),
    )


def _json_path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _explain(error: Any) -> str:
    if error.validator == "required":
        return str(error.message).replace("is a required property", "is required")
    if error.validator == "anyOf" and error.schema.get("anyOf", [{}])[0].get("required"):
        return "a waiver must name a 'rule' or a 'vulnerability' (or both)"
    if error.validator == "additionalProperties":
        return str(error.message).replace("Additional properties are not allowed", "unknown key(s)")
    if (
        error.validator in ("anyOf", "pattern", "format")
        and error.absolute_path
        and str(error.absolute_path[-1]) == "expires"
    ):
        return f"expires {error.instance!r} is not a date (YYYY-MM-DD) or RFC 3339 time"
    return str(error.message)


PLACEHOLDER = "TODO"
"""What `gate waivers import` writes where the source file said nothing (owner, reason,
expiry): a waiver nobody completed is no decision anybody took."""
_PLACEHOLDER_TEXT = re.compile(rf"^{PLACEHOLDER}\b")


def placeholders(entry: dict[str, Any]) -> list[str]:
    """The fields of a waivers entry still holding an import placeholder (``TODO…``)."""
    return [
        str(key)
        for key, value in entry.items()
        if isinstance(value, str) and _PLACEHOLDER_TEXT.match(value.strip())
    ]


def _to_waiver(index: int, entry: dict[str, Any], path: str) -> Waiver:
    left = placeholders(entry)
    if left:
        raise WaiverError(
            f"{left[0]} is still the placeholder {entry[left[0]]!r}",
            where=f"{path}: waivers[{index}].{left[0]}",
            hint="complete the imported waiver (owner, reason, expires), or remove it",
        )
    expires = entry["expires"]
    return Waiver(
        ref=WaiverRef(
            index=index,
            rule=entry.get("rule"),
            vulnerability=entry.get("vulnerability"),
            package=entry.get("package"),
            image=entry.get("image"),
            reason=entry.get("reason"),
            owner=entry.get("owner"),
            ticket=entry.get("ticket"),
            expires=expires,
        ),
        expires_at=_parse_expiry(expires, f"{path}: waivers[{index}].expires"),
    )


def _parse_expiry(value: str, where: str) -> dt.datetime:
    try:
        if len(value) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise WaiverError(f"expires {value!r} is not a valid date", where=where) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


EXPIRING_RULE = "waiver-expiring"
"""Rule id of the warning a soon-expiring waiver raises."""


@dataclass(frozen=True)
class WaiverOutcome:
    """Results split by the waivers, and what is wrong with the waivers themselves."""

    kept: list[Result]
    waived: list[WaivedResult]
    problems: list[WaiverProblem]

    def expiry_warnings(self) -> list[Result]:
        """A warning per waiver that expires within 14 days: the block it lifts comes back."""
        return [
            Result(
                id=EXPIRING_RULE,
                msg=problem.msg,
                severity="low",
                level="warn",
                title="Waiver expires soon",
                remediation="Fix the finding, or renew the waiver with a new reason and owner.",
                package="gate.waivers",
                finding={"kind": "waiver", "id": str(problem.waiver.index)},
            )
            for problem in self.problems
            if problem.kind == "expiring"
        ]


def apply_waivers(
    results: list[Result],
    waivers: list[Waiver],
    names: Sequence[str],
    now: dt.datetime,
    rules: dict[str, RuleInfo] | None = None,
) -> WaiverOutcome:
    """Apply ``waivers`` to ``results`` as of ``now``.

    An unexpired waiver that matches moves the result to ``waived`` (first matching waiver
    is recorded). An expired waiver suppresses nothing and is reported; one expiring within
    14 days is reported as ``expiring``; one that matched nothing as ``unused``. Results of
    a rule whose METADATA says ``custom.waivable: false`` (``rules``, by id) are never
    waived: each waiver that would have waived one is reported as ``not-waivable``.
    """
    locked = {rule_id for rule_id, info in (rules or {}).items() if not waivable(info)}
    active = [w for w in waivers if w.expires_at > now]
    used: set[int] = set()
    refused: dict[int, list[str]] = {}
    kept: list[Result] = []
    waived: list[WaivedResult] = []
    for result in results:
        if result.id in locked:
            for waiver in active:
                tried = refused.setdefault(waiver.ref.index, [])
                if result.id not in tried and waiver.matches(result, names):
                    tried.append(result.id)
            kept.append(result)
            continue
        chosen = next((w for w in active if w.matches(result, names)), None)
        if chosen is None:
            kept.append(result)
            continue
        used.add(chosen.ref.index)
        waived.append(WaivedResult(**result.model_dump(), waiver=chosen.ref))
    problems: list[WaiverProblem] = []
    for waiver in waivers:
        ref = waiver.ref
        label = _label(ref)
        if waiver.expires_at <= now:
            matched = any(waiver.matches(r, names) for r in results)
            problems.append(
                WaiverProblem(
                    kind="expired",
                    msg=f"waiver {label} expired on {ref.expires}"
                    + (" and no longer suppresses a result" if matched else ""),
                    waiver=ref,
                )
            )
            continue
        problems.extend(
            WaiverProblem(
                kind="not-waivable",
                msg=f"waiver {label} would waive {rule_id} but the rule is not waivable "
                "(custom.waivable: false)",
                waiver=ref,
            )
            for rule_id in refused.get(ref.index, ())
        )
        if ref.index not in used and not refused.get(ref.index):
            problems.append(
                WaiverProblem(kind="unused", msg=f"waiver {label} {_unused(ref)}", waiver=ref)
            )
        elif ref.index in used and waiver.expires_at - now <= EXPIRY_WARNING:
            days = max(0, (waiver.expires_at - now).days)
            problems.append(
                WaiverProblem(
                    kind="expiring",
                    msg=f"waiver {label} expires on {ref.expires} (in {days} day(s))",
                    waiver=ref,
                )
            )
    return WaiverOutcome(kept, waived, problems)


def _unused(ref: WaiverRef) -> str:
    if ref.vulnerability is not None and is_advisory(ref.vulnerability):
        return (
            f"matches nothing: {ref.vulnerability} is a vendor advisory, which may cover many "
            "vulnerabilities, and advisories cannot be waived as a group; name each CVE"
        )
    return "matches nothing"


def waivable(info: RuleInfo) -> bool:
    """False when the rule's METADATA sets ``custom.waivable: false``: waivers never apply.

    Anything but a boolean is a :class:`PolicyError` naming the METADATA block: a typo
    such as ``waivable: "no"`` must not leave the rule waivable.
    """
    value = info.custom.get("waivable", True)
    if not isinstance(value, bool):
        raise PolicyError(
            f"rule {info.id}: custom.waivable must be true or false, not {value!r}",
            where=f"{info.path}:{info.line}",
            hint="write `waivable: false` (no quotes) to keep waivers off this rule",
        )
    return value


def _label(ref: WaiverRef) -> str:
    parts = [p for p in (ref.rule, ref.vulnerability, ref.package, ref.image) if p]
    return f"#{ref.index} ({' '.join(parts)})"
