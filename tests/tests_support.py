"""Helpers shared by test modules (importable: tests/ is on sys.path under pytest)."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import AT, CORPUS, fixture, load_input

from gate.document import Vulnerability
from gate.errors import SourceError
from gate.inputs import InputFile
from gate.sources.base import Fragment, Source
from gate.sources.trivy import TrivySource


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


def replaced(data: Any, path: Sequence[str | int], value: Any) -> Any:
    """A deep copy of ``data`` with the value at ``path`` (keys and indexes) set to ``value``."""
    copied = copy.deepcopy(data)
    target = copied
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copied


def shop_api_findings() -> list[Vulnerability]:
    """The Trivy fixture's findings for ghcr.io/acme/shop-api:1.4.2 (what VEX applies to)."""
    data, source = load_input(fixture("reports/trivy/v2-image.json"))
    return TrivySource().parse(data, source).vulnerabilities


def stand_in(path: str, hexit: str = "0") -> InputFile:
    """The InputFile of in-test data shown as ``path``; its sha256 is ``hexit`` * 64."""
    return InputFile(path=path, sha256=hexit * 64, size=0)


def refusal(source: Source, data: Any, path: str, hexit: str = "0") -> str:
    """The message of the SourceError ``source`` raises parsing ``data`` shown as ``path``."""
    with pytest.raises(SourceError) as caught:
        source.parse(data, stand_in(path, hexit))
    return str(caught.value)


def parse_corpus(source: Source, local_path: str) -> tuple[Any, Fragment]:
    """The JSON of a corpus file and ``source``'s fragment of it, recorded by its local path.

    Whether ``source`` claims the file at all is tests/sources/test_detection.py's question.
    """
    data, read = load_input(CORPUS / local_path, local_path)
    return data, source.parse(data, read)
