"""``gate log list|show|export|prune``: read and maintain the decision log."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from gate.cli import debug_option
from gate.decisionlog import (
    DEFAULT_LIST_LIMIT,
    LOG_ENV,
    DecisionRecord,
    open_log,
    parse_age,
    parse_query,
)
from gate.errors import GateError, UsageError

if TYPE_CHECKING:
    from gate.decisionlog.store import DecisionLog

MAX_DECISION_ID = 2**63 - 1


def log_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--log URL (also GATE_DECISION_LOG), as every `gate log` command takes it."""
    return click.option(
        "--log",
        "log_url",
        metavar="URL",
        envvar=LOG_ENV,
        show_envvar=True,
        help="The decision log: sqlite:///path/decisions.db or postgresql://user@host/db.",
    )(command)


def query_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The filters of list and export (times are when the log recorded the decision)."""
    for option in reversed(
        [
            click.option(
                "--image",
                metavar="REF",
                help="A digest (or REF@digest), repo:tag, or a bare repo (every tag and digest).",
            ),
            click.option("--stage", metavar="STAGE", help="Only decisions for this stage."),
            click.option("--decision", type=click.Choice(["pass", "fail"]), help="Only these."),
            click.option(
                "--since",
                metavar="TIME",
                help="Recorded at or after: RFC 3339, YYYY-MM-DD, or an age (90m, 24h, 7d).",
            ),
            click.option("--until", metavar="TIME", help="Recorded before (same forms)."),
        ]
    ):
        command = option(command)
    return command


def _open(log_url: str | None) -> DecisionLog:
    if not log_url:
        raise UsageError(f"no decision log: --log URL or {LOG_ENV}")
    return open_log(log_url, create=False)


@contextlib.contextmanager
def _opened(log_url: str | None) -> Iterator[DecisionLog]:
    log = _open(log_url)
    try:
        yield log
    finally:
        log.close()


@click.group("log")
def log_group() -> None:
    """Read and maintain the decision log that `gate check --log` and `gate serve` write."""


@log_group.command("list")
@log_option
@query_options
@click.option(
    "--limit",
    type=int,
    default=DEFAULT_LIST_LIMIT,
    show_default=True,
    help="At most this many, newest first.",
)
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people; json: a list of decision summaries.",
)
@debug_option
def list_command(log_url: str | None, output_format: str, limit: int, **filters: Any) -> None:
    """List recorded decisions, newest first."""
    from gate.output import write_output

    query = parse_query(**filters, limit=limit)
    with _opened(log_url) as log:
        records = log.list(query)
        shown = log.shown_url
    if output_format == "json":
        write_output(json.dumps([r.summary() for r in records], indent=2) + "\n", None)
    elif records:
        write_output(decisions_table(records, sys.stdout), None)
    else:
        click.echo(f"no decisions in {shown} match", err=True)


def decisions_table(records: list[DecisionRecord], stream: TextIO) -> str:
    """The records as a narrow table; styled only on a terminal."""
    from rich.table import Table
    from rich.text import Text

    from gate.output import printable, render_rich, terminal_style

    table = Table(box=None, pad_edge=False)
    for name, justify in (
        ("ID", "right"),
        ("Recorded (UTC)", "left"),
        ("Decision", "left"),
        ("Stage", "left"),
        ("Image", "left"),
        ("Violations", "right"),
        ("Source", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for record in records:
        decision = record.decision + (" (advisory)" if record.advisory else "")
        style = "green" if record.decision == "pass" else "red"
        image = record.subject_reference or record.subject_digest or "(not identified)"
        table.add_row(
            str(record.id),
            record.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
            Text(decision, style=style),
            Text(printable(record.stage)),
            Text(printable(image)),
            str(record.counts.get("violations", "?")),
            record.source,
        )
    color, width = terminal_style(stream)
    return render_rich(lambda console: console.print(table), color=color, width=width)


@log_group.command("show")
@log_option
@click.argument("decision_id", metavar="ID", type=click.IntRange(1, MAX_DECISION_ID))
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(["json", "table"]),
    default="json",
    show_default=True,
    help="json: the verdict exactly as recorded (gate render reads it); table: for people.",
)
@debug_option
def show_command(log_url: str | None, decision_id: int, output_format: str) -> None:
    """Print one recorded verdict."""
    from gate.output import write_output

    with _opened(log_url) as log:
        record = log.get(decision_id)
        if record is None:
            raise UsageError(f"no decision {decision_id} in {log.shown_url}")
    text = record.verdict_json or ""
    if output_format == "table":
        from gate.formats import FORMATS
        from gate.output import terminal_style
        from gate.verdict import Verdict

        color, width = terminal_style(sys.stdout)
        text = FORMATS["table"].render(Verdict.model_validate_json(text), color=color, width=width)
    write_output(text, None)


@log_group.command("export")
@log_option
@query_options
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(["jsonl"]),
    default="jsonl",
    show_default=True,
    help="jsonl: one decision per line, its summary and the parsed 'verdict'.",
)
@click.option("-o", "--output", metavar="FILE", help="Write here instead of stdout.")
@debug_option
def export_command(
    log_url: str | None, output_format: str, output: str | None, **filters: Any
) -> None:
    """Export decisions, newest first, streamed (any number of them)."""
    query = parse_query(**filters)
    with _opened(log_url) as log:
        if output is not None:
            from gate.output import check_output_path

            check_output_path(output, reads=log.files, policy_paths=[])
        with _output_stream(output) as stream:
            count = log.export(query, stream)
    click.echo(f"exported {count} decision{'s' if count != 1 else ''}", err=True)


@contextlib.contextmanager
def _output_stream(output: str | None) -> Iterator[TextIO]:
    """Standard output, a device/FIFO written in place, or a file replaced only when complete."""
    if output is None or output == "-":
        try:
            yield sys.stdout
            sys.stdout.flush()
        except BrokenPipeError as exc:
            raise GateError("cannot write output: the reader of standard output went away") from exc
        return
    if _is_special(output):
        with _reported(output), open(output, "w", encoding="utf-8") as handle:
            yield handle
        return
    target = Path(os.path.realpath(output))
    with _reported(output):
        handle_fd, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".partial", dir=target.parent
        )
    try:
        with os.fdopen(handle_fd, "w", encoding="utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        with _reported(output):
            os.replace(temporary, target)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _is_special(output: str) -> bool:
    """An existing FIFO or device (``/dev/stdout``): written in place, never replaced."""
    try:
        return not stat.S_ISREG(os.stat(output).st_mode)
    except OSError:
        return False


@contextlib.contextmanager
def _reported(output: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise GateError(f"cannot write output: {exc.strerror or exc}", where=output) from exc


@log_group.command("prune")
@log_option
@click.option(
    "--older-than",
    "older_than",
    metavar="AGE",
    required=True,
    help="Delete decisions recorded longer ago than this: 90d, 12w, 36h.",
)
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@debug_option
def prune_command(log_url: str | None, older_than: str, dry_run: bool) -> None:
    """Delete old decisions (by when they were recorded, not --at), for retention."""
    import datetime as dt

    from gate.decisionlog import rfc3339

    age = parse_age(older_than, "--older-than")
    now = dt.datetime.now(dt.UTC)
    with _opened(log_url) as log:
        count = log.prune(age, now=now, dry_run=dry_run)
        shown = log.shown_url
    verb = "would delete" if dry_run else "deleted"
    click.echo(
        f"{verb} {count} decision{'s' if count != 1 else ''} recorded before "
        f"{rfc3339(now - age)} (older than {older_than}) from {shown}"
    )
