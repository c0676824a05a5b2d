"""`gate waivers import|check`: scanners' ignore files become waivers to complete, never
waivers accepted as they are, and never broader than the ignore entry they came from."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import AT, fixture

from gate.waivers import load_waivers
from gate.waivers_cli import parse_grype, parse_trivyignore

TRIVYIGNORE = "waivers-import/.trivyignore"
GRYPE = "waivers-import/.grype.yaml"


def _imported(gate_cli, source: str, out: Path, *extra: str) -> list[dict]:
    result = gate_cli("waivers", "import", fixture(source), "-o", out, *extra)
    assert result.code == 0, result.err
    assert result.out == ""
    return yaml.safe_load(out.read_text(encoding="utf-8"))["waivers"]


def test_trivyignore_import(gate_cli, tmp_path: Path) -> None:
    waivers = _imported(gate_cli, TRIVYIGNORE, tmp_path / "waivers.yaml")
    assert waivers == [
        {
            "vulnerability": "CVE-2024-5535",
            "reason": "TODO",
            "owner": "TODO",
            "expires": "2027-03-01",
        },
        {"vulnerability": "CVE-2025-24813", "reason": "TODO", "owner": "TODO", "expires": "TODO"},
        {
            "vulnerability": "GHSA-jjjh-jjxp-wpff",
            "reason": "TODO",
            "owner": "TODO",
            "expires": "2027-01-15",
        },
    ]
    text = (tmp_path / "waivers.yaml").read_text(encoding="utf-8")
    assert (
        "# imported from "
        + str(fixture(TRIVYIGNORE))
        + " line 7: fill in owner, reason and expires"
        in text
    )


def test_trivyignore_entries_gate_cannot_express_are_skipped_with_the_reason(
    gate_cli, tmp_path: Path
) -> None:
    result = gate_cli("waivers", "import", fixture(TRIVYIGNORE), "-o", tmp_path / "w.yaml")
    skipped = [line for line in result.err.splitlines() if line.startswith("skipped")]
    reasons = {line.split(": ", 2)[1]: line for line in skipped}
    assert set(reasons) == {
        "AVD-DS-0002",
        "aws-access-key-id",
        "DSA-5587-1",
        "CVE-*",
        "CVE-2023-38545",
    }
    assert "not a vulnerability id" in reasons["aws-access-key-id"]
    assert "vendor advisory" in reasons["DSA-5587-1"]
    assert "wildcard" in reasons["CVE-*"]
    assert "exp:next-week is not a date" in reasons["CVE-2023-38545"]
    assert "imported 3 waiver(s)" in result.err and "skipped 5" in result.err


@pytest.mark.parametrize(
    "line",
    ["*", "**", "CVE-2024-*", "?", "[A-Z]*", "GHSA-*", "   ", "# CVE-2024-5535", "- CVE-2024-5535"],
)
def test_a_trivyignore_line_never_becomes_a_waiver_for_everything(line: str) -> None:
    imported, _ = parse_trivyignore(line + "\n", ".trivyignore")
    assert imported == []


def test_trivyignore_duplicates_and_hostile_text() -> None:
    text = "CVE-2024-5535\ncve-2024-5535 exp:2027-01-01\nCVE-2024-1\x1b[2J\n"
    imported, skipped = parse_trivyignore(text, ".trivyignore")
    assert [i.vulnerability for i in imported] == ["CVE-2024-5535"]
    assert "the same id as .trivyignore line 1" in skipped[0].reason
    assert "\x1b" not in skipped[1].reason and "\\x1b" in skipped[1].reason


def test_grype_import(gate_cli, tmp_path: Path) -> None:
    waivers = _imported(gate_cli, GRYPE, tmp_path / "waivers.yaml")
    assert waivers == [
        {
            "vulnerability": "CVE-2024-5535",
            "reason": "TLS is terminated at the proxy",
            "owner": "TODO",
            "expires": "TODO",
        },
        {
            "vulnerability": "CVE-2023-45853",
            "package": "zlib1g",
            "reason": "TODO",
            "owner": "TODO",
            "expires": "TODO",
        },
        {
            "vulnerability": "GHSA-83qj-6fr2-vhqg",
            "reason": "TODO",
            "owner": "TODO",
            "expires": "TODO",
        },
    ]


def test_grype_rules_narrower_than_a_waiver_are_skipped_never_widened() -> None:
    data = yaml.safe_load(fixture(GRYPE).read_text(encoding="utf-8"))
    imported, skipped = parse_grype(data, ".grype.yaml")
    assert len(imported) + len(skipped) == len(data["ignore"])
    by_origin = {s.origin: s.reason for s in skipped}
    assert "version" in by_origin[".grype.yaml ignore[3]"]
    assert "fix-state" in by_origin[".grype.yaml ignore[4]"]
    assert "location" in by_origin[".grype.yaml ignore[5]"]
    assert "fix-state" in by_origin[".grype.yaml ignore[6]"]
    assert "no vulnerability" in by_origin[".grype.yaml ignore[7]"]
    assert "namespace" in by_origin[".grype.yaml ignore[8]"]
    # What was kept says no less than the rule it came from.
    assert {i.vulnerability: i.package for i in imported} == {
        "CVE-2024-5535": None,
        "CVE-2023-45853": "zlib1g",
        "GHSA-83qj-6fr2-vhqg": None,
    }


@pytest.mark.parametrize(
    "rule",
    [
        {"vulnerability": "CVE-2024-1", "package": {"name": "*"}},
        {"vulnerability": "CVE-2024-1", "package": {"name": ""}},
        {"vulnerability": "CVE-2024-1", "package": "zlib"},
        {"vulnerability": "CVE-*"},
        {"vulnerability": ""},
        {"vulnerability": 2024},
        {"vulnerability": "CVE-2024-1", "match-type": "exact-direct-match"},
        {"vulnerability": "CVE-2024-1", "vex-status": "not_affected"},
        "CVE-2024-1",
        None,
    ],
)
def test_hostile_grype_rules_import_nothing(rule: object) -> None:
    imported, skipped = parse_grype({"ignore": [rule]}, ".grype.yaml")
    assert imported == [] and len(skipped) == 1


@pytest.mark.parametrize(
    ("content", "name", "code", "error"),
    [
        ("ignore: {}\n", ".grype.yaml", 3, "not a Grype configuration"),
        ("ignore: [\n", ".grype.yaml", 3, "not valid YAML"),
        ("a: &a [*a]\n", ".grype.yaml", 3, ""),
        ("CVE-2024-1\n", "accepted.txt", 2, "cannot tell the ignore file's format"),
    ],
)
def test_unreadable_ignore_files(
    gate_cli, tmp_path: Path, content: str, name: str, code: int, error: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = gate_cli("waivers", "import", path)
    assert result.code == code
    assert result.err.startswith("error: ") and error in result.err
    assert result.out == ""


def test_invalid_utf8_is_refused(gate_cli, tmp_path: Path) -> None:
    path = tmp_path / ".trivyignore"
    path.write_bytes(b"CVE-2024-1\xff\n")
    result = gate_cli("waivers", "import", path)
    assert result.code == 3 and "not UTF-8" in result.err


def test_import_never_overwrites_its_source(gate_cli, tmp_path: Path) -> None:
    source = tmp_path / ".trivyignore"
    source.write_text("CVE-2024-5535\n", encoding="utf-8")
    result = gate_cli("waivers", "import", source, "-o", source)
    assert result.code == 2
    assert source.read_text(encoding="utf-8") == "CVE-2024-5535\n"


def test_imported_placeholders_fail_check_and_gate_check(gate_cli, tmp_path: Path) -> None:
    out = tmp_path / "waivers.yaml"
    _imported(gate_cli, TRIVYIGNORE, out)
    checked = gate_cli("waivers", "check", out, "--at", AT)
    assert checked.code == 1
    assert "waivers[1]: still to fill in: reason, owner, expires" in checked.out
    # An expiry known from the source leaves the owner (and reason) to fill in all the same.
    assert "waivers[0]: still to fill in: reason, owner\n" in checked.out
    # gate check refuses the file outright: expires TODO is not a date.
    run = gate_cli(
        "check",
        fixture("reports/trivy/v2-image.json"),
        fixture("image/inspect.json"),
        "--waivers",
        out,
        "--at",
        AT,
    )
    assert run.code == 3 and "expires 'TODO' is not a date" in run.err


def _completed(out: Path) -> None:
    text = out.read_text(encoding="utf-8")
    text = text.replace('owner: "TODO"', 'owner: "platform-team"')
    text = text.replace('reason: "TODO"', 'reason: "not reachable"')
    text = text.replace('expires: "TODO"', 'expires: "2026-12-05"')
    out.write_text(text, encoding="utf-8")


def test_a_completed_import_loads_and_check_reports_expiry(gate_cli, tmp_path: Path) -> None:
    out = tmp_path / "waivers.yaml"
    _imported(gate_cli, TRIVYIGNORE, out)
    _completed(out)
    assert [w.ref.vulnerability for w in load_waivers(str(out))] == [
        "CVE-2024-5535",
        "CVE-2025-24813",
        "GHSA-jjjh-jjxp-wpff",
    ]
    fine = gate_cli("waivers", "check", out, "--at", AT)
    assert fine.code == 0, fine.out
    assert "waivers[1] (CVE-2025-24813): expires on 2026-12-05 (in 7 day(s))" in fine.out
    late = gate_cli("waivers", "check", out, "--at", "2026-12-06T00:00:00Z")
    assert late.code == 1
    assert "waivers[1] (CVE-2025-24813): expired on 2026-12-05" in late.out
    assert "1 expired" in late.out


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (
            "waivers:\n  - vulnerability: CVE-2024-1\n    owner: a\n    reason: b\n",
            "'expires' is required",
        ),
        ("waivers: [\n", "not valid YAML"),
        ("waivers:\n  - owner: a\n    reason: b\n    expires: 2027-01-01\n", "must name a 'rule'"),
    ],
)
def test_check_refuses_an_invalid_file(gate_cli, tmp_path: Path, content: str, error: str) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(content, encoding="utf-8")
    result = gate_cli("waivers", "check", path)
    assert result.code == 3
    assert error in result.err


def test_check_of_a_missing_file(gate_cli, tmp_path: Path) -> None:
    result = gate_cli("waivers", "check", tmp_path / "absent.yaml")
    assert result.code == 3 and "no such file" in result.err


def test_trivyignore_yaml_import(gate_cli, tmp_path: Path) -> None:
    result = gate_cli(
        "waivers", "import", fixture("waivers-import/.trivyignore.yaml"), "-o", tmp_path / "w.yaml"
    )
    assert result.code == 0, result.err
    waivers = yaml.safe_load((tmp_path / "w.yaml").read_text(encoding="utf-8"))["waivers"]
    assert [(w["vulnerability"], w.get("package"), w["expires"]) for w in waivers] == [
        ("CVE-2024-5535", None, "2027-03-01"),
        ("CVE-2023-3817", "pkg:deb/debian/libssl3", "TODO"),
        ("CVE-2023-3817", "pkg:deb/debian/libcrypto3@3.0.11-1~deb12u2", "TODO"),
    ]
    assert waivers[0]["reason"] == "TLS is terminated at the proxy"
    skipped = [line for line in result.err.splitlines() if line.startswith("skipped")]
    assert len(skipped) == 4
    assert "vulnerabilities[2]: matches on paths" in skipped[0]
    assert "wildcard" in skipped[1]


@pytest.mark.parametrize(
    "entry",
    [
        {"id": "CVE-2024-1", "purls": ["pkg:npm/*"]},
        {"id": "CVE-2024-1", "purls": []},
        {"id": "CVE-2024-1", "purls": "pkg:npm/left-pad"},
        {"id": "CVE-2024-1", "purls": ["left-pad"]},
        {"id": "CVE-2024-1", "expired_at": "soon"},
        {"id": "CVE-2024-1", "paths": ["*"]},
        {"id": "*"},
        {"purls": ["pkg:npm/left-pad@1.0.0"]},
    ],
)
def test_hostile_trivyignore_yaml_entries_import_nothing(entry: object) -> None:
    from gate.waivers_cli import parse_trivyignore_yaml

    imported, skipped = parse_trivyignore_yaml({"vulnerabilities": [entry]}, "t.yaml")
    assert imported == [] and len(skipped) == 1


def test_an_imported_waiver_with_an_expiry_but_no_owner_is_refused_by_check(gate_cli, tmp_path):
    """A source that gave an expiry still leaves owner: TODO: gate check must not apply it."""
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n"
        "  - vulnerability: CVE-2024-5535\n"
        '    reason: "accepted until the base image moves"\n'
        '    owner: "TODO"\n'
        '    expires: "2099-01-01"\n'
    )
    from conftest import fixture

    result = gate_cli(
        "check", fixture("reports/grype/image.json"), fixture("image/inspect.json"),
        "--stage", "dev", "--waivers", waivers,
    )  # fmt: skip
    assert result.code == 3
    assert "owner is still the placeholder" in result.err
