"""`gate policy push` / `gate policy pull`: OPA bundles as OCI artifacts in a real registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gate.opabundle import MAX_BUNDLE_BYTES, OCI_CONFIG_TYPE, OCI_LAYER_TYPE, build_bundle
from gate.policy import load_policies
from gate.registry.client import OCI_MANIFEST, RegistryClient, sha256_digest
from registry.support import RunningRegistry


def _built(tmp_path: Path) -> tuple[Path, bytes, str]:
    raw, revision = build_bundle([], [])
    path = tmp_path / "bundle.tar.gz"
    path.write_bytes(raw)
    return path, raw, revision


def test_push_then_pull_round_trips_as_an_opa_oci_artifact(
    tmp_path: Path, registry: RunningRegistry, gate_cli: Any
) -> None:
    path, raw, revision = _built(tmp_path)
    pushed = gate_cli("policy", "push", path, f"registry://{registry.host}/policies/gate:v1")
    assert pushed.code == 0, pushed.err
    digest = pushed.out.strip()
    client = RegistryClient(registry.host)
    manifest = client.get_manifest("policies/gate", "v1")
    assert manifest.digest == digest
    document = manifest.document()
    assert document["config"]["mediaType"] == OCI_CONFIG_TYPE
    (layer,) = document["layers"]
    assert layer["mediaType"] == OCI_LAYER_TYPE
    assert layer["digest"] == sha256_digest(raw)

    for reference in ("policies/gate:v1", f"policies/gate@{digest}"):
        output = tmp_path / "pulled.tar.gz"
        pulled = gate_cli("policy", "pull", f"registry://{registry.host}/{reference}", "-o", output)
        assert pulled.code == 0, pulled.err
        assert pulled.out.strip() == digest
        assert output.read_bytes() == raw
        assert load_policies([output]).digest == revision
        output.unlink()


def test_pull_refuses_an_oversized_or_lying_layer(
    tmp_path: Path, registry: RunningRegistry, gate_cli: Any
) -> None:
    client = RegistryClient(registry.host)
    config_digest = client.push_blob("policies/hostile", b"{}")
    real = client.push_blob("policies/hostile", b"not the bundle")

    def publish(tag: str, size: int, digest: str) -> None:
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG_TYPE, "digest": config_digest, "size": 2},
            "layers": [{"mediaType": OCI_LAYER_TYPE, "digest": digest, "size": size}],
        }
        client.put_manifest("policies/hostile", tag, json.dumps(manifest).encode(), OCI_MANIFEST)

    publish("huge", MAX_BUNDLE_BYTES + 1, real)
    publish("short", 3, real)
    output = tmp_path / "out.tar.gz"
    for tag, message in (("huge", "larger than"), ("short", "size is not")):
        result = gate_cli(
            "policy", "pull", f"registry://{registry.host}/policies/hostile:{tag}", "-o", output
        )
        assert result.code == 3
        assert message in result.err
        assert not output.exists()


def test_pull_refuses_to_overwrite_what_it_cannot_replace(
    tmp_path: Path, registry: RunningRegistry, gate_cli: Any
) -> None:
    result = gate_cli(
        "policy", "pull", f"registry://{registry.host}/policies/gate:v1", "-o", tmp_path
    )
    assert result.code == 2


def test_push_refuses_a_file_that_is_no_bundle(
    tmp_path: Path, registry: RunningRegistry, gate_cli: Any
) -> None:
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not gzip")
    result = gate_cli("policy", "push", bogus, f"registry://{registry.host}/policies/bogus:v1")
    assert result.code == 3
    assert RegistryClient(registry.host).find_manifest("policies/bogus", "v1") is None
