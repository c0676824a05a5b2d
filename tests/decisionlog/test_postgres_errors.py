"""PostgreSQL logs that cannot be used: clear errors, exit 3, never the password."""

from __future__ import annotations

import sys

import pytest

from gate.decisionlog import open_log
from gate.errors import DecisionLogError, ExitCode

from .conftest import record

PASSWORD = "s3cr3t-Pa55"


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _assert_masked(error: DecisionLogError) -> None:
    text = f"{error} {error.hint or ''}"
    assert PASSWORD not in text
    assert ":***@" in text


def test_an_unreachable_server_is_no_verdict_with_the_password_masked() -> None:
    port = _free_port()  # nothing listens there
    with pytest.raises(DecisionLogError) as caught:
        open_log(f"postgresql://gate:{PASSWORD}@127.0.0.1:{port}/gate")
    assert caught.value.exit_code == ExitCode.NO_VERDICT
    assert f"postgresql+psycopg://gate:***@127.0.0.1:{port}/gate" == caught.value.where
    assert "reachable" in (caught.value.hint or "")
    _assert_masked(caught.value)


def test_a_missing_database_names_the_log_without_its_password(postgres_cluster) -> None:
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{postgres_cluster.port}/no_such_db"
    with pytest.raises(DecisionLogError, match="no_such_db") as caught:
        open_log(url)
    _assert_masked(caught.value)


def test_a_password_in_the_url_is_masked_in_the_shown_url(postgres_cluster) -> None:
    # The test cluster trusts loopback, so the password is accepted and ignored.
    log = open_log(f"postgres://postgres:{PASSWORD}@127.0.0.1:{postgres_cluster.port}/gate")
    try:
        assert (
            log.shown_url
            == f"postgresql+psycopg://postgres:***@127.0.0.1:{postgres_cluster.port}/gate"
        )
    finally:
        log.close()


def test_a_password_in_a_driver_message_is_masked(
    postgres_cluster, passing_verdict, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = open_log(f"postgresql://postgres:{PASSWORD}@127.0.0.1:{postgres_cluster.port}/gate")
    try:
        from sqlalchemy.exc import OperationalError

        def leaky(*args: object, **kwargs: object) -> None:
            raise OperationalError("INSERT", {}, Exception(f"server said: password {PASSWORD}"))

        monkeypatch.setattr(log._engine, "connect", leaky)
        with pytest.raises(DecisionLogError) as caught:
            record(log, passing_verdict)
        assert "server said: password ***" in str(caught.value)
        _assert_masked(caught.value)
    finally:
        monkeypatch.undo()
        log.close()


def test_missing_psycopg_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(DecisionLogError, match="psycopg") as caught:
        open_log(f"postgresql://gate:{PASSWORD}@127.0.0.1:1/gate")
    assert "pip install" in (caught.value.hint or "")
    _assert_masked(caught.value)
