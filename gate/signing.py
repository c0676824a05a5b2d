"""Sign verdicts, check signatures: DSSE envelopes of in-toto statements, cosign image signatures.

Keys are PEM files: PKCS#8 private keys as ``openssl genpkey`` writes them (SEC1 ``EC PRIVATE
KEY`` too), SubjectPublicKeyInfo public keys as cosign and openssl write them. Signing is ECDSA
P-256 (DER signature over SHA-256, what cosign does) or Ed25519; verification also accepts RSA
(>= 2048 bits, PKCS#1 v1.5 with SHA-256, what cosign does with RSA keys).

A key is named by its key id, ``sha256:<hex>`` of the DER SubjectPublicKeyInfo, the same for
the private key and its public half.

Checks never raise on hostile input: they return a :data:`SignatureState` with a sentence
saying why. Only the key loaders raise (:class:`~gate.errors.UsageError`: a key is an option
the user gave), and their messages never carry key material.

``cryptography`` is imported inside the functions that need it, so that importing this module
(for its constants) costs nothing on the way to ``gate --help``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from gate.errors import InputError, UsageError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import (
        EllipticCurvePrivateKey,
        EllipticCurvePublicKey,
    )
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    PrivateKey = EllipticCurvePrivateKey | Ed25519PrivateKey
    PublicKey = EllipticCurvePublicKey | Ed25519PublicKey | RSAPublicKey

VERDICT_PREDICATE_TYPE = "https://gate.dev/attestation/verdict/v1"
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"

SignatureState = Literal["verified", "unverified", "untrusted", "invalid", "unsigned"]
"""What a signature check found.

- ``verified``: a signature verifies with a trusted key.
- ``unverified``: signed, but no trusted key was configured to check it (nothing checked).
- ``untrusted``: trusted keys configured; the signatures are by other keys.
- ``invalid``: a signature claims a trusted key (keyid) or is checked by one and does not
  verify, or the envelope / signature / payload is malformed.
- ``unsigned``: no signature at all.
"""

ECDSA_P256 = "ecdsa-p256-sha256"
ED25519 = "ed25519"
RSA_PKCS1 = "rsa-pkcs1v15-sha256"
SIGNING_ALGORITHMS = (ECDSA_P256, ED25519)

SIGNING_KEY_PASSWORD_ENV = "GATE_SIGNING_KEY_PASSWORD"
MAX_KEY_FILE_BYTES = 64 * 1024
MAX_SIGNATURES = 16
"""Signatures tried per envelope; an envelope with more is invalid (each try costs a verify)."""
MAX_ENVELOPE_PAYLOAD_CHARS = 64 * 1024 * 1024
"""Base64 characters of a DSSE payload (a verdict of tens of thousands of findings fits)."""
MAX_SIGNATURE_CHARS = 4096
"""Base64 characters of one signature (RSA-8192 needs 1368; ECDSA and Ed25519 under 100)."""
MAX_COSIGN_PAYLOAD_BYTES = 1024 * 1024
MIN_RSA_BITS = 2048

_SIGNING_HINT = (
    "gate signs with an ECDSA P-256 or Ed25519 private key in PEM (PKCS#8): "
    "`openssl genpkey -algorithm ed25519 -out gate.key`; its public key for --trust-key: "
    "`openssl pkey -in gate.key -pubout -out gate.pub`"
)
_TRUST_HINT = (
    "--trust-key takes a PEM public key (SubjectPublicKeyInfo, `-----BEGIN PUBLIC KEY-----`), "
    "as `cosign generate-key-pair` or `openssl pkey -in KEY -pubout` write it"
)
_COSIGN_KEY_LABELS = ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY")
_PEM_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,64})-----")
_SHA256_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")
_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")
# A keyid or payloadType ends up in messages and verdicts: printable ASCII only, bounded.
_PRINTABLE_TOKEN = re.compile(r"[\x21-\x7e]{1,256}")
_COSIGN_SIGNATURE_TYPE = "cosign container image signature"


@dataclass(frozen=True)
class SigningKey:
    """A private key gate signs with. Its repr shows the key id, never key material."""

    key_id: str
    algorithm: str
    private_key: PrivateKey = field(repr=False, compare=False)

    def sign(self, data: bytes) -> bytes:
        """ECDSA: the DER signature over SHA-256(data); Ed25519: the raw 64-byte signature."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        if isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))
        return self.private_key.sign(data)

    def public_pem(self) -> bytes:
        """The public half as a PEM SubjectPublicKeyInfo (what ``--trust-key`` reads)."""
        from cryptography.hazmat.primitives import serialization

        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@dataclass(frozen=True)
