"""OPA bundles: `gate policy build`, signatures (RS256/ES256), and bundles as --policy."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gate.errors import PolicyError
from gate.opabundle import (
    MAX_UNPACKED_BYTES,
    build_bundle,
    file_hash,
    load_bundle_key,
)
from gate.policy import default_policy_dir, load_policies

ROOT = Path(__file__).resolve().parent.parent
DEMO_REPORT = ROOT / "fixtures" / "demo" / "hello.grype.json"


def _write_keys(directory: Path, kind: str) -> tuple[Path, Path]:
    private = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if kind == "rsa"
        else ec.generate_private_key(ec.SECP256R1())
    )
    private_path, public_path = directory / f"{kind}.key", directory / f"{kind}.pub"
    private_path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public_path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path


def _files(raw: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as archive:
        return {
            member.name: archive.extractfile(member).read()  # type: ignore[union-attr]
            for member in archive
        }


def _tar_gz(entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                archive.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size = len(entry[1])
                archive.addfile(info, io.BytesIO(entry[1]))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def default_bundle() -> bytes:
    return build_bundle([], [])[0]


def test_layout_and_manifest_follow_opa_bundle_format(default_bundle: bytes) -> None:
    files = _files(default_bundle)
    manifest = json.loads(files[".manifest"])
    pack = default_policy_dir()
    rego = {
        path.relative_to(pack).as_posix()
        for path in pack.rglob("*.rego")
        if not path.name.endswith("_test.rego")
    }
    assert rego <= set(files)
    assert "data.json" in files  # the pack's root data (gate_config) at the bundle root
    assert manifest["revision"] == load_policies([]).digest
    assert {"gate", "lib", "gate_config"} <= set(manifest["roots"])
    for name, raw in files.items():
        if name.endswith(".rego"):
            assert raw == (pack / name).read_bytes()


def test_same_policies_give_the_same_bytes(default_bundle: bytes) -> None:
    assert build_bundle([], [])[0] == default_bundle
    with tarfile.open(fileobj=io.BytesIO(default_bundle), mode="r:gz") as archive:
        members = archive.getmembers()
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert {(m.mtime, m.uid, m.gid) for m in members} == {(0, 0, 0)}


def test_json_files_are_hashed_canonically_as_opa_does() -> None:
    assert (
        file_hash("data.json", b'{ "b": 1,\n "a": "<&>" }')
        == hashlib.sha256(b'{"a":"\\u003c\\u0026\\u003e","b":1}').hexdigest()
    )
    assert file_hash("x.rego", b"package x\n") == hashlib.sha256(b"package x\n").hexdigest()


def test_mounted_data_sits_in_its_folder(tmp_path: Path) -> None:
    feed = tmp_path / "kev.json"
    feed.write_text('{"cves": ["CVE-1"]}')
    raw, revision = build_bundle([], [f"feeds.kev={feed}"])
    assert json.loads(_files(raw)["feeds/kev/data.json"]) == {"cves": ["CVE-1"]}
    bundle_path = tmp_path / "b.tar.gz"
    bundle_path.write_bytes(raw)
    loaded = load_policies([bundle_path])
    assert loaded.data["feeds"]["kev"] == {"cves": ["CVE-1"]}
    assert loaded.digest == revision == load_policies([], [f"feeds.kev={feed}"]).digest


@pytest.mark.parametrize(("kind", "algorithm"), [("rsa", "RS256"), ("ec", "ES256")])
def test_signature_verifies_with_pyjwt_and_gate(tmp_path: Path, kind: str, algorithm: str) -> None:
    private_path, public_path = _write_keys(tmp_path, kind)
    raw, revision = build_bundle([], [], load_bundle_key(str(private_path), private=True))
    files = _files(raw)
    (token,) = json.loads(files[".signatures.json"])["signatures"]
    assert jwt.get_unverified_header(token)["alg"] == algorithm
    claims = jwt.decode(
        token, serialization.load_pem_public_key(public_path.read_bytes()), [algorithm]
    )
    signed = {entry["name"]: entry["hash"] for entry in claims["files"]}
    assert set(signed) == set(files) - {".signatures.json"}
    assert all(entry["algorithm"] == "SHA-256" for entry in claims["files"])
    assert (
        signed["gate/vulnerabilities/fixable_critical.rego"]
        == hashlib.sha256(files["gate/vulnerabilities/fixable_critical.rego"]).hexdigest()
    )
    bundle_path = tmp_path / "b.tar.gz"
    bundle_path.write_bytes(raw)
    loaded = load_policies([bundle_path], verify_key=str(public_path))
    assert loaded.digest == revision


def _rebuilt(raw: bytes, change: dict[str, bytes]) -> bytes:
    files = {**_files(raw), **change}
    return _tar_gz(sorted(files.items()))


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Path, Path]:
    directory = tmp_path_factory.mktemp("keys")
    private_path, public_path = _write_keys(directory, "ec")
    raw, _ = build_bundle([], [], load_bundle_key(str(private_path), private=True))
    return raw, public_path, private_path


def _load(tmp_path: Path, raw: bytes, key: Path | None) -> object:
    path = tmp_path / "b.tar.gz"
    path.write_bytes(raw)
    return load_policies([path], verify_key=str(key) if key else None)


def test_tampered_file_is_rejected(tmp_path: Path, signed: tuple[bytes, Path, Path]) -> None:
    raw, public, _ = signed
    name = "gate/vulnerabilities/fixable_critical.rego"
    tampered = _rebuilt(raw, {name: _files(raw)[name].replace(b"deny", b"denyx", 1)})
    with pytest.raises(PolicyError, match="does not match its signed hash"):
        _load(tmp_path, tampered, public)


def test_added_file_is_rejected(tmp_path: Path, signed: tuple[bytes, Path, Path]) -> None:
    raw, public, _ = signed
    with pytest.raises(PolicyError, match="differ: gate/extra.rego"):
        _load(tmp_path, _rebuilt(raw, {"gate/extra.rego": b"package gate\n"}), public)


def test_tampered_signature_is_rejected(tmp_path: Path, signed: tuple[bytes, Path, Path]) -> None:
    raw, public, _ = signed
    token = json.loads(_files(raw)[".signatures.json"])["signatures"][0]
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    change = {".signatures.json": json.dumps({"signatures": [forged]}).encode()}
    with pytest.raises(PolicyError, match="does not verify"):
        _load(tmp_path, _rebuilt(raw, change), public)


def test_unsigned_token_claiming_alg_none_is_rejected(
    tmp_path: Path, signed: tuple[bytes, Path, Path]
) -> None:
    raw, public, _ = signed
    token = json.loads(_files(raw)[".signatures.json"])["signatures"][0]
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, None, algorithm="none")
    change = {".signatures.json": json.dumps({"signatures": [forged]}).encode()}
    with pytest.raises(PolicyError, match="does not verify"):
        _load(tmp_path, _rebuilt(raw, change), public)


def test_signature_by_another_key_is_rejected(
    tmp_path: Path, signed: tuple[bytes, Path, Path]
) -> None:
    raw, _, _ = signed
    _, other_public = _write_keys(tmp_path, "rsa")
    with pytest.raises(PolicyError, match="does not verify"):
        _load(tmp_path, raw, other_public)


def test_unsigned_bundle_with_a_verify_key_is_rejected(
    tmp_path: Path, default_bundle: bytes, signed: tuple[bytes, Path, Path]
) -> None:
    with pytest.raises(PolicyError, match="not signed"):
        _load(tmp_path, default_bundle, signed[1])
    (tmp_path / "p.rego").write_text("package gate\n")
    with pytest.raises(PolicyError, match="not a signed bundle"):
        load_policies([tmp_path / "p.rego"], verify_key=str(signed[1]))


def test_verify_key_from_environment(
    tmp_path: Path,
    default_bundle: bytes,
    signed: tuple[bytes, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATE_BUNDLE_VERIFY_KEY", str(signed[1]))
    with pytest.raises(PolicyError, match="not signed"):
        _load(tmp_path, default_bundle, None)


def test_revision_that_is_not_the_files_digest_is_rejected(
    tmp_path: Path, default_bundle: bytes
) -> None:
    manifest = json.loads(_files(default_bundle)[".manifest"])
    manifest["revision"] = "sha256:" + "0" * 64
    changed = _rebuilt(default_bundle, {".manifest": json.dumps(manifest).encode()})
    with pytest.raises(PolicyError, match="is not the digest of its files"):
        _load(tmp_path, changed, None)


def test_module_missing_from_the_manifest_is_rejected(
    tmp_path: Path, default_bundle: bytes
) -> None:
    changed = _rebuilt(default_bundle, {"gate/sneaky.rego": b"package gate\n"})
    with pytest.raises(PolicyError, match="does not list: gate/sneaky.rego"):
        _load(tmp_path, changed, None)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("../evil.rego", tarfile.REGTYPE),
        ("gate/../../evil.rego", tarfile.REGTYPE),
        ("gate/link.rego", tarfile.SYMTYPE),
        ("gate/hard.rego", tarfile.LNKTYPE),
    ],
)
def test_traversal_and_links_are_refused(tmp_path: Path, name: str, kind: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = "/etc/passwd"
    raw = _tar_gz([(".manifest", b'{"revision": "x"}'), info])
    with pytest.raises(PolicyError, match="not a plain relative path|not a regular file"):
        _load(tmp_path, raw, None)


def test_duplicate_entries_are_refused(tmp_path: Path) -> None:
    raw = _tar_gz([("x.rego", b"package x\n"), ("x.rego", b"package y\n")])
    with pytest.raises(PolicyError, match="holds x.rego twice"):
        _load(tmp_path, raw, None)


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as compressed:
        header = tarfile.TarInfo("big.rego")
        header.size = MAX_UNPACKED_BYTES + 1024
        compressed.write(header.tobuf())
        chunk = b"\0" * (1024 * 1024)
        for _ in range(header.size // len(chunk) + 1):
            compressed.write(chunk)
    with pytest.raises(PolicyError, match="unpacks to more than"):
        _load(tmp_path, buffer.getvalue(), None)


def test_garbage_is_no_verdict(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not a readable"):
        _load(tmp_path, b"not gzip at all", None)


def test_build_sign_verify_check_gives_the_directory_verdict(
    tmp_path: Path, gate_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    private_path, public_path = _write_keys(tmp_path, "rsa")
    bundle_path = tmp_path / "policy.tar.gz"
    built = gate_cli("policy", "build", "-o", bundle_path, "--sign-key", private_path)
    assert built.code == 0, built.err
    assert built.out.strip() == load_policies([]).digest
    common = ["check", DEMO_REPORT, "--format", "json", "--at", "2026-01-01T00:00:00Z"]
    from_directory = gate_cli(*common)
    monkeypatch.setenv("GATE_BUNDLE_VERIFY_KEY", str(public_path))
    from_bundle = gate_cli(*common, "--policy", bundle_path)
    assert from_directory.code == from_bundle.code == 1
    assert json.loads(from_bundle.out) == json.loads(from_directory.out)
    _, other_public = _write_keys(tmp_path, "ec")
    monkeypatch.setenv("GATE_BUNDLE_VERIFY_KEY", str(other_public))
    refused = gate_cli(*common, "--policy", bundle_path)
    assert refused.code == 3
    assert "does not verify" in refused.err
    assert refused.out == ""
    monkeypatch.delenv("GATE_BUNDLE_VERIFY_KEY")
    by_option = gate_cli(*common, "--policy", bundle_path, "--verify-key", public_path)
    assert by_option.code == 1
    assert json.loads(by_option.out) == json.loads(from_directory.out)
    refused = gate_cli(*common, "--policy", bundle_path, "--verify-key", other_public)
    assert refused.code == 3
    assert "does not verify" in refused.err


def test_verify_key_refuses_an_unsigned_bundle_on_check(
    tmp_path: Path, gate_cli: Any, default_bundle: bytes
) -> None:
    _, public_path = _write_keys(tmp_path, "ec")
    bundle_path = tmp_path / "policy.tar.gz"
    bundle_path.write_bytes(default_bundle)
    common = ["check", DEMO_REPORT, "--at", "2026-01-01T00:00:00Z", "--policy", bundle_path]
    refused = gate_cli(*common, "--verify-key", public_path)
    assert refused.code == 3
    assert "not signed" in refused.err
    assert gate_cli(*common).code == 1  # without a key, an unsigned bundle is a policy set


def test_build_refuses_to_overwrite_a_policy(tmp_path: Path, gate_cli: Any) -> None:
    policy = tmp_path / "p.rego"
    policy.write_text("package gate\n")
    result = gate_cli("policy", "build", policy, "-o", policy)
    assert result.code == 2
    assert policy.read_text() == "package gate\n"


def test_weak_or_wrong_keys_are_usage_errors(tmp_path: Path, gate_cli: Any) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    path = tmp_path / "weak.key"
    path.write_bytes(
        weak.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    result = gate_cli("policy", "build", "-o", tmp_path / "b.tar.gz", "--sign-key", path)
    assert result.code == 2
    assert "2048" in result.err
    assert "PRIVATE KEY" not in result.out + result.err
    assert not (tmp_path / "b.tar.gz").exists()
