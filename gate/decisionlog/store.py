"""The decision log's database: SQLAlchemy Core on SQLite or PostgreSQL, migrated by alembic.

One :class:`DecisionLog` per process (an engine with a connection pool: safe to share
between the threads of that process). Every write is one short transaction; SQLite takes
its write lock up front (``BEGIN IMMEDIATE``) and waits up to :data:`BUSY_TIMEOUT_MS` for
other writers, so parallel CI jobs queue rather than fail.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from gate.decisionlog import DEFAULT_LIST_LIMIT, SOURCES, DecisionQuery, DecisionRecord
from gate.errors import DecisionLogError, UsageError

if TYPE_CHECKING:
    from gate.verdict import Verdict, WaivedResult

BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another's lock before the record fails (exit 3)."""

CONNECT_TIMEOUT_S = 10
"""How long to wait for a PostgreSQL server that does not answer (unless the URL says)."""

VERSION_TABLE = "decision_log_version"
"""alembic's revision table; not ``alembic_version``, so a database shared with another
application's migrations keeps the two apart."""

MIGRATION_LOCK_KEY = 0x6761746564656331
"""PostgreSQL advisory lock held while the schema is created or migrated ("gatedec1")."""

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

SQLITE_DRIVERS = ("sqlite", "sqlite+pysqlite")
POSTGRES_DRIVERS = ("postgresql", "postgres", "postgresql+psycopg")
POSTGRES_DRIVER = "postgresql+psycopg"

metadata = MetaData()

decisions = Table(
    "decisions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("evaluated_at", DateTime(timezone=True), nullable=False),
    Column("subject_reference", Text),
    Column("subject_digest", Text),
    Column("subject_registry", Text),
    Column("subject_repository", Text),
    Column("subject_tag", Text),
    Column("stage", Text, nullable=False),
    Column("decision", String(4), nullable=False),
    Column("advisory", Boolean, nullable=False),
    Column("policy_digest", Text, nullable=False),
    Column("input_sha256", Text, nullable=False),
    Column("engine_name", Text, nullable=False),
    Column("engine_version", Text, nullable=False),
    Column("gate_version", Text, nullable=False),
    Column("source", String(16), nullable=False),
    Column("counts", JSON, nullable=False),
    Column("violation_ids", JSON, nullable=False),
    Column("waivers_applied", JSON, nullable=False),
    Column("verdict_json", Text, nullable=False),
    Index("ix_decisions_recorded_at", "recorded_at"),
    Index("ix_decisions_subject_digest", "subject_digest"),
    Index("ix_decisions_subject", "subject_registry", "subject_repository", "subject_tag"),
    Index("ix_decisions_stage_decision", "stage", "decision", "recorded_at"),
    # Ids are cited in tickets ("decision 7"): never reuse one, even after prune emptied
    # the table (SQLite would otherwise start again from the highest id left).
    sqlite_autoincrement=True,
)
"""The current schema, as revision head of ``migrations/versions`` creates it (a test
compares the two: a change here needs a new revision, never an edit of an old one)."""

SUMMARY_COLUMNS = [column for column in decisions.columns if column.name != "verdict_json"]


