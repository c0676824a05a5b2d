"""Golden outputs of the CI formats for the fixture verdict (GATE_UPDATE_GOLDEN=1 rewrites)."""

from __future__ import annotations

import pytest
from ci_support import fixture_verdict
from test_cli import check_golden

from gate.formats import FORMATS
from gate.verdict import PolicyInfo

GOLDEN_NAMES = {
    "sarif": "check-prod.sarif",
    "junit": "check-prod.junit.xml",
    "github": "check-prod.github.txt",
    "gitlab": "check-prod.gitlab.json",
    "markdown": "check-prod.md",
}


@pytest.mark.parametrize("name", sorted(GOLDEN_NAMES))
def test_golden(gate_cli, monkeypatch, name):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    # The policy digest changes with every edit of the bundled pack; these files pin the
    # formats, so they show a fixed one (check-prod.verdict.json pins the real digest).
    verdict = verdict.model_copy(
        update={"policy": PolicyInfo(digest="sha256:" + "0" * 64, files=[])}
    )
    check_golden(GOLDEN_NAMES[name], FORMATS[name].render(verdict))
