"""The README's staging -> prod demo, kept true: the same steps on a real registry.

The image is the OCI layout ``fixtures/oci/hello`` and the evidence is ``fixtures/demo/``
(both from ``scripts/make_demo_image.py``), judged by the DEFAULT policy pack, no relaxed
data. The layout is pushed with gate's own client (always) and with skopeo (when installed,
as the README does); ``scripts/demo_promotion.sh`` itself runs end to end when
docker-registry and skopeo are both installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from services import unavailable

from gate.registry.client import RegistryClient, sha256_digest
from registry.support import push_test_image, registry_available

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = ROOT / "fixtures/oci/hello"
DEMO = ROOT / "fixtures/demo"
REPORTS = [DEMO / f"hello.{kind}.json" for kind in ("grype", "syft", "slsa", "cosign")]
SIGN = ("--sign-key", ROOT / "fixtures/keys/release.key")
TRUST = ("--trust-key", ROOT / "fixtures/keys/release.pub")
UNTRUSTED = ("--trust-key", ROOT / "fixtures/keys/other.pub")
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
SKOPEO = shutil.which("skopeo")


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_demo_image", ROOT / "scripts/make_demo_image.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def layout_digest() -> str:
    index = json.loads((LAYOUT / "index.json").read_bytes())
    (entry,) = index["manifests"]
    assert entry["annotations"]["org.opencontainers.image.ref.name"] == "1.0.0"
    digest: str = entry["digest"]
    return digest


def blob(digest: str) -> bytes:
    data = (LAYOUT / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()
    assert sha256_digest(data) == digest, f"blob {digest} of the layout is not its content"
    return data


def files_under(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


# --- the fixtures ------------------------------------------------------------------------


def test_the_script_rewrites_the_committed_fixtures_byte_for_byte(tmp_path: Path) -> None:
    script = load_script()
    script.main(["--layout", str(tmp_path / "oci"), "--reports", str(tmp_path / "demo")])
    assert files_under(tmp_path / "oci") == files_under(LAYOUT)
    assert files_under(tmp_path / "demo") == files_under(DEMO)


def test_the_layout_is_small_and_every_report_names_its_digest() -> None:
    digest = layout_digest()
    manifest = json.loads(blob(digest))
    referenced = [manifest["config"], *manifest["layers"]]
    for descriptor in referenced:
        assert len(blob(descriptor["digest"])) == descriptor["size"]
    stored = {p.name for p in (LAYOUT / "blobs/sha256").iterdir()}
    assert stored == {
        d["digest"].removeprefix("sha256:") for d in [*referenced, {"digest": digest}]
    }
    assert sum(len(data) for data in files_under(LAYOUT).values()) < 4096
    config = json.loads(blob(manifest["config"]["digest"]))
    assert config["config"]["User"] not in ("", "0", "root")
    hexits = digest.removeprefix("sha256:")
    for report in REPORTS:
        assert hexits in report.read_text() + _cosign_payload(report).decode(), report.name


def _cosign_payload(report: Path) -> bytes:
    import base64

    return base64.b64decode(json.loads(report.read_text()).get("Payload", ""))


# --- the flow on a real registry ---------------------------------------------------------


def push_layout(client: RegistryClient, repository: str, tag: str) -> str:
    """Push the layout as skopeo does: its blobs, then its manifest bytes unchanged."""
    digest = layout_digest()
    raw = blob(digest)
    manifest = json.loads(raw)
    for descriptor in [manifest["config"], *manifest["layers"]]:
        client.push_blob(repository, blob(descriptor["digest"]))
    return client.put_manifest(repository, tag, raw, OCI_MANIFEST).digest


def push_with_skopeo(host: str, repository: str, tag: str) -> None:
    assert SKOPEO is not None
    subprocess.run(
        [SKOPEO, "copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests",
         f"oci:{LAYOUT}:1.0.0", f"docker://{host}/{repository}:{tag}"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def skopeo_digest(host: str, repository: str, tag: str) -> str:
    assert SKOPEO is not None
    done = subprocess.run(
        [SKOPEO, "inspect", "--tls-verify=false", "--format", "{{.Digest}}",
         f"docker://{host}/{repository}:{tag}"],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return done.stdout.strip()


class Demo:
    """The README's steps against one repository, through the real entry point."""

    def __init__(self, gate_cli: Any, host: str, repository: str) -> None:
        self.gate, self.host, self.repository = gate_cli, host, repository
        self.client = RegistryClient(host)

    def ref(self, tag: str) -> str:
        return f"registry://{self.host}/{self.repository}:{tag}"

    def tag(self, tag: str) -> str | None:
        return self.client.find_manifest(self.repository, tag)

    def dev(self) -> Any:
        return self.gate(
            "check", self.ref("1.0.0"), *REPORTS, "--stage", "dev", "--attach", *SIGN, *TRUST,
            "--at", "2024-10-14T12:00:00Z", "-f", "json",
        )  # fmt: skip

    def promote(self, source: str, to: list[str], stage: str, at: str, *keys: Any) -> Any:
        destinations = [arg for tag in to for arg in ("--to", tag)]
        return self.gate(
            "promote", *REPORTS, "--image", self.ref(source), *destinations, "--stage", stage,
            *SIGN, *keys, "--at", at, "-f", "json",
        )  # fmt: skip

    def verdicts(self, tag: str, *keys: Any) -> list[tuple[str, str, str, str, bool]]:
        listed = self.gate("verdicts", self.ref(tag), *keys, "-f", "json")
        assert listed.code == 0, listed.err
        return [
            (v["evaluated_at"], v["stage"], v["decision"], v["signature"], v["about_subject"])
            for v in json.loads(listed.out)["verdicts"]
        ]


