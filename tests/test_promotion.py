"""Earlier verdicts and image signatures as evidence: the sources, the checks, the rules.

Files only (the registry scenarios are in tests/registry/test_promote.py): a saved verdict, a
signed one, a cosign signature; each hostile variant next to the happy one.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import fixture

from gate.signing import (
    IN_TOTO_PAYLOAD_TYPE,
    VERDICT_PREDICATE_TYPE,
    cosign_payload,
    in_toto_statement,
    load_signing_key,
    sign_cosign,
    sign_envelope,
)

CLEAN = (
    fixture("reports/grype/empty.json"),
    fixture("image/inspect.json"),
    fixture("scenarios/clean/sbom.syft.json"),
    fixture("provenance/slsa-v0.2-statement.json"),
)
SIGNATURE = fixture("signatures/shop-api.cosign.json")
STAGING_SIGNED = fixture("verdicts/shop-api-staging.dsse.json")
STAGING_PLAIN = fixture("verdicts/shop-api-staging.json")
STAGING_OTHER_KEY = fixture("verdicts/shop-api-staging.other-key.dsse.json")
RELEASE_KEY = fixture("keys/release.key")
RELEASE_PUB = fixture("keys/release.pub")
OTHER_PUB = fixture("keys/other.pub")
AT = "2024-10-14T12:00:00Z"
DIGEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
OTHER_DIGEST = "sha256:" + "e" * 64


def prod(gate_cli: Any, *extra: Any, at: str = AT) -> tuple[Any, dict[str, Any]]:
    result = gate_cli("check", *CLEAN, "--stage", "prod", "--at", at, "-f", "json", *extra)
    return result, (json.loads(result.out) if result.out else {})


def ids(verdict: dict[str, Any], level: str = "violations") -> set[str]:
    return {r["id"] for r in verdict[level]}


def document(gate_cli: Any, *inputs: Any) -> dict[str, Any]:
    result = gate_cli("normalize", *inputs)
    assert result.code == 0, result.err
    return json.loads(result.out)


def staging_verdict(**changes: Any) -> dict[str, Any]:
    verdict = json.loads(Path(STAGING_PLAIN).read_text())
    verdict.update(changes)
    return verdict


def signed(tmp_path: Path, verdict: dict[str, Any], digests: list[str], name: str) -> Path:
    statement = in_toto_statement(
        [("ghcr.io/acme/shop-api", d) for d in digests], VERDICT_PREDICATE_TYPE, verdict
    )
    envelope = sign_envelope(statement, IN_TOTO_PAYLOAD_TYPE, load_signing_key(RELEASE_KEY))
    path = tmp_path / name
    path.write_text(json.dumps(envelope))
    return path


# --- the happy path ---------------------------------------------------------------------


def test_signed_image_with_a_signed_staging_verdict_passes_prod(gate_cli: Any) -> None:
    result, verdict = prod(gate_cli, SIGNATURE, STAGING_SIGNED, "--trust-key", RELEASE_PUB)
    assert result.code == 0, result.err
    assert verdict["warnings"] == []


def test_the_document_records_what_was_checked(gate_cli: Any) -> None:
    found = document(gate_cli, *CLEAN, SIGNATURE, STAGING_SIGNED)
    assert found["promotion"]["enforced"] is False and found["promotion"]["trust_keys"] == 0
    [verdict] = found["promotion"]["verdicts"]
    assert verdict["stage"] == "staging" and verdict["decision"] == "pass"
    assert verdict["about_subject"] is True and verdict["subject_digests"] == [DIGEST]
    # no --trust-key: signed, but nothing was checked
    assert verdict["signature"] == "unverified"
    [signature] = found["signatures"]
    assert signature["state"] == "unverified" and signature["about_subject"] is True
    assert signature["signed_digest"] == DIGEST


def test_verdict_and_signature_files_claim_no_image(gate_cli: Any) -> None:
    """A verdict or signature of another image must never become the subject of the run."""
    found = document(gate_cli, STAGING_SIGNED, SIGNATURE)
    assert found["subject"]["digest"] is None
    assert [s["evidence"]["match"] for s in found["scans"]] == ["unnamed", "unnamed"]
    assert found["promotion"]["verdicts"][0]["about_subject"] is False


# --- signature-required ------------------------------------------------------------------


def test_prod_without_a_signature_fails(gate_cli: Any) -> None:
    result, verdict = prod(gate_cli, "--trust-key", RELEASE_PUB)
    assert result.code == 1
    assert ids(verdict) == {"signature-required"}


def test_a_signature_without_a_trusted_key_is_not_verified(gate_cli: Any) -> None:
    result, verdict = prod(gate_cli, SIGNATURE)
    assert result.code == 1
    assert ids(verdict) == {"signature-required"}
    assert "--trust-key" in verdict["violations"][0]["msg"] + str(
        verdict["violations"][0]["remediation"]
    )


def test_a_signature_by_another_key_fails(gate_cli: Any) -> None:
    result, verdict = prod(gate_cli, SIGNATURE, "--trust-key", OTHER_PUB)
    assert result.code == 1 and ids(verdict) == {"signature-required"}


def test_a_signature_of_another_digest_fails(gate_cli: Any, tmp_path: Path) -> None:
    payload = cosign_payload("ghcr.io/acme/shop-api", OTHER_DIGEST)
    signature = tmp_path / "other.cosign.json"
    signature.write_text(
        json.dumps(
            {
                "Base64Signature": sign_cosign(payload, load_signing_key(RELEASE_KEY)),
                "Payload": base64.b64encode(payload).decode(),
            }
        )
    )
    result, verdict = prod(gate_cli, signature, "--trust-key", RELEASE_PUB)
    assert result.code == 1 and ids(verdict) == {"signature-required"}
    found = document(gate_cli, *CLEAN, signature)
    assert found["signatures"][0]["about_subject"] is False


def test_a_tampered_signature_payload_fails(gate_cli: Any, tmp_path: Path) -> None:
    original = json.loads(Path(SIGNATURE).read_text())
    payload = base64.b64decode(original["Payload"]).replace(b'"optional":null', b'"optional":{}')
    original["Payload"] = base64.b64encode(payload).decode()
    tampered = tmp_path / "tampered.cosign.json"
    tampered.write_text(json.dumps(original))
    result, verdict = prod(gate_cli, tampered, "--trust-key", RELEASE_PUB)
    assert result.code == 1 and ids(verdict) == {"signature-required"}


# --- promotion-order ------------------------------------------------------------------------


def test_a_plain_check_without_a_staging_verdict_only_warns(gate_cli: Any) -> None:
    result, verdict = prod(gate_cli, SIGNATURE, "--trust-key", RELEASE_PUB)
    assert result.code == 0, result.err
    assert ids(verdict, "warnings") == {"promotion-order"}


@pytest.mark.parametrize(
    ("given", "why"),
    [
        (STAGING_PLAIN, "not signed"),
        (STAGING_OTHER_KEY, "untrusted"),
    ],
)
def test_a_staging_verdict_that_does_not_count_blocks(gate_cli: Any, given: str, why: str) -> None:
    result, verdict = prod(gate_cli, SIGNATURE, given, "--trust-key", RELEASE_PUB)
    assert result.code == 1
    assert ids(verdict) == {"promotion-order"}
    assert why in verdict["violations"][0]["msg"]


def test_an_unsigned_staging_verdict_counts_when_no_key_is_trusted(gate_cli: Any) -> None:
    found = document(gate_cli, *CLEAN, STAGING_PLAIN)
    assert found["promotion"]["verdicts"][0]["signature"] == "unsigned"
    result, verdict = prod(gate_cli, STAGING_PLAIN)
    assert "promotion-order" not in ids(verdict) | ids(verdict, "warnings")


def test_a_failing_staging_verdict_blocks(gate_cli: Any, tmp_path: Path) -> None:
    failing = staging_verdict(decision="fail")
    result, verdict = prod(
        gate_cli, SIGNATURE, signed(tmp_path, failing, [DIGEST], "fail.dsse.json"),
        "--trust-key", RELEASE_PUB,
    )  # fmt: skip
    assert result.code == 1 and ids(verdict) == {"promotion-order"}


def test_a_verdict_of_another_image_blocks(gate_cli: Any, tmp_path: Path) -> None:
    other = staging_verdict(subject={"digest": OTHER_DIGEST})
    path = signed(tmp_path, other, [OTHER_DIGEST], "other.dsse.json")
    result, verdict = prod(gate_cli, SIGNATURE, path, "--trust-key", RELEASE_PUB)
    assert result.code == 1 and ids(verdict) == {"promotion-order"}


def test_a_statement_that_names_the_image_around_a_verdict_of_another_does_not_count(
    gate_cli: Any, tmp_path: Path
) -> None:
    """The signed statement lists this digest, the verdict inside is about another image."""
    other = staging_verdict(subject={"digest": OTHER_DIGEST})
    path = signed(tmp_path, other, [DIGEST], "mixed.dsse.json")
    found = document(gate_cli, *CLEAN, path)
    assert found["promotion"]["verdicts"][0]["about_subject"] is False
    result, verdict = prod(gate_cli, SIGNATURE, path, "--trust-key", RELEASE_PUB)
    assert result.code == 1 and ids(verdict) == {"promotion-order"}


def test_a_staging_verdict_too_old_for_prod_blocks(gate_cli: Any) -> None:
    result, verdict = prod(
        gate_cli, SIGNATURE, STAGING_SIGNED, "--trust-key", RELEASE_PUB,
        "--data", fixture("scenarios/high-only/relaxed-ages.json"), at="2024-11-14T12:00:00Z",
    )  # fmt: skip
    assert "promotion-order" in ids(verdict)
    assert "hours" in next(r["msg"] for r in verdict["violations"] if r["id"] == "promotion-order")


def test_a_verdict_of_the_wrong_stage_does_not_count(gate_cli: Any, tmp_path: Path) -> None:
    dev = staging_verdict(stage="dev")
    path = signed(tmp_path, dev, [DIGEST], "dev.dsse.json")
    result, verdict = prod(gate_cli, SIGNATURE, path, "--trust-key", RELEASE_PUB)
    # no staging verdict was given at all: a plain check of files warns, naming what it found
    assert result.code == 0, result.err
    assert ids(verdict, "warnings") == {"promotion-order"}
    assert "dev" in verdict["warnings"][0]["msg"]


def test_a_forged_signature_on_an_edited_verdict_is_invalid(gate_cli: Any, tmp_path: Path) -> None:
    """A failing verdict edited to 'pass' keeps its old signature: the PAE no longer matches."""
    envelope = json.loads(Path(STAGING_SIGNED).read_text())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["stage"] = "staging"
    statement["predicate"]["evaluated_at"] = "2024-10-14T11:00:00Z"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    edited = tmp_path / "edited.dsse.json"
    edited.write_text(json.dumps(envelope))
    found = document(gate_cli, *CLEAN, edited, "--trust-key", RELEASE_PUB)
    assert found["promotion"]["verdicts"][0]["signature"] == "invalid"
    result, verdict = prod(gate_cli, SIGNATURE, edited, "--trust-key", RELEASE_PUB)
    assert result.code == 1 and ids(verdict) == {"promotion-order"}


# --- verify-verdict ----------------------------------------------------------------------


def test_verify_verdict(gate_cli: Any) -> None:
    good = gate_cli(
        "verify-verdict", STAGING_SIGNED, "--trust-key", RELEASE_PUB, "--digest", DIGEST
    )
    assert good.code == 0, good.err
    assert "OK" in good.out and "stage staging, decision pass" in good.out
    other = gate_cli("verify-verdict", STAGING_SIGNED, "--trust-key", OTHER_PUB)
    assert other.code == 1 and "NOT VERIFIED" in other.out
    plain = gate_cli("verify-verdict", STAGING_PLAIN, "--trust-key", RELEASE_PUB)
    assert plain.code == 1
    elsewhere = gate_cli(
        "verify-verdict", STAGING_SIGNED, "--trust-key", RELEASE_PUB, "--digest", OTHER_DIGEST
    )
    assert elsewhere.code == 1
    not_a_verdict = gate_cli("verify-verdict", SIGNATURE, "--trust-key", RELEASE_PUB)
    assert not_a_verdict.code == 3 and not_a_verdict.err.startswith("error: ")
    no_key = gate_cli("verify-verdict", STAGING_SIGNED)
    assert no_key.code == 2


def test_forced_type_of_a_verdict_is_refused_on_other_files(gate_cli: Any) -> None:
    result = gate_cli("check", fixture("image/inspect.json"), "--type", "gate-verdict")
    assert result.code == 3 and "does not look like gate-verdict" in result.err


@pytest.mark.parametrize("option", ["--sign-key", "--trust-key"])
def test_output_never_replaces_a_key_file(gate_cli: Any, tmp_path: Path, option: str) -> None:
    original = Path(RELEASE_KEY if option == "--sign-key" else RELEASE_PUB).read_bytes()
    key = tmp_path / "key.pem"
    key.write_bytes(original)
    result = gate_cli("check", *CLEAN, option, key, "-o", key, "-f", "json")
    assert result.code == 2, result.err
    assert "input" in result.err
    assert key.read_bytes() == original
