"""hadolint JSON: detection, finding mapping, severity levels, de-duplication, corpus."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import corpus_params, fixture, load_input
from tests_support import parse_corpus, refusal, stand_in

from gate.sources.base import Fragment
from gate.sources.hadolint import HadolintSource

SOURCE = HadolintSource()
FINDINGS = "reports/hadolint/findings.json"


def parse_inline(data: Any) -> Fragment:
    """Parse an in-test report."""
    return SOURCE.parse(data, stand_in("lint/hadolint.json"))


def finding(**fields: Any) -> dict[str, Any]:
    """One hadolint finding, DL3008 on line 6 unless overridden."""
    return {
        "line": 6,
        "code": "DL3008",
        "message": "Pin versions in apt get install.",
        "column": 1,
        "file": "Dockerfile",
        "level": "warning",
        **fields,
    }


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param([finding()], True, id="one-finding"),
        pytest.param([finding(), finding(code="SC2086", level="info")], True, id="two"),
        pytest.param([], False, id="empty-list-is-ambiguous"),
        pytest.param([finding(), {"code": "DL3008"}], False, id="item-without-file"),
        pytest.param([{"code": "DL3008", "file": "Dockerfile"}], False, id="no-level"),
        pytest.param([finding(), "DL3008"], False, id="string-item"),
        pytest.param({"code": "DL3008", "level": "warning", "file": "x"}, False, id="object"),
        pytest.param([{"Target": "x", "Vulnerabilities": []}], False, id="aqua-legacy-list"),
        pytest.param([{"Id": "sha256:" + "a" * 64, "Config": {}}], False, id="docker-inspect"),
        pytest.param(None, False, id="null"),
    ],
)
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


def test_fixture_findings() -> None:
    data, source = load_input(fixture(FINDINGS), FINDINGS)
    fragment = SOURCE.parse(data, source)
    assert (fragment.format, fragment.tool, fragment.kinds) == (
        "hadolint-json",
        "hadolint",
        ["misconfiguration"],
    )
    # 8 listings; SC2086 twice on line 11 (two columns) is one finding.
    assert [(m.id, m.start_line, m.severity) for m in fragment.misconfigurations] == [
        ("DL3006", 1, "medium"),
        ("DL4000", 2, "high"),
        ("DL3008", 6, "medium"),
        ("DL3015", 6, "low"),
        ("SC2086", 11, "low"),
        ("DL3048", 14, "negligible"),
        ("DL3002", 19, "medium"),
    ]
    last = fragment.misconfigurations[-1]
    assert last.type == "dockerfile"
    assert last.title == last.message == "Last USER should not be root"
    assert last.target == "docker/shop-api/Dockerfile"
    assert last.status == "fail"
    assert [(s.tool, s.input, s.severity) for s in last.sources] == [
        ("hadolint", FINDINGS, "medium")
    ]
    assert fragment.subject.reference is None and fragment.image is None


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        ("error", "high"),
        ("warning", "medium"),
        ("info", "low"),
        ("style", "negligible"),
        ("Warning", "medium"),
        ("ignore", "unknown"),
        (None, "unknown"),
    ],
)
def test_levels(level: str | None, severity: str) -> None:
    (found,) = parse_inline([finding(level=level)]).misconfigurations
    assert found.severity == severity
    assert found.sources[0].severity == severity


@pytest.mark.parametrize(
    ("code", "urls"),
    [
        ("DL3008", ["https://github.com/hadolint/hadolint/wiki/DL3008"]),
        ("SC2086", ["https://www.shellcheck.net/wiki/SC2086"]),
        ("CUSTOM001", []),
    ],
)
def test_rule_urls(code: str, urls: list[str]) -> None:
    assert parse_inline([finding(code=code)]).misconfigurations[0].urls == urls


@pytest.mark.parametrize(
    ("second", "count"),
    [
        pytest.param(finding(column=17), 1, id="other-column-same-finding"),
        pytest.param(finding(level="error"), 1, id="same-key-first-kept"),
        pytest.param(finding(line=7), 2, id="other-line"),
        pytest.param(finding(file="Dockerfile.dev"), 2, id="other-file"),
        pytest.param(finding(message="Pin it."), 2, id="other-message"),
        pytest.param(finding(code="DL3009"), 2, id="other-code"),
    ],
)
def test_deduplication(second: dict[str, Any], count: int) -> None:
    found = parse_inline([finding(), second]).misconfigurations
    assert len(found) == count
    assert found[0].severity == "medium"  # the first listing wins


def test_empty_list_parses_to_no_findings() -> None:
    fragment = parse_inline([])
    assert fragment.misconfigurations == [] and fragment.kinds == ["misconfiguration"]


@pytest.mark.parametrize(
    ("data", "place", "message"),
    [
        pytest.param({"code": "DL3008"}, "", "expected an array", id="object"),
        pytest.param([finding(), 5], "[1]", "expected a finding object", id="number-item"),
        pytest.param([finding(code=None)], "[0].code", "missing rule code", id="no-code"),
        pytest.param([finding(code=3008)], "[0].code", "expected a string", id="numeric-code"),
        pytest.param([finding(line="9")], "[0].line", "expected an integer", id="string-line"),
        pytest.param([finding(file=["a"])], "[0].file", "expected a string", id="list-file"),
    ],
)
def test_malformed_reports_name_file_and_place(data: Any, place: str, message: str) -> None:
    text = refusal(SOURCE, data, "lint/hadolint.json")
    assert text.startswith(f"lint/hadolint.json: {place}:" if place else "lint/hadolint.json:")
    assert message in text


@pytest.mark.parametrize("local_path", corpus_params("hadolint-json"))
def test_corpus(local_path: str) -> None:
    data, fragment = parse_corpus(SOURCE, local_path)
    # Independent of the parser: the first listing of each (code, file, line, message).
    levels = {"error": "high", "warning": "medium", "info": "low", "style": "negligible"}
    first: dict[tuple[Any, ...], str] = {}
    for item in data:
        key = (item["code"], item["file"], item["line"], item["message"])
        first.setdefault(key, levels[item["level"]])
    assert [(m.id, m.severity) for m in fragment.misconfigurations] == [
        (key[0], rated) for key, rated in first.items()
    ]
    assert {m.target for m in fragment.misconfigurations} == {item["file"] for item in data}
