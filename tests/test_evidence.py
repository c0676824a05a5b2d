"""Evidence counts only when it is about the image being gated (issue 7 §1).

Every test runs the real CLI on the passing prod set (an empty Grype scan, docker inspect, a
Syft SBOM and SLSA provenance of ghcr.io/acme/shop-api:1.4.2, judged on the day it was
scanned) with one piece of evidence replaced by something hostile.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import fixture

from gate.document import Subject
from gate.evidence import resolve
from gate.sources.base import Fragment

SCAN_DAY = "2024-10-14T12:00:00Z"
GRYPE = fixture("reports/grype/empty.json")
INSPECT = fixture("image/inspect.json")
SBOM = fixture("scenarios/clean/sbom.syft.json")
PROVENANCE = fixture("provenance/slsa-v0.2-statement.json")
SIGNED = (fixture("signatures/shop-api.cosign.json"), "--trust-key", fixture("keys/release.pub"))
"""The image's cosign signature and the key that made it: prod's signature-required."""
SHOP_DIGEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
SHOP_ID = "sha256:9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
OTHER_DIGEST = "sha256:" + "ab" * 32


def as_other_image(source: Path, target: Path) -> Path:
    """``source`` rewritten to be about docker.io/library/nginx with other digests."""
    text = source.read_text()
    for old, new in (
        ("ghcr.io/acme/shop-api", "docker.io/library/nginx"),
        (SHOP_DIGEST[7:], "ab" * 32),
        (SHOP_ID[7:], "cd" * 32),
    ):
        text = text.replace(old, new)
    target.write_text(text)
    return target


def check(gate_cli, *inputs, stage: str = "prod", extra: tuple[str, ...] = ()):
    result = gate_cli("check", *inputs, "--at", SCAN_DAY, "--stage", stage, "-f", "json", *extra)
    verdict = json.loads(result.out) if result.out else None
    return result, verdict


def rule_ids(results: list[dict]) -> set[str]:
    return {r["id"] for r in results}


def messages(results: list[dict], rule: str) -> list[str]:
    return [r["msg"] for r in results if r["id"] == rule]


def test_the_untouched_set_passes(gate_cli):
    result, verdict = check(gate_cli, GRYPE, INSPECT, SBOM, PROVENANCE, *SIGNED)
    assert result.code == 0, result.err
    assert verdict["decision"] == "pass"


def test_an_sbom_of_another_image_does_not_satisfy_sbom_required(gate_cli, tmp_path):
    other = as_other_image(SBOM, tmp_path / "nginx.syft.json")
    result, verdict = check(gate_cli, GRYPE, INSPECT, other, PROVENANCE)
    assert result.code == 1
    assert {"sbom-required", "evidence-not-about-image"} <= rule_ids(verdict["violations"])
    [reported] = messages(verdict["violations"], "evidence-not-about-image")
    # which file, what it names, what the subject is
    assert str(other) in reported
    assert "docker.io/library/nginx" in reported
    assert "ghcr.io/acme/shop-api:1.4.2" in reported


def test_a_67_byte_cyclonedx_is_neither_an_sbom_nor_a_scan(gate_cli):
    tiny = fixture("hostile/cyclonedx-no-subject.json")
    assert tiny.stat().st_size == 67
    result, verdict = check(gate_cli, INSPECT, tiny, PROVENANCE)
    assert result.code == 1
    violations = rule_ids(verdict["violations"])
    assert {"sbom-required", "scan-required", "evidence-not-about-image"} <= violations
    [reported] = messages(verdict["violations"], "evidence-not-about-image")
    assert "it names no image" in reported


@pytest.mark.parametrize(
    "report", ["reports/trivy/null.json", "reports/trivy/legacy-list.json"], ids=["null", "legacy"]
)
def test_a_trivy_report_that_names_nothing_is_no_scan_of_this_image(gate_cli, report):
    result, verdict = check(gate_cli, fixture(report), INSPECT, SBOM, PROVENANCE)
    assert result.code == 1
    assert "scan-required" in rule_ids(verdict["violations"])
    [missing] = messages(verdict["violations"], "scan-required")
    assert missing.endswith(f"not about this image: {fixture(report)}")


def test_a_trivy_report_of_nginx_without_digests_is_no_scan_of_this_image(gate_cli):
    nginx = fixture("hostile/trivy-nginx-no-digests.json")
    result, verdict = check(gate_cli, nginx, INSPECT, SBOM, PROVENANCE)
    assert result.code == 1
    assert {"scan-required", "evidence-not-about-image"} <= rule_ids(verdict["violations"])
    [reported] = messages(verdict["violations"], "evidence-not-about-image")
    assert "docker.io/library/nginx:1.25" in reported
    # nor does its image configuration (USER nginx) speak for the gated image
    assert verdict["subject"]["reference"] == "ghcr.io/acme/shop-api:1.4.2"


def test_a_scan_of_the_same_repository_with_another_digest_is_another_image(gate_cli, tmp_path):
    text = GRYPE.read_text().replace(SHOP_DIGEST[7:], "ab" * 32).replace(SHOP_ID[7:], "cd" * 32)
    rebuilt = tmp_path / "grype-rebuilt.json"
    rebuilt.write_text(text)
    result, verdict = check(gate_cli, rebuilt, INSPECT, SBOM, PROVENANCE)
    assert result.code == 1
    assert {"scan-required", "evidence-not-about-image"} <= rule_ids(verdict["violations"])


def test_an_empty_sbom_is_not_an_sbom_of_anything(gate_cli, tmp_path):
    data = json.loads(SBOM.read_text())
    data["artifacts"] = []
    empty = tmp_path / "empty.syft.json"
    empty.write_text(json.dumps(data))
    result, verdict = check(gate_cli, GRYPE, INSPECT, empty, PROVENANCE)
    assert result.code == 1
    assert "sbom-required" in rule_ids(verdict["violations"])
    [reported] = messages(verdict["violations"], "evidence-not-about-image")
    assert "lists no packages" in reported


def test_evidence_of_another_image_only_warns_in_dev(gate_cli, tmp_path):
    other = as_other_image(SBOM, tmp_path / "nginx.syft.json")
    result, verdict = check(gate_cli, GRYPE, INSPECT, other, PROVENANCE, stage="dev")
    assert result.code == 0, result.err
    assert "evidence-not-about-image" in rule_ids(verdict["warnings"])


def test_vex_about_another_image_takes_nothing_out(gate_cli):
    trivy = fixture("reports/trivy/v2-image.json")
    result, verdict = check(gate_cli, trivy, INSPECT, fixture("vex/openvex-nginx.json"))
    assert result.code == 1
    assert "vex-not-blocking" not in rule_ids(verdict["warnings"])
    assert any(
        "openvex-nginx.json" in m
        for m in messages(verdict["violations"], "evidence-not-about-image")
    )


def test_a_scan_dated_in_the_future_is_not_fresh(gate_cli, tmp_path):
    data = json.loads(GRYPE.read_text())
    data["descriptor"]["timestamp"] = "2024-10-15T12:00:00Z"  # a day after --at
    future = tmp_path / "grype-future.json"
    future.write_text(json.dumps(data))
    result, verdict = check(gate_cli, future, INSPECT, SBOM, PROVENANCE)
    assert result.code == 1
    [stale] = messages(verdict["violations"], "scan-stale")
    assert "after this evaluation" in stale


# --- the subject's identity must agree across inputs -------------------------------


def test_image_option_with_another_digest_than_the_metadata_is_no_verdict(gate_cli):
    result = gate_cli(
        "check",
        GRYPE,
        INSPECT,
        "--image",
        f"ghcr.io/acme/shop-api@{OTHER_DIGEST}",
        "--at",
        SCAN_DAY,
    )
    assert result.code == 3
    assert result.err.startswith("error: ")
    assert "--image" in result.err and str(INSPECT) in result.err
    assert "digests differ" in result.err


def test_two_metadata_files_of_different_images_are_no_verdict(gate_cli):
    config = fixture("image/config.json")  # another image's config blob
    result = gate_cli("check", GRYPE, INSPECT, config, "--at", SCAN_DAY)
    assert result.code == 3
    assert str(config) in result.err and str(INSPECT) in result.err
    assert "image IDs differ" in result.err


def test_image_option_naming_another_repository_than_the_metadata_is_no_verdict(gate_cli):
    result = gate_cli("check", GRYPE, INSPECT, "--image", "ghcr.io/acme/payments:1.4.2")
    assert result.code == 3
    assert "names differ" in result.err


def test_image_option_that_agrees_with_the_metadata_is_fine(gate_cli):
    result, verdict = check(
        gate_cli,
        GRYPE,
        INSPECT,
        SBOM,
        PROVENANCE,
        *SIGNED,
        extra=("--image", f"ghcr.io/acme/shop-api@{SHOP_DIGEST}"),
    )
    assert result.code == 0, result.err
    assert verdict["subject"]["digest"] == SHOP_DIGEST


def test_image_option_alone_names_nothing_the_inputs_prove(gate_cli):
    result = gate_cli("normalize", GRYPE, "--image", "ghcr.io/acme/approved:1.0")
    document = json.loads(result.out)
    assert document["subject"]["reference"] == "ghcr.io/acme/approved:1.0"
    assert document["subject"]["names"] == []  # no input says the image is called that
    assert document["subject"]["digest"] is None  # the scan's digest is of another image
    assert document["scans"][0]["evidence"]["match"] == "other-image"


# --- resolve() directly: cases the fixtures do not reach ----------------------------


def fragment(**fields) -> Fragment:
    return Fragment(format="x", tool="x", **fields)


def test_an_attestation_manifest_does_not_define_the_subject():
    referrer = fragment(
        authority=5, kinds=["metadata", "attestation"], artifact_type="attestation",
        subject=Subject(digest=OTHER_DIGEST),
    )  # fmt: skip
    metadata = fragment(authority=10, kinds=["metadata"], subject=Subject(digest=SHOP_DIGEST))
    resolution = resolve([referrer, metadata], ["referrer.json", "inspect.json"])
    assert resolution.subject.digest == SHOP_DIGEST
    assert resolution.evidence[0].match == "other-image"


def test_evidence_with_only_a_name_cannot_be_compared_with_an_image_known_by_digest():
    config = fragment(authority=10, kinds=["metadata"], subject=Subject(image_id=SHOP_ID))
    named = fragment(
        kinds=["vulnerability"],
        subject=Subject(
            reference="ghcr.io/acme/shop-api:1", registry="ghcr.io", repository="acme/shop-api"
        ),
    )
    resolution = resolve([config, named], ["config.json", "scan.json"])
    assert resolution.evidence[1].match == "unverifiable"
    assert resolution.evidence[1].counts_for == []


# --- a waiver's image scope is matched against what the inputs prove -----------------


def waiver_file(tmp_path: Path, image: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(
        "waivers:\n"
        "  - rule: image-root-user\n"
        f"    image: '{image}'\n"
        "    reason: r\n    owner: o\n    expires: 2099-01-01\n"
    )
    return path


def test_an_image_scoped_waiver_is_not_satisfied_by_the_image_option_alone(gate_cli, tmp_path):
    root = fixture("image/inspect-root.json")
    waivers = waiver_file(tmp_path, "ghcr.io/acme/approved:*")
    result = gate_cli(
        "check", root, "--stage", "dev", "--at", SCAN_DAY, "-f", "json", "-w", waivers,
        "--image", "ghcr.io/acme/approved:1.0",
    )  # fmt: skip
    # the metadata names shop-api: --image cannot rename the image to pick up the waiver
    assert result.code == 3
    assert "names differ" in result.err


def test_an_image_scoped_waiver_applies_to_a_name_the_metadata_gives(gate_cli, tmp_path):
    root = fixture("image/inspect-root.json")
    waivers = waiver_file(tmp_path, "ghcr.io/acme/shop-api:*")
    result, verdict = check(gate_cli, root, stage="staging", extra=("-w", str(waivers)))
    assert "image-root-user" in rule_ids(verdict["waived"])


def test_an_image_scoped_waiver_does_not_apply_to_an_image_only_a_scan_of_another_names(
    gate_cli, tmp_path
):
    waivers = waiver_file(tmp_path, "docker.io/library/nginx:*")
    nginx = fixture("hostile/trivy-nginx-no-digests.json")
    result, verdict = check(gate_cli, nginx, fixture("image/inspect-root.json"), stage="staging",
                            extra=("-w", str(waivers)))  # fmt: skip
    assert "image-root-user" in rule_ids(verdict["violations"])
    assert verdict["waived"] == []


def test_a_directory_or_container_name_is_not_an_image_reference():
    # "app" would read as docker.io/library/app: a filesystem scan of ./app is not a scan
    # of the image docker.io/library/app.
    option = Subject(reference="app:1", registry="docker.io", repository="library/app", tag="1")
    for artifact_type in ("filesystem", "repository", "container"):
        scan = fragment(kinds=["vulnerability"], artifact_name="app", artifact_type=artifact_type)
        resolution = resolve([scan], ["scan.json"], option)
        assert resolution.evidence[0].match == "unnamed", artifact_type
    image_scan = fragment(
        kinds=["vulnerability"], artifact_name="app:1", artifact_type="container_image"
    )
    assert resolve([image_scan], ["scan.json"], option).evidence[0].match == "name"


def sbom_attestation(predicate: object) -> dict:
    """An in-toto SPDX statement about the gated image carrying ``predicate``."""
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "ghcr.io/acme/shop-api", "digest": {"sha256": SHOP_DIGEST[7:]}}],
        "predicateType": "https://spdx.dev/Document/v2.3",
        "predicate": predicate,
    }


def test_an_sbom_attestation_with_an_empty_sbom_does_not_satisfy_sbom_required(gate_cli, tmp_path):
    empty = {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "x", "packages": []}
    attestation = tmp_path / "sbom.att.json"
    attestation.write_text(json.dumps(sbom_attestation(empty)))
    result, verdict = check(gate_cli, GRYPE, INSPECT, attestation, PROVENANCE)
    assert result.code == 1
    [missing] = messages(verdict["violations"], "sbom-required")
    assert missing.endswith(f"not of this image: {attestation}")


def test_the_sbom_attestation_fixture_counts_and_brings_its_packages(gate_cli):
    result, verdict = check(
        gate_cli, GRYPE, INSPECT, fixture("provenance/sbom-attestation.json"), PROVENANCE, *SIGNED
    )
    assert result.code == 0, result.err
    document = json.loads(gate_cli("normalize", fixture("provenance/sbom-attestation.json")).out)
    assert document["attestations"][0]["packages"] == len(document["packages"]) > 0


def test_a_malformed_sbom_predicate_is_no_verdict(gate_cli, tmp_path):
    attestation = tmp_path / "sbom.att.json"
    attestation.write_text(json.dumps(sbom_attestation({"spdxVersion": "SPDX-2.3", "packages": 7})))
    result = gate_cli("check", GRYPE, INSPECT, attestation)
    assert result.code == 3
    assert result.err.startswith(f"error: {attestation}: predicate")
