"""OPA bundles: build (and sign) a policy set as ``bundle.tar.gz``, and read one back.

The archive follows OPA's bundle file format: ``.manifest`` (``revision`` = gate's policy
digest, ``roots``), each ``.rego`` and ``data.json`` at its path, and ``.signatures.json``
(a JWS over every file's hash, RS256 or ES256) when signed. ``metadata.gate.files`` in the
manifest lists the files in gate's load order with the names gate showed them by, so a
loaded bundle has the same digest as the policies it was built from, and that is checked.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from gate.cli import data_option
from gate.errors import PolicyError, UsageError

MANIFEST = ".manifest"
SIGNATURES = ".signatures.json"
VERIFY_KEY_ENV = "GATE_BUNDLE_VERIFY_KEY"
MAX_BUNDLE_BYTES = 32 * 1024 * 1024
"""Largest compressed bundle gate reads."""
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
"""Largest total of the bundle's files once decompressed (a gzip bomb stops here)."""
MAX_ENTRIES = 10_000
_BUNDLE_SUFFIXES = (".tar.gz", ".tgz")


def is_bundle_file(path: Path) -> bool:
    """True for a file that gate reads as an OPA bundle rather than a Rego module."""
    return path.is_file() and path.name.endswith(_BUNDLE_SUFFIXES)


# ---------------------------------------------------------------------------------------
# Hashes and signatures, as OPA computes and verifies them


def _go_json(value: Any) -> str:
    # OPA hashes a JSON file over its canonical encoding: keys sorted, no whitespace, and
    # Go's escaping of <, >, & and the JavaScript line separators.
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text


def file_hash(name: str, raw: bytes) -> str:
    """SHA-256 (hex) of a bundle file as OPA's signature verification computes it."""
    if name.endswith(".json"):
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise PolicyError(f"invalid JSON in bundle file: {exc}", where=name) from exc
        raw = _go_json(value).encode()
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class BundleKey:
    """A PEM key for bundle signatures and the JWS algorithm it implies (RS256/ES256)."""

    path: str
    algorithm: str
    key: Any


def _key_algorithm(key: Any, path: str) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise UsageError(f"RSA key of {key.key_size} bits; use 2048 or more", where=path)
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and isinstance(
        key.curve, ec.SECP256R1
    ):
        return "ES256"
    raise UsageError(
        "OPA bundles are signed with RSA (RS256) or ECDSA P-256 (ES256) keys", where=path
    )


