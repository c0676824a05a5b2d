"""Baseline gating: violations a baseline verdict already had are marked existing, and block
only where the stage's block_existing setting says so; a new one always blocks."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import AT, fixture

from gate.baseline import EXISTING_SUFFIX, apply_baseline, block_existing, load_verdict
from gate.errors import ExitCode, InputError
from gate.run import Settings, evaluate
from gate.signing import VERDICT_PREDICATE_TYPE
from gate.verdict import Level, Result, Verdict

NOW = dt.datetime.fromisoformat(AT.replace("Z", "+00:00"))
EARLIER = NOW - dt.timedelta(days=1)
TRIVY = "reports/trivy/v2-image.json"
INSPECT = "image/inspect.json"
NEW_CVE = "CVE-2026-11111"
OLD_CRITICAL = "CVE-2024-5535"

Mutation = Callable[[dict[str, Any]], None]


def _add_new_critical(report: dict[str, Any]) -> None:
    vulnerabilities = report["Results"][0]["Vulnerabilities"]
    added = copy.deepcopy(vulnerabilities[0])
    added["VulnerabilityID"] = NEW_CVE
    added["PrimaryURL"] = f"https://avd.aquasec.com/nvd/{NEW_CVE.lower()}"
    vulnerabilities.append(added)


def _rescan_wording(report: dict[str, Any]) -> None:
    """What a newer scanner database rewrites while the findings stay the same."""
    for result in report["Results"]:
        for vuln in result.get("Vulnerabilities", []):
            if vuln.get("FixedVersion"):
                vuln["FixedVersion"] += ", 99.0.0"
            vuln["Title"] = "reworded title"
            vuln["Description"] = "reworded description"
            for score in vuln.get("CVSS", {}).values():
                if "V3Score" in score:
                    score["V3Score"] = 9.9
            identifier = vuln.get("PkgIdentifier", {})
            if "PURL" in identifier:
                identifier["PURL"] = identifier["PURL"].split("?", 1)[0] + "?arch=x86_64"


def _run(
    tmp_path: Path,
    stage: str,
    *,
    baseline: Path | None = None,
    at: dt.datetime = NOW,
    mutate: Mutation | None = None,
    data: list[str] | None = None,
) -> Verdict:
    """Evaluate the Trivy fixture (changed by ``mutate``) and the image metadata.

    The report is always written to the same path, so that results keyed by their input
    file (scan-stale) keep their key between the baseline run and the next one.
    """
    report = json.loads(fixture(TRIVY).read_text(encoding="utf-8"))
    if mutate is not None:
        mutate(report)
    trivy = tmp_path / "trivy.json"
    trivy.write_text(json.dumps(report), encoding="utf-8")
    return evaluate(
        Settings(
            inputs=[str(trivy), str(fixture(INSPECT))],
            stage=stage,
            at=at,
            baseline=str(baseline) if baseline else None,
            data=data or [],
        )
    )


@pytest.fixture
def prod_baseline(tmp_path: Path) -> Path:
    """The verdict of the image now in production: yesterday's, at prod, failing."""
    verdict = _run(tmp_path, "prod", at=EARLIER)
    assert verdict.decision == "fail" and verdict.violations
    path = tmp_path / "baseline.json"
    path.write_text(verdict.to_json(), encoding="utf-8")
    return path


def _ids(results: list[Result]) -> list[tuple[str, str | None]]:
    return [(r.id, (r.finding or {}).get("id")) for r in results]


def test_an_existing_critical_does_not_block_in_staging_but_a_new_one_does(
    tmp_path: Path, prod_baseline: Path
) -> None:
    without_baseline = _run(tmp_path, "staging", mutate=_add_new_critical)
    assert ("vuln-fixable-critical", OLD_CRITICAL) in _ids(without_baseline.violations)

    verdict = _run(tmp_path, "staging", baseline=prod_baseline, mutate=_add_new_critical)

    assert verdict.decision == "fail"
    assert _ids(verdict.violations) == [("vuln-fixable-critical", NEW_CVE)]
    assert verdict.violations[0].baseline == "new"
    old = [r for r in verdict.warnings if (r.finding or {}).get("id") == OLD_CRITICAL]
    assert len(old) == 1
    assert old[0].baseline == "existing" and old[0].level == "warn"
    assert old[0].msg.endswith(EXISTING_SUFFIX)
    assert verdict.counts.new == 1
    assert verdict.counts.existing == len(without_baseline.violations) - 1
    # Nothing is dropped: every result of the run without a baseline is still reported.
    assert len(verdict.violations) + len(verdict.warnings) == len(
        without_baseline.violations
    ) + len(without_baseline.warnings)
    assert all(r.baseline is not None for r in [*verdict.violations, *verdict.warnings])
    assert verdict.baseline is not None
    assert verdict.baseline.block_existing is False
    assert verdict.baseline.stage == "prod"  # another stage's baseline: allowed, recorded
    assert verdict.baseline.file == str(prod_baseline)


