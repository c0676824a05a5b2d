"""Dockle JSON: detection, levels, alerts, subject hint, de-duplication and the corpus."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import fixture, format_params, load_input
from tests_support import parse_corpus, refusal, stand_in

from gate.sources.base import Fragment
from gate.sources.dockle import DockleSource

SOURCE = DockleSource()
REPORT = "reports/dockle/report.json"
REFERENCE = "ghcr.io/acme/shop-api:1.4.2"
SUMMARY = {"fatal": 0, "warn": 1, "info": 0, "skip": 0, "pass": 15}


def parse_inline(data: Any) -> Fragment:
    """Parse an in-test report."""
    return SOURCE.parse(data, stand_in("lint/dockle.json"))


def detail(**fields: Any) -> dict[str, Any]:
    """One dockle detail, CIS-DI-0001 at WARN unless overridden."""
    return {
        "code": "CIS-DI-0001",
        "title": "Create a user for the container",
        "level": "WARN",
        "alerts": ["Last user should not be root"],
        **fields,
    }


def report(*details: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A dockle report of ``details``."""
    return {"summary": SUMMARY, "details": list(details), **extra}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(report(detail()), True, id="report"),
        pytest.param(report(), True, id="no-details"),
        pytest.param(report(image="alpine:3.20"), True, id="with-image"),
        pytest.param({"details": []}, False, id="no-summary"),
        pytest.param({"summary": SUMMARY}, False, id="no-details-key"),
        pytest.param({"summary": SUMMARY, "details": {}}, False, id="details-object"),
        pytest.param({"summary": {"warn": 1}, "details": []}, False, id="foreign-summary"),
        pytest.param(
            {"summary": "283 vulnerable dependency paths", "vulnerabilities": []},
            False,
            id="snyk-summary-string",
        ),
        pytest.param([detail()], False, id="list"),
        pytest.param(None, False, id="null"),
    ],
)
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


def test_fixture_report() -> None:
    data, source = load_input(fixture(REPORT), REPORT)
    fragment = SOURCE.parse(data, source)
    assert (fragment.format, fragment.tool, fragment.kinds) == (
        "dockle-json",
        "dockle",
        ["misconfiguration"],
    )
    assert (fragment.artifact_name, fragment.artifact_type) == (REFERENCE, "container_image")
    assert fragment.subject.reference == REFERENCE
    assert (fragment.subject.registry, fragment.subject.repository, fragment.subject.tag) == (
        "ghcr.io",
        "acme/shop-api",
        "1.4.2",
    )
    # SKIP (DKL-LI-0001) and IGNORE (CIS-DI-0006) are not findings.
    assert [(m.id, m.severity) for m in fragment.misconfigurations] == [
        ("CIS-DI-0010", "high"),
        ("DKL-DI-0005", "high"),
        ("CIS-DI-0001", "medium"),
        ("CIS-DI-0005", "low"),
        ("CIS-DI-0008", "low"),
    ]
    suid = fragment.misconfigurations[-1]
    assert suid.type == "image" and suid.target == REFERENCE
    assert suid.title == "Confirm safety of setuid/setgid files"
    assert suid.message == (
        "setuid file: urwxr-xr-x usr/bin/passwd; setgid file: grwxr-sr-x usr/bin/chage"
    )
    assert [(s.tool, s.input, s.severity) for s in suid.sources] == [("dockle", REPORT, "low")]


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        ("FATAL", "high"),
        ("WARN", "medium"),
        ("INFO", "low"),
        ("warn", "medium"),
        ("CRITICAL", "unknown"),
        (None, "unknown"),
        ("SKIP", None),
        ("IGNORE", None),
        ("PASS", None),
    ],
)
def test_levels(level: str | None, severity: str | None) -> None:
    found = parse_inline(report(detail(level=level))).misconfigurations
    assert [m.severity for m in found] == ([severity] if severity else [])


@pytest.mark.parametrize(
    ("second", "count"),
    [
        pytest.param(detail(), 1, id="repeat"),
        pytest.param(detail(level="FATAL"), 1, id="repeat-first-kept"),
        pytest.param(detail(alerts=["Last user should not be root", "x"]), 2, id="other-alerts"),
        pytest.param(detail(code="CIS-DI-0005"), 2, id="other-code"),
    ],
)
def test_deduplication(second: dict[str, Any], count: int) -> None:
    found = parse_inline(report(detail(), second)).misconfigurations
    assert len(found) == count and found[0].severity == "medium"


@pytest.mark.parametrize(
    ("image", "reference", "digest"),
    [
        pytest.param("alpine:3.20", "alpine:3.20", None, id="tag"),
        pytest.param(
            "ghcr.io/acme/shop-api@sha256:" + "a" * 64,
            "ghcr.io/acme/shop-api@sha256:" + "a" * 64,
            "sha256:" + "a" * 64,
            id="pinned",
        ),
        pytest.param("build/shop-api.tar", None, None, id="archive"),
        pytest.param(None, None, None, id="no-image"),
    ],
)
def test_subject_hint(image: str | None, reference: str | None, digest: str | None) -> None:
    fragment = parse_inline(report(detail(), image=image))
    assert (fragment.subject.reference, fragment.subject.digest) == (reference, digest)
    assert fragment.misconfigurations[0].target == image


def test_no_alerts_means_no_message() -> None:
    (found,) = parse_inline(report(detail(alerts=[]))).misconfigurations
    assert found.message is None


@pytest.mark.parametrize(
    ("data", "place", "message"),
    [
        pytest.param([], "", "expected an object", id="list"),
        pytest.param({"summary": [], "details": []}, "summary", "expected an object", id="summ"),
        pytest.param(report(detail(), image=5), "image", "expected a string", id="image-number"),
        pytest.param({"summary": SUMMARY, "details": "x"}, "details", "expected an array", id="d"),
        pytest.param(report("CIS"), "details[0]", "expected a detail object", id="string"),
        pytest.param(report(detail(code="")), "details[0].code", "missing", id="no-code"),
        pytest.param(
            report(detail(alerts="root")), "details[0].alerts", "expected an array", id="alerts"
        ),
        pytest.param(
            report(detail(), detail(alerts=[1])),
            "details[1].alerts[0]",
            "expected a string",
            id="alert-number",
        ),
    ],
)
def test_malformed_reports_name_file_and_place(data: Any, place: str, message: str) -> None:
    text = refusal(SOURCE, data, "lint/dockle.json")
    assert text.startswith(f"lint/dockle.json: {place}:" if place else "lint/dockle.json:")
    assert message in text


@pytest.mark.parametrize("local_path", format_params("dockle-json"))
def test_corpus(local_path: str) -> None:
    data, fragment = parse_corpus(SOURCE, local_path)
    # Independent of the parser: the details whose level is a finding, in order; their
    # number must also agree with dockle's own summary counters.
    findings = [d for d in data["details"] if d["level"] in ("FATAL", "WARN", "INFO")]
    summary = data["summary"]
    assert len(findings) == summary["fatal"] + summary["warn"] + summary["info"]
    assert [(m.id, m.message) for m in fragment.misconfigurations] == [
        (d["code"], "; ".join(d["alerts"])) for d in findings
    ]