class DecisionLog:
    """A decision log opened at a URL; see :func:`gate.decisionlog.open_log`."""

    def __init__(
        self, engine: Engine, shown_url: str, password: str | None, files: list[str]
    ) -> None:
        self._engine = engine
        self.shown_url = shown_url
        self.files = files
        """The files of a SQLite log (database, WAL, shared memory): never an output."""
        self._password = password

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> DecisionLog:
        """Connect, then create or migrate the schema; see :func:`gate.decisionlog.open_log`."""
        parsed = _parse_url(url)
        shown = parsed.render_as_string(hide_password=True)
        files: list[str] = []
        if parsed.drivername == POSTGRES_DRIVER:
            engine = _postgres_engine(parsed, shown)
        else:
            engine = _sqlite_engine(parsed, shown, create=create)
            database = _sqlite_path(parsed)
            files = [database + suffix for suffix in ("", "-wal", "-shm", "-journal")]
        log = cls(engine, shown, parsed.password, files)
        try:
            log._migrate(create=create)
        except BaseException:
            engine.dispose()
            raise
        return log

    # -- writing ---------------------------------------------------------------------------

    def record(self, verdict: Verdict, *, verdict_json: str, source: str) -> int:
        """Record ``verdict`` (``verdict_json``: its JSON text, kept exactly); return its id."""
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
        row = verdict_row(verdict, verdict_json=verdict_json, source=source)
        with self._transaction("record a decision in", write=True) as connection:
            inserted = connection.execute(insert(decisions).values(**row)).inserted_primary_key
            if inserted is None:  # pragma: no cover - both dialects report the new id
                raise DecisionLogError("the database did not return the new decision's id")
            return int(inserted[0])

    def prune(
        self,
        older_than: dt.timedelta,
        *,
        now: dt.datetime | None = None,
        dry_run: bool = False,
    ) -> int:
        """Delete (``dry_run``: count) the decisions recorded before ``now - older_than``.

        By ``recorded_at``, which the log sets: ``evaluated_at`` follows ``--at`` and would
        let a run dated in the past be pruned on arrival.
        """
        cutoff = _utc(now or dt.datetime.now(dt.UTC)) - older_than
        old = decisions.c.recorded_at < cutoff
        with self._transaction("prune", write=not dry_run) as connection:
            if dry_run:
                return int(connection.scalar(select(func.count()).where(old)) or 0)
            return int(connection.execute(delete(decisions).where(old)).rowcount)

    # -- reading ---------------------------------------------------------------------------

    def get(self, decision_id: int) -> DecisionRecord | None:
        """The decision with this id, verdict JSON included; None when there is none."""
        with self._transaction("read") as connection:
            row = connection.execute(select(decisions).where(decisions.c.id == decision_id))
            found = row.mappings().first()
        return _record(found) if found is not None else None

    def list(self, query: DecisionQuery) -> list[DecisionRecord]:
        """Decisions matching ``query``, newest first, without their verdict JSON; at most
        ``query.limit``, else :data:`DEFAULT_LIST_LIMIT` (the answer is built in memory:
        :meth:`export` streams any number)."""
        if query.limit is None:
            query = dataclasses.replace(query, limit=DEFAULT_LIST_LIMIT)
        with self._transaction("read") as connection:
            rows = connection.execute(_select(SUMMARY_COLUMNS, query)).mappings().all()
        return [_record(row) for row in rows]

    def export(self, query: DecisionQuery, stream: TextIO) -> int:
        """Write the matching decisions to ``stream`` as JSON lines (the summary and the
        parsed ``verdict``), newest first, one row in memory at a time; return how many."""
        count = 0
        with self._transaction("export") as connection:
            rows = connection.execution_options(stream_results=True, yield_per=64).execute(
                _select(list(decisions.columns), query)
            )
            for row in rows.mappings():
                record = _record(row)
                line = {**record.summary(), "verdict": json.loads(record.verdict_json or "null")}
                stream.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
                count += 1
        return count

    def ping(self) -> None:
        """Raise :class:`DecisionLogError` unless the database answers."""
        with self._transaction("reach") as connection:
            connection.execute(text("SELECT 1"))

    def close(self) -> None:
        self._engine.dispose()

    # -- internals -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self, action: str, *, write: bool = False) -> Iterator[Connection]:
        """One transaction; database failures become :class:`DecisionLogError` naming the log."""
        try:
            with self._engine.connect() as connection:
                if write:
                    connection.execution_options(sqlite_begin="BEGIN IMMEDIATE")
                with connection.begin():
                    yield connection
        except SQLAlchemyError as exc:
            raise self._error(action, exc) from exc

    def _error(self, action: str, exc: BaseException) -> DecisionLogError:
        reason = _reason(exc)
        if self._password:
            reason = reason.replace(self._password, "***")
        return DecisionLogError(
            f"cannot {action} the decision log: {reason}",
            where=self.shown_url,
            hint=_hint(reason),
        )

    def _migrate(self, *, create: bool) -> None:
        """Bring the schema to this gate's head revision; never drop or recreate anything.

        The revision is read first without a lock (the common case: already current, and a
        read-only log stays readable); only an upgrade takes the lock, then reads again,
        so concurrent first opens create the schema once.
        """
        from alembic.script import ScriptDirectory

        config = _alembic_config()
        script = ScriptDirectory.from_config(config)
        known = {revision.revision for revision in script.walk_revisions()}
        head = set(script.get_heads())
        with self._transaction("open") as connection:
            current = self._current(connection, known)
            if current == head:
                return
            if not current and not create and not _has_decisions(connection):
                raise UsageError(
                    "no decision log here: nothing has been recorded",
                    where=self.shown_url,
                    hint="check the URL (--log / GATE_DECISION_LOG)",
                )
        from alembic import command

        with self._transaction("migrate", write=True) as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            if self._current(connection, known) != head:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")

    def _current(self, connection: Connection, known: set[str]) -> set[str]:
        from alembic.runtime.migration import MigrationContext

        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        current = set(context.get_current_heads())
        unknown = sorted(current - known)
        if unknown:
            from gate import __version__

            raise DecisionLogError(
                f"the decision log has schema revision {', '.join(unknown)}, which gate "
                f"{__version__} does not know: a newer gate wrote it",
                where=self.shown_url,
                hint="upgrade gate to read or write this log; it was left unchanged",
            )
        return current


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["version_table"] = VERSION_TABLE
    return config