def violations(result: Any) -> set[str]:
    return {v["id"] for v in json.loads(result.out)["violations"]}


def run_the_demo(demo: Demo, digest: str) -> None:
    """Every step of scripts/demo_promotion.sh, with what the README says of each."""
    dev = demo.dev()
    assert dev.code == 0, dev.err
    assert json.loads(dev.out)["subject"]["digest"] == digest
    assert "verdict attached: " in dev.err + dev.out

    skipped = demo.promote("1.0.0", ["1.0.0-prod"], "prod", "2024-10-14T12:30:00Z", *TRUST)
    assert skipped.code == 1, skipped.err
    assert violations(skipped) == {"promotion-order"}
    assert "found verdicts only for stages: dev" in json.loads(skipped.out)["violations"][0]["msg"]
    assert demo.tag("1.0.0-prod") is None

    staging = demo.promote("1.0.0", ["1.0.0-staging"], "staging", "2024-10-14T13:00:00Z", *TRUST)
    assert staging.code == 0, staging.err
    assert demo.tag("1.0.0-staging") == digest

    prod = demo.promote(
        "1.0.0-staging", ["1.0.0-prod", "1.0", "1"], "prod", "2024-10-14T14:00:00Z", *TRUST
    )
    assert prod.code == 0, prod.err
    verdict = json.loads(prod.out)
    assert verdict["warnings"] == [] and verdict["subject"]["digest"] == digest
    assert verdict["violations"] == []  # signature-required (deny in prod) found it verified
    assert verdict["promotion"]["written"] == [demo.ref(t) for t in ("1.0.0-prod", "1.0", "1")]
    source = demo.client.get_manifest(demo.repository, digest).raw
    for tag in ("1.0.0", "1.0.0-staging", "1.0.0-prod", "1.0", "1"):
        assert demo.tag(tag) == digest
        assert demo.client.get_manifest(demo.repository, tag).raw == source

    assert demo.verdicts("1.0.0-prod", *TRUST) == [
        ("2024-10-14T12:00:00Z", "dev", "pass", "verified", True),
        ("2024-10-14T12:30:00Z", "prod", "fail", "verified", True),
        ("2024-10-14T13:00:00Z", "staging", "pass", "verified", True),
        ("2024-10-14T14:00:00Z", "prod", "pass", "verified", True),
    ]
    table = demo.gate("verdicts", demo.ref("1.0.0-prod"), *TRUST)
    assert f"{digest}: 4 verdict(s)" in table.out

    untrusted = demo.promote(
        "1.0.0-staging", ["1.0.0-prod"], "prod", "2024-10-14T14:00:00Z", *UNTRUSTED
    )
    assert untrusted.code == 1, untrusted.err
    # the staging verdict and the image signature are both by release.key: neither counts
    assert violations(untrusted) == {"promotion-order", "signature-required"}
    order = next(v for v in json.loads(untrusted.out)["violations"] if v["id"] == "promotion-order")
    assert "signed by an untrusted key" in order["msg"]


