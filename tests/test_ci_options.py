"""The CI step's options: several reports in one run, advisory mode, .gate.yaml, GATE_*."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import fixture

GRYPE = fixture("reports/grype/image.json")
INSPECT = fixture("image/inspect.json")
AT = "2024-10-14T12:00:00Z"
FAILING = (GRYPE, INSPECT, "--stage", "dev", "--at", AT)


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("GATE_"):
            monkeypatch.delenv(name)


def test_each_report_equals_a_run_with_that_one_format(gate_cli: Any, tmp_path: Path) -> None:
    reports = {
        "json": tmp_path / "all.json",
        "table": tmp_path / "all.txt",
        "sarif": tmp_path / "all.sarif",
        "junit": tmp_path / "all.xml",
        "markdown": tmp_path / "all.md",
        "gitlab": tmp_path / "all-gl.json",
        "github": tmp_path / "all-gh.txt",
    }
    both = gate_cli(
        "check", *FAILING, "-q", *(f"--report={fmt}={path}" for fmt, path in reports.items())
    )
    assert both.code == 1, both.err
    for fmt, path in reports.items():
        single = tmp_path / f"single-{fmt}{path.suffix}"
        assert gate_cli("check", *FAILING, "-q", "-f", fmt, "-o", single).code == 1
        assert path.read_bytes() == single.read_bytes(), fmt
    # and the terminal still gets --format's output
    assert both.out.startswith("FAIL: ")


@pytest.mark.parametrize(
    ("report", "words"),
    [
        ("sarif", "expected FORMAT=PATH"),
        ("nope=x.txt", "unknown format 'nope'"),
        ("json=x.sarif", "would write json into a .sarif file"),
        ("json=-", "reports go to files"),
    ],
)
def test_malformed_reports_are_usage_errors(
    gate_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report: str, words: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = gate_cli("check", *FAILING, "--report", report)
    assert result.code == 2 and words in result.err, result.err
    assert list(tmp_path.iterdir()) == []


def test_a_report_never_replaces_an_input_or_another_report(gate_cli: Any, tmp_path: Path) -> None:
    copy = tmp_path / "inspect.json"
    copy.write_bytes(Path(INSPECT).read_bytes())
    over_input = gate_cli("check", GRYPE, copy, "--report", f"json={copy}")
    assert over_input.code == 2 and "--report would overwrite an input file" in over_input.err
    twice = gate_cli(
        "check", *FAILING, "-o", tmp_path / "v.json", "--report", f"json={tmp_path / 'v.json'}"
    )
    assert twice.code == 2 and "already written" in twice.err
    assert not (tmp_path / "v.json").exists()


def test_no_report_is_written_without_a_verdict(gate_cli: Any, tmp_path: Path) -> None:
    result = gate_cli(
        "check", fixture("inputs/unknown.json"), "--report", f"json={tmp_path / 'v.json'}"
    )
    assert result.code == 3
    assert not (tmp_path / "v.json").exists()


def test_advisory_reports_a_failing_verdict_and_exits_0(gate_cli: Any) -> None:
    result = gate_cli("check", *FAILING, "--advisory", "-f", "json")
    assert result.code == 0, result.err
    verdict = json.loads(result.out)
    assert verdict["decision"] == "fail" and verdict["advisory"] is True
    assert "FAIL (advisory: does not fail the step)" in result.err


def test_advisory_still_fails_closed(gate_cli: Any, tmp_path: Path) -> None:
    no_verdict = gate_cli("check", fixture("inputs/unknown.json"), "--advisory")
    assert no_verdict.code == 3
    usage = gate_cli("check", *FAILING, "--advisory", "--stage", "nope")
    assert usage.code == 2


def test_promote_cannot_be_advisory(gate_cli: Any) -> None:
    result = gate_cli(
        "promote", "--image", "registry://127.0.0.1:1/a/b:1", "--to", "2", "--advisory"
    )
    assert result.code == 2 and "--advisory does not apply to promote" in result.err


def test_a_missing_dockerfile_is_a_usage_error(gate_cli: Any) -> None:
    result = gate_cli("check", *FAILING, "--dockerfile", "no/Dockerfile")
    assert result.code == 2 and "--dockerfile" in result.err


# --- .gate.yaml and GATE_* ------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "grype.json").write_bytes(Path(GRYPE).read_bytes())
    (tmp_path / "reports" / "inspect.json").write_bytes(Path(INSPECT).read_bytes())
    (tmp_path / ".gate.yaml").write_text(
        "inputs: [reports/grype.json, reports/inspect.json]\n"
        "stage: dev\n"
        "reports: {json: out/verdict.json}\n"
    )
    (tmp_path / "out").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "deep" / "er")
    return tmp_path


def test_check_with_no_arguments_reads_the_nearest_config(gate_cli: Any, repo: Path) -> None:
    result = gate_cli("check", "--at", AT, "-f", "json", "-q")
    assert result.code == 1, result.err
    verdict = json.loads(result.out)
    assert verdict["stage"] == "dev"
    assert verdict["config_file"] == str(repo / ".gate.yaml")
    assert [f["path"] for f in verdict["input"]["files"]] == [
        "../../reports/grype.json",
        "../../reports/inspect.json",
    ]
    assert json.loads((repo / "out" / "verdict.json").read_text()) == verdict


def test_flags_beat_the_environment_which_beats_the_config(
    gate_cli: Any, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stage(*args: str) -> str:
        result = gate_cli("check", "--at", AT, "-f", "json", "-q", *args)
        assert result.code in (0, 1), result.err
        return str(json.loads(result.out)["stage"])

    assert stage() == "dev"
    monkeypatch.setenv("GATE_STAGE", "staging")
    assert stage() == "staging"
    assert stage("--stage", "prod") == "prod"


def test_no_config_and_explicit_config(gate_cli: Any, repo: Path, tmp_path: Path) -> None:
    ignored = gate_cli("check", "--no-config")
    assert ignored.code == 2 and "no input files given" in ignored.err
    other = repo / "other.yaml"
    other.write_text("inputs: [reports/grype.json, reports/inspect.json]\nstage: staging\n")
    result = gate_cli("check", "--config", other, "--at", AT, "-f", "json", "-q")
    assert json.loads(result.out)["stage"] == "staging"
    missing = gate_cli("check", "--config", repo / "nope.yaml")
    assert missing.code == 2


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("stgae: prod\n", "unknown key 'stgae'"),
        ("advisory: yes please\n", "expected true or false"),
        ("inputs: 3\n", "expected a list of strings"),
        ("force: true\n", "unknown key 'force'"),
        ("- a\n- b\n", "expected a mapping"),
    ],
)
def test_a_config_mistake_is_a_usage_error(
    gate_cli: Any, repo: Path, text: str, words: str
) -> None:
    (repo / ".gate.yaml").write_text(text)
    result = gate_cli("check")
    assert result.code == 2 and words in result.err, result.err
    assert ".gate.yaml" in result.err


def test_advisory_from_the_environment_is_recorded(
    gate_cli: Any, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anything that makes a failing verdict exit 0 must show in the verdict."""
    monkeypatch.setenv("GATE_ADVISORY", "1")
    result = gate_cli("check", "--at", AT, "-f", "json")
    assert result.code == 0
    assert json.loads(result.out)["advisory"] is True
    assert "advisory" in result.err
    assert gate_cli("check", "--at", AT, "--no-advisory", "-q").code == 1


