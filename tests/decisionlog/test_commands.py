"""`gate log list|show|export|prune` through the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gate.decisionlog import open_log
from gate.verdict import Verdict

from .conftest import as_json, record, set_recorded_at

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("GATE_UPDATE_GOLDEN") == "1"
PASSWORD = "s3cr3t-Pa55"


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden {name}: run with GATE_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.fixture
def filled(
    sqlite_url: str, failing_verdict: Verdict, passing_verdict: Verdict
) -> tuple[str, list[int]]:
    """A SQLite log with three decisions at fixed times: fail, pass, advisory fail (dev)."""
    log = open_log(sqlite_url)
    advisory = failing_verdict.model_copy(update={"advisory": True, "stage": "dev"})
    ids = []
    for verdict, when in (
        (failing_verdict, "2026-12-01T10:00:00Z"),
        (passing_verdict, "2026-12-02T11:30:00Z"),
        (advisory, "2026-12-03T09:15:00Z"),
    ):
        ids.append(record(log, verdict))
        set_recorded_at(log, ids[-1], when)
    log.close()
    return sqlite_url, ids


def test_list_as_a_table(gate_cli, filled) -> None:
    url, _ = filled
    result = gate_cli("log", "list", "--log", url)
    assert result.code == 0, result.err
    _golden("list.txt", result.out)


def test_list_as_json_with_filters(gate_cli, filled, monkeypatch: pytest.MonkeyPatch) -> None:
    url, ids = filled
    monkeypatch.setenv("GATE_DECISION_LOG", url)
    result = gate_cli("log", "list", "--decision", "fail", "--format", "json")
    assert result.code == 0, result.err
    listed = json.loads(result.out)
    assert [d["id"] for d in listed] == [ids[2], ids[0]]
    assert listed[0]["advisory"] is True and listed[0]["stage"] == "dev"
    assert "verdict_json" not in listed[0]
    since = gate_cli("log", "list", "--since", "2026-12-02", "--until", "2026-12-03", "-f", "json")
    assert [d["id"] for d in json.loads(since.out)] == [ids[1]]
    image = gate_cli(
        "log", "list", "--image", "ghcr.io/acme/shop-api", "--limit", "1", "-f", "json"
    )
    assert [d["id"] for d in json.loads(image.out)] == [ids[2]]


def test_an_empty_list_says_so_on_stderr(gate_cli, filled) -> None:
    url, _ = filled
    result = gate_cli("log", "list", "--log", url, "--stage", "nowhere")
    assert (result.code, result.out) == (0, "")
    assert "no decisions" in result.err


def test_show_prints_the_verdict_as_recorded_and_render_reads_it(
    gate_cli, filled, failing_verdict: Verdict, tmp_path: Path
) -> None:
    url, ids = filled
    result = gate_cli("log", "show", str(ids[0]), "--log", url)
    assert result.code == 0, result.err
    assert result.out == as_json(failing_verdict)
    saved = tmp_path / "v.json"
    saved.write_text(result.out)
    rendered = gate_cli("render", saved, "--format", "json")
    assert rendered.code == 0, rendered.err
    assert rendered.out == as_json(failing_verdict)


def test_show_as_a_table_is_gate_s_table(gate_cli, filled, failing_verdict: Verdict) -> None:
    from gate.formats import FORMATS

    url, ids = filled
    result = gate_cli("log", "show", str(ids[0]), "--log", url, "-f", "table")
    assert result.code == 0, result.err
    assert result.out == FORMATS["table"].render(failing_verdict)


def test_show_of_an_unknown_decision_is_a_usage_error(gate_cli, filled) -> None:
    url, _ = filled
    result = gate_cli("log", "show", "42", "--log", url)
    assert result.code == 2
    assert result.err.startswith(f"error: no decision 42 in {url}\n")
    for bad in ("0", "-1", "x", str(2**63)):
        assert gate_cli("log", "show", bad, "--log", url).code == 2


def test_every_command_needs_a_log(gate_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATE_DECISION_LOG", raising=False)
    for args in (["list"], ["show", "1"], ["export"], ["prune", "--older-than", "90d"]):
        result = gate_cli("log", *args)
        assert result.code == 2, args
        assert "no decision log: --log URL or GATE_DECISION_LOG" in result.err


def test_export_streams_json_lines_to_stdout_and_to_a_file(
    gate_cli, filled, failing_verdict: Verdict, tmp_path: Path
) -> None:
    url, ids = filled
    result = gate_cli("log", "export", "--log", url, "--format", "jsonl", "--stage", "prod")
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert [line["id"] for line in lines] == [ids[0]]
    assert lines[0]["verdict"] == json.loads(as_json(failing_verdict))
    assert "exported 1 decision" in result.err
    target = tmp_path / "out" / "decisions.jsonl"
    target.parent.mkdir()
    result = gate_cli("log", "export", "--log", url, "-o", target)
    assert result.code == 0, result.err
    assert [json.loads(line)["id"] for line in target.read_text().splitlines()] == ids[::-1]
    assert [p.name for p in target.parent.iterdir()] == ["decisions.jsonl"]


def test_export_never_writes_over_the_log(gate_cli, filled) -> None:
    url, _ = filled
    database = url.removeprefix("sqlite:///")
    before = Path(database).read_bytes()
    for target in (database, database + "-wal", database + "-shm"):
        result = gate_cli("log", "export", "--log", url, "-o", target)
        assert result.code == 2, target
        assert "would overwrite" in result.err
    assert Path(database).read_bytes() == before
    assert gate_cli("log", "show", "1", "--log", url).code == 0


def test_prune_deletes_what_is_older_and_says_how_many(gate_cli, filled) -> None:
    url, ids = filled
    dry = gate_cli("log", "prune", "--log", url, "--older-than", "1d", "--dry-run")
    assert dry.code == 0, dry.err
    assert dry.out.startswith("would delete 3 decisions recorded before ")
    assert len(json.loads(gate_cli("log", "list", "--log", url, "-f", "json").out)) == 3
    kept = gate_cli("log", "prune", "--log", url, "--older-than", "100000d")
    assert kept.out.startswith("deleted 0 decisions ")
    done = gate_cli("log", "prune", "--log", url, "--older-than", "1d")
    assert done.out.startswith("deleted 3 decisions ")
    assert gate_cli("log", "list", "--log", url, "-f", "json").out == "[]\n"
    bad = gate_cli("log", "prune", "--log", url, "--older-than", "ninety days")
    assert bad.code == 2 and "--older-than" in bad.err


def test_a_log_path_that_is_a_directory_is_exit_3(gate_cli, tmp_path: Path) -> None:
    result = gate_cli("log", "list", "--log", f"sqlite:///{tmp_path}")
    assert result.code == 3
    assert "directory" in result.err


def test_a_password_is_never_printed(gate_cli, postgres_cluster) -> None:
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{postgres_cluster.port}/no_such_db"
    result = gate_cli("log", "list", "--log", url)
    assert result.code == 3
    assert PASSWORD not in result.out + result.err
    assert "postgres:***@127.0.0.1" in result.err


def test_list_on_postgres(gate_cli, fresh_postgres_url: str, passing_verdict: Verdict) -> None:
    log = open_log(fresh_postgres_url)
    decision_id = record(log, passing_verdict)
    log.close()
    result = gate_cli("log", "list", "--log", fresh_postgres_url, "-f", "json")
    assert result.code == 0, result.err
    assert [d["id"] for d in json.loads(result.out)] == [decision_id]


def test_an_unreachable_server_is_exit_3_from_the_command_line() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://gate:{PASSWORD}@127.0.0.1:{port}/gate?connect_timeout=5"
    result = subprocess.run(
        [sys.executable, "-m", "gate", "log", "list", "--log", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 3
    assert result.stderr.startswith("error: postgresql+psycopg://gate:***@127.0.0.1:")
    assert PASSWORD not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_the_command_line_imports_no_database_code_until_a_log_is_used() -> None:
    code = (
        "import sys, gate.cli\n"
        "from gate.cli import main\n"
        "try:\n"
        "    main(['log', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'sqlalchemy', 'alembic', 'psycopg'} & {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.splitlines()[-1] == "[]"


def test_the_table_escapes_control_characters(
    gate_cli, sqlite_url: str, passing_verdict: Verdict
) -> None:
    log = open_log(sqlite_url)
    hostile = passing_verdict.model_copy(
        update={
            "stage": "\x1b[2Jprod\u202e",
            "subject": passing_verdict.subject.model_copy(update={"reference": "a\rPASS"}),
        }
    )
    record(log, hostile)
    log.close()
    result = gate_cli("log", "list", "--log", sqlite_url)
    assert result.code == 0, result.err
    assert "\x1b" not in result.out and "\r" not in result.out and "\u202e" not in result.out
    assert "\\x1b[2Jprod\\u202e" in result.out and "a\\x0dPASS" in result.out
