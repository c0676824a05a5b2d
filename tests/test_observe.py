"""`gate check --log/--metrics-file/--pushgateway`: what a run leaves besides its report."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import QUICK_START_AT, QUICK_START_FAILING, QUICK_START_PASSING, ROOT
from prometheus_client.parser import text_string_to_metric_families

from gate.decisionlog.store import DecisionLog

FAILING = [*(ROOT / path for path in QUICK_START_FAILING), "--stage", "prod"]
PASSING = [
    *(ROOT / path for path in QUICK_START_PASSING),
    "--trust-key",
    ROOT / "fixtures/keys/release.pub",
    "--at",
    QUICK_START_AT,
]


def rows(database: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT decision, stage, source, verdict_json FROM decisions ORDER BY id"
        ).fetchall()


def samples(path: Path) -> dict[str, float]:
    """``name{labels}`` → value of every sample in a Prometheus text file."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(path.read_text()):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}"] = sample.value
    return found


@pytest.mark.parametrize(
    ("given", "code", "decision"), [(PASSING, 0, "pass"), (FAILING, 1, "fail")]
)
def test_the_verdict_is_recorded_as_check_writes_it(
    gate_cli: Any, tmp_path: Path, given: list[Any], code: int, decision: str
) -> None:
    database = tmp_path / "decisions.db"
    result = gate_cli("check", *given, "-f", "json", "--log", f"sqlite:///{database}")
    assert result.code == code
    [(recorded, _, source, verdict)] = rows(database)
    assert (recorded, source) == (decision, "cli")
    assert verdict == result.out  # the very bytes -f json printed


def test_the_log_can_come_from_the_environment(
    gate_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "env.db"
    monkeypatch.setenv("GATE_DECISION_LOG", f"sqlite:///{database}")
    assert gate_cli("check", *FAILING, "-q").code == 1
    assert [row[:3] for row in rows(database)] == [("fail", "prod", "cli")]


def test_an_unreachable_log_is_no_verdict_before_anything_is_evaluated(
    gate_cli: Any, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    result = gate_cli(
        "check", *PASSING, "-o", report, "--log", "postgresql://gate:s3cret-pw@127.0.0.1:1/gate"
    )
    assert result.code == 3
    assert "s3cret-pw" not in result.out + result.err
    assert result.err.startswith("error: ")
    assert not report.exists()  # no report of a verdict nobody recorded


def test_a_pass_the_log_cannot_record_is_no_verdict(
    gate_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(DecisionLog, "record", refuse)
    metrics = tmp_path / "gate.prom"
    result = gate_cli(
        "check", *PASSING, "--log", f"sqlite:///{tmp_path / 'd.db'}", "--metrics-file", metrics
    )
    assert result.code == 3
    assert "could not record the verdict" in result.err
    assert samples(metrics)["gate_decision_log_write_failures_total{}"] == 1


def test_metrics_count_the_run_and_its_phases(gate_cli: Any, tmp_path: Path) -> None:
    metrics = tmp_path / "gate.prom"
    assert gate_cli("check", *FAILING, "-q", "--metrics-file", metrics).code == 1
    found = samples(metrics)
    key = "gate_decisions_total{advisory=false,decision=fail,source=cli,stage=prod}"
    assert found[key] == 1
    assert found["gate_violations_total{rule=vuln-fixable-critical,stage=prod}"] >= 1
    for phase in ("normalise", "evaluate", "total"):
        assert found[f"gate_evaluation_duration_seconds_count{{phase={phase}}}"] == 1
    assert (metrics.stat().st_mode & 0o777) == 0o644  # node_exporter reads it as another user


def test_a_run_without_a_verdict_still_publishes_its_metrics(gate_cli: Any, tmp_path: Path) -> None:
    broken = tmp_path / "trivy.json"
    broken.write_text('{"SchemaVersion": 2, "Results": "not a list"}')
    metrics = tmp_path / "gate.prom"
    assert gate_cli("check", broken, "--type", "trivy-json", "--metrics-file", metrics).code == 3
    found = samples(metrics)
    assert found["gate_input_parse_failures_total{format=trivy-json}"] == 1
    assert any(k.startswith("gate_decisions_total{") and "decision=error" in k for k in found)


def test_metrics_never_overwrite_what_the_run_reads(gate_cli: Any, tmp_path: Path) -> None:
    report = tmp_path / "grype.json"
    report.write_bytes((ROOT / "fixtures/reports/grype/image.json").read_bytes())
    before = report.read_bytes()
    result = gate_cli("check", report, "--metrics-file", report)
    assert result.code == 2
    assert report.read_bytes() == before


@pytest.mark.parametrize(("given", "code"), [(PASSING, 0), (FAILING, 1)])
def test_undelivered_metrics_warn_and_never_change_the_exit_code(
    gate_cli: Any, given: list[Any], code: int
) -> None:
    result = gate_cli("check", *given, "-q", "--pushgateway", "http://127.0.0.1:1")
    assert result.code == code
    assert "warning: metrics not delivered" in result.err


def test_the_recorded_verdict_renders_again(gate_cli: Any, tmp_path: Path) -> None:
    database = tmp_path / "decisions.db"
    table = gate_cli("check", *FAILING, "--log", f"sqlite:///{database}").out
    shown = gate_cli("log", "show", "1", "--log", f"sqlite:///{database}")
    assert shown.code == 0
    saved = tmp_path / "verdict.json"
    saved.write_text(shown.out)
    assert json.loads(shown.out)["decision"] == "fail"
    assert gate_cli("render", saved, "-f", "table").out == table


def test_a_pushgateway_url_gate_cannot_use_is_a_usage_error_before_evaluating(
    gate_cli: Any,
) -> None:
    result = gate_cli("check", *PASSING, "--pushgateway", "file:///etc/passwd")
    assert result.code == 2
    assert result.err.startswith("error: ")


def test_a_server_metrics_directory_in_the_environment_only_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    env = {**__import__("os").environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    metrics = tmp_path / "gate.prom"
    given = [str(a) for a in PASSING]
    run = subprocess.run(
        [sys.executable, "-m", "gate", "check", *given, "-q", "--metrics-file", str(metrics)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "warning: metrics not delivered" in run.stderr
