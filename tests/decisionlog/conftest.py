"""Verdicts to record and decision logs to record them in (SQLite, and PostgreSQL on loopback)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import fixture

from gate.decisionlog import open_log
from gate.decisionlog.store import DecisionLog
from gate.formats import FORMATS
from gate.verdict import Verdict


@pytest.fixture(scope="session")
def failing_verdict(tmp_path_factory: pytest.TempPathFactory) -> Verdict:
    """A real verdict with violations and a waived finding (gate check at a fixed time)."""
    out = tmp_path_factory.mktemp("verdict") / "fail.json"
    run = subprocess.run(
        [
            sys.executable, "-m", "gate", "check",
            str(fixture("scenarios/high-only/trivy.json")),
            str(fixture("reports/trivy/v2-image.json")),
            "--waivers", str(fixture("scenarios/high-only/waivers.yaml")),
            "--at", "2024-10-14T12:00:00Z", "--stage", "prod", "--no-config",
            "-f", "json", "-o", str(out), "-q",
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    verdict = Verdict.model_validate_json(out.read_text())
    assert verdict.violations and verdict.waived
    return verdict


@pytest.fixture(scope="session")
def passing_verdict() -> Verdict:
    return Verdict.model_validate_json(fixture("verdicts/shop-api-staging.json").read_text())


def as_json(verdict: Verdict) -> str:
    """The verdict's JSON text, exactly as `gate check -f json` writes it."""
    return FORMATS["json"].render(verdict)


def record(log: DecisionLog, verdict: Verdict, source: str = "cli") -> int:
    return log.record(verdict, verdict_json=as_json(verdict), source=source)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'decisions.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty decision log on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'decisions.db'}"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def log(log_url: str) -> Iterator[DecisionLog]:
    opened = open_log(log_url)
    try:
        yield opened
    finally:
        opened.close()


def set_recorded_at(log: DecisionLog, decision_id: int, when: str) -> None:
    """Move a decision in time (the log sets recorded_at itself; tests need fixed ones)."""
    import datetime as dt

    from sqlalchemy import update

    from gate.decisionlog.store import decisions

    moment = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    with log._engine.begin() as connection:
        connection.execute(
            update(decisions).where(decisions.c.id == decision_id).values(recorded_at=moment)
        )
