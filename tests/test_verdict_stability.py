"""Speed work must not change a single verdict: the verdict of every real corpus file, and of
the README's fixture scenarios, is compared byte for byte (as its SHA-256) with the one
recorded in tests/golden/verdicts.json.

The corpus part skips without ../shared/corpus; the fixture part always runs. After an
intended change of verdicts (a rule, a field), GATE_UPDATE_GOLDEN=1 pytest rewrites the file:
review its diff like any golden.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, QUICK_START_FAILING, QUICK_START_PASSING, ROOT, corpus_rows

from gate.errors import GateError
from gate.formats import FORMATS
from gate.run import Settings, evaluate

GOLDEN = ROOT / "tests" / "golden" / "verdicts.json"
UPDATE = os.environ.get("GATE_UPDATE_GOLDEN") == "1"
AT = dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)

SCENARIOS = {
    "quick-start-failing": QUICK_START_FAILING,
    "quick-start-passing": QUICK_START_PASSING,
    "harbor": ["fixtures/harbor/vulnerabilities.json"],
}
# The verdict names the key as given: relative to the checkout, so that any clone agrees.
TRUST = "fixtures/keys/release.pub"


def outcome(
    inputs: list[str], stage: str, cwd: Path, monkeypatch: pytest.MonkeyPatch, trust: str
) -> Any:
    """The verdict's SHA-256 and decision, or the error that stopped it (paths as given)."""
    monkeypatch.chdir(cwd)
    settings = Settings(inputs=inputs, stage=stage, at=AT, trust_keys=[trust], explain=True)
    try:
        verdict = evaluate(settings)
    except GateError as error:
        return {"exit": int(error.exit_code), "error": str(error)}
    text = FORMATS["json"].render(verdict)
    return {
        "decision": verdict.decision,
        "violations": len(verdict.violations),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


def recorded() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}


def check(key: str, found: Any) -> None:
    golden = recorded()
    if UPDATE:
        golden[key] = found
        GOLDEN.write_text(json.dumps(dict(sorted(golden.items())), indent=1) + "\n")
        return
    assert key in golden, f"{key} has no recorded verdict: GATE_UPDATE_GOLDEN=1 records it"
    assert found == golden[key], f"the verdict of {key} changed"


@pytest.mark.parametrize("stage", ["dev", "prod"])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_fixture_verdicts_are_unchanged(
    name: str, stage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = outcome(SCENARIOS[name], stage, ROOT, monkeypatch, TRUST)
    check(f"fixtures:{name}:{stage}", found)


ROWS = corpus_rows()


@pytest.mark.skipif(not ROWS, reason="../shared/corpus is not present")
@pytest.mark.parametrize("local_path", [row[0] for row in ROWS])
def test_corpus_verdicts_are_unchanged(local_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # No corpus file carries a signature by these keys: the key only has to exist.
    found = outcome([local_path], "prod", CORPUS, monkeypatch, str(ROOT / TRUST))
    check(f"corpus:{local_path}", found)