def test_without_a_new_finding_staging_passes_with_the_baseline(
    tmp_path: Path, prod_baseline: Path
) -> None:
    verdict = _run(tmp_path, "staging", baseline=prod_baseline)
    assert verdict.decision == "pass", _ids(verdict.violations)
    assert verdict.counts.new == 0 and verdict.counts.existing
    assert verdict.exit_code == ExitCode.PASSED


def test_prod_blocks_existing_violations(tmp_path: Path, prod_baseline: Path) -> None:
    verdict = _run(tmp_path, "prod", baseline=prod_baseline, mutate=_add_new_critical)
    assert verdict.decision == "fail"
    marks = {(r.id, (r.finding or {}).get("id")): r.baseline for r in verdict.violations}
    assert marks[("vuln-fixable-critical", OLD_CRITICAL)] == "existing"
    assert marks[("vuln-fixable-critical", NEW_CVE)] == "new"
    assert verdict.counts.new == 1
    assert verdict.counts.existing == len(verdict.violations) - 1
    assert not any(r.msg.endswith(EXISTING_SUFFIX) for r in verdict.warnings)
    assert verdict.baseline is not None and verdict.baseline.block_existing is True


def test_keys_are_stable_across_rescans_with_other_fix_versions_and_wording(
    tmp_path: Path, prod_baseline: Path
) -> None:
    verdict = _run(tmp_path, "staging", baseline=prod_baseline, mutate=_rescan_wording)
    assert verdict.decision == "pass", _ids(verdict.violations)
    old = next(r for r in verdict.warnings if (r.finding or {}).get("id") == OLD_CRITICAL)
    # The rescan did reach the finding (its fix versions changed), and it is still existing.
    assert "99.0.0" in old.msg and old.baseline == "existing"


def test_a_data_file_can_make_prod_not_block_existing_and_the_verdict_shows_it(
    tmp_path: Path, prod_baseline: Path
) -> None:
    lax = tmp_path / "lax.json"
    lax.write_text(
        json.dumps({"gate_config": {"stages": {"prod": {"settings": {"block_existing": False}}}}}),
        encoding="utf-8",
    )
    verdict = _run(tmp_path, "prod", baseline=prod_baseline, data=[str(lax)])
    assert verdict.decision == "pass"
    overridden = {s.name: s.value for s in verdict.settings_overridden}
    assert overridden["block_existing"] is False


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"settings": {"block_existing": False}}, False),
        ({"settings": {"block_existing": True}}, True),
        ({"settings": {"block_existing": "false"}}, True),
        ({"settings": {"block_existing": 0}}, True),
        ({"settings": {}}, True),
        ({}, True),
        (None, True),
    ],
)
def test_block_existing_is_a_boolean_or_blocks(config: Any, expected: bool) -> None:
    assert block_existing(config) is expected


def _result(rule: str, finding: dict[str, Any] | None, level: Level = "deny") -> Result:
    return Result(
        id=rule,
        msg=f"{rule} {finding}",
        severity="critical",
        level=level,
        package="gate.test",
        finding=finding,
    )


def _verdict_with(violations: list[Result], warnings: list[Result]) -> Verdict:
    document = json.loads(fixture("verdicts/shop-api-staging.json").read_text(encoding="utf-8"))
    verdict = Verdict.model_validate(document)
    return verdict.model_copy(
        update={
            "violations": violations,
            "warnings": warnings,
            "decision": "fail" if violations else "pass",
        }
    )


VULN = {"kind": "vulnerability", "id": "CVE-2024-1", "package": "libssl3", "version": "3.0.11"}


