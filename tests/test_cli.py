"""CLI scenarios through the real entry point (gate.cli.main), and golden outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jsonschema
import pytest
from conftest import AT, FIXTURES, ROOT, fixture

TRIVY = fixture("reports/trivy/v2-image.json")
GRYPE = fixture("reports/grype/image.json")
INSPECT = fixture("image/inspect.json")
HIGH_ONLY = fixture("scenarios/high-only/trivy.json")
SUPPLY_CHAIN = (
    fixture("scenarios/clean/sbom.syft.json"),
    fixture("provenance/slsa-v0.2-statement.json"),
    fixture("signatures/shop-api.cosign.json"),
    "--trust-key",
    fixture("keys/release.pub"),
)
"""An SBOM without copyleft packages, build provenance and a cosign signature of the same
image, and the key that signed it: what prod asks of the image itself."""
SCAN_DAY = "2024-10-14T12:00:00Z"
"""The fixtures were scanned on the morning of this day: judged then, scans are fresh."""
GOLDEN = FIXTURES / "golden"
UPDATE = os.environ.get("GATE_UPDATE_GOLDEN") == "1"


def verdict_of(result) -> dict:
    assert result.out, result.err
    return json.loads(result.out)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"golden file {name} missing: run with GATE_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{name} differs; if intended, GATE_UPDATE_GOLDEN=1"


# --- the scenarios the gate exists for ----------------------------------------------


def test_pass(gate_cli):
    result = gate_cli(
        "check", fixture("reports/grype/empty.json"), INSPECT, *SUPPLY_CHAIN,
        "--at", SCAN_DAY, "-f", "json",
    )  # fmt: skip
    assert result.code == 0, result.err
    verdict = verdict_of(result)
    assert verdict["decision"] == "pass"
    assert verdict["violations"] == []
    assert result.err.startswith("PASS: ghcr.io/acme/shop-api:1.4.2 at stage prod")


def test_fail_lists_every_reason(gate_cli):
    result = gate_cli(
        "check", TRIVY, GRYPE, INSPECT, "--stage", "prod", "--at", SCAN_DAY, "-f", "json"
    )
    assert result.code == 1
    verdict = verdict_of(result)
    assert verdict["decision"] == "fail"
    failed = {(v["id"], (v.get("finding") or {}).get("id")) for v in verdict["violations"]}
    assert ("vuln-fixable-critical", "CVE-2024-5535") in failed
    assert ("vuln-fixable-critical", "CVE-2025-24813") in failed
    assert ("vuln-fixable-high", "CVE-2023-38545") in failed
    assert any(rule == "secret-found" for rule, _ in failed)
    assert verdict["counts"]["violations"] == len(verdict["violations"])


def test_fail_in_prod_but_pass_in_dev(gate_cli):
    common = (HIGH_ONLY, INSPECT, *SUPPLY_CHAIN, "--at", SCAN_DAY, "-f", "json")
    dev = gate_cli("check", *common, "--stage", "dev")
    prod = gate_cli("check", *common, "--stage", "prod")
    assert (dev.code, prod.code) == (0, 1)
    assert [w["id"] for w in verdict_of(dev)["warnings"]] == ["vuln-fixable-high"]
    assert [v["id"] for v in verdict_of(prod)["violations"]] == ["vuln-fixable-high"]


def test_omitting_the_stage_applies_the_strictest(gate_cli):
    result = gate_cli("check", HIGH_ONLY, INSPECT, *SUPPLY_CHAIN, "--at", SCAN_DAY, "-f", "json")
    assert result.code == 1
    assert verdict_of(result)["stage"] == "prod"


def test_waived(gate_cli):
    result = gate_cli(
        "check", HIGH_ONLY, INSPECT, *SUPPLY_CHAIN, "--at", SCAN_DAY, "-f", "json",
        "--waivers", fixture("scenarios/high-only/waivers.yaml"),
    )  # fmt: skip
    assert result.code == 0, result.err
    verdict = verdict_of(result)
    assert verdict["violations"] == []
    [waived] = verdict["waived"]
    assert (waived["id"], waived["finding"]["id"], waived["waiver"]["ticket"]) == (
        "vuln-fixable-high",
        "CVE-2023-38545",
        "SEC-1234",
    )
    assert verdict["waiver_problems"] == []


def test_a_waiver_about_to_expire_is_a_warning(gate_cli):
    result = gate_cli(
        "check", HIGH_ONLY, INSPECT, *SUPPLY_CHAIN, "--at", "2024-12-20T00:00:00Z", "-f", "json",
        "--waivers", fixture("scenarios/high-only/waivers.yaml"),
        "--data", fixture("scenarios/high-only/relaxed-ages.json"),
    )  # fmt: skip
    assert result.code == 0, result.err
    verdict = verdict_of(result)
    # (and the staging verdict a plain check of files does not carry: a warning)
    assert [w["id"] for w in verdict["warnings"]] == ["promotion-order", "waiver-expiring"]
    assert "expires on 2024-12-31 (in 11 day(s))" in verdict["warnings"][1]["msg"]
    assert [p["kind"] for p in verdict["waiver_problems"]] == ["expiring"]


def test_the_same_waiver_after_it_expires_blocks_again(gate_cli):
    result = gate_cli(
        "check", HIGH_ONLY, INSPECT, *SUPPLY_CHAIN, "--at", "2025-01-02T00:00:00Z", "-f", "json",
        "--waivers", fixture("scenarios/high-only/waivers.yaml"),
        "--data", fixture("scenarios/high-only/relaxed-ages.json"),
    )  # fmt: skip
    verdict = verdict_of(result)
    assert result.code == 1
    assert [v["id"] for v in verdict["violations"]] == ["vuln-fixable-high"]
    assert [p["kind"] for p in verdict["waiver_problems"]] == ["expired"]


def test_expired_waiver(gate_cli):
    result = gate_cli(
        "check", HIGH_ONLY, INSPECT, *SUPPLY_CHAIN, "--at", SCAN_DAY, "-f", "json",
        "--waivers", fixture("scenarios/high-only/waivers-expired.yaml"),
    )  # fmt: skip
    assert result.code == 1
    verdict = verdict_of(result)
    assert verdict["waived"] == []
    [problem] = verdict["waiver_problems"]
    assert problem["kind"] == "expired"
    assert "no longer suppresses" in problem["msg"]


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (["inputs/unknown.json"], 3, "inputs/unknown.json: not a recognised report"),
        (["inputs/malformed.json"], 3, "inputs/malformed.json: line 3 column 20: invalid JSON"),
        (["inputs/empty-file.json"], 3, "inputs/empty-file.json: empty file"),
        (["no-such-report.json"], 3, "no-such-report.json: no such file"),
        (["image/inspect.json", "-p", "scenarios/broken-policy"], 3,
         "broken.rego:14:1: policy does not compile"),
        (["image/inspect.json", "--stage", "qa"], 2, "unknown stage 'qa'"),
        (["image/inspect.json", "--waivers", "scenarios/high-only/trivy.json"], 3, "trivy.json: "),
        (["image/inspect.json", "image/inspect.json"], 2, "each report may be given once"),
        (["image/inspect.json", "--type", "grype-json"], 3, "inspect.json"),
        (["image/inspect.json", "--type", "nonsense"], 2, "unknown input type 'nonsense'"),
        (["image/inspect.json", "--at", "yesterday"], 2, "not an RFC 3339 time"),
        (["image/inspect.json", "--image", "Not A Ref"], 2, "is not an image reference"),
        ([], 2, "no input files given"),
        (["reports/trivy/k8s-cluster.json"], 3, "Kubernetes cluster report is not an image scan"),
    ],
    ids=[
        "unknown-file", "malformed-json", "empty-file", "missing-file", "policy-syntax-error",
        "unknown-stage", "waivers-not-waivers", "same-input-twice", "forced-wrong-type",
        "unknown-type", "bad-at", "bad-image", "no-inputs", "k8s-report",
    ],
)  # fmt: skip
def test_errors_are_one_line_and_never_a_pass(gate_cli, monkeypatch, args, code, error):
    monkeypatch.chdir(FIXTURES)
    result = gate_cli("check", *args)
    assert result.code == code
    assert result.out == ""
    lines = result.err.splitlines()
    assert lines[0].startswith("error: ")
    assert error in lines[0]
    assert len(lines) <= 2 and all(line.startswith("hint: ") for line in lines[1:])
    assert "Traceback" not in result.err


def test_debug_shows_the_traceback(gate_cli):
    result = gate_cli("check", fixture("inputs/malformed.json"), "--debug")
    assert result.code == 3
    assert "Traceback" in result.err and "error: " in result.err


@pytest.mark.parametrize(
    "report",
    ["reports/trivy/null.json", "reports/grype/empty.json", "reports/trivy/empty-v2.json"],
)
def test_empty_reports_are_judged_not_refused(gate_cli, report):
    result = gate_cli("check", fixture(report), INSPECT, "--at", SCAN_DAY, "-f", "json")
    verdict = verdict_of(result)
    assert result.code in (0, 1)
    assert verdict["counts"]["vulnerabilities"] == dict.fromkeys(
        ["critical", "high", "medium", "low", "negligible", "unknown"], 0
    )


def test_an_empty_report_alone_does_not_pass_prod(gate_cli):
    """No image metadata and no identified image: prod cannot be satisfied by absence."""
    result = gate_cli("check", fixture("reports/trivy/null.json"), "--at", SCAN_DAY, "-f", "json")
    assert result.code == 1


# --- outputs ----------------------------------------------------------------------


def test_json_verdict_is_deterministic_and_valid(gate_cli):
    args = ("check", TRIVY, GRYPE, INSPECT, "--at", SCAN_DAY, "-f", "json")
    first, second = gate_cli(*args), gate_cli(*args)
    assert first.out == second.out
    schema = json.loads((ROOT / "gate" / "schema" / "verdict.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(json.loads(first.out))
    later = gate_cli("check", TRIVY, GRYPE, INSPECT, "--at", "2024-10-14T12:00:01Z", "-f", "json")
    differing = [
        a for a, b in zip(first.out.splitlines(), later.out.splitlines(), strict=True) if a != b
    ]
    assert [line.strip().split(":")[0] for line in differing] == ['"evaluated_at"']


def test_golden_json_verdict(gate_cli, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    result = gate_cli(
        "check", "reports/trivy/v2-image.json", "reports/grype/image.json", "image/inspect.json",
        "--at", SCAN_DAY, "-f", "json", "-w", "scenarios/high-only/waivers.yaml",
    )  # fmt: skip
    assert result.code == 1
    check_golden("check-prod.verdict.json", result.out)


def test_golden_table(gate_cli, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    result = gate_cli(
        "check", "reports/trivy/v2-image.json", "reports/grype/image.json", "image/inspect.json",
        "--at", SCAN_DAY, "--stage", "dev", "-w", "scenarios/high-only/waivers.yaml",
    )  # fmt: skip
    assert result.code == 1
    assert "\x1b[" not in result.out  # no colour when not a terminal
    check_golden("check-dev.table.txt", result.out)


def test_output_file_and_format_from_extension(gate_cli, tmp_path):
    target = tmp_path / "verdict.json"
    common = (HIGH_ONLY, INSPECT, *SUPPLY_CHAIN, "--at", SCAN_DAY)
    result = gate_cli("check", *common, "--output", target)
    assert result.code == 1
    assert result.out == ""
    assert json.loads(target.read_text())["decision"] == "fail"
    assert result.err.startswith("FAIL: ")
    quiet = gate_cli("check", *common, "-o", target, "-q")
    assert quiet.err == ""


def test_output_never_overwrites_an_input(gate_cli, tmp_path):
    report = tmp_path / "trivy.json"
    report.write_bytes(HIGH_ONLY.read_bytes())
    result = gate_cli("check", report, INSPECT, "--output", report)
    assert result.code == 2
    assert report.read_bytes() == HIGH_ONLY.read_bytes()


def test_no_output_file_without_a_verdict(gate_cli, tmp_path):
    target = tmp_path / "verdict.json"
    result = gate_cli("check", fixture("inputs/malformed.json"), "-o", target)
    assert result.code == 3
    assert not target.exists()


def test_per_file_type_forcing(gate_cli):
    result = gate_cli(
        "normalize", HIGH_ONLY, INSPECT, "--type", f"{INSPECT}=docker-inspect", "--at", SCAN_DAY
    )
    assert result.code == 0
    assert [s["format"] for s in json.loads(result.out)["scans"]] == [
        "trivy-json",
        "docker-inspect",
    ]


def test_normalize_prints_the_document(gate_cli):
    result = gate_cli("normalize", TRIVY, GRYPE, INSPECT, "--stage", "dev", "--at", AT)
    assert result.code == 0
    document = json.loads(result.out)
    assert document["context"] == {"stage": "dev", "evaluated_at": AT}
    assert document["subject"]["reference"] == "ghcr.io/acme/shop-api:1.4.2"
    both = [v for v in document["vulnerabilities"] if len(v["sources"]) == 2]
    assert {s["tool"] for v in both for s in v["sources"]} == {"trivy", "grype"}


@pytest.mark.parametrize("which", ["document", "verdict", "waivers"])
def test_schema_command_prints_the_committed_schemas(gate_cli, which):
    result = gate_cli("schema", which)
    assert result.code == 0
    assert result.out == (ROOT / "gate" / "schema" / f"{which}.schema.json").read_text()


def test_choices_match_registries():
    from gate.cli import ENGINE_NAMES, FORMAT_NAMES
    from gate.engines import ENGINES
    from gate.formats import FORMATS

    assert sorted(FORMAT_NAMES) == sorted(FORMATS)
    assert sorted(ENGINE_NAMES) == sorted(ENGINES)


def test_version_and_help(gate_cli):
    assert gate_cli("--version").out.startswith("gate, version ")
    help_text = gate_cli("check", "--help").out
    assert "--stage" in help_text and "--waivers" in help_text
    assert gate_cli().code == 2


def test_installed_console_script_reads_stdin():
    """The real process: console script or `python -m gate`, stdin input, exit code."""
    command = [
        sys.executable,
        "-m",
        "gate",
        "check",
        "-",
        str(INSPECT),
        "--at",
        SCAN_DAY,
        "-q",
        "-f",
        "json",
    ]
    done = subprocess.run(
        command,
        input=HIGH_ONLY.read_bytes(),
        capture_output=True,
        env={**os.environ, "RUST_LIB_BACKTRACE": "0"},
        check=False,
    )
    assert done.returncode == 1, done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["input"]["files"][0]["path"] == "<stdin>"


def test_vex_takes_findings_out_of_the_verdict_and_says_so(gate_cli):
    result = gate_cli(
        "check", TRIVY, GRYPE, INSPECT, *SUPPLY_CHAIN, fixture("vex/openvex-0.2.0-shop-api.json"),
        "--at", SCAN_DAY, "-f", "json",
    )  # fmt: skip
    assert result.code == 1
    verdict = verdict_of(result)
    blocking = {(v["id"], v["finding"].get("id")) for v in verdict["violations"]}
    # fixable critical libssl3 CVE-2024-5535 is not_affected per VEX: no longer blocking
    assert ("vuln-fixable-critical", "CVE-2024-5535") not in blocking
    assert ("vuln-fixable-high", "CVE-2023-38545") in blocking  # VEX says affected
    suppressed = {
        (w["finding"]["id"], w["finding"]["vex"]["status"])
        for w in verdict["warnings"]
        if w["id"] == "vex-not-blocking"
    }
    assert suppressed == {("CVE-2024-5535", "not_affected"), ("CVE-2023-45853", "not_affected")}
    assert "vuln-unfixed-critical-aged" not in {w["id"] for w in verdict["warnings"]}


# --- evaluating "as of" a time, and staged rollout ---------------------------------


@pytest.mark.parametrize(
    ("at", "blocked"),
    [("2024-12-31T23:59:59Z", False), ("2025-01-01T00:00:00Z", True)],
    ids=["before-effective-from", "on-effective-from"],
)
def test_a_new_rule_warns_until_its_effective_date(gate_cli, at, blocked):
    result = gate_cli(
        "check", INSPECT, "--policy", fixture("policies/rollout"), "--at", at, "-f", "json"
    )
    verdict = verdict_of(result)
    assert result.code == (1 if blocked else 0)
    [found] = verdict["violations"] if blocked else verdict["warnings"]
    assert found["id"] == "org-team-label"
    if blocked:
        assert (found["msg"], found["effective_from"]) == ("image has no team label", None)
    else:
        assert found["msg"] == "image has no team label (becomes blocking on 2025-01-01)"
        assert found["effective_from"] == "2025-01-01"


def test_a_bad_effective_from_is_a_broken_policy(gate_cli, tmp_path):
    rule = fixture("policies/rollout/gate/team_label.rego").read_text()
    (tmp_path / "rule.rego").write_text(rule.replace("2025-01-01", "next quarter"))
    result = gate_cli("check", INSPECT, "--policy", tmp_path, "--at", SCAN_DAY)
    assert result.code == 3
    assert "rule.rego:1: rule org-team-label: custom.effective_from 'next quarter'" in result.err


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # built 2024-10-12: prod allows 90 days
        ("2025-01-09T00:00:00Z", set()),
        ("2025-01-11T00:00:00Z", {"image-too-old"}),
    ],
    ids=["image-88-days", "image-91-days"],
)
def test_image_age_is_judged_as_of_at(gate_cli, tmp_path, at, expected):
    relaxed = json.loads(fixture("scenarios/high-only/relaxed-ages.json").read_text())
    del relaxed["gate_config"]["stages"]["prod"]["settings"]["max_image_age_days"]
    scans_only = tmp_path / "fresh-scans.json"
    scans_only.write_text(json.dumps(relaxed))  # keep prod's image age limit, relax scan age
    result = gate_cli(
        "check", fixture("reports/grype/empty.json"), INSPECT, *SUPPLY_CHAIN,
        "--data", scans_only, "--at", at, "-f", "json",
    )  # fmt: skip
    assert {v["id"] for v in verdict_of(result)["violations"]} == expected


@pytest.mark.parametrize(
    ("at", "stale"),
    [("2024-10-15T07:00:00Z", False), ("2024-10-15T07:30:00Z", True)],
    ids=["scan-23h-old", "scan-over-24h-old"],
)
def test_scan_freshness_is_judged_as_of_at(gate_cli, at, stale):
    # the Grype fixture ran at 2024-10-14T07:20:05Z; prod wants scans under 24 hours old
    result = gate_cli("check", GRYPE, INSPECT, *SUPPLY_CHAIN, "--at", at, "-f", "json")
    assert ("scan-stale" in {v["id"] for v in verdict_of(result)["violations"]}) is stale


def test_explain_shows_the_rule_and_the_input_that_made_it_fire(gate_cli):
    result = gate_cli(
        "check", TRIVY, fixture("image/inspect-root.json"), "--at", SCAN_DAY, "-f", "json",
        "--explain",
    )  # fmt: skip
    verdict = verdict_of(result)
    by_rule = {v["id"]: v for v in verdict["violations"]}
    root = by_rule["image-root-user"]["explanation"]
    assert root["rule"]["file"] == "gate:policies/gate/image/root_user.rego"
    text = (ROOT / "policies/gate/image/root_user.rego").read_text().splitlines()
    assert text[root["rule"]["line"] - 1].startswith("findings contains")  # the body, not deny
    assert root["evidence"]["image.user"] == ""
    vuln = next(v for v in verdict["violations"] if v["id"] == "vuln-fixable-critical")
    evidence = vuln["explanation"]["evidence"]
    assert evidence["vulnerability"] == vuln["finding"]["id"]
    assert evidence["reported_by"] == {"trivy": "critical"}
    assert evidence["fixed_versions"]
    table = gate_cli(
        "check", TRIVY, fixture("image/inspect-root.json"), "--at", SCAN_DAY, "--explain"
    )
    assert "rule: gate:policies/gate/image/root_user.rego:" in table.out
    assert 'image.user: ""' in table.out


def test_explain_never_shows_environment_values(gate_cli, tmp_path):
    inspect = json.loads(INSPECT.read_text())
    inspect[0]["Config"]["Env"].append("DB_PASSWORD=hunter2-very-secret")
    leaky = tmp_path / "inspect.json"
    leaky.write_text(json.dumps(inspect))
    result = gate_cli("check", TRIVY, leaky, "--at", SCAN_DAY, "-f", "json", "--explain")
    assert "image-env-secret" in {v["id"] for v in verdict_of(result)["violations"]}
    assert "hunter2" not in result.out
    table = gate_cli("check", TRIVY, leaky, "--at", SCAN_DAY, "--explain")
    assert "hunter2" not in table.out


def test_an_organisation_pack_layers_on_the_bundled_one(gate_cli):
    result = gate_cli(
        "check", TRIVY, INSPECT, "--policy", "gate:policies",
        "--policy", fixture("policies/rollout"), "--at", "2025-06-01T00:00:00Z", "-f", "json",
    )  # fmt: skip
    verdict = verdict_of(result)
    rules = {v["id"] for v in verdict["violations"]}
    assert {"org-team-label", "vuln-fixable-critical"} <= rules
    paths = [f["path"] for f in verdict["policy"]["files"]]
    assert any(p.startswith("gate:policies/") for p in paths)
    assert any("policies/rollout" in p for p in paths)
