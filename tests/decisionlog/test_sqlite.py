"""SQLite specifics: the file (0600, WAL), paths that are not logs, read-only logs, URLs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gate.decisionlog import DecisionQuery, open_log
from gate.errors import DecisionLogError, UsageError
from gate.verdict import Verdict

from .conftest import record


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_log_file_and_its_wal_are_private_and_in_wal_mode(
    tmp_path: Path, passing_verdict: Verdict
) -> None:
    path = tmp_path / "decisions.db"
    old_umask = os.umask(0o022)
    try:
        log = open_log(f"sqlite:///{path}")
        record(log, passing_verdict)
        with log._engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            wal = [p for p in tmp_path.iterdir() if p.name != "decisions.db"]
            assert {p.name for p in wal} == {"decisions.db-wal", "decisions.db-shm"}
            assert {p.name: _mode(p) for p in wal} == dict.fromkeys(
                ("decisions.db-wal", "decisions.db-shm"), 0o600
            )
        log.close()
    finally:
        os.umask(old_umask)
    assert _mode(path) == 0o600


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "decisions.db"
    path.touch(mode=0o640)
    os.chmod(path, 0o640)
    open_log(f"sqlite:///{path}").close()
    assert _mode(path) == 0o640


def test_a_directory_is_not_a_log(tmp_path: Path) -> None:
    with pytest.raises(DecisionLogError, match="is a directory"):
        open_log(f"sqlite:///{tmp_path}")


def test_a_log_in_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DecisionLogError, match="cannot create the decision log") as caught:
        open_log(f"sqlite:///{tmp_path / 'missing' / 'decisions.db'}")
    assert "directory must exist" in (caught.value.hint or "")
    assert not (tmp_path / "missing").exists()


def test_reading_never_creates_a_log(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    with pytest.raises(UsageError, match="does not exist"):
        open_log(f"sqlite:///{path}", create=False)
    assert not path.exists()


def test_an_empty_database_is_not_a_log_to_read(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(UsageError, match="nothing has been recorded"):
        open_log(f"sqlite:///{path}", create=False)


def test_a_read_only_log_lists_but_refuses_to_record(
    tmp_path: Path, passing_verdict: Verdict
) -> None:
    path = tmp_path / "decisions.db"
    writer = open_log(f"sqlite:///{path}")
    decision_id = record(writer, passing_verdict)
    writer.close()
    reader = open_log(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        assert reader.get(decision_id) is not None
        with pytest.raises(DecisionLogError, match="readonly") as caught:
            record(reader, passing_verdict)
        assert "read-only" in (caught.value.hint or "")
    finally:
        reader.close()
    writer = open_log(f"sqlite:///{path}")
    assert [r.id for r in writer.list(DecisionQuery())] == [decision_id]
    writer.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes whatever the file mode says")
def test_a_log_file_without_write_permission_refuses_to_record(
    tmp_path: Path, passing_verdict: Verdict
) -> None:
    path = tmp_path / "decisions.db"
    open_log(f"sqlite:///{path}").close()
    os.chmod(path, 0o400)
    log = open_log(f"sqlite:///{path}")
    with pytest.raises(DecisionLogError):
        record(log, passing_verdict)
    log.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://user:hunter2@db/gate", "unsupported decision log database 'mysql'"),
        ("postgresql+psycopg2://user:hunter2@db/gate", "unsupported"),
        ("decisions.db", "not a database URL"),
        ("/var/lib/gate/decisions.db", "not a database URL"),
        ("sqlite://", "needs a file"),
        ("sqlite:///:memory:", "needs a file"),
        ("http://user:hunter2@example.com/", "unsupported"),
    ],
)
def test_urls_gate_cannot_use_are_usage_errors(url: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        open_log(url)
    assert "hunter2" not in str(caught.value) + (caught.value.hint or "")


def test_a_file_that_is_not_a_database_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    path.write_text("root:x:0:0:root:/root:/bin/bash\n" * 200)
    before = path.read_bytes()
    with pytest.raises(DecisionLogError, match="not a database"):
        open_log(f"sqlite:///{path}")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["passwd"]