@pytest.mark.parametrize(
    "near_miss",
    [
        {**VULN, "package": "libcrypto3"},
        {**VULN, "version": "3.0.12"},
        {**VULN, "id": "CVE-2024-2"},
        None,
    ],
)
def test_a_baseline_never_removes_a_violation_without_an_equal_key(near_miss: Any) -> None:
    baseline = _verdict_with([], [_result("vuln-fixable-critical", near_miss, "warn")])
    outcome = apply_baseline(
        [_result("vuln-fixable-critical", VULN)], [], baseline, block_existing=False
    )
    assert [r.finding for r in outcome.violations] == [VULN]
    assert outcome.violations[0].baseline == "new"
    assert (outcome.new, outcome.existing) == (1, 0)


def test_another_rule_on_the_same_finding_is_new() -> None:
    baseline = _verdict_with([_result("vuln-fixable-high", VULN)], [])
    outcome = apply_baseline(
        [_result("vuln-fixable-critical", VULN)], [], baseline, block_existing=False
    )
    assert outcome.violations and outcome.violations[0].baseline == "new"


def test_what_the_baseline_only_warned_about_or_waived_is_existing() -> None:
    """It existed: the baseline's stage (or a waiver) made it a warning, the finding was there."""
    warned = _verdict_with([], [_result("vuln-fixable-critical", VULN, "warn")])
    outcome = apply_baseline([_result("vuln-fixable-critical", VULN)], [], warned, True)
    assert outcome.violations[0].baseline == "existing" and outcome.existing == 1


def test_a_baseline_with_no_results_makes_everything_new(tmp_path: Path) -> None:
    """The DSSE fixture: a signed passing staging verdict of this repository, no results."""
    verdict = _run(
        tmp_path,
        "staging",
        baseline=fixture("verdicts/shop-api-staging.dsse.json"),
        mutate=_add_new_critical,
    )
    assert verdict.decision == "fail"
    assert {r.baseline for r in verdict.violations} == {"new"}
    assert verdict.counts.existing == 0 and verdict.counts.new == len(verdict.violations)


def test_a_signed_baseline_counts_as_the_plain_one(tmp_path: Path, prod_baseline: Path) -> None:
    from gate.signing import (
        IN_TOTO_PAYLOAD_TYPE,
        VERDICT_PREDICATE_TYPE,
        in_toto_statement,
        load_signing_key,
        sign_envelope,
    )

    document = json.loads(prod_baseline.read_text(encoding="utf-8"))
    subject = document["subject"]
    statement = in_toto_statement(
        [(subject["reference"], subject["digest"])], VERDICT_PREDICATE_TYPE, document
    )
    key = load_signing_key(str(fixture("keys/release.key")))
    envelope = tmp_path / "baseline.dsse.json"
    envelope.write_text(
        json.dumps(sign_envelope(statement, IN_TOTO_PAYLOAD_TYPE, key)), encoding="utf-8"
    )
    plain = _run(tmp_path, "staging", baseline=prod_baseline, mutate=_add_new_critical)
    signed = _run(tmp_path, "staging", baseline=envelope, mutate=_add_new_critical)
    assert _ids(signed.violations) == _ids(plain.violations) == [("vuln-fixable-critical", NEW_CVE)]
    assert signed.counts == plain.counts


def _edited(path: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document)
    edited = tmp_path / "edited-baseline.json"
    edited.write_text(json.dumps(document), encoding="utf-8")
    return edited


def _other_repository(document: dict[str, Any]) -> None:
    document["subject"]["repository"] = "acme/other-app"
    document["subject"]["reference"] = "ghcr.io/acme/other-app:2.0.0"


def _no_repository(document: dict[str, Any]) -> None:
    document["subject"]["repository"] = None


def _from_the_future(document: dict[str, Any]) -> None:
    document["evaluated_at"] = "2026-11-27T12:00:01Z"


def _other_digest(document: dict[str, Any]) -> None:
    document["subject"]["digest"] = "sha256:" + "1" * 64
    document["subject"]["tag"] = "1.4.1"


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (_other_repository, "about repository 'acme/other-app', not 'acme/shop-api'"),
        (_no_repository, "names no image repository"),
        (_from_the_future, "after this evaluation's time"),
    ],
)
def test_a_baseline_that_cannot_serve_is_refused(
    tmp_path: Path, prod_baseline: Path, edit: Callable[[dict[str, Any]], None], error: str
) -> None:
    edited = _edited(prod_baseline, tmp_path, edit)
    with pytest.raises(InputError) as raised:
        _run(tmp_path, "staging", baseline=edited)
    assert error in str(raised.value)
    assert raised.value.where == str(edited)
    assert raised.value.exit_code == ExitCode.NO_VERDICT


