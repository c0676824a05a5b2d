"""The decision log: every verdict recorded in a database, for audits and dashboards.

``open_log(url)`` opens (creating or migrating) a log at a SQLAlchemy URL:
``sqlite:///path/decisions.db`` (a file, WAL mode, created 0600) or
``postgresql://user@host/db`` (a log shared by CI jobs and server workers). What is
recorded is the verdict's facts (image, stage, decision, policy and input digests, engine,
counts, violated rules, waivers applied) and the verdict JSON itself; never environment
values, credentials or the log's own URL.

This module stays light: ``gate check`` without ``--log`` imports nothing of SQLAlchemy or
alembic; :mod:`gate.decisionlog.store` does, when a log is opened.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from gate.errors import DecisionLogError, UsageError

if TYPE_CHECKING:
    from gate.decisionlog.store import DecisionLog

LOG_ENV = "GATE_DECISION_LOG"
"""The environment variable every command that records or reads decisions takes the URL from."""

SOURCES = ("cli", "server", "harbor")
"""Who recorded a decision."""

DEFAULT_LIST_LIMIT = 50
MAX_LIST_LIMIT = 10_000
"""``list`` builds its answer in memory: larger reads go through ``export``, which streams."""

MAX_FILTER_CHARS = 512
"""Longest --image / --stage accepted: a filter is a name, never a document."""

Decision = Literal["pass", "fail"]


@dataclass(frozen=True)
class ImageFilter:
    """What ``--image`` matches: a digest, or a repository (and tag) normalised like gate does."""

    digest: str | None = None
    registry: str | None = None
    repository: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class DecisionQuery:
    """Filters of ``gate log list|export`` and ``GET /v1/decisions``; times are on recorded_at."""

    image: ImageFilter | None = None
    stage: str | None = None
    decision: Decision | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int | None = None


@dataclass
class DecisionRecord:
    """One recorded decision. ``verdict_json`` is None where it was not read (``list``)."""

    id: int
    recorded_at: dt.datetime
    evaluated_at: dt.datetime
    subject_reference: str | None
    subject_digest: str | None
    stage: str
    decision: str
    advisory: bool
    policy_digest: str
    input_sha256: str
    engine: dict[str, str]
    gate_version: str
    source: str
    counts: dict[str, Any]
    violation_ids: list[str]
    waivers_applied: list[dict[str, Any]]
    verdict_json: str | None = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        """The record as JSON-able data, without the verdict JSON."""
        data = asdict(self)
        del data["verdict_json"]
        data["recorded_at"] = rfc3339(self.recorded_at)
        data["evaluated_at"] = rfc3339(self.evaluated_at)
        return data


def rfc3339(moment: dt.datetime) -> str:
    """``2026-12-06T08:12:28.123456Z``: UTC, as the verdicts write times."""
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def open_log(url: str, *, create: bool = True) -> DecisionLog:
    """Open the decision log at ``url``, creating it (``create``) or migrating it as needed.

    Raises :class:`UsageError` for a URL gate cannot use (another scheme, a bare path; with
    ``create=False``, a log that does not exist) and :class:`DecisionLogError` when the
    log cannot be reached, was written by a newer gate, or cannot be migrated.
    """
    from gate.decisionlog.store import DecisionLog

    return DecisionLog.open(url, create=create)


_RELATIVE_AGE = re.compile(r"^(\d{1,9})([smhdw])$")
_AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")


def parse_age(text: str, option: str) -> dt.timedelta:
    """``90m``, ``24h``, ``7d``, ``2w`` as a duration; :class:`UsageError` otherwise."""
    match = _RELATIVE_AGE.match(text.strip())
    if match is None:
        raise UsageError(
            f"{option} {text!r} is not an age",
            hint="give a number and a unit: 90m, 24h, 7d, 2w (s, m, h, d, w)",
        )
    try:
        age = dt.timedelta(**{_AGE_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:
        raise UsageError(f"{option} {text!r} is too long an age") from None
    if not age:
        raise UsageError(f"{option} {text!r} is no age at all: give more than 0")
    return age


def parse_moment(text: str, option: str, *, now: dt.datetime | None = None) -> dt.datetime:
    """An RFC 3339 time, a date (midnight UTC) or an age before ``now`` ('24h', '7d')."""
    value = text.strip()
    if _RELATIVE_AGE.match(value):
        age = parse_age(value, option)
        current = now or dt.datetime.now(dt.UTC)
        try:
            return current - age
        except OverflowError:
            raise UsageError(f"{option} {text!r} reaches before year 1") from None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a time",
            hint="give an RFC 3339 time (2026-12-01T08:00:00Z), a date (2026-12-01) or an "
            "age (90m, 24h, 7d)",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def parse_image_filter(text: str) -> ImageFilter:
    """``sha256:…`` or ``repo@sha256:…`` match the digest; ``repo:tag`` the tag of the
    repository; a bare ``repo`` every tag and digest of it (Docker's normalisation:
    ``nginx`` is ``docker.io/library/nginx``)."""
    from gate.reference import parse_reference

    value = text.strip()
    if _DIGEST.match(value):
        return ImageFilter(digest=value.lower())
    subject = parse_reference(value)
    if subject.repository is None:
        raise UsageError(
            f"--image {text!r} is not an image reference or digest",
            hint="e.g. ghcr.io/acme/api, ghcr.io/acme/api:1.2.3 or sha256:…",
        )
    if subject.digest:
        return ImageFilter(digest=subject.digest)
    return ImageFilter(registry=subject.registry, repository=subject.repository, tag=subject.tag)


def parse_query(
    *,
    image: str | None = None,
    stage: str | None = None,
    decision: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: str | int | None = None,
    now: dt.datetime | None = None,
) -> DecisionQuery:
    """One parser for ``gate log`` flags and ``GET /v1/decisions`` parameters (strings in).

    Empty values count as absent. Raises :class:`UsageError` naming the bad value.
    """
    for name, value in (("--image", image), ("--stage", stage)):
        if value is not None and len(value) > MAX_FILTER_CHARS:
            raise UsageError(f"{name} is longer than {MAX_FILTER_CHARS} characters")
    if decision and decision not in ("pass", "fail"):
        raise UsageError(f"--decision {decision!r}: choose pass or fail")
    current = now or dt.datetime.now(dt.UTC)
    start = parse_moment(since, "--since", now=current) if since else None
    end = parse_moment(until, "--until", now=current) if until else None
    if start is not None and end is not None and end < start:
        raise UsageError(f"--until {until} is before --since {since}")
    return DecisionQuery(
        image=parse_image_filter(image) if image else None,
        stage=stage or None,
        decision=decision or None,  # type: ignore[arg-type]  # checked above
        since=start,
        until=end,
        limit=_parse_limit(limit),
    )


def _parse_limit(limit: str | int | None) -> int | None:
    if limit is None or limit == "":
        return None
    try:
        number = int(limit)
    except ValueError:
        raise UsageError(f"--limit {limit!r} is not a number") from None
    if not 1 <= number <= MAX_LIST_LIMIT:
        raise UsageError(
            f"--limit {number} is outside 1..{MAX_LIST_LIMIT}",
            hint="gate log export streams any number of decisions",
        )
    return number


def __getattr__(name: str) -> Any:
    # DecisionLog lives with SQLAlchemy; importing it by name loads the store then.
    if name == "DecisionLog":
        from gate.decisionlog.store import DecisionLog

        return DecisionLog
    raise AttributeError(name)


__all__ = [
    "LOG_ENV",
    "DecisionLog",
    "DecisionLogError",
    "DecisionQuery",
    "DecisionRecord",
    "ImageFilter",
    "open_log",
    "parse_age",
    "parse_query",
]
