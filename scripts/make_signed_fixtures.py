"""Regenerate the signed fixtures: a cosign signature and staging verdicts of the example image.

    python scripts/make_signed_fixtures.py

The keys in fixtures/keys are test keys, committed on purpose so that the examples and tests
are reproducible; never trust them for anything. Ed25519 signatures are deterministic, so a
run with unchanged policies rewrites the same bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

from gate.run import Settings, evaluate
from gate.signing import (
    IN_TOTO_PAYLOAD_TYPE,
    VERDICT_PREDICATE_TYPE,
    cosign_payload,
    in_toto_statement,
    load_signing_key,
    sign_cosign,
    sign_envelope,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
KEYS = FIXTURES / "keys"
IMAGE = "ghcr.io/acme/shop-api"
CLEAN_INPUTS = [
    "fixtures/reports/grype/empty.json",
    "fixtures/image/inspect.json",
    "fixtures/scenarios/clean/sbom.syft.json",
    "fixtures/provenance/slsa-v0.2-statement.json",
]
STAGING_AT = dt.datetime(2024, 10, 14, 10, 0, tzinfo=dt.UTC)


def ensure_key(name: str) -> None:
    """Create ``name.key``/``name.pub`` (Ed25519, PKCS#8 / SubjectPublicKeyInfo) when absent."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private, public = KEYS / f"{name}.key", KEYS / f"{name}.pub"
    if private.exists():
        return
    key = Ed25519PrivateKey.generate()
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main() -> None:
    KEYS.mkdir(exist_ok=True)
    ensure_key("release")
    ensure_key("other")
    release = load_signing_key(str(KEYS / "release.key"))
    other = load_signing_key(str(KEYS / "other.key"))

    staging = evaluate(
        Settings(inputs=CLEAN_INPUTS, stage="staging", at=STAGING_AT, policies=[], data=[])
    )
    assert staging.decision == "pass", "the clean example must pass staging"
    digest = staging.subject.digest
    assert digest is not None
    verdict = json.loads(staging.to_json())
    write_json(FIXTURES / "verdicts" / "shop-api-staging.json", verdict)
    statement = in_toto_statement([(IMAGE, digest)], VERDICT_PREDICATE_TYPE, verdict)
    for key, name in (
        (release, "shop-api-staging.dsse.json"),
        (other, "shop-api-staging.other-key.dsse.json"),
    ):
        write_json(
            FIXTURES / "verdicts" / name, sign_envelope(statement, IN_TOTO_PAYLOAD_TYPE, key)
        )

    payload = cosign_payload(IMAGE, digest)
    for key, name in ((release, "shop-api.cosign.json"), (other, "shop-api.other-key.cosign.json")):
        write_json(
            FIXTURES / "signatures" / name,
            {
                "Base64Signature": sign_cosign(payload, key),
                "Payload": base64.b64encode(payload).decode("ascii"),
                "Cert": None,
                "Chain": None,
                "Bundle": None,
                "RFC3161Timestamp": None,
            },
        )


if __name__ == "__main__":
    main()
