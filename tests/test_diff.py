"""`gate diff OLD NEW`: new, escalated, fixed and unchanged violations, by the baseline key;
exit 1 exactly when NEW adds a violation."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import AT, fixture

TRIVY = "reports/trivy/v2-image.json"
INSPECT = "image/inspect.json"
NEW_CVE = "CVE-2026-11111"
FIXED_CVE = "CVE-2024-5535"


def _report(tmp_path: Path, *, add: bool = False, fix: bool = False) -> Path:
    report = json.loads(fixture(TRIVY).read_text(encoding="utf-8"))
    vulnerabilities = report["Results"][0]["Vulnerabilities"]
    if add:
        added = copy.deepcopy(vulnerabilities[0])
        added["VulnerabilityID"] = NEW_CVE
        vulnerabilities.append(added)
    if fix:
        report["Results"][0]["Vulnerabilities"] = [
            v for v in vulnerabilities if v["VulnerabilityID"] != FIXED_CVE
        ]
    path = tmp_path / "trivy.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


def _verdict(gate_cli, tmp_path: Path, name: str, stage: str, **change: bool) -> Path:
    out = tmp_path / name
    result = gate_cli(
        "check",
        _report(tmp_path, **change),
        fixture(INSPECT),
        "--stage",
        stage,
        "--at",
        AT,
        "-q",
        "-o",
        out,
    )
    assert result.code in (0, 1), result.err
    return out


def _diff(gate_cli, old: Path, new: Path) -> tuple[int, dict[str, Any]]:
    result = gate_cli("diff", old, new, "--format", "json")
    assert result.code in (0, 1), result.err
    return result.code, json.loads(result.out)


def _found(rows: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(row["id"], (row["finding"] or {}).get("id")) for row in rows]


def test_a_new_violation_fails_the_diff(gate_cli, tmp_path: Path) -> None:
    old = _verdict(gate_cli, tmp_path, "old.json", "staging")
    new = _verdict(gate_cli, tmp_path, "new.json", "staging", add=True, fix=True)
    code, diff = _diff(gate_cli, old, new)
    assert code == 1
    assert _found(diff["new_violations"]) == [("vuln-fixable-critical", NEW_CVE)]
    assert _found(diff["fixed_violations"]) == [("vuln-fixable-critical", FIXED_CVE)]
    assert diff["fixed_violations"][0]["now"] == "gone"
    assert diff["counts"] == {
        "new": 1,
        "escalated": 0,
        "fixed": 1,
        "unchanged": diff["counts"]["unchanged"],
        "new_warnings": 0,
        "gone_warnings": 0,
    }
    assert diff["counts"]["unchanged"] == len(json.loads(old.read_text())["violations"]) - 1
    assert FIXED_CVE not in {f for _, f in _found(diff["unchanged_violations"])}


def test_only_fixes_pass_the_diff(gate_cli, tmp_path: Path) -> None:
    old = _verdict(gate_cli, tmp_path, "old.json", "staging")
    new = _verdict(gate_cli, tmp_path, "new.json", "staging", fix=True)
    code, diff = _diff(gate_cli, old, new)
    assert code == 0
    assert diff["new_violations"] == [] and diff["counts"]["fixed"] == 1


def test_text_output(gate_cli, tmp_path: Path) -> None:
    old = _verdict(gate_cli, tmp_path, "old.json", "staging")
    new = _verdict(gate_cli, tmp_path, "new.json", "staging", add=True)
    result = gate_cli("diff", old, new)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == f"old: ghcr.io/acme/shop-api:1.4.2 at staging, {AT} (fail)"
    assert lines[2] == "new violations (1):"
    assert lines[3].startswith(f"  + vuln-fixable-critical [critical] {NEW_CVE} (critical)")
    assert "fixed violations (0):" in lines
    assert any(line.startswith("unchanged violations (") for line in lines)


def test_what_old_only_warned_about_is_escalated_not_new(gate_cli, tmp_path: Path) -> None:
    """staging -> prod: rules that warn in staging block in prod; the findings are not new."""
    old = _verdict(gate_cli, tmp_path, "staging.json", "staging")
    new = _verdict(gate_cli, tmp_path, "prod.json", "prod")
    code, diff = _diff(gate_cli, old, new)
    assert code == 0
    assert diff["new_violations"] == []
    assert {row["id"] for row in diff["escalated_violations"]} >= {"provenance-required"}


def test_a_violation_now_waived_is_fixed_as_waived(gate_cli, tmp_path: Path) -> None:
    old = _verdict(gate_cli, tmp_path, "old.json", "staging")
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        f"waivers:\n  - vulnerability: {FIXED_CVE}\n    reason: r\n    owner: o\n"
        "    expires: 2027-06-01\n",
        encoding="utf-8",
    )
    new = tmp_path / "new.json"
    gate_cli(
        "check",
        _report(tmp_path),
        fixture(INSPECT),
        "--stage",
        "staging",
        "--at",
        AT,
        "--waivers",
        waivers,
        "-q",
        "-o",
        new,
    )
    _, diff = _diff(gate_cli, old, new)
    assert [(r["finding"]["id"], r["now"]) for r in diff["fixed_violations"]] == [
        (FIXED_CVE, "waived")
    ]


def _edited(path: Path, out: Path, **subject: Any) -> Path:
    document = json.loads(path.read_text(encoding="utf-8"))
    document["subject"].update(subject)
    out.write_text(json.dumps(document), encoding="utf-8")
    return out


def test_verdicts_of_different_repositories_are_refused(gate_cli, tmp_path: Path) -> None:
    new = _verdict(gate_cli, tmp_path, "new.json", "staging", add=True)
    other = _edited(new, tmp_path / "other.json", repository="acme/everything")
    result = gate_cli("diff", other, new)
    assert result.code == 3
    assert "OLD is about repository 'acme/everything', not 'acme/shop-api'" in result.err
    assert result.out == ""


@pytest.mark.parametrize("content", [b"", b"{}", b"[1]", b'{"decision": "pass"}'])
def test_unreadable_verdicts_are_no_diff(gate_cli, tmp_path: Path, content: bytes) -> None:
    good = _verdict(gate_cli, tmp_path, "good.json", "staging")
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    for args in ((bad, good), (good, bad)):
        result = gate_cli("diff", *args)
        assert result.code == 3, result.out
        assert result.err.startswith("error: ") and str(bad) in result.err


def test_a_signed_verdict_can_be_diffed(gate_cli, tmp_path: Path) -> None:
    """The DSSE fixture: a passing staging verdict of the same repository."""
    new = _verdict(gate_cli, tmp_path, "new.json", "staging")
    code, diff = _diff(gate_cli, fixture("verdicts/shop-api-staging.dsse.json"), new)
    assert code == 1
    assert diff["counts"]["new"] == len(json.loads(new.read_text())["violations"])


def test_hostile_messages_are_escaped_in_text(gate_cli, tmp_path: Path) -> None:
    old = _verdict(gate_cli, tmp_path, "old.json", "staging")
    document = json.loads(old.read_text(encoding="utf-8"))
    document["subject"]["reference"] = "ghcr.io/acme/shop-api:1\x1b[2J"
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(document), encoding="utf-8")
    result = gate_cli("diff", hostile, hostile)
    assert result.code == 0
    assert "\x1b" not in result.out and "\\x1b[2J" in result.out
