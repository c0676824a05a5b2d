"""gate.signing: keys, DSSE envelopes of in-toto statements, cosign image signatures.

Keys are generated here (cryptography, and the openssl CLI when present, to prove the file
formats interoperate); the one foreign signature is a published cosign test vector.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import fixture
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from services import unavailable

from gate.errors import ExitCode, GateError, InputError, UsageError
from gate.signing import (
    COSIGN_PAYLOAD_MEDIA_TYPE,
    ECDSA_P256,
    ED25519,
    IN_TOTO_PAYLOAD_TYPE,
    MAX_SIGNATURES,
    RSA_PKCS1,
    STATEMENT_TYPE,
    VERDICT_PREDICATE_TYPE,
    SigningKey,
    TrustedKey,
    check_cosign_signature,
    check_envelope,
    cosign_payload,
    in_toto_statement,
    is_envelope,
    load_signing_key,
    load_trusted_key,
    load_trusted_keys,
    pae,
    sign_cosign,
    sign_envelope,
)

DIGEST = "sha256:" + "ab" * 32
OTHER_DIGEST = "sha256:" + "cd" * 32
REFERENCE = "registry.test/acme/shop-api"
OPENSSL = shutil.which("openssl")


@pytest.fixture
def openssl_cli() -> None:
    if OPENSSL is None:
        unavailable("the openssl CLI", "apt-get install openssl")


PKCS8 = serialization.PrivateFormat.PKCS8
PEM = serialization.Encoding.PEM
NO_ENCRYPTION = serialization.NoEncryption()


@dataclass(frozen=True)
class KeyFiles:
    private: Path
    public: Path
    key: SigningKey
    trusted: TrustedKey


def write_private(
    path: Path, private_key: Any, fmt: Any = PKCS8, encryption: Any = NO_ENCRYPTION
) -> Path:
    path.write_bytes(private_key.private_bytes(PEM, fmt, encryption))
    return path


def write_public(path: Path, public_key: Any) -> Path:
    path.write_bytes(public_key.public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


GENERATORS: dict[str, Callable[[], Any]] = {
    ECDSA_P256: lambda: ec.generate_private_key(ec.SECP256R1()),
    ED25519: ed25519.Ed25519PrivateKey.generate,
}


def make_keys(directory: Path, name: str, algorithm: str) -> KeyFiles:
    private_key = GENERATORS[algorithm]()
    private = write_private(directory / f"{name}.key", private_key)
    public = write_public(directory / f"{name}.pub", private_key.public_key())
    return KeyFiles(private, public, load_signing_key(str(private)), load_trusted_key(str(public)))


@pytest.fixture(params=[ECDSA_P256, ED25519])
def algorithm(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def ci(tmp_path: Path, algorithm: str) -> KeyFiles:
    return make_keys(tmp_path, "ci", algorithm)


@pytest.fixture
def intruder(tmp_path: Path, algorithm: str) -> KeyFiles:
    return make_keys(tmp_path, "intruder", algorithm)


def statement(digest: str = DIGEST, decision: str = "pass") -> bytes:
    return in_toto_statement(
        [(REFERENCE, digest)], VERDICT_PREDICATE_TYPE, {"stage": "staging", "decision": decision}
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ---------------------------------------------------------------------------------------------
# Keys


def test_key_id_is_the_sha256_of_the_public_key_der(ci: KeyFiles) -> None:
    der = ci.trusted.public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert ci.key.key_id == ci.trusted.key_id == "sha256:" + hashlib.sha256(der).hexdigest()
    assert ci.key.algorithm == ci.trusted.algorithm
    assert ci.trusted.path == str(ci.public)


def test_signing_key_repr_shows_no_key_material(ci: KeyFiles) -> None:
    body = "".join(ci.private.read_text().splitlines()[1:-1])
    shown = repr(ci.key) + str(ci.key)
    assert ci.key.key_id in shown
    assert not any(body[i : i + 12] in shown for i in range(0, len(body) - 12))


def test_public_pem_of_a_signing_key_is_its_trusted_key(ci: KeyFiles, tmp_path: Path) -> None:
    (tmp_path / "derived.pub").write_bytes(ci.key.public_pem())
    assert load_trusted_key(str(tmp_path / "derived.pub")).key_id == ci.key.key_id


def test_sec1_ec_private_key_loads(tmp_path: Path) -> None:
    private_key = ec.generate_private_key(ec.SECP256R1())
    path = write_private(
        tmp_path / "sec1.key", private_key, serialization.PrivateFormat.TraditionalOpenSSL
    )
    assert path.read_text().startswith("-----BEGIN EC PRIVATE KEY-----")
    assert load_signing_key(str(path)).algorithm == ECDSA_P256


def test_encrypted_pkcs8_key_uses_the_password_from_the_environment(tmp_path: Path) -> None:
    private_key = ed25519.Ed25519PrivateKey.generate()
    encryption = serialization.BestAvailableEncryption(b"s3cret-pass")
    path = str(write_private(tmp_path / "enc.key", private_key, encryption=encryption))
    key = load_signing_key(path, env={"GATE_SIGNING_KEY_PASSWORD": "s3cret-pass"})
    assert key.algorithm == ED25519

    with pytest.raises(UsageError) as missing:
        load_signing_key(path, env={})
    assert "GATE_SIGNING_KEY_PASSWORD" in missing.value.message
    with pytest.raises(UsageError) as wrong:
        load_signing_key(path, env={"GATE_SIGNING_KEY_PASSWORD": "guess"})
    assert "cannot decrypt" in wrong.value.message
    assert "guess" not in str(wrong.value) + str(wrong.value.hint)


def _cosign_key_pem() -> bytes:
    # The shape cosign generate-key-pair writes: scrypt/secretbox JSON, base64 in a PEM block.
    body = json.dumps(
        {
            "kdf": {
                "name": "scrypt",
                "params": {"N": 32768, "r": 8, "p": 1},
                "salt": b64(b"s" * 32),
            },
            "cipher": {"name": "nacl/secretbox", "nonce": b64(b"n" * 24)},
            "ciphertext": b64(b"c" * 150),
        }
    ).encode()
    lines = [b64(body)[i : i + 64] for i in range(0, len(b64(body)), 64)]
    return (
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
        + "\n".join(lines)
        + "\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
    ).encode()


def _corrupt(pem: bytes) -> bytes:
    lines = pem.splitlines()
    middle = bytearray(lines[1])
    middle[5:9] = b"!!!!"
    return b"\n".join([lines[0], bytes(middle), *lines[2:]]) + b"\n"


def _pkcs8(private_key: Any) -> bytes:
    return private_key.private_bytes(PEM, PKCS8, NO_ENCRYPTION)


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
P384_KEY = ec.generate_private_key(ec.SECP384R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()

BAD_SIGNING_KEYS: dict[str, tuple[bytes, str]] = {
    "rsa-pkcs8": (_pkcs8(RSA_KEY), "RSA"),
    "rsa-traditional": (
        RSA_KEY.private_bytes(PEM, serialization.PrivateFormat.TraditionalOpenSSL, NO_ENCRYPTION),
        "RSA PRIVATE KEY",
    ),
    "p384": (_pkcs8(P384_KEY), "secp384r1"),
    "cosign-format": (_cosign_key_pem(), "cosign"),
    "garbage": (b"\x00\x01 not a key at all \xff" * 20, "not a PEM private key"),
    "corrupted-pem": (_corrupt(_pkcs8(ED_KEY)), "cannot read the private key"),
    "public-key": (
        ED_KEY.public_key().public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "public key",
    ),
    "two-keys": (_pkcs8(ED_KEY) + _pkcs8(ec.generate_private_key(ec.SECP256R1())), "2 PEM blocks"),
    "huge": (_pkcs8(ED_KEY) + b"#" * 70_000, "64 KiB"),
}


@pytest.mark.parametrize("case", sorted(BAD_SIGNING_KEYS))
def test_unusable_signing_keys_are_usage_errors_without_key_material(
    tmp_path: Path, case: str
) -> None:
    content, expected = BAD_SIGNING_KEYS[case]
    path = tmp_path / "key.pem"
    path.write_bytes(content)
    with pytest.raises(UsageError) as caught:
        load_signing_key(str(path), env={"GATE_SIGNING_KEY_PASSWORD": "pw"})
    error = caught.value
    assert error.exit_code == ExitCode.USAGE
    assert error.where == str(path)
    shown = f"{error}\n{error.hint or ''}"
    assert expected in shown
    _assert_no_key_material(content, shown)
    # nothing of the library's failure is chained to show up in a --debug traceback
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def _assert_no_key_material(content: bytes, shown: str) -> None:
    for line in content.splitlines():
        if line.startswith(b"-----") or len(line) < 16:
            continue
        text = line.decode("latin-1")
        assert not any(text[i : i + 16] in shown for i in range(len(text) - 15)), shown


@pytest.mark.parametrize("debug", [[], ["--debug"]])
@pytest.mark.parametrize(
    ("option", "case"),
    [("--sign-key", "corrupted-pem"), ("--sign-key", "rsa-pkcs8"), ("--trust-key", "p384")],
)
def test_cli_refuses_a_bad_key_with_exit_2_and_no_key_material(
    gate_cli: Any, tmp_path: Path, option: str, case: str, debug: list[str]
) -> None:
    content = (BAD_SIGNING_KEYS if option == "--sign-key" else BAD_TRUSTED_KEYS)[case][0]
    path = tmp_path / "key.pem"
    path.write_bytes(content)
    result = gate_cli("check", fixture("image/inspect.json"), option, path, *debug)
    assert result.code == ExitCode.USAGE
    # with --debug a traceback comes first: the library's exception is not chained into it
    assert f"\nerror: {path}: " in "\n" + result.err
    assert "cryptography" not in result.err
    _assert_no_key_material(content, result.out + result.err)


def test_cosign_key_hint_says_what_to_use_instead(tmp_path: Path) -> None:
    path = tmp_path / "cosign.key"
    path.write_bytes(_cosign_key_pem())
    with pytest.raises(UsageError) as caught:
        load_signing_key(str(path))
    assert "openssl genpkey" in (caught.value.hint or "")


@pytest.mark.parametrize("loader", [load_signing_key, load_trusted_key])
def test_a_missing_or_directory_key_file_is_a_usage_error(
    tmp_path: Path, loader: Callable[[str], object]
) -> None:
    with pytest.raises(UsageError, match="no such key file") as missing:
        loader(str(tmp_path / "absent.pem"))
    assert missing.value.exit_code == ExitCode.USAGE
    with pytest.raises(UsageError, match="directory"):
        loader(str(tmp_path))


BAD_TRUSTED_KEYS: dict[str, tuple[bytes, str]] = {
    "private-key": (_pkcs8(ED_KEY), "private key"),
    "p384": (
        P384_KEY.public_key().public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "secp384r1",
    ),
    "rsa-1024": (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)
        .public_key()
        .public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "RSA 1024-bit",
    ),
    "garbage": (b"just text", "not a PEM public key"),
    "corrupted": (
        _corrupt(
            ED_KEY.public_key().public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        ),
        "cannot read the public key",
    ),
    "certificate": (
        b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "certificate",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_TRUSTED_KEYS))
def test_unusable_trusted_keys_are_usage_errors(tmp_path: Path, case: str) -> None:
    content, expected = BAD_TRUSTED_KEYS[case]
    path = tmp_path / "trust.pem"
    path.write_bytes(content)
    with pytest.raises(UsageError) as caught:
        load_trusted_key(str(path))
    shown = f"{caught.value}\n{caught.value.hint or ''}"
    assert expected in shown
    assert caught.value.where == str(path)
    _assert_no_key_material(content, shown)


def test_the_same_trusted_key_twice_counts_once(tmp_path: Path) -> None:
    first = make_keys(tmp_path, "a", ED25519)
    second = make_keys(tmp_path, "b", ECDSA_P256)
    copy = tmp_path / "a-copy.pub"
    copy.write_bytes(first.public.read_bytes())
    keys = load_trusted_keys([str(first.public), str(second.public), str(copy)])
    assert [key.key_id for key in keys] == [first.key.key_id, second.key.key_id]
    assert keys[0].path == str(first.public)


# ---------------------------------------------------------------------------------------------
# DSSE envelopes


def test_pae_matches_the_dsse_specification_example() -> None:
    # secure-systems-lab/dsse protocol.md
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    # lengths count UTF-8 bytes, not characters
    assert pae("t\u00e9", b"\xc3\xa9") == b"DSSEv1 3 t\xc3\xa9 2 \xc3\xa9"


def test_in_toto_statement_shape_and_stable_bytes() -> None:
    payload = statement()
    assert payload == statement()
    assert json.loads(payload) == {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": REFERENCE, "digest": {"sha256": "ab" * 32}}],
        "predicateType": VERDICT_PREDICATE_TYPE,
        "predicate": {"stage": "staging", "decision": "pass"},
    }
    assert b" " not in payload and payload.index(b'"_type"') < payload.index(b'"predicate"')


@pytest.mark.parametrize(
    "digest", ["sha256:" + "AB" * 32, "sha256:abc", "sha512:" + "a" * 128, "ab" * 32, ""]
)
def test_in_toto_statement_refuses_a_subject_without_a_sha256_digest(digest: str) -> None:
    with pytest.raises(InputError):
        in_toto_statement([(REFERENCE, digest)], VERDICT_PREDICATE_TYPE, {})


def test_in_toto_statement_needs_a_subject() -> None:
    with pytest.raises(InputError):
        in_toto_statement([], VERDICT_PREDICATE_TYPE, {})


def test_signed_envelope_verifies_with_the_trusted_key(ci: KeyFiles, intruder: KeyFiles) -> None:
    payload = statement()
    envelope = sign_envelope(payload, IN_TOTO_PAYLOAD_TYPE, ci.key)
    assert is_envelope(envelope)
    assert envelope["signatures"][0]["keyid"] == ci.key.key_id
    check = check_envelope(envelope, [intruder.trusted, ci.trusted])
    assert check.state == "verified"
    assert check.key_id == ci.key.key_id
    assert (check.payload, check.payload_type) == (payload, IN_TOTO_PAYLOAD_TYPE)
    assert str(ci.public) in check.reason


def test_envelope_survives_a_json_round_trip(ci: KeyFiles) -> None:
    envelope = sign_envelope(statement(), IN_TOTO_PAYLOAD_TYPE, ci.key)
    assert check_envelope(json.loads(json.dumps(envelope)), [ci.trusted]).state == "verified"


def test_url_safe_unpadded_base64_is_accepted(ci: KeyFiles) -> None:
    envelope = sign_envelope(statement() + b"\xff\xfe", "application/x-bytes", ci.key)

    def url_safe(text: str) -> str:
        return base64.urlsafe_b64encode(base64.b64decode(text)).decode().rstrip("=")

    envelope["payload"] = url_safe(envelope["payload"])
    envelope["signatures"][0]["sig"] = url_safe(envelope["signatures"][0]["sig"])
    assert check_envelope(envelope, [ci.trusted]).state == "verified"


def test_tampered_payload_is_invalid(ci: KeyFiles) -> None:
    envelope = sign_envelope(statement(), IN_TOTO_PAYLOAD_TYPE, ci.key)
    envelope["payload"] = b64(statement(decision="fail"))
    check = check_envelope(envelope, [ci.trusted])
    assert check.state == "invalid"
    assert "does not verify" in check.reason


def test_tampered_payload_type_is_invalid(ci: KeyFiles) -> None:
    envelope = sign_envelope(statement(), IN_TOTO_PAYLOAD_TYPE, ci.key)
    envelope["payloadType"] = "application/json"
    assert check_envelope(envelope, [ci.trusted]).state == "invalid"


def test_signature_by_another_key_is_untrusted(ci: KeyFiles, intruder: KeyFiles) -> None:
    envelope = sign_envelope(statement(), IN_TOTO_PAYLOAD_TYPE, intruder.key)
    check = check_envelope(envelope, [ci.trusted])
    assert check.state == "untrusted"
    assert check.key_id == intruder.key.key_id
    assert "not a trusted key" in check.reason
    assert check.payload == statement()  # shown by callers, never counted


def test_keyid_that_lies_about_a_trusted_key_is_invalid(ci: KeyFiles, intruder: KeyFiles) -> None:
    envelope = sign_envelope(statement(), IN_TOTO_PAYLOAD_TYPE, intruder.key)
    envelope["signatures"][0]["keyid"] = ci.key.key_id
    check = check_envelope(envelope, [ci.trusted])
    assert check.state == "invalid"
    assert check.key_id == ci.key.key_id
    assert "claims trusted key" in check.reason


@pytest.mark.parametrize("keyid", [None, "", "SHA256:cosign-style-foreign-id"])
def test_signature_by_a_trusted_key_verifies_whatever_its_keyid(
    ci: KeyFiles, keyid: str | None
) -> None:
    envelope = sign_envelope(statement(), IN_TOTO_PAYLOAD_TYPE, ci.key)
    if keyid is None:
        del envelope["signatures"][0]["keyid"]
    else:
        envelope["signatures"][0]["keyid"] = keyid
    assert check_envelope(envelope, [ci.trusted]).state == "verified"


def test_keyless_signature_by_another_key_is_invalid(ci: KeyFiles, intruder: KeyFiles) -> None:
    envelope = sign_envelope(statement(), IN_TOTO_PAYLOAD_TYPE, intruder.key)
    del envelope["signatures"][0]["keyid"]
    check = check_envelope(envelope, [ci.trusted])
    assert check.state == "invalid"
    assert str(ci.public) in check.reason


def test_one_trusted_signature_among_others_verifies(ci: KeyFiles, intruder: KeyFiles) -> None:
    envelope = sign_envelope(statement(), IN_TOTO_PAYLOAD_TYPE, intruder.key)
    envelope["signatures"] += sign_envelope(statement(), IN_TOTO_PAYLOAD_TYPE, ci.key)["signatures"]
    check = check_envelope(envelope, [ci.trusted])
    assert (check.state, check.key_id) == ("verified", ci.key.key_id)


def test_without_trusted_keys_nothing_is_verified(ci: KeyFiles) -> None:
    envelope = sign_envelope(statement(), IN_TOTO_PAYLOAD_TYPE, ci.key)
    check = check_envelope(envelope, [])
    assert (check.state, check.key_id) == ("unverified", ci.key.key_id)
    assert "no trusted key" in check.reason


@pytest.mark.parametrize("trusted", [False, True])
def test_envelope_without_signatures_is_unsigned(ci: KeyFiles, trusted: bool) -> None:
    envelope = {"payloadType": IN_TOTO_PAYLOAD_TYPE, "payload": b64(statement()), "signatures": []}
    check = check_envelope(envelope, [ci.trusted] if trusted else [])
    assert (check.state, check.key_id, check.payload) == ("unsigned", None, statement())


def _valid_envelope() -> dict[str, Any]:
    return {
        "payloadType": IN_TOTO_PAYLOAD_TYPE,
        "payload": b64(statement()),
        "signatures": [{"keyid": "k", "sig": b64(b"\x30" * 70)}],
    }


def _with(**changes: Any) -> dict[str, Any]:
    envelope = _valid_envelope()
    for key, value in changes.items():
        if value is KeyError:
            del envelope[key]
        else:
            envelope[key] = value
    return envelope


def _with_signature(**changes: Any) -> dict[str, Any]:
    signature = {"keyid": "k", "sig": b64(b"\x30" * 70), **changes}
    return _with(signatures=[{k: v for k, v in signature.items() if v is not KeyError}])


MALFORMED_ENVELOPES: dict[str, Any] = {
    "list": [_valid_envelope()],
    "string": "envelope",
    "null": None,
    "payload-type-missing": _with(payloadType=KeyError),
    "payload-type-number": _with(payloadType=7),
    "payload-type-empty": _with(payloadType=""),
    "payload-type-control-characters": _with(payloadType="application/json\x1b[2J"),
    "payload-type-huge": _with(payloadType="a" * 10_000),
    "payload-missing": _with(payload=KeyError),
    "payload-not-base64": _with(payload="not base64!"),
    "payload-bad-padding": _with(payload="QUJD" + "A"),
    "payload-number": _with(payload=12),
    "signatures-missing": _with(signatures=KeyError),
    "signatures-object": _with(signatures={"sig": "AAAA"}),
    "signature-not-object": _with(signatures=["AAAA"]),
    "sig-missing": _with_signature(sig=KeyError),
    "sig-empty": _with_signature(sig=""),
    "sig-not-base64": _with_signature(sig="%%%"),
    "sig-number": _with_signature(sig=1234),
    "sig-huge": _with_signature(sig="A" * 100_000),
    "keyid-number": _with_signature(keyid=5),
    "keyid-newline": _with_signature(keyid="sha256:ab\nerror: forged line"),
    "keyid-huge": _with_signature(keyid="k" * 1000),
    "too-many-signatures": _with(signatures=[{"keyid": "k", "sig": "AAAA"}] * (MAX_SIGNATURES + 1)),
    "huge-signature-list": _with(signatures=[{"sig": "AAAA"}] * 100_000),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_ENVELOPES))
def test_malformed_envelopes_are_invalid_without_raising(ci: KeyFiles, case: str) -> None:
    check = check_envelope(MALFORMED_ENVELOPES[case], [ci.trusted])
    assert check.state == "invalid"
    assert check.payload is None and check.payload_type is None
    assert check.reason.startswith("malformed envelope")
    assert "\n" not in check.reason and "\x1b" not in check.reason


def test_sixteen_signatures_are_still_checked(ci: KeyFiles, intruder: KeyFiles) -> None:
    envelope = sign_envelope(statement(), IN_TOTO_PAYLOAD_TYPE, ci.key)
    others = sign_envelope(statement(), IN_TOTO_PAYLOAD_TYPE, intruder.key)["signatures"]
    envelope["signatures"] = others * (MAX_SIGNATURES - 1) + envelope["signatures"]
    assert check_envelope(envelope, [ci.trusted]).state == "verified"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
envelope_like = st.fixed_dictionaries(
    {},
    optional={
        "payloadType": json_values | st.just(IN_TOTO_PAYLOAD_TYPE),
        "payload": json_values | st.just(b64(statement())),
        "signatures": json_values
        | st.lists(
            st.fixed_dictionaries({}, optional={"keyid": json_values, "sig": json_values}),
            max_size=20,
        ),
    },
)


@settings(max_examples=200, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(json_values | envelope_like)
def test_check_envelope_never_raises_nor_verifies_junk(value: Any) -> None:
    check = check_envelope(value, [TRUSTED_FOR_FUZZING])
    assert check.state in ("invalid", "unsigned", "untrusted")


TRUSTED_FOR_FUZZING = TrustedKey(
    key_id="sha256:" + "0" * 64,
    algorithm=ED25519,
    path="fuzz.pub",
    public_key=ed25519.Ed25519PrivateKey.generate().public_key(),
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"payloadType": "t", "payload": "", "signatures": []}, True),
        ({"payloadType": 1, "payload": None, "signatures": "x"}, True),  # judged, then invalid
        ({"payload": "", "signatures": []}, False),
        ({"_type": STATEMENT_TYPE}, False),
        ([], False),
        ("payloadType", False),
    ],
)
def test_is_envelope(value: Any, expected: bool) -> None:
    assert is_envelope(value) is expected


# ---------------------------------------------------------------------------------------------
# cosign image signatures


def test_cosign_payload_is_byte_for_byte_what_cosign_signs() -> None:
    assert cosign_payload(REFERENCE, DIGEST) == (
        b'{"critical":{"identity":{"docker-reference":"registry.test/acme/shop-api"},'
        b'"image":{"docker-manifest-digest":"' + DIGEST.encode() + b'"},'
        b'"type":"cosign container image signature"},"optional":null}'
    )
    assert COSIGN_PAYLOAD_MEDIA_TYPE == "application/vnd.dev.cosign.simplesigning.v1+json"


def test_cosign_payload_refuses_a_bad_digest() -> None:
    with pytest.raises(GateError):
        cosign_payload(REFERENCE, "sha256:short")


def test_cosign_signature_round_trip(ci: KeyFiles, intruder: KeyFiles) -> None:
    payload = cosign_payload(REFERENCE, DIGEST)
    check = check_cosign_signature(
        payload, sign_cosign(payload, ci.key), [intruder.trusted, ci.trusted]
    )
    assert (check.state, check.key_id) == ("verified", ci.key.key_id)
    assert (check.signed_digest, check.docker_reference) == (DIGEST, REFERENCE)


def test_cosign_signature_of_a_tampered_payload_is_invalid(ci: KeyFiles) -> None:
    signature = sign_cosign(cosign_payload(REFERENCE, DIGEST), ci.key)
    check = check_cosign_signature(cosign_payload(REFERENCE, OTHER_DIGEST), signature, [ci.trusted])
    assert check.state == "invalid"
    assert check.key_id is None
    assert check.signed_digest == OTHER_DIGEST  # what it claims, for the message; never trusted


def test_cosign_signature_by_another_key_is_not_verified(ci: KeyFiles, intruder: KeyFiles) -> None:
    payload = cosign_payload(REFERENCE, DIGEST)
    check = check_cosign_signature(payload, sign_cosign(payload, intruder.key), [ci.trusted])
    assert check.state == "invalid"
    assert str(ci.public) in check.reason


def test_cosign_signature_without_trusted_keys_is_unverified(ci: KeyFiles) -> None:
    payload = cosign_payload(REFERENCE, DIGEST)
    check = check_cosign_signature(payload, sign_cosign(payload, ci.key), [])
    assert (check.state, check.key_id, check.signed_digest) == ("unverified", None, DIGEST)


def test_cosign_layer_without_signature_is_unsigned(ci: KeyFiles) -> None:
    check = check_cosign_signature(cosign_payload(REFERENCE, DIGEST), "", [ci.trusted])
    assert check.state == "unsigned"


def test_cosign_signature_that_is_not_base64_is_invalid(ci: KeyFiles) -> None:
    check = check_cosign_signature(cosign_payload(REFERENCE, DIGEST), "@@@", [ci.trusted])
    assert check.state == "invalid"


def _payload(critical: Any, **extra: Any) -> bytes:
    return json.dumps({"critical": critical, "optional": None, **extra}).encode()


GOOD_CRITICAL = {
    "identity": {"docker-reference": REFERENCE},
    "image": {"docker-manifest-digest": DIGEST},
    "type": "cosign container image signature",
}

MALFORMED_COSIGN_PAYLOADS: dict[str, bytes] = {
    "wrong-type": _payload({**GOOD_CRITICAL, "type": "https://in-toto.io/Statement/v1"}),
    "no-type": _payload({k: v for k, v in GOOD_CRITICAL.items() if k != "type"}),
    "no-critical": json.dumps({"optional": None}).encode(),
    "critical-list": _payload([GOOD_CRITICAL]),
    "digest-not-sha256": _payload(
        {**GOOD_CRITICAL, "image": {"docker-manifest-digest": "md5:abc"}}
    ),
    "digest-uppercase": _payload(
        {**GOOD_CRITICAL, "image": {"docker-manifest-digest": DIGEST.upper()}}
    ),
    "no-identity": _payload({k: v for k, v in GOOD_CRITICAL.items() if k != "identity"}),
    "duplicate-digest-key": (
        b'{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"'
        + DIGEST.encode()
        + b'","docker-manifest-digest":"'
        + OTHER_DIGEST.encode()
        + b'"},"type":"cosign container image signature"},"optional":null}'
    ),
    "not-json": b"\xff\xfe not json",
    "json-array": b"[]",
    "deeply-nested": b"[" * 100_000 + b"]" * 100_000,
    "huge": _payload(GOOD_CRITICAL, padding="x" * 2_000_000),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_COSIGN_PAYLOADS))
def test_malformed_cosign_payload_is_invalid_even_when_signed(ci: KeyFiles, case: str) -> None:
    payload = MALFORMED_COSIGN_PAYLOADS[case]
    check = check_cosign_signature(payload, sign_cosign(payload, ci.key), [ci.trusted])
    assert (check.state, check.key_id, check.signed_digest) == ("invalid", None, None)


# Public test data of sigstore/sigstore-rs (Apache-2.0), src/cosign/signature_layers.rs,
# build_correct_signature_layer_without_bundle(): a key-based cosign signature made by cosign.
SIGSTORE_RS_PUBLIC_KEY = b"""-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENptdY/l3nB0yqkXLBWkZWQwo6+cu
OSWS1X9vPavpiQOoTTGC0xX57OojUadxF1cdQmrsiReWg2Wn4FneJfa8xw==
-----END PUBLIC KEY-----
"""
SIGSTORE_RS_DIGEST = "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"
SIGSTORE_RS_SIGNATURE = (
    "MEUCIQD6q/COgzOyW0YH1Dk+CCYSt4uAhm3FDHUwvPI55zwnlwIg"
    "E0ZK58ZOWpZw8YVmBapJhBqCfdPekIknimuO0xH8Jh8="
)


def test_a_signature_made_by_cosign_verifies(tmp_path: Path) -> None:
    path = tmp_path / "cosign.pub"
    path.write_bytes(SIGSTORE_RS_PUBLIC_KEY)
    trusted = load_trusted_key(str(path))
    assert trusted.algorithm == ECDSA_P256
    payload = cosign_payload("registry-testing.svc.lan/busybox", SIGSTORE_RS_DIGEST)
    check = check_cosign_signature(payload, SIGSTORE_RS_SIGNATURE, [trusted])
    assert (check.state, check.key_id, check.signed_digest) == (
        "verified",
        trusted.key_id,
        SIGSTORE_RS_DIGEST,
    )
    tampered = cosign_payload("registry-testing.svc.lan/busybox", DIGEST)
    assert check_cosign_signature(tampered, SIGSTORE_RS_SIGNATURE, [trusted]).state == "invalid"


def test_rsa_public_keys_verify_pkcs1_sha256_cosign_signatures(tmp_path: Path) -> None:
    public = write_public(tmp_path / "rsa.pub", RSA_KEY.public_key())
    trusted = load_trusted_key(str(public))
    assert trusted.algorithm == RSA_PKCS1
    payload = cosign_payload(REFERENCE, DIGEST)
    signature = b64(RSA_KEY.sign(payload, padding.PKCS1v15(), hashes.SHA256()))
    assert check_cosign_signature(payload, signature, [trusted]).state == "verified"
    pss = b64(
        RSA_KEY.sign(
            payload,
            padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.MAX_LENGTH),
            hashes.SHA256(),
        )
    )
    assert check_cosign_signature(payload, pss, [trusted]).state == "invalid"


# ---------------------------------------------------------------------------------------------
# openssl interoperability: its key files load, and each side verifies the other's signatures


def openssl(*args: str, cwd: Path) -> None:
    assert OPENSSL is not None
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


GENPKEY = {
    ED25519: ["-algorithm", "ed25519"],
    ECDSA_P256: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
}


@pytest.mark.usefixtures("openssl_cli")
def test_openssl_keys_interoperate(tmp_path: Path, algorithm: str) -> None:
    openssl("genpkey", *GENPKEY[algorithm], "-out", "k.pem", cwd=tmp_path)
    openssl("pkey", "-in", "k.pem", "-pubout", "-out", "k.pub", cwd=tmp_path)
    openssl("pkey", "-in", "k.pem", "-pubout", "-outform", "DER", "-out", "k.der", cwd=tmp_path)
    key = load_signing_key(str(tmp_path / "k.pem"))
    trusted = load_trusted_key(str(tmp_path / "k.pub"))
    assert (
        key.key_id
        == trusted.key_id
        == "sha256:" + hashlib.sha256((tmp_path / "k.der").read_bytes()).hexdigest()
    )

    data = cosign_payload(REFERENCE, DIGEST)
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "ours.sig").write_bytes(key.sign(data))
    if algorithm == ED25519:
        openssl(
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "k.pub",
            "-rawin",
            "-in",
            "data",
            "-sigfile",
            "ours.sig",
            cwd=tmp_path,
        )
        openssl(
            "pkeyutl",
            "-sign",
            "-inkey",
            "k.pem",
            "-rawin",
            "-in",
            "data",
            "-out",
            "theirs.sig",
            cwd=tmp_path,
        )
    else:
        # what cosign's EXAMPLES.md does to sign with openssl and verify with cosign
        openssl(
            "dgst", "-sha256", "-verify", "k.pub", "-signature", "ours.sig", "data", cwd=tmp_path
        )
        openssl("dgst", "-sha256", "-sign", "k.pem", "-out", "theirs.sig", "data", cwd=tmp_path)
    theirs = b64((tmp_path / "theirs.sig").read_bytes())
    assert check_cosign_signature(data, theirs, [trusted]).state == "verified"


@pytest.mark.usefixtures("openssl_cli")
def test_openssl_encrypted_and_ecparam_keys_load(tmp_path: Path) -> None:
    openssl(
        "genpkey",
        *GENPKEY[ECDSA_P256],
        "-aes-256-cbc",
        "-pass",
        "pass:pw-123",
        "-out",
        "enc.pem",
        cwd=tmp_path,
    )
    assert (tmp_path / "enc.pem").read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert (
        load_signing_key(
            str(tmp_path / "enc.pem"), env={"GATE_SIGNING_KEY_PASSWORD": "pw-123"}
        ).algorithm
        == ECDSA_P256
    )
    # `openssl ecparam -genkey` writes an EC PARAMETERS block before the SEC1 key
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-out", "ecparam.pem", cwd=tmp_path)
    assert "EC PARAMETERS" in (tmp_path / "ecparam.pem").read_text()
    assert load_signing_key(str(tmp_path / "ecparam.pem")).algorithm == ECDSA_P256