def _read_pem(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(64 * 1024 + 1)
    except OSError as exc:
        raise UsageError(f"cannot read key file: {exc.strerror or exc}", where=path) from None
    if len(data) > 64 * 1024:
        raise UsageError("key file larger than 64 KiB", where=path)
    return data


def load_bundle_key(path: str, *, private: bool) -> BundleKey:
    """Read a PEM private key (``--sign-key``) or public key (``--verify-key``)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    data = _read_pem(path)
    try:
        key: Any = (
            serialization.load_pem_private_key(data, password=None)
            if private
            else serialization.load_pem_public_key(data)
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # Not the library's message: it could quote key material.
        what = "an unencrypted PEM private key" if private else "a PEM public key"
        raise UsageError(f"not {what}", where=path) from None
    return BundleKey(path, _key_algorithm(key, path), key)


def sign_files(files: Sequence[tuple[str, bytes]], key: BundleKey) -> bytes:
    """``.signatures.json`` for ``files``: one JWS over their names and hashes."""
    import jwt

    payload = {
        "files": [
            {"name": name, "hash": file_hash(name, raw), "algorithm": "SHA-256"}
            for name, raw in files
        ]
    }
    token = jwt.encode(payload, key.key, algorithm=key.algorithm)
    return (json.dumps({"signatures": [token]}, indent=2) + "\n").encode()


def verify_signatures(
    raw_signatures: bytes | None, files: dict[str, bytes], key: BundleKey, where: str
) -> None:
    """Raise :class:`PolicyError` unless the JWS verifies with ``key`` and names exactly
    ``files`` (every file but ``.signatures.json``) with matching SHA-256 hashes."""
    import jwt

    if raw_signatures is None:
        raise PolicyError(
            "the bundle is not signed but a verify key is given",
            where=where,
            hint=f"sign it: gate policy build --sign-key KEY (key: {key.path})",
        )
    try:
        document = json.loads(raw_signatures)
        tokens = document["signatures"]
        if not isinstance(tokens, list) or len(tokens) != 1 or not isinstance(tokens[0], str):
            raise ValueError("expected one signature")
        # The algorithm is the key's, never the token header's (no "none", no HS256 with
        # the public key as secret).
        claims = jwt.decode(
            tokens[0],
            key.key,
            algorithms=[key.algorithm],
            options={"verify_aud": False, "verify_iss": False, "require": ["files"]},
        )
    except (ValueError, KeyError, TypeError, jwt.PyJWTError) as exc:
        raise PolicyError(
            f"bundle signature does not verify with {key.path}: {exc}", where=where
        ) from None
    listed: dict[str, str] = {}
    for entry in claims.get("files") or []:
        if not isinstance(entry, dict) or entry.get("algorithm") != "SHA-256":
            raise PolicyError("bundle signature lists a file without a SHA-256 hash", where=where)
        listed[str(entry.get("name", "")).lstrip("/")] = str(entry.get("hash"))
    if set(listed) != set(files):
        unsigned = sorted(set(files) ^ set(listed))
        raise PolicyError(
            f"bundle files and signed files differ: {', '.join(unsigned)}", where=where
        )
    for name, raw in files.items():
        if file_hash(name, raw) != listed[name]:
            raise PolicyError("file does not match its signed hash", where=f"{where}:{name}")


# ---------------------------------------------------------------------------------------
# Building


def _package_root(text: str) -> str | None:
    from gate.policy import module_package

    parts = module_package(text)
    return parts[0] if parts else None


def build_bundle(
    paths: Sequence[str], data: Sequence[str] = (), sign_key: BundleKey | None = None
) -> tuple[bytes, str]:
    """The bytes and revision of an OPA bundle of the policies ``load_policies(paths, data)`` loads.

    Deterministic: entries sorted, mtime 0, owner 0, so the same policies give the same bytes.
    """
    from gate.policy import load_policies

    loaded = load_policies(paths, data)
    entries = list(_bundle_entries(paths, data))
    names = [name for name, _, _ in entries]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        raise UsageError(
            f"two policy files would be {duplicate} in the bundle",
            where=", ".join(shown for name, shown, _ in entries if name == duplicate),
            hint="merge root data into one --data file, or give the policy roots separately",
        )
    roots: set[str] = set()
    for name, _, raw in entries:
        if name.endswith(".rego"):
            root = _package_root(raw.decode("utf-8-sig"))
            if root:
                roots.add(root)
        elif "/" in name:
            roots.add(name.split("/", 1)[0])
    roots.update(loaded.data)  # root data files own their top-level keys
    manifest = {
        "revision": loaded.digest,
        "roots": sorted(roots),
        "metadata": {"gate": {"files": [[name, shown] for name, shown, _ in entries]}},
    }
    files = [(MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())]
    files += sorted((name, raw) for name, _, raw in entries)
    if sign_key is not None:
        files.append((SIGNATURES, sign_files(files, sign_key)))
    return _tar_gz(files), loaded.digest


def _bundle_entries(paths: Sequence[str], data: Sequence[str]) -> Iterator[tuple[str, str, bytes]]:
    """``(bundle path, shown name, bytes)`` for each file in gate's load order."""
    from gate.policy import (
        DATA_FILE_NAMES,
        DEFAULT_POLICIES_NAME,
        _display,
        _walk,
        default_policy_dir,
        is_test_module,
        split_data_option,
    )

    default = default_policy_dir()
    for given in paths or [DEFAULT_POLICIES_NAME]:
        root = default if given == DEFAULT_POLICIES_NAME else Path(given)
        shown_root = DEFAULT_POLICIES_NAME if root == default else given
        for path in _walk(root):
            if (path.suffix == ".rego" and not is_test_module(path)) or (
                path.name in DATA_FILE_NAMES
            ):
                name = path.name if path == root else path.relative_to(root).as_posix()
                yield name, _display(path, root, shown_root), path.read_bytes()
    for given in data:
        mount, file_name = split_data_option(given)
        raw = Path(file_name).read_bytes()
        suffix = ".json" if file_name.endswith(".json") else ".yaml"
        yield "/".join((*mount, f"data{suffix}")), file_name, raw


def _tar_gz(files: Sequence[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    # mtime=0 in the gzip header too: the bytes depend on the files alone.
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed:
        with tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for name, raw in files:
                info = tarfile.TarInfo(name)
                info.size = len(raw)
                info.mtime = 0
                info.mode = 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                archive.addfile(info, io.BytesIO(raw))
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------
# Reading


class _BoundedReader(io.RawIOBase):
    """A decompressed stream that fails once more than ``limit`` bytes came out of it."""

    def __init__(self, stream: Any, limit: int, where: str) -> None:
        self._stream = stream
        self._left = limit
        self._where = where

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(min(len(buffer), self._left + 1))
        self._left -= len(data)
        if self._left < 0:
            raise PolicyError(
                f"bundle unpacks to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MiB",
                where=self._where,
            )
        buffer[: len(data)] = data
        return len(data)


def _entry_name(member: tarfile.TarInfo, where: str) -> str:
    # OPA's own `opa build` writes "/x.rego": a bundle path, relative to the bundle root.
    name = member.name.removeprefix("/")
    parts = name.split("/")
    if not member.isfile():
        if member.isdir():
            return ""
        raise PolicyError(f"bundle entry {member.name!r} is not a regular file", where=where)
    if not name or "\\" in name or any(part in ("", ".", "..") for part in parts):
        raise PolicyError(f"bundle entry {member.name!r}: not a plain relative path", where=where)
    return name


def read_archive(path: Path, where: str) -> dict[str, bytes]:
    """The files of a ``.tar.gz`` bundle, bounded and checked (no links, traversal or
    duplicates)."""
    from gate.inputs import read_bounded

    raw = read_bounded(path, MAX_BUNDLE_BYTES, where, PolicyError)
    files: dict[str, bytes] = {}
    try:
        stream = io.BufferedReader(
            _BoundedReader(gzip.GzipFile(fileobj=io.BytesIO(raw)), MAX_UNPACKED_BYTES, where)
        )
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                if len(files) >= MAX_ENTRIES:
                    raise PolicyError(f"bundle has more than {MAX_ENTRIES} files", where=where)
                name = _entry_name(member, where)
                if not name:
                    continue
                if name in files:
                    raise PolicyError(f"bundle holds {name} twice", where=where)
                extracted = archive.extractfile(member)
                files[name] = extracted.read() if extracted is not None else b""
    except (tarfile.TarError, OSError, EOFError, gzip.BadGzipFile) as exc:
        raise PolicyError(f"not a readable .tar.gz bundle: {exc}", where=where) from None
    return files


@dataclass(frozen=True)
class BundleFile:
    """One policy or data file of a bundle, as gate loads it."""

    name: str
    shown: str
    raw: bytes


def bundle_files(
    path: Path, where: str, verify_key: str | None = None
) -> tuple[str, list[BundleFile]]:
    """The manifest revision and the files of the bundle at ``path``, in gate's load order.

    With ``verify_key`` (or ``$GATE_BUNDLE_VERIFY_KEY``) the signature must verify over every
    file; otherwise :class:`PolicyError`.
    """
    files = read_archive(path, where)
    key_path = verify_key or os.environ.get(VERIFY_KEY_ENV) or None
    signatures = files.pop(SIGNATURES, None)
    if key_path:
        verify_signatures(signatures, files, load_bundle_key(key_path, private=False), where)
    try:
        manifest = json.loads(files[MANIFEST])
        revision = manifest["revision"]
        order = manifest.get("metadata", {}).get("gate", {}).get("files")
    except (KeyError, ValueError, AttributeError, TypeError):
        raise PolicyError("bundle has no readable .manifest with a revision", where=where) from None
    if order is None:  # a bundle gate did not build: its files, by name
        order = [[name, f"{where}/{name}"] for name in sorted(files) if name != MANIFEST]
    loaded: list[BundleFile] = []
    for item in order:
        if not (
            isinstance(item, list) and len(item) == 2 and all(isinstance(i, str) for i in item)
        ):
            raise PolicyError("bundle manifest: malformed metadata.gate.files", where=where)
        name, shown = item
        if name not in files:
            raise PolicyError(f"bundle manifest names {name}, which it does not hold", where=where)
        loaded.append(BundleFile(name, shown, files[name]))
    # A module or data file OPA would load but gate would not is a different policy.
    listed = {file.name for file in loaded}
    unlisted = sorted(
        name
        for name in files
        if name not in listed
        and (name.endswith(".rego") or name.rsplit("/", 1)[-1].startswith("data."))
    )
    if unlisted:
        raise PolicyError(
            f"bundle holds files its manifest does not list: {', '.join(unlisted)}", where=where
        )
    return str(revision), loaded


# ---------------------------------------------------------------------------------------
# Commands


def write_bundle_file(raw: bytes, output: str, reads: Sequence[str]) -> None:
    """Write ``raw`` to ``output`` atomically, after gate's output checks (never an input)."""
    import tempfile

    from gate.output import check_output_path

    check_output_path(output, reads=list(reads), policy_paths=list(reads))
    target = Path(os.path.realpath(output))
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".partial", dir=target.parent
        )
        with os.fdopen(handle, "wb") as stream:
            stream.write(raw)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except OSError as exc:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        raise PolicyError(f"cannot write: {exc.strerror or exc}", where=output) from exc


@click.command("build")
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@data_option
@click.option("-o", "--output", required=True, metavar="FILE", help="Bundle to write (.tar.gz).")
@click.option(
    "--sign-key",
    metavar="KEY",
    help="PEM private key (RSA: RS256, ECDSA P-256: ES256): write .signatures.json.",
)
def build_command(
    paths: tuple[str, ...], data: tuple[str, ...], output: str, sign_key: str | None
) -> None:
    """Build an OPA bundle (.tar.gz) of PATH... (default: the bundled pack); print its
    revision (gate's policy digest)."""
    from gate.policy import split_data_option

    key = load_bundle_key(sign_key, private=True) if sign_key else None
    reads = [*paths, *(split_data_option(given)[1] for given in data)]
    if sign_key:
        reads.append(sign_key)
    raw, revision = build_bundle(list(paths), list(data), key)
    write_bundle_file(raw, output, reads)
    click.echo(revision)


# ---------------------------------------------------------------------------------------
# Distribution as an OCI artifact, the way OPA's OCI bundle download reads it

OCI_CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"


def _client_for(text: str) -> tuple[Any, Any]:
    from gate.registry.client import RegistryClient
    from gate.registry.reference import parse_registry_ref

    ref = parse_registry_ref(text)
    return RegistryClient(ref.host), ref


def push_bundle(raw: bytes, destination: str) -> str:
    """Store ``raw`` (a bundle) under ``destination`` (registry://HOST/REPO:TAG): the
    manifest digest."""
    from gate.registry.client import OCI_MANIFEST, sha256_digest

    client, ref = _client_for(destination)
    if ref.tag is None or ref.digest is not None:
        raise UsageError("push to a tag: registry://HOST/REPO:TAG", where=destination)
    config = b"{}"
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG_TYPE,
            "digest": client.push_blob(ref.repository, config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": OCI_LAYER_TYPE,
                "digest": client.push_blob(ref.repository, raw),
                "size": len(raw),
                "annotations": {"org.opencontainers.image.title": "bundle.tar.gz"},
            }
        ],
    }
    document = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    result = client.put_manifest(ref.repository, ref.tag, document, OCI_MANIFEST)
    if result.digest != sha256_digest(document):  # put_manifest checks; keep the promise local
        raise PolicyError("registry stored another manifest", where=destination)
    return str(result.digest)


