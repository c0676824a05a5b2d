"""docs/threat-model.md names a test for every guard: each one it names must exist.

A row that points at a renamed or deleted test would claim a guard nothing checks.
"""

from __future__ import annotations

import re

from conftest import ROOT

THREAT_MODEL = ROOT / "docs" / "threat-model.md"
# `tests/x.py::name` names a file; a following `::other` in the same cell means the same file.
PYTHON_TEST = re.compile(r"`(?:(tests/[\w/]+\.py))?::(\w+)")
REGO_TEST = re.compile(r"`(\w+_test\.rego)::(\w+)`")


def _rows() -> list[str]:
    return [line for line in THREAT_MODEL.read_text().splitlines() if line.startswith("| ")]


def test_every_python_test_named_exists() -> None:
    named = 0
    for row in _rows():
        current = None
        for path, name in PYTHON_TEST.findall(row):
            current = path or current
            assert current, f"a test without a file in: {row[:80]}"
            source = (ROOT / current).read_text()
            assert re.search(rf"^def {name}\b", source, re.M), f"{current}::{name} does not exist"
            named += 1
    assert named > 100  # the document is read, not skipped


def test_every_rego_test_named_exists() -> None:
    rego = {path.name: path.read_text() for path in (ROOT / "policies").rglob("*_test.rego")}
    found = [(f, n) for row in _rows() for f, n in REGO_TEST.findall(row)]
    assert found
    for file_name, name in found:
        assert file_name in rego, file_name
        assert re.search(rf"^{name} if\b", rego[file_name], re.M), f"{file_name}::{name}"


def test_every_section_has_rows_with_a_guard_and_a_test() -> None:
    for row in _rows():
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        if cells[0] in ("#", "---"):
            continue
        assert len(cells) == 4, row
        assert cells[2] and cells[3], f"row {cells[0]} lacks a guard or a test"
