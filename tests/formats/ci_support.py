"""Verdicts for the CI format tests: the fixture verdict as gate makes it, and big ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import FIXTURES, ROOT

from gate.verdict import Result, Verdict

SCAN_DAY = "2024-10-14T12:00:00Z"
"""The day the fixture reports were scanned: --at it, the scans are fresh."""

FIXTURE_INPUTS = ("reports/trivy/v2-image.json", "reports/grype/image.json", "image/inspect.json")
WAIVERS = ("-w", "scenarios/high-only/waivers.yaml")


def check_args(
    *extra: str, inputs: tuple[str, ...] = FIXTURE_INPUTS, at: str = SCAN_DAY
) -> list[str]:
    """``gate check`` of the fixture reports at stage prod (run from fixtures/)."""
    return ["check", *inputs, "--at", at, *WAIVERS, *extra]


def fixture_verdict(gate_cli, monkeypatch, **options: str) -> Verdict:
    """The verdict gate makes of the fixture reports (violations, warnings, waived)."""
    monkeypatch.chdir(FIXTURES)
    inputs = tuple(options.pop("inputs", "").split()) or FIXTURE_INPUTS
    result = gate_cli(*check_args("-f", "json", inputs=inputs, at=options.pop("at", SCAN_DAY)))
    assert result.code == 1, result.err
    verdict = Verdict.model_validate_json(result.out)
    assert verdict.violations and verdict.warnings and verdict.waived
    return verdict


def big_verdict(tmp_path: Path, findings: int) -> Verdict:
    """The verdict of a synthetic Trivy report with ``findings`` vulnerabilities."""
    report = tmp_path / f"trivy-{findings}.json"
    made = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_trivy_report.py"), str(findings)],
        check=True,
        capture_output=True,
    )
    report.write_bytes(made.stdout)
    run = subprocess.run(
        [sys.executable, "-m", "gate", "check", str(report), "-f", "json", "--at", SCAN_DAY],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1, run.stderr
    return Verdict.model_validate_json(run.stdout)


def many_results(verdict: Verdict, count: int, level: str = "deny") -> list[Result]:
    """``count`` distinct results shaped like the verdict's first violation."""
    first = verdict.violations[0]
    return [
        first.model_copy(
            update={
                "level": level,
                "msg": f"finding {number}",
                "finding": {**(first.finding or {}), "id": f"CVE-2099-{number:05d}"},
            }
        )
        for number in range(count)
    ]