def pull_bundle(source: str) -> tuple[bytes, str]:
    """The bundle bytes under ``source`` (tag or digest) and the manifest digest; every
    digest on the way is checked by the client, sizes are bounded."""
    client, ref = _client_for(source)
    manifest = client.get_manifest(ref.repository, ref.reference())
    document = manifest.document()
    layers = document.get("layers")
    if not isinstance(layers, list):
        raise PolicyError("not an OCI artifact manifest (no layers)", where=source)
    bundles = [
        layer
        for layer in layers
        if isinstance(layer, dict) and layer.get("mediaType") == OCI_LAYER_TYPE
    ]
    if len(bundles) != 1:
        raise PolicyError(
            f"expected one {OCI_LAYER_TYPE} layer (the bundle), found {len(bundles)}",
            where=source,
        )
    layer = bundles[0]
    size, digest = layer.get("size"), layer.get("digest")
    if (
        not isinstance(size, int)
        or not 0 <= size <= MAX_BUNDLE_BYTES
        or not isinstance(digest, str)
    ):
        raise PolicyError(
            f"the bundle layer is larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MiB "
            "or has no digest",
            where=source,
        )
    raw = client.get_blob(ref.repository, digest, MAX_BUNDLE_BYTES)
    if len(raw) != size:
        raise PolicyError("the bundle layer's size is not what the manifest says", where=source)
    return raw, str(manifest.digest)


@click.command("push")
@click.argument("bundle", metavar="BUNDLE.tar.gz")
@click.argument("destination", metavar="registry://HOST/REPO:TAG")
def push_command(bundle: str, destination: str) -> None:
    """Store a bundle as an OCI artifact (as OPA's OCI bundle download reads it); print
    its manifest digest, the reference to pin (registry://HOST/REPO@DIGEST)."""
    from gate.inputs import read_bounded

    raw = read_bounded(Path(bundle), MAX_BUNDLE_BYTES, bundle, PolicyError)
    read_archive(Path(bundle), bundle)  # refuse to publish what gate would not read
    click.echo(push_bundle(raw, destination))


@click.command("pull")
@click.argument("source", metavar="registry://HOST/REPO[:TAG|@DIGEST]")
@click.option("-o", "--output", required=True, metavar="FILE", help="Bundle to write (.tar.gz).")
def pull_command(source: str, output: str) -> None:
    """Fetch a bundle pushed with `gate policy push`, check its digests, write it, and
    print its manifest digest."""
    from gate.output import check_output_path

    check_output_path(output, reads=[], policy_paths=[])
    raw, digest = pull_bundle(source)
    write_bundle_file(raw, output, [])
    click.echo(digest)
