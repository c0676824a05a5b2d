"""Shared test helpers: fixture paths, the corpus, and the CLI run in-process."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gate.inputs import InputFile

os.environ.setdefault("RUST_LIB_BACKTRACE", "0")

# postgres_url / fresh_postgres_url: a throwaway PostgreSQL cluster on loopback.
pytest_plugins = ["postgres"]

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"
AT = "2026-11-27T12:00:00Z"
# The README's quick-start inputs (paths relative to the checkout): exit 1 at prod, and
# exit 0 with the release key trusted at QUICK_START_AT.
QUICK_START_FAILING = [
    "fixtures/reports/trivy/v2-image.json",
    "fixtures/reports/grype/image.json",
    "fixtures/image/inspect.json",
]
QUICK_START_PASSING = [
    "fixtures/reports/grype/empty.json",
    "fixtures/image/inspect.json",
    "fixtures/scenarios/clean/sbom.syft.json",
    "fixtures/provenance/slsa-v0.2-statement.json",
    "fixtures/signatures/shop-api.cosign.json",
    "fixtures/verdicts/shop-api-staging.dsse.json",
]
QUICK_START_AT = "2024-10-14T12:00:00Z"
"""The fixed evaluation time of scenario tests and golden files."""


@pytest.fixture(autouse=True, scope="session")
def _private_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # Tests never write into the user's real ~/.cache (gate's static-check cache lives
    # under $XDG_CACHE_HOME/gate); subprocesses inherit the variable.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


def load_input(path: Path, shown: str | None = None) -> tuple[Any, InputFile]:
    """Read a JSON file the way the CLI does: parsed data plus its InputFile.

    ``shown`` is the path recorded in the InputFile (as the user would have typed it); it
    defaults to ``path`` itself.
    """
    raw = path.read_bytes()
    source = InputFile(
        path=str(path) if shown is None else shown,
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
    )
    return json.loads(raw), source


def fixture(relative: str) -> Path:
    """Path of a file under fixtures/, asserting it exists (a typo must not skip a test)."""
    path = FIXTURES / relative
    assert path.exists(), f"missing fixture {relative}"
    return path


@dataclass
class CliResult:
    """What one CLI run did."""

    code: int
    out: str
    err: str


@pytest.fixture
def gate_cli(capsys: pytest.CaptureFixture[str]):
    """Run the real entry point (gate.cli.main) in-process; returns a CliResult."""
    from gate.cli import main

    def run(*args: str | Path) -> CliResult:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        else:  # pragma: no cover - main always exits
            code = 0
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def corpus_rows(*kinds: str) -> list[tuple[str, str]]:
    """(local_path, kind) rows of the shared corpus MANIFEST.tsv with the given kinds."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    rows = []
    for line in manifest.read_text(encoding="utf-8").splitlines()[1:]:
        if not line.strip():
            continue
        local_path, kind = line.split("\t")[:2]
        if not kinds or kind in kinds:
            rows.append((local_path, kind))
    return rows


def corpus_params(*kinds: str) -> list[Any]:
    """Pytest params of the corpus files with the given kinds, each id'd by its local path.

    Without the corpus there is one skipped param, so a corpus test reports a skip and never
    passes vacuously.
    """
    if not (CORPUS / "MANIFEST.tsv").exists():
        return [
            pytest.param(
                None,
                id="corpus-absent",
                marks=pytest.mark.skip(reason="../shared/corpus is not present"),
            )
        ]
    return [pytest.param(local_path, id=local_path) for local_path, _ in corpus_rows(*kinds)]


CORPUS_FORMATS = {
    "trivy-json": "trivy-json",
    "trivy-sarif": "sarif",
    "grype-json": "grype-json",
    "sarif": "sarif",
    "cyclonedx": "cyclonedx",
    "spdx": "spdx-json",
    "openvex": "openvex",
    "csaf": "csaf-vex",
    "docker-inspect": "docker-inspect",
    "oci-config": "image-config",
    "oci-manifest": "image-manifest",
    "snyk-json": "snyk-json",
    "hadolint-json": "hadolint-json",
    "provenance": "in-toto",
}
"""The format gate must detect for each MANIFEST kind of the corpus (except "other")."""
OTHER_FORMATS = {
    "syft-json": "syft-json",
    "dockle-json": "dockle-json",
    "harbor": "harbor",
    "trivy-operator": "trivy-operator",
}
"""MANIFEST kind "other" covers several formats; this marker in the local path says which."""


def expected_format(local_path: str, kind: str) -> str:
    """The format gate must detect for a corpus file (a table of this test suite's own)."""
    if kind in CORPUS_FORMATS:
        return CORPUS_FORMATS[kind]
    matches = [fmt for marker, fmt in OTHER_FORMATS.items() if marker in local_path]
    assert len(matches) == 1, f"{local_path}: kind {kind!r} is not mapped in tests/conftest.py"
    return matches[0]


def format_params(fmt: str) -> list[Any]:
    """Pytest params of the corpus files whose expected format is ``fmt``, id'd by path.

    This selects files of the formats MANIFEST.tsv lists as kind "other". As with
    ``corpus_params``, one skipped param stands in when the corpus is absent.
    """
    if not (CORPUS / "MANIFEST.tsv").exists():
        return corpus_params()
    return [
        pytest.param(local_path, id=local_path)
        for local_path, kind in corpus_rows()
        if expected_format(local_path, kind) == fmt
    ]


NOT_INPUTS = ("inputs", "documents", "golden", "scenarios", "policies", "harbor")
"""Folders of fixtures/ that hold no input reports (bad inputs, documents, expected output,
Harbor's webhook payloads and the API answers tests/harbor_standin.py serves)."""


def input_fixtures() -> list[Any]:
    """Every JSON input fixture, as pytest params id'd by its path under fixtures/."""
    paths = sorted(
        path
        for path in FIXTURES.rglob("*.json")
        if path.relative_to(FIXTURES).parts[0] not in NOT_INPUTS
    )
    return [pytest.param(path, id=str(path.relative_to(FIXTURES))) for path in paths]
