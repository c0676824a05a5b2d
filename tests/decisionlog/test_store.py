"""The decision log on SQLite and on PostgreSQL: what is recorded, found, exported, pruned."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from sqlalchemy import inspect

from gate.decisionlog import DecisionQuery, open_log, parse_query
from gate.decisionlog.store import DecisionLog, decisions
from gate.verdict import Verdict

from .conftest import as_json, record, set_recorded_at

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
HOSTILE = "'); DROP TABLE decisions;--"


def test_a_recorded_verdict_reads_back_with_its_facts_and_exact_json(
    log: DecisionLog, failing_verdict: Verdict
) -> None:
    text = as_json(failing_verdict)
    decision_id = log.record(failing_verdict, verdict_json=text, source="server")
    found = log.get(decision_id)
    assert found is not None
    assert found.verdict_json == text
    subject = failing_verdict.subject
    summary = found.summary()
    assert summary["id"] == decision_id
    assert (summary["subject_reference"], summary["subject_digest"]) == (
        subject.reference,
        subject.digest,
    )
    assert (summary["stage"], summary["decision"], summary["advisory"]) == ("prod", "fail", False)
    assert summary["policy_digest"] == failing_verdict.policy.digest
    assert summary["input_sha256"] == failing_verdict.input.sha256
    assert summary["engine"] == failing_verdict.engine.model_dump()
    assert summary["gate_version"] == failing_verdict.gate_version
    assert summary["evaluated_at"] == failing_verdict.evaluated_at
    assert summary["source"] == "server"
    assert summary["counts"] == failing_verdict.counts.model_dump(mode="json")
    assert summary["violation_ids"] == sorted({r.id for r in failing_verdict.violations})
    (waiver,) = summary["waivers_applied"]
    assert waiver["owner"] == "platform-security"
    assert waiver["ticket"] == "SEC-1234"
    assert waiver["vulnerability"] == "CVE-2023-38545"
    assert waiver["expires"] == "2024-12-31"
    assert waiver["results"] == failing_verdict.counts.waived
    assert waiver["rules"] == sorted({r.id for r in failing_verdict.waived})
    recorded = found.recorded_at
    assert recorded.tzinfo is not None and recorded.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - recorded) < dt.timedelta(hours=1)
    assert "verdict_json" not in summary
    assert log.get(decision_id + 1000) is None


def test_nothing_from_the_environment_or_the_url_is_recorded(
    log: DecisionLog, log_url: str, passing_verdict: Verdict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATE_SECRET_TOKEN", "env-secret-value-123")
    decision_id = record(log, passing_verdict)
    found = log.get(decision_id)
    assert found is not None
    stored = json.dumps(found.summary()) + (found.verdict_json or "")
    assert "env-secret-value-123" not in stored
    assert log_url not in stored and "decisions.db" not in stored


def test_sql_in_verdict_strings_is_stored_as_text(
    log: DecisionLog, failing_verdict: Verdict
) -> None:
    hostile = failing_verdict.model_copy(
        update={
            "stage": HOSTILE,
            "subject": failing_verdict.subject.model_copy(update={"reference": HOSTILE}),
        }
    )
    decision_id = record(log, hostile)
    found = log.get(decision_id)
    assert found is not None
    assert (found.stage, found.subject_reference) == (HOSTILE, HOSTILE)
    assert [r.id for r in log.list(parse_query(stage=HOSTILE))] == [decision_id]
    assert inspect(log._engine).has_table("decisions")
    assert len(log.list(DecisionQuery())) == 1


def test_a_nul_in_a_verdict_string_is_recorded_escaped_on_every_backend(
    log: DecisionLog, passing_verdict: Verdict
) -> None:
    # PostgreSQL text cannot hold NUL; both backends record the same escaped text.
    hostile = passing_verdict.model_copy(update={"stage": "prod\x00evil"})
    found = log.get(record(log, hostile))
    assert found is not None
    assert found.stage == "prod\\x00evil"
    assert json.loads(found.verdict_json or "")["stage"] == "prod\x00evil"


def _at(log: DecisionLog, verdict: Verdict, when: str, **update: object) -> int:
    decision_id = record(log, verdict.model_copy(update=update) if update else verdict)
    set_recorded_at(log, decision_id, when)
    return decision_id


def _ids(log: DecisionLog, **filters: object) -> list[int]:
    return [r.id for r in log.list(parse_query(**filters, now=NOW))]  # type: ignore[arg-type]


def test_list_filters_and_orders_newest_first(
    log: DecisionLog, failing_verdict: Verdict, passing_verdict: Verdict
) -> None:
    other = failing_verdict.subject.model_copy(
        update={
            "reference": "docker.io/library/nginx:1.27",
            "registry": "docker.io",
            "repository": "library/nginx",
            "tag": "1.27",
            "digest": "sha256:" + "b" * 64,
        }
    )
    old_fail = _at(log, failing_verdict, "2026-12-01T10:00:00Z")
    new_pass = _at(log, passing_verdict, "2026-12-06T11:00:00Z")
    nginx = _at(log, failing_verdict, "2026-12-06T11:30:00Z", subject=other, stage="dev")
    other_tag = _at(
        log,
        passing_verdict,
        "2026-12-05T00:00:00Z",
        subject=passing_verdict.subject.model_copy(update={"tag": "1.5.0", "digest": None}),
    )
    assert _ids(log) == [nginx, new_pass, other_tag, old_fail]
    digest = failing_verdict.subject.digest
    assert _ids(log, image=digest) == [new_pass, old_fail]
    assert _ids(log, image=f"ghcr.io/acme/shop-api@{digest}") == [new_pass, old_fail]
    assert _ids(log, image="ghcr.io/acme/shop-api:1.4.2") == [new_pass, old_fail]
    assert _ids(log, image="ghcr.io/acme/shop-api:1.5.0") == [other_tag]
    assert _ids(log, image="ghcr.io/acme/shop-api") == [new_pass, other_tag, old_fail]
    assert _ids(log, image="nginx") == [nginx]
    assert _ids(log, image="ghcr.io/acme/other") == []
    assert _ids(log, stage="dev") == [nginx]
    assert _ids(log, decision="fail") == [nginx, old_fail]
    assert _ids(log, since="2026-12-05") == [nginx, new_pass, other_tag]
    assert _ids(log, since="1h") == [nginx, new_pass]
    assert _ids(log, until="2026-12-06T11:00:00Z") == [other_tag, old_fail]
    assert _ids(log, since="2026-12-06T12:00:00+01:00", until="2026-12-06T11:30:00Z") == [new_pass]
    assert _ids(log, limit="2") == [nginx, new_pass]
    assert all(r.verdict_json is None for r in log.list(DecisionQuery()))


def test_export_writes_one_summary_and_verdict_per_line(
    log: DecisionLog, failing_verdict: Verdict, passing_verdict: Verdict
) -> None:
    first = _at(log, failing_verdict, "2026-12-01T10:00:00Z")
    second = _at(log, passing_verdict, "2026-12-02T10:00:00Z")
    out = io.StringIO()
    assert log.export(DecisionQuery(), out) == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["id"] for line in lines] == [second, first]
    assert lines[1]["verdict"] == json.loads(as_json(failing_verdict))
    assert lines[1]["recorded_at"] == "2026-12-01T10:00:00Z"
    assert {k: v for k, v in lines[0].items() if k != "verdict"} == log.list(DecisionQuery())[
        0
    ].summary()
    filtered = io.StringIO()
    assert log.export(parse_query(decision="fail"), filtered) == 1
    assert json.loads(filtered.getvalue())["id"] == first


def test_prune_deletes_only_what_is_older_than_asked(
    log: DecisionLog, passing_verdict: Verdict
) -> None:
    old = _at(log, passing_verdict, "2026-09-01T00:00:00Z")
    boundary = _at(log, passing_verdict, "2026-09-07T12:00:00Z")  # exactly 90 days before NOW
    recent = _at(log, passing_verdict, "2026-12-06T11:59:00Z")
    age = dt.timedelta(days=90)
    assert log.prune(age, now=NOW, dry_run=True) == 1
    assert _ids(log) == [recent, boundary, old]
    assert log.prune(age, now=NOW) == 1
    assert _ids(log) == [recent, boundary]
    assert log.prune(age, now=NOW) == 0


def test_ids_are_never_reused_after_prune_empties_the_log(
    log: DecisionLog, passing_verdict: Verdict
) -> None:
    first = _at(log, passing_verdict, "2020-01-01T00:00:00Z")
    second = _at(log, passing_verdict, "2020-01-02T00:00:00Z")
    assert log.prune(dt.timedelta(days=1), now=NOW) == 2
    assert record(log, passing_verdict) > max(first, second)


def test_reopening_keeps_the_rows_and_the_schema(log_url: str, passing_verdict: Verdict) -> None:
    first = open_log(log_url)
    decision_id = record(first, passing_verdict)
    first.close()
    again = open_log(log_url)
    try:
        assert [r.id for r in again.list(DecisionQuery())] == [decision_id]
        assert record(again, passing_verdict) == decision_id + 1
    finally:
        again.close()


def test_a_log_of_an_unknown_newer_revision_is_refused_unchanged(
    log_url: str, passing_verdict: Verdict
) -> None:
    from sqlalchemy import func, select, text

    from gate.errors import DecisionLogError, ExitCode

    log = open_log(log_url)
    record(log, passing_verdict)
    with log._engine.begin() as connection:
        connection.execute(text("UPDATE decision_log_version SET version_num = '0099'"))
    log.close()
    with pytest.raises(DecisionLogError) as caught:
        open_log(log_url)
    assert caught.value.exit_code == ExitCode.NO_VERDICT
    assert "0099" in str(caught.value) and "newer gate" in str(caught.value)
    assert "upgrade gate" in (caught.value.hint or "")
    # Refused before anything was written: the revision and the rows are as they were (the
    # closed log's engine reconnects for this look).
    with log._engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM decision_log_version")) == "0099"
        assert connection.scalar(select(func.count()).select_from(decisions)) == 1


def test_the_migrated_schema_is_the_store_s_schema(log: DecisionLog) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from gate.decisionlog.store import VERSION_TABLE, metadata

    with log._engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, metadata) == []
        assert context.get_current_heads() == ("0001",)


def test_ping_answers_on_a_reachable_log(log: DecisionLog) -> None:
    log.ping()


def test_list_is_bounded_without_a_limit(log: DecisionLog, passing_verdict: Verdict) -> None:
    from gate.decisionlog import DEFAULT_LIST_LIMIT

    text = as_json(passing_verdict)
    ids = [
        log.record(passing_verdict, verdict_json=text, source="cli")
        for _ in range(DEFAULT_LIST_LIMIT + 3)
    ]
    assert [r.id for r in log.list(DecisionQuery())] == ids[::-1][:DEFAULT_LIST_LIMIT]
    assert len(log.list(DecisionQuery(limit=DEFAULT_LIST_LIMIT + 3))) == DEFAULT_LIST_LIMIT + 3
    assert log.export(DecisionQuery(), io.StringIO()) == DEFAULT_LIST_LIMIT + 3