@pytest.mark.parametrize("pusher", ["client", "skopeo"])
def test_the_readme_demo_on_a_real_registry(registry: Any, gate_cli: Any, pusher: str) -> None:
    repository = f"demo-{pusher}/hello"
    digest = layout_digest()
    if pusher == "skopeo":
        if SKOPEO is None:
            unavailable("skopeo", "apt-get install skopeo")
        push_with_skopeo(registry.host, repository, "1.0.0")
    else:
        assert push_layout(RegistryClient(registry.host), repository, "1.0.0") == digest
    demo = Demo(gate_cli, registry.host, repository)
    assert demo.tag("1.0.0") == digest  # the digest every report names
    run_the_demo(demo, digest)
    if pusher == "skopeo":
        for tag in ("1.0.0-staging", "1.0.0-prod", "1.0", "1"):
            assert skopeo_digest(registry.host, repository, tag) == digest


def test_the_demo_evidence_does_not_pass_another_image(registry: Any, gate_cli: Any) -> None:
    """Someone pushes their own image under the demo's name and gives the demo's reports:
    they are about another digest, so staging has no scan, SBOM or provenance of it."""
    repository = "demo-impostor/hello"
    labels = json.loads(blob(json.loads(blob(layout_digest()))["config"]["digest"]))["config"]
    push_test_image(RegistryClient(registry.host), repository, "1.0.0", config={"config": labels})
    demo = Demo(gate_cli, registry.host, repository)
    staging = demo.promote("1.0.0", ["1.0.0-staging"], "staging", "2024-10-14T13:00:00Z", *TRUST)
    assert staging.code == 1, staging.err
    assert "evidence-not-about-image" in violations(staging)
    assert demo.tag("1.0.0-staging") is None


@pytest.fixture
def registry_and_skopeo() -> None:
    """The demo script starts its own registry and pushes with skopeo."""
    if not registry_available():
        unavailable("docker-registry", "apt-get install docker-registry")
    if SKOPEO is None:
        unavailable("skopeo", "apt-get install skopeo")


def run_demo_script(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # the script finds gate, docker-registry and skopeo on PATH, as a reader's shell does
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return subprocess.run(
        ["bash", str(ROOT / "scripts/demo_promotion.sh")],
        capture_output=True, text=True, timeout=600, cwd=cwd,
        env={**os.environ, "PATH": path, **env},
    )  # fmt: skip


@pytest.mark.usefixtures("registry_and_skopeo")
def test_the_demo_script_end_to_end(tmp_path: Path) -> None:
    done = run_demo_script(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.rstrip().endswith("demo: every step did what the README says")
    assert ": 4 verdict(s)" in done.stdout
    assert done.stdout.count("not promoted: the gate failed") == 2


@pytest.mark.usefixtures("registry_and_skopeo")
def test_the_demo_script_never_talks_to_whatever_holds_its_port(tmp_path: Path) -> None:
    """A connection to the port is not proof of the registry: it must say it listens."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        done = run_demo_script(tmp_path, DEMO_PORT=str(port))
    assert done.returncode == 1
    assert f"the registry did not start on 127.0.0.1:{port}" in done.stderr
    assert "skopeo copy" not in done.stdout