# --- gate render ------------------------------------------------------------------------------


def test_render_gives_what_check_wrote(gate_cli: Any, tmp_path: Path) -> None:
    saved = tmp_path / "verdict.json"
    table = tmp_path / "check.txt"
    assert gate_cli("check", *FAILING, "-o", saved, "--report", f"table={table}").code == 1
    again = gate_cli("render", saved, "-f", "json")
    assert again.code == 0 and again.out == saved.read_text()
    rendered = tmp_path / "render.txt"
    assert gate_cli("render", saved, "--report", f"table={rendered}", "-f", "json").code == 0
    assert rendered.read_bytes() == table.read_bytes()


def test_render_refuses_what_is_not_a_verdict(gate_cli: Any, tmp_path: Path) -> None:
    result = gate_cli("render", INSPECT)
    assert result.code == 3 and result.err.startswith("error: ")
    saved = tmp_path / "verdict.json"
    gate_cli("check", *FAILING, "-o", saved, "-q")
    over = gate_cli("render", saved, "-o", saved)
    assert over.code == 2 and "overwrite an input" in over.err


def test_the_config_search_stops_at_the_repository_root(gate_cli: Any, repo: Path) -> None:
    """A .gate.yaml in a shared parent folder never configures a project's gate."""
    project = repo / "deep"
    (project / ".git").mkdir()
    result = gate_cli("check")
    assert result.code == 2 and "no input files given" in result.err


def test_outside_a_repository_only_the_working_directory_counts(
    gate_cli: Any, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / ".git").rmdir()
    assert gate_cli("check").code == 2  # two folders up: not read
    monkeypatch.chdir(repo)
    assert gate_cli("check", "--at", AT, "-q").code == 1


def test_the_github_format_appends_the_job_summary(
    gate_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = gate_cli("check", *FAILING, "-f", "github")
    assert result.code == 1
    assert result.out.startswith("::error ")
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "FAIL" in text
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    before = summary.read_text()
    gate_cli("check", *FAILING, "-f", "json", "--report", f"sarif={tmp_path / 'g.sarif'}")
    assert summary.read_text() == before  # no github format: nothing appended


def test_every_output_marks_new_and_existing_against_a_baseline(
    gate_cli: Any, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    assert gate_cli("check", *FAILING, "-o", baseline, "-q").code == 1
    trivy = fixture("reports/trivy/v2-image.json")
    outputs = {fmt: tmp_path / f"out-{fmt}.txt" for fmt in ("github", "gitlab", "table")}
    sarif = tmp_path / "out.sarif"
    result = gate_cli(
        "check", trivy, *FAILING, "--baseline", baseline, "-f", "json", "--report",
        f"sarif={sarif}", *(f"--report={fmt}={path}" for fmt, path in outputs.items()),
    )  # fmt: skip
    verdict = json.loads(result.out)
    marks = {r["baseline"] for r in verdict["violations"] + verdict["warnings"]}
    assert marks == {"new", "existing"}
    assert verdict["counts"]["new"] and verdict["counts"]["existing"]
    states = {r.get("baselineState") for r in json.loads(sarif.read_text())["runs"][0]["results"]}
    assert {"new", "unchanged"} <= states
    for fmt, path in outputs.items():
        assert "[new] " in path.read_text(), fmt
