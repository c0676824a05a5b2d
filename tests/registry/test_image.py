"""What a registry:// input reads: the image, and which attached artifacts become inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.registry.client import RegistryClient
from registry.support import attach_artifact as attach
from registry.support import push_test_image

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def image(registry: Any, request: pytest.FixtureRequest) -> tuple[RegistryClient, str, str, str]:
    client = RegistryClient(registry.host)
    repo = "image/" + request.node.name.lower()[:50].strip("_.-").replace("[", "-").strip("]")
    digest, _ = push_test_image(client, repo, "1.0.0")
    return client, repo, digest, f"registry://{registry.host}/{repo}:1.0.0"


def formats(gate_cli: Any, *args: Any) -> list[str]:
    result = gate_cli("normalize", *args)
    assert result.code == 0, result.err
    return [scan["format"] for scan in json.loads(result.out)["scans"]]


def test_attached_reports_are_read_only_with_attached(gate_cli: Any, image: Any) -> None:
    client, repo, digest, ref = image
    grype = json.loads((ROOT / "fixtures/reports/grype/empty.json").read_text())
    attach(client, repo, digest, json.dumps(grype).encode(), "application/vnd.grype+json")
    assert formats(gate_cli, ref) == ["registry"]
    assert formats(gate_cli, ref, "--attached") == ["registry", "grype-json"]


def test_an_attached_artifact_gate_does_not_know_is_left_out(gate_cli: Any, image: Any) -> None:
    client, repo, digest, ref = image
    attach(client, repo, digest, b'{"some": "thing"}', "application/vnd.example+json")
    attach(client, repo, digest, b"\x00binary", "application/octet-stream")
    assert formats(gate_cli, ref, "--attached") == ["registry"]


def test_a_malformed_attached_report_is_no_verdict(gate_cli: Any, image: Any) -> None:
    client, repo, digest, ref = image
    grype = json.loads((ROOT / "fixtures/reports/grype/empty.json").read_text())
    grype["matches"] = [{"vulnerability": 5}]  # recognised as Grype, then refused
    attach(client, repo, digest, json.dumps(grype).encode(), "application/vnd.grype+json")
    result = gate_cli("check", ref, "--attached", "--stage", "dev")
    assert result.code == 3
    assert result.err.startswith("error: registry://") and "#1" in result.err


def test_a_file_also_attached_is_read_once(gate_cli: Any, image: Any) -> None:
    client, repo, digest, ref = image
    path = ROOT / "fixtures/reports/grype/empty.json"
    attach(client, repo, digest, path.read_bytes(), "application/vnd.grype+json")
    assert formats(gate_cli, ref, path, "--attached") == ["registry", "grype-json"]


def test_type_does_not_apply_to_a_registry_input(gate_cli: Any, image: Any) -> None:
    _, _, _, ref = image
    result = gate_cli("check", ref, "--type", "trivy-json")
    assert result.code == 2
    assert "read from a registry" in result.err


def test_a_platform_the_image_is_not_is_refused(gate_cli: Any, image: Any) -> None:
    _, _, _, ref = image
    result = gate_cli("check", ref, "--platform", "linux/arm64", "--stage", "dev")
    assert result.code == 3 and "not linux/arm64" in result.err
    bad = gate_cli("check", ref, "--platform", "arm64", "--stage", "dev")
    assert bad.code == 2 and "OS/ARCH" in bad.err


def test_a_digest_pinned_reference_reads_that_digest(gate_cli: Any, image: Any) -> None:
    client, repo, digest, ref = image
    push_test_image(client, repo, "1.0.0", layers=[b"moved"])  # the tag moves on
    pinned = ref.replace(":1.0.0", f":1.0.0@{digest}")
    result = gate_cli("normalize", pinned)
    assert result.code == 0, result.err
    assert json.loads(result.out)["subject"]["digest"] == digest