def _has_decisions(connection: Connection) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(connection).has_table(decisions.name))


def _parse_url(url: str) -> URL:
    hint = "e.g. sqlite:///decisions.db or postgresql://user@host/db"
    try:
        parsed = make_url(url.strip())
    except (ArgumentError, ValueError):
        # The text is not echoed: it may hold a password.
        raise UsageError("the decision log URL is not a database URL", hint=hint) from None
    if parsed.drivername in POSTGRES_DRIVERS:
        return parsed.set(drivername=POSTGRES_DRIVER)
    if parsed.drivername in SQLITE_DRIVERS:
        if not parsed.database or parsed.database == ":memory:":
            raise UsageError(
                "a sqlite decision log needs a file: sqlite:///path/decisions.db",
                hint="an in-memory log would forget every decision at exit",
            )
        return parsed
    raise UsageError(
        f"unsupported decision log database {parsed.drivername!r}: gate records to "
        "SQLite or PostgreSQL",
        hint=hint,
    )


def _sqlite_engine(url: URL, shown: str, *, create: bool) -> Engine:
    path = Path(_sqlite_path(url))
    if path.is_dir():
        raise DecisionLogError("the decision log is a directory, not a file", where=shown)
    if not path.exists():
        if not create:
            raise UsageError(
                "no decision log here: the file does not exist",
                where=shown,
                hint="check the URL (--log / GATE_DECISION_LOG)",
            )
        _create_private_file(path, shown)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, connection_record: Any) -> None:
        # pysqlite's own transaction handling would BEGIN lazily and too late for a writer;
        # gate issues BEGIN itself (see _begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # Writers append to the WAL while readers keep reading; persistent once set. A
        # read-only opener (?mode=ro) cannot set it and keeps what the file has.
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))

    return engine


def _sqlite_path(url: URL) -> str:
    database = url.database or ""
    if url.query.get("uri") in ("true", "1") and database.startswith("file:"):
        return database[len("file:") :].split("?", 1)[0]
    return database


def _create_private_file(path: Path, shown: str) -> None:
    """Create the log file 0600 (an audit record); SQLite gives its WAL files the same mode."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass  # another process created it first: fine, it made it 0600 too
    except OSError as exc:
        raise DecisionLogError(
            f"cannot create the decision log: {exc.strerror or exc}",
            where=shown,
            hint="the directory must exist and be writable",
        ) from exc


def _postgres_engine(url: URL, shown: str) -> Engine:
    connect_args: dict[str, Any] = {"application_name": "gate"}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    try:
        import psycopg  # noqa: F401  # SQLAlchemy's postgresql+psycopg dialect drives it

        return create_engine(url, connect_args=connect_args, pool_pre_ping=True)
    except ImportError as exc:
        raise DecisionLogError(
            "PostgreSQL support is not installed (the psycopg driver is missing)",
            where=shown,
            hint="pip install 'psycopg[binary]'",
        ) from exc


def _reason(exc: BaseException) -> str:
    """The driver's own words (first line), without SQLAlchemy's statement and parameters."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def _hint(reason: str) -> str | None:
    lowered = reason.lower()
    if "readonly" in lowered or "read-only" in lowered:
        return "the log is read-only here: record to a writable copy, or fix its permissions"
    if "locked" in lowered:
        return f"another writer held the log for more than {BUSY_TIMEOUT_MS // 1000} s"
    if "connect" in lowered or "timeout" in lowered or "refused" in lowered:
        return "is the database server running and reachable from here?"
    return None


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite keeps times as naive text and gives them back naive: every time it stores or
    # compares is UTC, so naive means UTC.
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _select(columns: Sequence[Any], query: DecisionQuery) -> Select[Any]:
    statement = select(*columns)
    image = query.image
    if image is not None and image.digest is not None:
        statement = statement.where(decisions.c.subject_digest == image.digest)
    elif image is not None:
        statement = statement.where(
            decisions.c.subject_registry == image.registry,
            decisions.c.subject_repository == image.repository,
        )
        if image.tag is not None:
            statement = statement.where(decisions.c.subject_tag == image.tag)
    if query.stage is not None:
        statement = statement.where(decisions.c.stage == query.stage)
    if query.decision is not None:
        statement = statement.where(decisions.c.decision == query.decision)
    if query.since is not None:
        statement = statement.where(decisions.c.recorded_at >= _utc(query.since))
    if query.until is not None:
        statement = statement.where(decisions.c.recorded_at < _utc(query.until))
    statement = statement.order_by(decisions.c.recorded_at.desc(), decisions.c.id.desc())
    return statement.limit(query.limit) if query.limit is not None else statement