def test_another_digest_of_the_same_repository_is_a_baseline(
    tmp_path: Path, prod_baseline: Path
) -> None:
    """The image now in production: same repository, another build."""
    edited = _edited(prod_baseline, tmp_path, _other_digest)
    verdict = _run(tmp_path, "staging", baseline=edited)
    assert verdict.decision == "pass"
    assert verdict.baseline is not None
    assert verdict.baseline.subject_digest == "sha256:" + "1" * 64


def _pass_with_violations(document: dict[str, Any]) -> None:
    document["decision"] = "pass"


def _statement_of(predicate: Path, predicate_type: str) -> bytes:
    """A bare in-toto Statement of ``predicate`` with ``predicate_type``."""
    return json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "ghcr.io/acme/shop-api", "digest": {"sha256": "1" * 64}}],
            "predicateType": predicate_type,
            "predicate": json.loads(predicate.read_text(encoding="utf-8")),
        }
    ).encode()


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (lambda: fixture(TRIVY).read_bytes(), "not a gate verdict"),
        (lambda: b"[]", "not a gate verdict"),
        (
            lambda: json.dumps(
                {
                    "payloadType": "application/vnd.in-toto+json",
                    "payload": "bm90IGpzb24=",
                    "signatures": [],
                }
            ).encode(),
            "not a gate verdict",
        ),
        (lambda: b'{"verdict_version": "1"', "invalid JSON"),
        (lambda: _statement_of(fixture("verdicts/shop-api-staging.json"), "other"), "not a gate"),
        (lambda: _statement_of(fixture(TRIVY), VERDICT_PREDICATE_TYPE), "not a gate verdict"),
    ],
)
def test_load_verdict_refuses_what_is_not_a_verdict(
    tmp_path: Path, content: Callable[[], bytes], error: str
) -> None:
    path = tmp_path / "not-a-verdict.json"
    path.write_bytes(content())
    with pytest.raises(InputError) as raised:
        load_verdict(str(path))
    assert error in str(raised.value)
    assert raised.value.where is not None and str(path) in raised.value.where


def test_load_verdict_refuses_a_pass_with_violations(tmp_path: Path, prod_baseline: Path) -> None:
    """The verdict's own invariant is checked: a tampered decision is no verdict."""
    edited = _edited(prod_baseline, tmp_path, _pass_with_violations)
    with pytest.raises(InputError, match="not a valid gate verdict"):
        load_verdict(str(edited))


def test_a_missing_baseline_fails_before_evaluating(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        _run(tmp_path, "staging", baseline=tmp_path / "absent.json")


def test_the_cli_scenario(gate_cli, tmp_path: Path, prod_baseline: Path) -> None:
    """`gate check --baseline`: exit 0 with only existing violations in staging, 1 with a
    new one, 1 in prod for the existing ones, 3 for a baseline of another repository."""

    def check(stage: str, baseline: Path, mutate: Mutation | None = None) -> Any:
        report = json.loads(fixture(TRIVY).read_text(encoding="utf-8"))
        if mutate is not None:
            mutate(report)
        trivy = tmp_path / "trivy.json"
        trivy.write_text(json.dumps(report), encoding="utf-8")
        return gate_cli(
            "check",
            trivy,
            fixture(INSPECT),
            "--stage",
            stage,
            "--at",
            AT,
            "--baseline",
            baseline,
            "-f",
            "json",
        )

    existing_only = check("staging", prod_baseline)
    assert existing_only.code == 0, existing_only.err
    assert json.loads(existing_only.out)["baseline"]["file"] == str(prod_baseline)
    with_new = check("staging", prod_baseline, _add_new_critical)
    assert with_new.code == 1
    assert json.loads(with_new.out)["counts"]["new"] == 1
    assert check("prod", prod_baseline).code == 1
    other = check("staging", _edited(prod_baseline, tmp_path, _other_repository))
    assert other.code == 3 and other.out == ""
    assert "error: " in other.err and "acme/other-app" in other.err
