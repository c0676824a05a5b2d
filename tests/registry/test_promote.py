"""Scenarios of `gate promote`, `check --attach`, `gate verdicts` on a real registry.

Each test pushes its own image (a repository of its own) to the session's Distribution
registry on loopback and drives the real entry point. The policy data used here leaves only
the rules under test in force, so that each scenario says exactly why it passes or fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.registry.client import RegistryClient
from gate.signing import cosign_payload, load_signing_key, sign_cosign
from registry.support import attach_artifact, canonical, push_test_image, sha256_digest

ROOT = Path(__file__).resolve().parents[2]
RELEASE_KEY = ROOT / "fixtures/keys/release.key"
RELEASE_PUB = ROOT / "fixtures/keys/release.pub"
OTHER_KEY = ROOT / "fixtures/keys/other.key"
OTHER_PUB = ROOT / "fixtures/keys/other.pub"
IN_FORCE = {
    "staging": ("image-root-user",),
    "prod": ("promotion-order", "signature-required", "image-root-user"),
}
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    """Policy data: every rule off but the ones under test (deny): staging judges the image
    itself, prod also wants the staging verdict and a signature."""
    bundled = json.loads((ROOT / "policies/data.json").read_text())
    stages = {}
    for stage, config in bundled["gate_config"]["stages"].items():
        actions = dict.fromkeys(config["actions"], "off")
        actions.update(dict.fromkeys(IN_FORCE.get(stage, ()), "deny"))
        stages[stage] = {"actions": actions}
    path = tmp_path / "only-promotion.json"
    path.write_text(json.dumps({"gate_config": {"stages": stages}}))
    return path


class Repo:
    """One test repository in a registry: push images, read tags, run gate on it."""

    def __init__(self, registry: Any, name: str, gate_cli: Any, data: Path) -> None:
        self.registry, self.name, self.gate, self.data = registry, name, gate_cli, data
        self.client = RegistryClient(registry.host)

    def ref(self, tag: str | None = None, digest: str | None = None) -> str:
        text = f"registry://{self.registry.host}/{self.name}"
        return text + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")

    def push(self, tag: str, **kwargs: Any) -> str:
        digest, _ = push_test_image(self.client, self.name, tag, **kwargs)
        return digest

    def tag(self, tag: str) -> str | None:
        return self.client.find_manifest(self.name, tag)

    def sign(self, digest: str, key: Path = RELEASE_KEY, tamper: bool = False) -> None:
        """Push a cosign key-based signature of ``digest`` under ``sha256-<hex>.sig``."""
        payload = cosign_payload(f"{self.registry.host}/{self.name}", digest)
        signature = sign_cosign(payload, load_signing_key(str(key)))
        if tamper:
            payload = payload.replace(b'"optional":null', b'"optional":{"x":"y"}')
        self.client.push_blob(self.name, b"{}")
        self.client.push_blob(self.name, payload)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha256_digest(b"{}"),
                "size": 2,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                    "digest": sha256_digest(payload),
                    "size": len(payload),
                    "annotations": {"dev.cosignproject.cosign/signature": signature},
                }
            ],
        }
        tag = digest.replace(":", "-") + ".sig"
        self.client.put_manifest(self.name, tag, canonical(manifest), OCI_MANIFEST)

    def promote(self, source: str, *args: str | Path) -> Any:
        return self.gate(
            "promote", "--image", self.ref(source), "--data", self.data, "-f", "json", *args
        )


@pytest.fixture
def repo(registry: Any, gate_cli: Any, data_file: Path, request: pytest.FixtureRequest) -> Repo:
    name = request.node.name.lower()[:60].rstrip("_.-")
    return Repo(registry, f"scenario/{name}", gate_cli, data_file)


def verdict_of(result: Any) -> dict[str, Any]:
    return json.loads(result.out)


def rule_ids(verdict: dict[str, Any], level: str = "violations") -> set[str]:
    return {r["id"] for r in verdict[level]}


# --- the registry as an input -------------------------------------------------------------


def test_registry_input_fills_subject_and_image_by_digest(repo: Repo) -> None:
    digest = repo.push("1.0.0", config={"config": {"User": "app", "Labels": {"team": "shop"}}})
    result = repo.gate("normalize", repo.ref("1.0.0"))
    assert result.code == 0, result.err
    document = json.loads(result.out)
    subject = document["subject"]
    assert subject["digest"] == digest
    assert subject["registry"] == repo.registry.host
    assert subject["repository"] == repo.name and subject["tag"] == "1.0.0"
    assert subject["image_id"].startswith("sha256:")
    assert document["image"]["user"] == "app"
    assert document["image"]["labels"] == {"team": "shop"}
    assert document["image"]["layers"][0]["media_type"].endswith("tar+gzip")
    scan = document["scans"][0]
    assert scan["format"] == "registry" and scan["evidence"]["match"] == "defines"
    assert document["promotion"]["enforced"] is True


def test_index_picks_the_platform_and_records_the_index_digest(repo: Repo) -> None:
    index = repo.push("2.0.0", platforms=["linux/amd64", "linux/arm64"])
    amd = repo.gate("normalize", repo.ref("2.0.0"))
    arm = repo.gate("normalize", repo.ref("2.0.0"), "--platform", "linux/arm64")
    assert amd.code == 0 and arm.code == 0, amd.err + arm.err
    amd_subject, arm_subject = (json.loads(r.out)["subject"] for r in (amd, arm))
    assert amd_subject["index_digest"] == arm_subject["index_digest"] == index
    assert len({index, amd_subject["digest"], arm_subject["digest"]}) == 3
    assert json.loads(arm.out)["image"]["architecture"] == "arm64"
    missing = repo.gate("check", repo.ref("2.0.0"), "--platform", "linux/s390x", "--stage", "dev")
    assert missing.code == 3
    assert "no manifest for linux/s390x" in missing.err and "linux/arm64" in missing.err


def test_missing_image_is_no_verdict(repo: Repo) -> None:
    result = repo.gate("check", repo.ref("nope"), "--stage", "dev")
    assert result.code == 3
    assert result.err.startswith("error: ") and "not found" in result.err


def test_scan_of_another_image_contradicts_the_registry_image(repo: Repo, tmp_path: Path) -> None:
    repo.push("1.0.0")
    inspect = json.loads((ROOT / "fixtures/image/inspect.json").read_text())
    other = tmp_path / "inspect.json"
    other.write_text(json.dumps(inspect))
    result = repo.gate("check", repo.ref("1.0.0"), other, "--stage", "dev")
    assert result.code == 3
    assert "differ" in result.err


# --- promote ------------------------------------------------------------------------------


def test_failing_image_is_not_promoted_and_its_verdict_is_attached(repo: Repo) -> None:
    digest = repo.push("1.0.0", config={"config": {"User": ""}})  # root: image-root-user
    result = repo.promote("1.0.0", "--to", "1.0.0-staging", "--stage", "staging")
    assert result.code == 1, result.err
    verdict = verdict_of(result)
    assert "image-root-user" in rule_ids(verdict)
    assert repo.tag("1.0.0-staging") is None
    assert verdict["promotion"]["written"] == []
    assert "not promoted" in result.err
    listed = repo.gate("verdicts", repo.ref("1.0.0"), "-f", "json")
    found = json.loads(listed.out)["verdicts"]
    assert [(v["stage"], v["decision"], v["signature"]) for v in found] == [
        ("staging", "fail", "unsigned")
    ]
    assert found[0]["subject_digests"] == [digest]


def test_passing_image_gets_every_tag_with_the_same_digest(repo: Repo) -> None:
    digest = repo.push("1.2.3")
    before = repo.client.get_manifest(repo.name, digest).raw
    result = repo.promote(
        "1.2.3", "--to", "1.2.3-staging", "--to", "1.2", "--to", "1", "--stage", "staging"
    )
    assert result.code == 0, result.err
    for tag in ("1.2.3-staging", "1.2", "1"):
        assert repo.tag(tag) == digest
        assert repo.client.get_manifest(repo.name, tag).raw == before
    record = verdict_of(result)["promotion"]
    assert record["digest"] == digest
    assert len(record["written"]) == 3
    assert f"promoted {digest} to " in result.err


def test_dry_run_writes_nothing(repo: Repo) -> None:
    digest = repo.push("1.0.0")
    result = repo.promote("1.0.0", "--to", "1.0.0-staging", "--stage", "staging", "--dry-run")
    assert result.code == 0, result.err
    assert repo.tag("1.0.0-staging") is None
    assert verdict_of(result)["promotion"]["dry_run"] is True
    assert repo.client.referrers(repo.name, digest) == []


def test_immutable_tag_pointing_elsewhere_is_refused_unless_forced(repo: Repo) -> None:
    old = repo.push("0.9.0", layers=[b"old"])
    new = repo.push("1.0.0", layers=[b"new"])
    repo.client.put_manifest(
        repo.name, "1.0.0-staging", repo.client.get_manifest(repo.name, old).raw, OCI_MANIFEST
    )
    refused = repo.promote("1.0.0", "--to", "1.0.0-staging", "--to", "1.0", "--stage", "staging")
    assert refused.code == 1
    assert repo.tag("1.0.0-staging") == old and repo.tag("1.0") is None
    assert "refused:" in refused.err and old in refused.err
    assert repo.client.referrers(repo.name, new) == []  # nothing changed, not even a verdict
    forced = repo.promote("1.0.0", "--to", "1.0.0-staging", "--stage", "staging", "--force")
    assert forced.code == 0, forced.err
    assert repo.tag("1.0.0-staging") == new
    record = verdict_of(forced)["promotion"]
    assert record["forced"] == [{"tag": repo.ref("1.0.0-staging"), "previous_digest": old}]


def test_floating_tag_moves_without_force(repo: Repo) -> None:
    old = repo.push("1.1.0", layers=[b"a"])
    repo.client.put_manifest(
        repo.name, "1", repo.client.get_manifest(repo.name, old).raw, OCI_MANIFEST
    )
    new = repo.push("1.2.0", layers=[b"b"])
    result = repo.promote("1.2.0", "--to", "1", "--stage", "staging")
    assert result.code == 0, result.err
    assert repo.tag("1") == new


def test_promotion_to_another_repository_and_registry(repo: Repo, second_registry: Any) -> None:
    digest = repo.push("1.0.0", platforms=["linux/amd64", "linux/arm64"])
    other_repo = f"registry://{repo.registry.host}/prod/{repo.name.split('/')[-1]}:1.0.0"
    other_registry = f"registry://{second_registry.host}/mirror/api:1.0.0"
    result = repo.promote("1.0.0", "--to", other_repo, "--to", other_registry, "--stage", "staging")
    assert result.code == 0, result.err
    same = RegistryClient(repo.registry.host)
    mirror = RegistryClient(second_registry.host)
    assert same.find_manifest(f"prod/{repo.name.split('/')[-1]}", "1.0.0") == digest
    assert mirror.find_manifest("mirror/api", "1.0.0") == digest
    assert (
        mirror.get_manifest("mirror/api", "1.0.0").raw
        == repo.client.get_manifest(repo.name, digest).raw
    )
    # the verdict follows the image: the next stage finds it where the image now is
    listed = repo.gate("verdicts", other_registry, "-f", "json")
    assert [v["decision"] for v in json.loads(listed.out)["verdicts"]] == ["pass"]


# --- stage order and signatures -----------------------------------------------------------


def _staging_then_prod(repo: Repo, staging_key: Path | None, *prod_args: str | Path) -> Any:
    digest = repo.push("3.0.0")
    repo.sign(digest)
    staging = ["--sign-key", staging_key] if staging_key else []
    first = repo.promote(
        "3.0.0",
        "--to",
        "3.0.0-staging",
        "--stage",
        "staging",
        "--trust-key",
        RELEASE_PUB,
        *staging,
    )
    assert first.code == 0, first.err
    return repo.promote("3.0.0-staging", "--to", "3.0.0-prod", "--stage", "prod", *prod_args)


def test_prod_without_a_staging_verdict_fails(repo: Repo) -> None:
    digest = repo.push("3.0.0")
    repo.sign(digest)
    result = repo.promote(
        "3.0.0", "--to", "3.0.0-prod", "--stage", "prod", "--trust-key", RELEASE_PUB
    )
    assert result.code == 1
    assert rule_ids(verdict_of(result)) == {"promotion-order"}
    assert repo.tag("3.0.0-prod") is None


def test_prod_with_a_signed_staging_verdict_passes(repo: Repo) -> None:
    result = _staging_then_prod(repo, RELEASE_KEY, "--trust-key", RELEASE_PUB)
    assert result.code == 0, result.err
    assert repo.tag("3.0.0-prod") == repo.tag("3.0.0")
    listed = repo.gate("verdicts", repo.ref("3.0.0-prod"), "--trust-key", RELEASE_PUB)
    assert listed.code == 0
    assert "staging  pass      verified" in listed.out and "prod     pass" in listed.out


def test_prod_with_a_staging_verdict_signed_by_an_untrusted_key_fails(repo: Repo) -> None:
    result = _staging_then_prod(repo, OTHER_KEY, "--trust-key", RELEASE_PUB)
    assert result.code == 1
    verdict = verdict_of(result)
    assert rule_ids(verdict) == {"promotion-order"}
    assert repo.tag("3.0.0-prod") is None


def test_prod_with_an_unsigned_staging_verdict_fails_when_keys_are_trusted(repo: Repo) -> None:
    result = _staging_then_prod(repo, None, "--trust-key", RELEASE_PUB)
    assert result.code == 1
    assert "promotion-order" in rule_ids(verdict_of(result))


def _signature_states(repo: Repo, tag: str, key: Path) -> list[tuple[str, bool]]:
    result = repo.gate("normalize", repo.ref(tag), "--trust-key", key)
    assert result.code == 0, result.err
    return [(s["state"], s["about_subject"]) for s in json.loads(result.out)["signatures"]]


def test_cosign_signature_verifies_and_a_tampered_one_does_not(repo: Repo) -> None:
    digest = repo.push("4.0.0")
    repo.sign(digest)
    assert _signature_states(repo, "4.0.0", RELEASE_PUB) == [("verified", True)]
    assert _signature_states(repo, "4.0.0", OTHER_PUB) == [("invalid", True)]
    check = ("check", repo.ref("4.0.0"), "--data", repo.data, "--stage", "prod", "-f", "json")
    assert "signature-required" not in rule_ids(
        verdict_of(repo.gate(*check, "--trust-key", RELEASE_PUB))
    )
    assert "signature-required" in rule_ids(verdict_of(repo.gate(*check, "--trust-key", OTHER_PUB)))
    other = repo.push("4.0.1", layers=[b"other"])
    repo.sign(other, tamper=True)
    assert _signature_states(repo, "4.0.1", RELEASE_PUB) == [("invalid", True)]
    tampered = repo.gate(
        "check", repo.ref("4.0.1"), "--data", repo.data, "--stage", "prod", "-f", "json",
        "--trust-key", RELEASE_PUB,
    )  # fmt: skip
    assert "signature-required" in rule_ids(verdict_of(tampered))


def test_signature_of_another_digest_does_not_count(repo: Repo) -> None:
    signed = repo.push("4.1.0", layers=[b"signed"])
    unsigned = repo.push("4.1.1", layers=[b"unsigned"])
    repo.sign(signed)
    # copy the signature of the signed image to the unsigned one's signature tag
    signatures = repo.client.get_manifest(repo.name, signed.replace(":", "-") + ".sig")
    repo.client.put_manifest(
        repo.name, unsigned.replace(":", "-") + ".sig", signatures.raw, OCI_MANIFEST
    )
    assert _signature_states(repo, "4.1.1", RELEASE_PUB) == [("verified", False)]


def test_check_attach_pushes_a_signed_verdict(repo: Repo) -> None:
    digest = repo.push("5.0.0")
    result = repo.gate(
        "check",
        repo.ref("5.0.0"),
        "--data",
        repo.data,
        "--stage",
        "dev",
        "--attach",
        "--sign-key",
        RELEASE_KEY,
    )
    assert result.code == 0, result.err
    assert "verdict attached: " in result.out
    listed = json.loads(
        repo.gate("verdicts", repo.ref(digest=digest), "-f", "json", "--trust-key", RELEASE_PUB).out
    )
    assert [(v["stage"], v["signature"]) for v in listed["verdicts"]] == [("dev", "verified")]


def test_attach_needs_a_registry_image(gate_cli: Any) -> None:
    result = gate_cli("check", ROOT / "fixtures/image/inspect.json", "--attach")
    assert result.code == 2
    assert "--attach needs the image read from its registry" in result.err


def test_attached_sbom_is_read_with_attached(repo: Repo, data_file: Path) -> None:
    digest = repo.push("6.0.0")
    sbom = json.loads((ROOT / "fixtures/scenarios/clean/sbom.syft.json").read_text())
    sbom["source"] = {
        "type": "image",
        "target": {
            "userInput": f"{repo.registry.host}/{repo.name}@{digest}",
            "manifestDigest": digest,
            "imageID": "",
        },
    }
    raw = json.dumps(sbom).encode()
    _attach(repo, digest, raw, "application/vnd.syft+json")
    args = ("normalize", repo.ref("6.0.0"))
    plain = json.loads(repo.gate(*args).out)
    assert [s["format"] for s in plain["scans"]] == ["registry"]
    checked = repo.gate(
        "check",
        repo.ref("6.0.0"),
        "--attached",
        "--stage",
        "dev",
        "-f",
        "json",
        "--data",
        data_file,
    )
    assert checked.code == 0, checked.err
    files = [f["format"] for f in verdict_of(checked)["input"]["files"]]
    assert files == ["registry", "syft-json"]


def _attach(repo: Repo, subject: str, raw: bytes, artifact_type: str) -> None:
    attach_artifact(repo.client, repo.name, subject, raw, artifact_type)


def test_a_verdict_about_another_digest_attached_here_does_not_count(repo: Repo) -> None:
    """Someone with push access copies a passing staging verdict of another image onto this
    one (the artifact's subject is this digest; the signed statement names the other)."""
    other = repo.push("7.0.0", layers=[b"good image"])
    repo.sign(other)
    assert (
        repo.promote(
            "7.0.0",
            "--to",
            "7.0.0-staging",
            "--stage",
            "staging",
            "--sign-key",
            RELEASE_KEY,
            "--trust-key",
            RELEASE_PUB,
        ).code
        == 0
    )
    target = repo.push("7.6.6", layers=[b"bad image"])
    repo.sign(target)
    listed = json.loads(repo.gate("verdicts", repo.ref(digest=other), "-f", "json").out)
    assert listed["verdicts"]
    referrers = repo.client.referrers(repo.name, other)
    stolen = repo.client.get_manifest(repo.name, referrers[0]["digest"]).document()
    layer = stolen["layers"][0]
    envelope = repo.client.get_blob(repo.name, layer["digest"], layer["size"])
    _attach(repo, target, envelope, "application/vnd.gate.verdict.v1+json")
    result = repo.promote(
        "7.6.6", "--to", "7.6.6-prod", "--stage", "prod", "--trust-key", RELEASE_PUB
    )
    assert result.code == 1
    assert rule_ids(verdict_of(result)) == {"promotion-order"}
    assert (
        "not this image" in verdict_of(result)["violations"][0]["msg"]
        or other[:19] in (verdict_of(result)["violations"][0]["msg"])
    )


# --- authentication -----------------------------------------------------------------------


def test_promote_on_an_authenticated_registry(
    auth_registry: Any, gate_cli: Any, data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry.support import TEST_PASSWORD, TEST_USERNAME

    env = {"GATE_REGISTRY_USERNAME": TEST_USERNAME, "GATE_REGISTRY_PASSWORD": TEST_PASSWORD}
    from gate.registry.client import RegistryOptions

    client = RegistryClient(auth_registry.host, RegistryOptions(env=env))
    digest, _ = push_test_image(client, "auth/api", "1.0.0")
    image = f"registry://{auth_registry.host}/auth/api:1.0.0"
    monkeypatch.delenv("GATE_REGISTRY_USERNAME", raising=False)
    monkeypatch.delenv("GATE_REGISTRY_PASSWORD", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(Path("/nonexistent-docker-config")))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    anonymous = gate_cli("check", image, "--stage", "dev")
    assert anonymous.code == 3
    assert "authentication" in anonymous.err
    monkeypatch.setenv("GATE_REGISTRY_USERNAME", TEST_USERNAME)
    monkeypatch.setenv("GATE_REGISTRY_PASSWORD", "wrong-" + TEST_PASSWORD)
    wrong = gate_cli("check", image, "--stage", "dev")
    assert wrong.code == 3 and TEST_PASSWORD not in wrong.err + wrong.out
    monkeypatch.setenv("GATE_REGISTRY_PASSWORD", TEST_PASSWORD)
    promoted = gate_cli(
        "promote",
        "--image",
        image,
        "--to",
        "1.0.0-staging",
        "--stage",
        "staging",
        "--data",
        data_file,
        "--trust-key",
        RELEASE_PUB,
        "-f",
        "json",
    )
    assert promoted.code == 0, promoted.err
    assert TEST_PASSWORD not in promoted.out + promoted.err
    assert client.find_manifest("auth/api", "1.0.0-staging") == digest
    assert client.referrers("auth/api", digest)


def test_the_promotion_is_recorded_in_the_decision_log(repo: Repo, tmp_path: Path) -> None:
    import sqlite3

    digest = repo.push("1.2.4")
    database = tmp_path / "decisions.db"
    result = repo.promote(
        "1.2.4", "--to", "1.2.4-staging", "--stage", "staging", "--log", f"sqlite:///{database}"
    )
    assert result.code == 0, result.err
    with sqlite3.connect(database) as connection:
        [(decision, subject, verdict)] = connection.execute(
            "SELECT decision, subject_digest, verdict_json FROM decisions"
        ).fetchall()
    assert (decision, subject) == ("pass", digest)
    assert json.loads(verdict)["promotion"]["written"] == [repo.ref("1.2.4-staging")]


def test_an_unreachable_log_stops_the_promotion_before_any_tag_moves(repo: Repo) -> None:
    repo.push("1.2.5")
    result = repo.promote(
        "1.2.5", "--to", "1.2.5-staging", "--stage", "staging", "--log",
        "postgresql://gate:pw@127.0.0.1:1/gate",
    )  # fmt: skip
    assert result.code == 3
    assert repo.tag("1.2.5-staging") is None