class TrustedKey:
    """A public key whose signatures count; ``path`` is the file as given, for messages."""

    key_id: str
    algorithm: str
    path: str
    public_key: PublicKey = field(repr=False, compare=False)

    def verifies(self, data: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's over ``data``; never raises on a bad signature."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

        try:
            if isinstance(self.public_key, ec.EllipticCurvePublicKey):
                self.public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
            elif isinstance(self.public_key, rsa.RSAPublicKey):
                self.public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            else:
                self.public_key.verify(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True


# ---------------------------------------------------------------------------------------------
# Key files


def _read_key_file(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except FileNotFoundError:
        raise UsageError("no such key file", where=path) from None
    except IsADirectoryError:
        raise UsageError("is a directory, not a key file", where=path) from None
    except OSError as error:
        raise UsageError(f"cannot read the key file: {error.strerror}", where=path) from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise UsageError(
            f"larger than {MAX_KEY_FILE_BYTES // 1024} KiB: not a PEM key file", where=path
        )
    return data


def _pem_labels(data: bytes) -> list[str]:
    return [label.decode("ascii") for label in _PEM_BEGIN.findall(data)]


def _key_id(public_key: PublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(der).hexdigest()


def _key_kind(key: object) -> str:
    """What a key is, in words for an error message ("an ECDSA secp384r1 key")."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa

    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"an ECDSA {key.curve.name} key"
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return f"an RSA {key.key_size}-bit key"
    if isinstance(key, dsa.DSAPrivateKey | dsa.DSAPublicKey):
        return "a DSA key"
    # Ed448Key, X25519PrivateKey, ... -> "an Ed448 key"
    name = type(key).__name__.removeprefix("_")
    for suffix in ("PrivateKey", "PublicKey"):
        name = name.removesuffix(suffix)
    return f"a key of type {name}"


def _algorithm_of(key: object) -> str | None:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return ED25519
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and isinstance(
        key.curve, ec.SECP256R1
    ):
        return ECDSA_P256
    return None


def _single_key_block(path: str, labels: list[str], what: str, hint: str) -> str:
    # openssl ecparam -genkey writes the curve parameters before the key: not a second key
    blocks = [label for label in labels if label != "EC PARAMETERS"]
    if not blocks:
        raise UsageError(f"not a PEM {what}", where=path, hint=hint)
    if len(blocks) > 1:
        raise UsageError(
            f"holds {len(blocks)} PEM blocks ({', '.join(blocks)}); give one {what} per file",
            where=path,
            hint=hint,
        )
    return blocks[0]


def load_signing_key(path: str, env: Mapping[str, str] | None = None) -> SigningKey:
    """Read the private key to sign verdicts with (``--sign-key`` / ``GATE_SIGNING_KEY``).

    An encrypted PKCS#8 key is decrypted with the password in ``GATE_SIGNING_KEY_PASSWORD``.
    Every problem is a :class:`UsageError` naming the file, never showing its content.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    environment = os.environ if env is None else env
    data = _read_key_file(path)
    label = _single_key_block(path, _pem_labels(data), "private key", _SIGNING_HINT)
    if label in _COSIGN_KEY_LABELS:
        raise UsageError(
            "is a cosign private key (cosign's own encrypted format), which gate cannot sign with",
            where=path,
            hint=_SIGNING_HINT + " (cosign reads that public key too: `cosign verify --key`)",
        )
    if "PUBLIC KEY" in label or label == "CERTIFICATE":
        raise UsageError(
            f"holds a {label.lower()}, not the private key to sign with",
            where=path,
            hint=_SIGNING_HINT,
        )
    if label not in ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY"):
        # "RSA PRIVATE KEY", "DSA PRIVATE KEY", "OPENSSH PRIVATE KEY", ...: named, not parsed
        raise UsageError(
            f"holds a PEM {label} block; gate signs with ECDSA P-256 or Ed25519 private keys",
            where=path,
            hint=_SIGNING_HINT,
        )
    # Legacy "EC PRIVATE KEY" files are encrypted with PEM headers instead of PKCS#8.
    encrypted = label == "ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in data
    password: bytes | None = None
    if encrypted:
        secret = environment.get(SIGNING_KEY_PASSWORD_ENV)
        if not secret:
            raise UsageError(
                f"the private key is encrypted and {SIGNING_KEY_PASSWORD_ENV} is not set",
                where=path,
                hint=f"set {SIGNING_KEY_PASSWORD_ENV} to the key's password",
            )
        password = secret.encode("utf-8")
    try:
        private_key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # The library's message is not shown: only our sentence, which holds no key material.
        raise UsageError(
            f"cannot decrypt the private key with {SIGNING_KEY_PASSWORD_ENV}"
            if encrypted
            else "cannot read the private key (malformed PEM, or a format gate does not read)",
            where=path,
            hint=None if encrypted else _SIGNING_HINT,
        ) from None
    algorithm = _algorithm_of(private_key)
    if algorithm is None:
        raise UsageError(
            f"is {_key_kind(private_key)}; gate signs with ECDSA P-256 or Ed25519 keys",
            where=path,
            hint=_SIGNING_HINT,
        )
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    assert isinstance(private_key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey)
    return SigningKey(
        key_id=_key_id(private_key.public_key()), algorithm=algorithm, private_key=private_key
    )


def load_trusted_key(path: str) -> TrustedKey:
    """Read a public key whose signatures count (``--trust-key``)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    data = _read_key_file(path)
    label = _single_key_block(path, _pem_labels(data), "public key", _TRUST_HINT)
    if "PRIVATE KEY" in label:
        raise UsageError(
            "holds a private key; trust its public key instead",
            where=path,
            hint="`openssl pkey -in KEY -pubout -out key.pub` writes it",
        )
    if label == "CERTIFICATE":
        raise UsageError(
            "holds a certificate, not a public key",
            where=path,
            hint="`openssl x509 -in CERT -pubkey -noout > key.pub` writes its public key",
        )
    if label != "PUBLIC KEY":
        raise UsageError(
            f"holds a PEM {label} block, not a public key", where=path, hint=_TRUST_HINT
        )
    try:
        public_key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise UsageError(
            "cannot read the public key (malformed PEM)", where=path, hint=_TRUST_HINT
        ) from None
    algorithm = _algorithm_of(public_key)
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size >= MIN_RSA_BITS:
        algorithm = RSA_PKCS1
    if algorithm is None:
        raise UsageError(
            f"is {_key_kind(public_key)}; gate checks ECDSA P-256, Ed25519 and "
            f"RSA (>= {MIN_RSA_BITS} bits) signatures",
            where=path,
        )
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    assert isinstance(
        public_key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey
    )
    return TrustedKey(
        key_id=_key_id(public_key), algorithm=algorithm, path=path, public_key=public_key
    )


def load_trusted_keys(paths: Sequence[str]) -> list[TrustedKey]:
    """Read every ``--trust-key``; the same key given twice (same key id) counts once."""
    keys: dict[str, TrustedKey] = {}
    for path in paths:
        key = load_trusted_key(path)
        keys.setdefault(key.key_id, key)
    return list(keys.values())


# ---------------------------------------------------------------------------------------------
# DSSE envelopes of in-toto statements


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what is signed, binding the type to the payload."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


def _canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _require_digest(digest: str, where: str) -> str:
    if not isinstance(digest, str) or not _SHA256_DIGEST.fullmatch(digest):
        raise InputError(f"not a sha256 digest: {str(digest)[:80]!r}", where=where)
    return digest


def in_toto_statement(
    subjects: Sequence[tuple[str, str]], predicate_type: str, predicate: Any
) -> bytes:
    """An in-toto v1 Statement about ``subjects`` ((name, "sha256:<hex>") pairs), as JSON bytes.

    Keys sorted, compact, UTF-8: the same statement always gives the same bytes.
    """
    if not subjects:
        raise InputError("an in-toto statement needs at least one subject", where="statement")
    entries = []
    for name, digest in subjects:
        hex_digest = _require_digest(digest, "statement subject").removeprefix("sha256:")
        entries.append({"name": name, "digest": {"sha256": hex_digest}})
    return _canonical_json(
        {
            "_type": STATEMENT_TYPE,
            "subject": entries,
            "predicateType": predicate_type,
            "predicate": predicate,
        }
    )


def sign_envelope(payload: bytes, payload_type: str, key: SigningKey) -> dict[str, Any]:
    """A DSSE envelope of ``payload`` with one signature by ``key`` (over its PAE)."""
    signature = key.sign(pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [{"keyid": key.key_id, "sig": base64.b64encode(signature).decode("ascii")}],
    }


@dataclass(frozen=True)
class EnvelopeCheck:
    """The outcome of :func:`check_envelope`.

    ``key_id`` is the trusted key that verified, else the first keyid a signature claims.
    ``payload`` is None when the envelope is malformed; otherwise it is returned whatever the
    state, so that an unsigned or untrusted verdict can be shown - never counted - by callers.
    """

    state: SignatureState
    key_id: str | None
    reason: str
    payload: bytes | None
    payload_type: str | None


def is_envelope(data: Any) -> bool:
    """Whether ``data`` presents itself as a DSSE envelope (:func:`check_envelope` judges it)."""
    return isinstance(data, dict) and {"payloadType", "payload", "signatures"} <= data.keys()


def _decode_base64(text: Any, limit: int) -> bytes | None:
    """Standard or URL-safe base64 (DSSE allows both), padding optional; None if it is not."""
    if not isinstance(text, str) or len(text) > limit or not _BASE64_TEXT.fullmatch(text):
        return None
    unpadded = text.translate(_URLSAFE_TO_STANDARD).rstrip("=")
    try:
        return base64.b64decode(unpadded + "=" * (-len(unpadded) % 4), validate=True)
    except binascii.Error:
        return None


def short_key_id(key_id: str) -> str:
    """A key id shortened for sentences ("sha256:3f2a9c01d4e5b6a7…")."""
    return key_id if len(key_id) <= 23 else key_id[:23] + "…"


def _key_list(trusted: Sequence[TrustedKey]) -> str:
    return ", ".join(key.path for key in trusted)


def _invalid_envelope(reason: str) -> EnvelopeCheck:
    return EnvelopeCheck("invalid", None, f"malformed envelope: {reason}", None, None)


@dataclass(frozen=True)
class _EnvelopeSignature:
    key_id: str | None
    signature: bytes


def _parse_signatures(raw: Any) -> list[_EnvelopeSignature] | str:
    """The envelope's signatures, or a sentence saying why they are malformed."""
    if not isinstance(raw, list):
        return "signatures is not a list"
    if len(raw) > MAX_SIGNATURES:
        return f"{len(raw)} signatures (at most {MAX_SIGNATURES} are checked)"
    parsed = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            return f"signature {index + 1} is not an object"
        signature = _decode_base64(entry.get("sig"), MAX_SIGNATURE_CHARS)
        if not signature:
            return f"signature {index + 1}: sig is not base64"
        key_id = entry.get("keyid")
        if key_id == "":  # DSSE: an empty keyid is no keyid
            key_id = None
        if key_id is not None and not (
            isinstance(key_id, str) and _PRINTABLE_TOKEN.fullmatch(key_id)
        ):
            return f"signature {index + 1}: keyid is not a short printable string"
        parsed.append(_EnvelopeSignature(key_id, signature))
    return parsed


def check_envelope(envelope: Any, trusted: Sequence[TrustedKey]) -> EnvelopeCheck:
    """Check a DSSE envelope's signatures against ``trusted`` keys. Never raises.

    Every signature is tried against every trusted key (a keyid is an unauthenticated hint;
    other tools spell it differently). One signature that verifies with a trusted key makes
    the envelope ``verified``. Otherwise it is ``invalid`` when a signature that claims a
    trusted key, or claims none, does not verify; ``untrusted`` when every signature claims
    a key that is not trusted.
    """
    if not isinstance(envelope, dict):
        return _invalid_envelope("not a JSON object")
    payload_type = envelope.get("payloadType")
    if not isinstance(payload_type, str) or not _PRINTABLE_TOKEN.fullmatch(payload_type):
        return _invalid_envelope("payloadType is not a short printable string")
    payload = _decode_base64(envelope.get("payload"), MAX_ENVELOPE_PAYLOAD_CHARS)
    if payload is None:
        return _invalid_envelope("payload is not base64 (or too large)")
    signatures = _parse_signatures(envelope.get("signatures"))
    if isinstance(signatures, str):
        return _invalid_envelope(signatures)

    def result(state: SignatureState, key_id: str | None, reason: str) -> EnvelopeCheck:
        return EnvelopeCheck(state, key_id, reason, payload, payload_type)

    claimed = next((s.key_id for s in signatures if s.key_id), None)
    if not signatures:
        return result("unsigned", None, "not signed")
    if not trusted:
        signer = f"by {short_key_id(claimed)} " if claimed else ""
        return result("unverified", claimed, f"signed {signer}but no trusted key to check it")
    signed = pae(payload_type, payload)
    for signature in signatures:
        for key in trusted:
            if key.verifies(signed, signature.signature):
                return result(
                    "verified",
                    key.key_id,
                    f"signed by {short_key_id(key.key_id)} (trusted key {key.path})",
                )
    trusted_ids = {key.key_id: key for key in trusted}
    for signature in signatures:
        if signature.key_id in trusted_ids:
            key = trusted_ids[signature.key_id]
            return result(
                "invalid",
                signature.key_id,
                f"a signature claims trusted key {short_key_id(key.key_id)} ({key.path}) "
                "and does not verify with it",
            )
        if signature.key_id is None:
            return result(
                "invalid", claimed, f"the signature does not verify with {_key_list(trusted)}"
            )
    return result(
        "untrusted",
        claimed,
        f"signed by {short_key_id(claimed or '?')} which is not a trusted key",
    )


# ---------------------------------------------------------------------------------------------
# cosign key-based image signatures (the ``sha256-<hex>.sig`` tag's "simple signing" layers)

COSIGN_SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
COSIGN_PAYLOAD_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"


def cosign_payload(docker_reference: str, manifest_digest: str) -> bytes:
    """The simple-signing payload cosign signs for an image, byte for byte as cosign writes it."""
    _require_digest(manifest_digest, "cosign payload")
    return _canonical_json(
        {
            "critical": {
                "identity": {"docker-reference": docker_reference},
                "image": {"docker-manifest-digest": manifest_digest},
                "type": _COSIGN_SIGNATURE_TYPE,
            },
            "optional": None,
        }
    )


@dataclass(frozen=True)
class CosignCheck:
    """The outcome of :func:`check_cosign_signature`.

    ``signed_digest`` is the manifest digest the payload names: the caller must compare it with
    the gated digest (a valid signature of another image is no signature of this one).
    """

    state: SignatureState
    key_id: str | None
    reason: str
    signed_digest: str | None
    docker_reference: str | None


class _DuplicateKey(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two "docker-manifest-digest" keys would let two parsers read two different images.
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _DuplicateKey("duplicate key")
    return dict(pairs)


def _parse_cosign_payload(payload: bytes) -> tuple[str, str] | str:
    """(docker-manifest-digest, docker-reference), or a sentence saying why it is malformed."""
    if len(payload) > MAX_COSIGN_PAYLOAD_BYTES:
        return f"the payload is larger than {MAX_COSIGN_PAYLOAD_BYTES // 1024} KiB"
    try:
        document = json.loads(payload, object_pairs_hook=_object_without_duplicates)
    except (ValueError, RecursionError):  # UnicodeDecodeError and _DuplicateKey are ValueErrors
        return "the payload is not JSON (or repeats a key)"
    critical = document.get("critical") if isinstance(document, dict) else None
    if not isinstance(critical, dict):
        return "the payload has no critical section"
    if critical.get("type") != _COSIGN_SIGNATURE_TYPE:
        return f"the payload's type is not {_COSIGN_SIGNATURE_TYPE!r}"
    image = critical.get("image")
    digest = image.get("docker-manifest-digest") if isinstance(image, dict) else None
    if not isinstance(digest, str) or not _SHA256_DIGEST.fullmatch(digest):
        return "the payload names no sha256 manifest digest"
    identity = critical.get("identity")
    reference = identity.get("docker-reference") if isinstance(identity, dict) else None
    if not isinstance(reference, str):
        return "the payload names no docker-reference"
    return digest, reference


def check_cosign_signature(
    payload: bytes, signature_b64: str, trusted: Sequence[TrustedKey]
) -> CosignCheck:
    """Check one cosign signature (a ``.sig`` layer's payload and its annotation). Never raises.

    cosign signatures carry no key id: one that verifies with no trusted key is ``invalid``
    (signed by another key, or altered - the two cannot be told apart).
    """
    parsed = _parse_cosign_payload(payload)
    if isinstance(parsed, str):
        return CosignCheck("invalid", None, parsed, None, None)
    digest, reference = parsed

    def result(state: SignatureState, key_id: str | None, reason: str) -> CosignCheck:
        return CosignCheck(state, key_id, reason, digest, reference)

    if signature_b64 == "":
        return result("unsigned", None, "not signed")
    signature = _decode_base64(signature_b64, MAX_SIGNATURE_CHARS)
    if not signature:
        return result("invalid", None, "the signature is not base64")
    if not trusted:
        return result("unverified", None, "signed, but no trusted key to check it")
    for key in trusted:
        if key.verifies(payload, signature):
            return result(
                "verified",
                key.key_id,
                f"signed by {short_key_id(key.key_id)} (trusted key {key.path})",
            )
    return result(
        "invalid",
        None,
        f"the signature does not verify with {_key_list(trusted)} (another key's, or altered)",
    )


def sign_cosign(payload: bytes, key: SigningKey) -> str:
    """A cosign-compatible signature of ``payload`` (base64), for tests, fixtures and demos."""
    return base64.b64encode(key.sign(payload)).decode("ascii")