def verdict_row(verdict: Verdict, *, verdict_json: str, source: str) -> dict[str, Any]:
    """The columns recorded for ``verdict``: its facts, never the environment or the URL."""
    subject = verdict.subject
    return {
        "recorded_at": dt.datetime.now(dt.UTC),
        "evaluated_at": _evaluated_at(verdict.evaluated_at),
        "subject_reference": _text(subject.reference),
        "subject_digest": _text(subject.digest),
        "subject_registry": _text(subject.registry),
        "subject_repository": _text(subject.repository),
        "subject_tag": _text(subject.tag),
        "stage": _text(verdict.stage),
        "decision": verdict.decision,
        "advisory": verdict.advisory,
        "policy_digest": _text(verdict.policy.digest),
        "input_sha256": _text(verdict.input.sha256),
        "engine_name": _text(verdict.engine.name),
        "engine_version": _text(verdict.engine.version),
        "gate_version": _text(verdict.gate_version),
        "source": source,
        "counts": verdict.counts.model_dump(mode="json"),
        "violation_ids": sorted({result.id for result in verdict.violations}),
        "waivers_applied": waivers_applied(verdict.waived),
        "verdict_json": verdict_json,
    }


def waivers_applied(waived: Sequence[WaivedResult]) -> list[dict[str, Any]]:
    """Who waived what: each waiver that suppressed results, with the rules and how many.

    One entry per waiver rather than per result: a waiver that covers 5,000 findings is
    one decision someone took.
    """
    by_waiver: dict[int, dict[str, Any]] = {}
    for result in waived:
        ref = result.waiver
        entry = by_waiver.setdefault(
            ref.index,
            {**ref.model_dump(mode="json"), "rules": [], "results": 0},
        )
        if result.id not in entry["rules"]:
            entry["rules"].append(result.id)
        entry["results"] += 1
    return [by_waiver[index] for index in sorted(by_waiver)]


def _text(value: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL; shown escaped, the way gate prints control characters.
    return value.replace("\x00", "\\x00") if value is not None else None


def _evaluated_at(value: str) -> dt.datetime:
    try:
        return _utc(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise DecisionLogError(
            f"the verdict's evaluated_at {value!r} is not a time; nothing was recorded"
        ) from None


def _record(row: Any) -> DecisionRecord:
    return DecisionRecord(
        id=int(row["id"]),
        recorded_at=_utc(row["recorded_at"]),
        evaluated_at=_utc(row["evaluated_at"]),
        subject_reference=row["subject_reference"],
        subject_digest=row["subject_digest"],
        stage=row["stage"],
        decision=row["decision"],
        advisory=bool(row["advisory"]),
        policy_digest=row["policy_digest"],
        input_sha256=row["input_sha256"],
        engine={"name": row["engine_name"], "version": row["engine_version"]},
        gate_version=row["gate_version"],
        source=row["source"],
        counts=row["counts"],
        violation_ids=row["violation_ids"],
        waivers_applied=row["waivers_applied"],
        verdict_json=row.get("verdict_json"),
    )
