"""Helpers shared by test modules (importable: tests/ is on sys.path under pytest)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import AT, fixture


def normalize_fixture(*relative: str | Path, stage: str = "prod") -> dict[str, Any]:
    """Normalise fixture files as `gate normalize` does and return the JSON document."""
    import datetime as dt

    from gate.run import Settings, normalize

    at = dt.datetime.fromisoformat(AT.replace("Z", "+00:00"))
    paths = [r if isinstance(r, Path) else fixture(r) for r in relative]
    settings = Settings(inputs=[str(p) for p in paths], stage=stage, at=at)
    return json.loads(normalize(settings).model_dump_json())


@dataclass
class RegoRun:
    """Every test rule's outcome (True when it passed), and what no test reached."""

    results: dict[str, Any]
    not_covered: dict[str, list[int]]
    covered_lines: int

    @property
    def failures(self) -> dict[str, Any]:
        """Tests that did not pass, with why."""
        return {name: value for name, value in self.results.items() if value is not True}

    @property
    def coverage(self) -> float:
        """Line coverage of the non-test modules, in percent."""
        missed = sum(len(lines) for lines in self.not_covered.values())
        return 100.0 * self.covered_lines / (self.covered_lines + missed)


def run_rego_tests(*roots: Path) -> RegoRun:
    """Run the Rego tests under ``roots`` (with their data files) as `gate policy test` does."""
    from gate.policytest import load_suite

    report = load_suite(list(roots)).run(coverage=True)
    assert report.coverage is not None
    return RegoRun(
        results={
            r.test.id: True if r.outcome == "pass" else (r.message or r.outcome)
            for r in report.results
        },
        not_covered={f.path: list(f.not_covered) for f in report.coverage.files if f.not_covered},
        covered_lines=report.coverage.covered,
    )
