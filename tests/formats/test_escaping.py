"""Text from inputs cannot drive the terminal (issue 7 §5): controls escaped, markup literal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import fixture

from gate.document import Subject
from gate.formats import FORMATS
from gate.formats.table import summary_line
from gate.output import printable
from gate.verdict import Counts, EngineInfo, InputInfo, PolicyInfo, Result, Verdict

FAKE_PASS = "\x1b[2J\x1b[H\x1b[32mPASS"
"""Clear the screen, home the cursor, print a green PASS: what a hostile title would do."""
MARKUP_PASS = "[bold green]PASS[/]"
HOSTILE = [
    FAKE_PASS,
    "FAIL\rPASS",  # a carriage return overwrites the line
    "\x9b2J",  # C1 control sequence introducer: ESC [ in one byte on some terminals
    "bell\x07 backspace\x08 nul\x00 del\x7f vt\x0b ff\x0c",
    "\u202epass\u202c",  # right-to-left override: the terminal shows text reordered
    "\x1b]0;owned\x07",  # OSC: sets the terminal window title
]
RAW_CONTROLS = ("\x1b", "\r", "\x9b", "\x07", "\x08", "\x00", "\x7f", "\u202e", "\x0b", "\x0c")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (FAKE_PASS, "\\x1b[2J\\x1b[H\\x1b[32mPASS"),
        ("FAIL\rPASS", "FAIL\\x0dPASS"),
        ("\x9b2J", "\\x9b2J"),
        ("\u202epass\u2069", "\\u202epass\\u2069"),
        ("a\nb\tc", "a\\x0ab\\x09c"),
        ("naïve 漢字 ✓ — fine", "naïve 漢字 ✓ — fine"),
    ],
)
def test_printable_escapes_controls_and_keeps_other_text(text, shown):
    assert printable(text) == shown


def test_printable_keeps_line_breaks_for_table_cells_only_when_asked():
    assert printable("a\nb\tc\x1b", keep_newlines=True) == "a\nb\tc\\x1b"


def _verdict(text: str) -> Verdict:
    result = Result(
        id=f"rule-{text}",
        msg=f"CVE-1 in {text}",
        severity="critical",
        level="deny",
        package="gate.x",
        remediation=f"upgrade {text}",
    )
    return Verdict(
        decision="fail",
        stage=f"prod{text}",
        subject=Subject(reference=f"ghcr.io/acme/api:1.0{text}"),
        violations=[result],
        warnings=[],
        waived=[],
        waiver_problems=[],
        counts=Counts(
            violations=1, warnings=0, waived=0, waiver_problems=0, vulnerabilities={"critical": 1}
        ),
        policy=PolicyInfo(digest="sha256:" + "a" * 64, files=[]),
        input=InputInfo(sha256="sha256:" + "b" * 64, files=[]),
        engine=EngineInfo(name="regorus", version="0.13.0"),
        gate_version="0.1.0",
        evaluated_at="2026-11-27T12:00:00Z",
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_table_never_prints_an_input_control_character(text):
    plain = FORMATS["table"].render(_verdict(text))
    for control in RAW_CONTROLS:
        assert control not in plain
    assert printable(text) in plain
    # With colour on, rich adds its own styling; the input's sequences still stay escaped.
    coloured = FORMATS["table"].render(_verdict(text), color=True)
    for control in RAW_CONTROLS:
        if control != "\x1b":
            assert control not in coloured
    assert "\x1b[2J" not in coloured and "\x1b]0;" not in coloured


def test_table_prints_rich_markup_and_emoji_codes_literally():
    text = FORMATS["table"].render(_verdict(f"{MARKUP_PASS} :white_check_mark:"))
    assert MARKUP_PASS in text
    assert ":white_check_mark:" in text and "✅" not in text


@pytest.mark.parametrize("text", HOSTILE)
def test_summary_line_is_one_escaped_line(text):
    line = summary_line(_verdict(text))
    assert line.startswith("FAIL: ghcr.io/acme/api:1.0")
    assert "\n" not in line
    for control in RAW_CONTROLS:
        assert control not in line


def test_json_output_escapes_controls_and_keeps_the_value():
    text = FORMATS["json"].render(_verdict(FAKE_PASS))
    assert "\x1b" not in text and "\\u001b" in text
    assert json.loads(text)["violations"][0]["msg"] == f"CVE-1 in {FAKE_PASS}"


# --- through the real entry point ------------------------------------------------------


def _hostile_trivy(tmp_path: Path) -> Path:
    report = json.loads(fixture("reports/trivy/v2-image.json").read_text())
    first = report["Results"][0]["Vulnerabilities"][0]
    first["PkgName"] = f"libssl3{FAKE_PASS}"
    first["Title"] = f"{MARKUP_PASS}\r{FAKE_PASS}"
    path = tmp_path / "trivy.json"
    path.write_text(json.dumps(report))
    return path


def test_check_table_and_summary_escape_a_hostile_package_name(gate_cli, tmp_path):
    report = _hostile_trivy(tmp_path)
    at = ("--at", "2024-10-14T12:00:00Z")
    table = gate_cli("check", report, fixture("image/inspect.json"), *at, "--explain")
    assert table.code == 1
    assert "libssl3\\x1b[2J\\x1b[H\\x1b[32mPASS" in table.out
    as_json = gate_cli("check", report, fixture("image/inspect.json"), *at, "-f", "json")
    assert as_json.code == 1
    assert as_json.err.startswith("FAIL: ")
    for result in (table, as_json):
        assert "\x1b" not in result.out + result.err
        assert "\r" not in result.out + result.err


def test_error_lines_escape_text_from_inputs(gate_cli, tmp_path):
    # own case: the input's file name (an artifact name an attacker may choose) is quoted
    evil = tmp_path / f"report{FAKE_PASS}.json"
    evil.write_text("{ not json")
    result = gate_cli("check", evil)
    assert result.code == 3
    assert result.err.startswith(f"error: {tmp_path}/report\\x1b[2J\\x1b[H\\x1b[32mPASS.json: ")
    assert "\x1b" not in result.err


def test_usage_error_lines_escape_option_values(gate_cli):
    result = gate_cli("check", fixture("image/inspect.json"), "--stage", f"dev{FAKE_PASS}")
    assert result.code == 2
    assert "\x1b" not in result.err
    assert "\\x1b[2J" in result.err
