"""Manifests and indexes: detection, digests from bytes, schema 1, platforms, attestations."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, FIXTURES, corpus_params, load_input
from tests_support import parse_corpus, refusal, stand_in

from gate.inputs import InputFile
from gate.sources.base import Fragment
from gate.sources.oci_manifest import ImageManifestSource

REFERENCE = "ghcr.io/acme/shop-api:1.4.2"
MANIFEST_DIGEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
IMAGE_ID = "sha256:9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
IMAGE = FIXTURES / "image"
SOURCE = ImageManifestSource()


def parse_fixture(name: str) -> tuple[Fragment, InputFile]:
    """Parse a fixture under fixtures/image; also return its InputFile."""
    data, source = load_input(IMAGE / name)
    return SOURCE.parse(data, source), source


def parse_inline(data: Any) -> Fragment:
    """Parse an in-test manifest (its stand-in file hash is ``d`` * 64)."""
    return SOURCE.parse(data, stand_in("manifest.json", "d"))


def entry(digest_char: str, architecture: str, os: str = "linux", **extra: Any) -> dict[str, Any]:
    """An index entry for a platform manifest whose digest repeats ``digest_char``."""
    return {
        "mediaType": OCI_MANIFEST,
        "digest": "sha256:" + digest_char * 64,
        "size": 1000,
        "platform": {"architecture": architecture, "os": os},
        **extra,
    }


def index(*entries: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An OCI image index of ``entries``."""
    return {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": list(entries), **extra}


def v1_compat(**fields: Any) -> dict[str, str]:
    """A schema-1 history entry: the config as JSON inside a string."""
    return {"v1Compatibility": json.dumps(fields)}


SCHEMA1 = {
    "schemaVersion": 1,
    "name": "acme/legacy",
    "tag": "2.0",
    "architecture": "amd64",
    "fsLayers": [
        {"blobSum": "sha256:" + "3" * 64},
        {"blobSum": "sha256:" + "2" * 64},
        {"blobSum": "sha256:" + "1" * 64},
    ],
    "history": [
        v1_compat(
            id="c" * 64,
            parent="b" * 64,
            created="2016-03-03T11:29:44.222098366Z",
            container_config={"User": "root", "Cmd": ["/bin/sh", "-c", "#(nop) CMD"]},
            config={
                "User": "nobody",
                "Env": ["PATH=/bin"],
                "Cmd": ["/bin/legacy"],
                "Labels": {"org.opencontainers.image.base.name": "docker.io/library/busybox:1"},
            },
            os="linux",
        ),
        v1_compat(id="b" * 64, created="2016-03-03T11:29:38Z"),
    ],
    "signatures": [{"header": {"alg": "ES256"}, "signature": "c2ln", "protected": "cHJvdA"}],
}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(SCHEMA1, True, id="schema1"),
        pytest.param(index(entry("a", "amd64")), True, id="index"),
        pytest.param({"schemaVersion": 2, "layers": []}, True, id="layers"),
        pytest.param(
            {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {}}, True, id="typed-config"
        ),
        pytest.param({"schemaVersion": 2}, False, id="version-only"),
        pytest.param({"schemaVersion": 2, "config": {}}, False, id="untyped-config"),
        pytest.param({"layers": [], "config": {}}, False, id="no-version"),
        pytest.param(
            {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {}},
            False,
            id="image-config",
        ),
        pytest.param([{"Id": "sha256:" + "a" * 64, "Config": {}}], False, id="docker-inspect"),
        pytest.param({"SchemaVersion": 2, "Results": []}, False, id="aqua-report-v2"),
        pytest.param({"matches": [], "source": {}}, False, id="grype"),
        pytest.param(
            {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []},
            False,
            id="cyclonedx",
        ),
        pytest.param(None, False, id="null"),
        pytest.param([], False, id="empty-list"),
        pytest.param({}, False, id="empty-object"),
    ],
)
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


def test_image_manifest() -> None:
    fragment, source = parse_fixture("manifest.json")
    own = "sha256:" + hashlib.sha256(Path(source.path).read_bytes()).hexdigest()
    assert (fragment.format, fragment.tool, fragment.authority) == ("image-manifest", "oci", 5)
    assert (fragment.kinds, fragment.artifact_type) == (["metadata"], "container_image")
    assert fragment.artifact_digests == [own]
    assert fragment.subject.digest == own
    assert fragment.subject.image_id == IMAGE_ID  # config.digest
    # ref.name '1.4.2' is only a tag: it names no image.
    assert fragment.subject.reference is None
    assert fragment.artifact_name == "1.4.2"
    image = fragment.image
    assert image is not None
    assert [(layer.size, layer.media_type) for layer in image.layers][0] == (
        29153212,
        "application/vnd.oci.image.layer.v1.tar+gzip",
    )
    assert len(image.layers) == 3
    assert image.created == "2024-10-12T18:03:11.508362Z"
    assert image.base is not None and image.base.name == "docker.io/library/debian:12.5-slim"


def test_index_fixture_skips_attestation_platform() -> None:
    fragment, source = parse_fixture("index.json")
    own = f"sha256:{source.sha256}"
    assert fragment.subject.digest == own
    # the amd64 manifest it lists is the same image; the attestation manifest is not
    assert fragment.artifact_digests == [own, MANIFEST_DIGEST]
    assert fragment.subject.image_id is None
    assert fragment.subject.reference == REFERENCE
    assert fragment.subject.repository == "acme/shop-api"
    image = fragment.image
    assert image is not None
    assert (image.os, image.architecture, image.layers) == ("linux", "amd64", [])


@pytest.mark.parametrize(
    ("entries", "platform"),
    [
        pytest.param([entry("a", "arm64", variant=None)], ("linux", "arm64"), id="single"),
        pytest.param([entry("a", "amd64"), entry("b", "arm64")], None, id="multi-arch"),
        pytest.param(
            [entry("a", "amd64"), entry("b", "unknown", os="unknown")],
            ("linux", "amd64"),
            id="buildkit-attestation",
        ),
        pytest.param(
            [
                entry("a", "amd64"),
                entry(
                    "b",
                    "amd64",
                    annotations={"vnd.docker.reference.type": "attestation-manifest"},
                ),
            ],
            ("linux", "amd64"),
            id="annotated-attestation",
        ),
    ],
)
def test_index_platform_choice(
    entries: list[dict[str, Any]], platform: tuple[str, str] | None
) -> None:
    fragment = parse_inline(index(*entries))
    assert fragment.subject.digest == "sha256:" + "d" * 64
    if platform is None:
        assert fragment.image is None
    else:
        assert fragment.image is not None
        assert (fragment.image.os, fragment.image.architecture) == platform


@pytest.mark.parametrize(
    ("ref_name", "reference"),
    [
        pytest.param("latest", None, id="tag"),
        pytest.param("v1.2.3", None, id="version-tag"),
        pytest.param("ubuntu:22.04", "ubuntu:22.04", id="hub-name"),
        pytest.param(REFERENCE, REFERENCE, id="full"),
        pytest.param("sha256:" + "a" * 64, None, id="digest"),
    ],
)
def test_reference_only_from_full_ref_name(ref_name: str, reference: str | None) -> None:
    data = index(entry("a", "amd64"), annotations={"org.opencontainers.image.ref.name": ref_name})
    assert parse_inline(data).subject.reference == reference


def test_schema1() -> None:
    fragment = parse_inline(SCHEMA1)
    # The schema-1 digest is over the unsigned payload, so these bytes' hash is not it.
    assert fragment.subject.digest is None and fragment.artifact_digests == []
    assert fragment.subject.image_id is None and fragment.subject.reference is None
    assert fragment.artifact_name == "acme/legacy:2.0"
    image = fragment.image
    assert image is not None
    assert [layer.digest for layer in image.layers] == [
        "sha256:" + "1" * 64,
        "sha256:" + "2" * 64,
        "sha256:" + "3" * 64,
    ]
    assert image.created == "2016-03-03T11:29:44.222098366Z"
    assert (image.user, image.env, image.cmd) == ("nobody", {"PATH": "/bin"}, ["/bin/legacy"])
    assert (image.os, image.architecture) == ("linux", "amd64")
    assert image.base is not None and image.base.name == "docker.io/library/busybox:1"


@pytest.mark.parametrize(
    ("v1", "message"),
    [
        pytest.param("{not json", "is not valid JSON", id="broken"),
        pytest.param("[]", "expected a JSON object", id="array"),
        pytest.param('{"config": {"Env": "PATH=/bin"}}', "expected an array", id="bad-env"),
    ],
)
def test_schema1_bad_v1_compatibility(v1: str, message: str) -> None:
    data = {**SCHEMA1, "history": [{"v1Compatibility": v1}]}
    text = refusal(SOURCE, data, "legacy/manifest.json", "d")
    assert text.startswith("legacy/manifest.json: history[0].v1Compatibility")
    assert message in text


DSSE = "application/vnd.dsse.envelope.v1+json"
SLSA_V02 = "https://slsa.dev/provenance/v0.2"
BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"


def attestation_manifest(*layers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An OCI manifest of attestation ``layers`` (cosign's config blob unless overridden)."""
    return {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": 233,
            "digest": "sha256:" + "9" * 64,
        },
        "layers": list(layers),
        **extra,
    }


def statement_layer(media_type: str = DSSE, **annotations: str) -> dict[str, Any]:
    """A layer holding one statement, with ``annotations``."""
    return {
        "mediaType": media_type,
        "size": 13952,
        "digest": "sha256:" + "8" * 64,
        "annotations": annotations,
    }


def test_cosign_attestation_manifest_describes_no_image() -> None:
    data = attestation_manifest(statement_layer(predicateType=SLSA_V02))
    fragment = parse_inline(data)
    assert fragment.artifact_type == "attestation"
    assert fragment.image is None
    assert fragment.subject.digest is None and fragment.subject.image_id is None
    assert fragment.artifact_digests == ["sha256:" + "d" * 64]
    assert fragment.kinds == ["metadata", "attestation"]
    (attestation,) = fragment.attestations
    assert attestation.model_dump(exclude_defaults=True) == {
        "kind": "provenance",
        "predicate_type": SLSA_V02,
        "envelope": "oci-manifest",
        "input": "manifest.json",
    }
    # A tag-addressed cosign .att manifest does not say which image it is about.
    assert attestation.subject_digests == [] and attestation.signed is False


@pytest.mark.parametrize(
    ("annotations", "signed"),
    [
        pytest.param({"dev.cosignproject.cosign/signature": ""}, False, id="empty-signature"),
        pytest.param({"dev.cosignproject.cosign/signature": "MEUCIQ"}, True, id="signature"),
        pytest.param(
            {
                "dev.cosignproject.cosign/signature": "",
                "dev.sigstore.cosign/certificate": "-----BEGIN CERTIFICATE-----",
            },
            True,
            id="keyless-certificate",
        ),
        pytest.param(
            {"dev.sigstore.cosign/bundle": '{"SignedEntryTimestamp":"x"}'}, True, id="rekor"
        ),
        pytest.param({"dev.sigstore.cosign/chain": "-----BEGIN"}, False, id="chain-alone"),
    ],
)
def test_attestation_layer_signed_from_cosign_annotations(
    annotations: dict[str, str], signed: bool
) -> None:
    layer = statement_layer(predicateType=SLSA_V02, **annotations)
    assert parse_inline(attestation_manifest(layer)).attestations[0].signed is signed


def test_buildkit_attestation_manifest_one_attestation_per_layer() -> None:
    data = attestation_manifest(
        statement_layer("application/vnd.in-toto+json", **{"in-toto.io/predicate-type": SLSA_V02}),
        statement_layer(
            "application/vnd.in-toto+json",
            **{"in-toto.io/predicate-type": "https://spdx.dev/Document"},
        ),
        subject={"mediaType": OCI_MANIFEST, "digest": MANIFEST_DIGEST, "size": 1334},
    )
    fragment = parse_inline(data)
    assert [
        (a.kind, a.predicate_type, a.subject_digests, a.signed) for a in fragment.attestations
    ] == [
        ("provenance", SLSA_V02, [MANIFEST_DIGEST], False),
        ("sbom", "https://spdx.dev/Document", [MANIFEST_DIGEST], False),
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param("dsse-envelope", [("provenance", SLSA_V02, True)], id="attestation"),
        pytest.param("message-signature", [], id="blob-signature"),
    ],
)
def test_sigstore_bundle_referrer(content: str, expected: list[tuple[str, str, bool]]) -> None:
    layer = statement_layer(
        BUNDLE,
        **{"dev.sigstore.bundle.content": content, "dev.sigstore.bundle.predicateType": SLSA_V02},
    )
    data = attestation_manifest(
        layer,
        artifactType=BUNDLE,
        subject={"mediaType": OCI_MANIFEST, "digest": MANIFEST_DIGEST, "size": 1334},
    )
    fragment = parse_inline(data)
    assert [(a.kind, a.predicate_type, a.signed) for a in fragment.attestations] == expected
    assert ("attestation" in fragment.kinds) is bool(expected)


def test_referrer_artifact_points_at_its_subject() -> None:
    data = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/spdx+json",
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": "sha256:" + "4" * 64,
        },
        "layers": [{"mediaType": "application/spdx+json", "digest": "sha256:" + "5" * 64}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": MANIFEST_DIGEST, "size": 1334},
    }
    fragment = parse_inline(data)
    assert (fragment.artifact_type, fragment.subject.digest) == ("attestation", MANIFEST_DIGEST)
    assert fragment.image is None
    (attestation,) = fragment.attestations
    assert (attestation.kind, attestation.predicate_type) == ("sbom", None)
    assert (attestation.subject_digests, attestation.envelope) == (
        [MANIFEST_DIGEST],
        "oci-manifest",
    )


@pytest.mark.parametrize(
    ("artifact_type", "kind"),
    [
        pytest.param("application/vnd.cyclonedx+json", "sbom", id="cyclonedx"),
        pytest.param("application/vnd.openvex+json", "vex", id="openvex"),
        pytest.param("application/vnd.example.report+json", "other", id="unknown"),
        pytest.param("application/vnd.cncf.notary.signature", None, id="notary-signature"),
        pytest.param("application/vnd.dev.cosign.artifact.sig.v1+json", None, id="cosign-sig"),
    ],
)
def test_referrer_kind_from_artifact_type(artifact_type: str, kind: str | None) -> None:
    data = attestation_manifest(
        {"mediaType": artifact_type, "digest": "sha256:" + "5" * 64},
        artifactType=artifact_type,
        subject={"mediaType": OCI_MANIFEST, "digest": MANIFEST_DIGEST},
    )
    fragment = parse_inline(data)
    assert [a.kind for a in fragment.attestations] == ([kind] if kind else [])
    assert fragment.kinds == (["metadata", "attestation"] if kind else ["metadata"])


def test_cosign_signature_manifest_is_no_attestation() -> None:
    layer = statement_layer(
        "application/vnd.dev.cosign.simplesigning.v1+json",
        **{"dev.cosignproject.cosign/signature": "MEUCIQ"},
    )
    fragment = parse_inline(attestation_manifest(layer))
    assert fragment.artifact_type == "attestation"
    assert (fragment.attestations, fragment.kinds) == ([], ["metadata"])


def test_buildkit_index_announces_an_attestation_of_its_image() -> None:
    fragment, source = parse_fixture("index.json")
    assert fragment.kinds == ["metadata", "attestation"]
    assert [(a.kind, a.subject_digests, a.signed, a.input) for a in fragment.attestations] == [
        ("other", [MANIFEST_DIGEST], False, source.path)
    ]
    data = index(
        entry("a", "amd64"),
        entry(
            "b",
            "unknown",
            os="unknown",
            annotations={
                "vnd.docker.reference.type": "attestation-manifest",
                "vnd.docker.reference.digest": "sha256:" + "a" * 64,
            },
        ),
    )
    fragment = parse_inline(data)
    assert fragment.kinds == ["metadata", "attestation"]
    (attestation,) = fragment.attestations
    assert attestation.model_dump(exclude_defaults=True) == {
        "kind": "other",
        "subject_digests": ["sha256:" + "a" * 64],
        "envelope": "oci-manifest",
        "input": "manifest.json",
    }


def test_oci_layout_index_uses_the_image_entry() -> None:
    data = index(
        {
            "mediaType": OCI_INDEX,
            "digest": MANIFEST_DIGEST,
            "size": 856,
            "annotations": {"kind": "dev.cosignproject.cosign/imageIndex"},
        },
        {
            "mediaType": OCI_MANIFEST,
            "digest": "sha256:" + "7" * 64,
            "size": 10572,
            "annotations": {"kind": "dev.cosignproject.cosign/atts"},
        },
    )
    fragment = parse_inline(data)
    assert fragment.subject.digest == MANIFEST_DIGEST  # not the layout file's own hash
    assert fragment.artifact_digests == [MANIFEST_DIGEST]
    # The cosign "atts" entry: attestations about the layout's one image.
    assert [(a.kind, a.subject_digests) for a in fragment.attestations] == [
        ("other", [MANIFEST_DIGEST])
    ]


def test_containerd_export_layout_names_the_image() -> None:
    data = index(
        entry(
            "a",
            "amd64",
            annotations={
                "io.containerd.image.name": REFERENCE,
                "org.opencontainers.image.ref.name": "1.4.2",
            },
        )
    )
    fragment = parse_inline(data)
    assert (fragment.subject.reference, fragment.subject.digest) == (
        REFERENCE,
        "sha256:" + "a" * 64,
    )


@pytest.mark.parametrize(
    ("data", "place"),
    [
        pytest.param({"schemaVersion": 2, "layers": "x"}, "layers", id="layers-string"),
        pytest.param({"schemaVersion": 2, "layers": [1]}, "layers[0]", id="layer-number"),
        pytest.param(
            {"schemaVersion": 2, "layers": [{"digest": "sha256:" + "1" * 64, "size": "big"}]},
            "layers[0].size",
            id="size-string",
        ),
        pytest.param(
            {"schemaVersion": 2, "layers": [], "config": {"digest": 5}},
            "config.digest",
            id="config-digest",
        ),
        pytest.param(
            {"schemaVersion": 2, "layers": [], "annotations": {"a": 1}},
            "annotations.a",
            id="annotation-number",
        ),
        pytest.param(
            index({"digest": "sha256:" + "a" * 64, "platform": "linux/amd64"}),
            "manifests[0].platform",
            id="platform-string",
        ),
        pytest.param({**index(), "manifests": ["x"]}, "manifests[0]", id="entry-string"),
        pytest.param(
            {**SCHEMA1, "fsLayers": [{"blobSum": 3}]}, "fsLayers[0].blobSum", id="blobsum"
        ),
        pytest.param({**SCHEMA1, "history": {}}, "history", id="history-object"),
    ],
)
def test_malformed_manifests_name_file_and_place(data: Any, place: str) -> None:
    message = refusal(SOURCE, data, "registry/manifest.json", "d")
    assert message.startswith(f"registry/manifest.json: {place}:")


@pytest.mark.parametrize("local_path", corpus_params("oci-manifest"))
def test_corpus(local_path: str) -> None:
    data, fragment = parse_corpus(SOURCE, local_path)
    assert fragment.format == "image-manifest"
    if data.get("schemaVersion") == 1:
        assert fragment.subject.digest is None
        assert fragment.image is not None and fragment.image.layers
    elif "layers" in data and fragment.artifact_type == "container_image":
        own = hashlib.sha256((CORPUS / local_path).read_bytes()).hexdigest()
        assert fragment.subject.digest == f"sha256:{own}"
        assert fragment.subject.image_id == data["config"]["digest"]
    assert len(fragment.attestations) == expected_attestations(data)
    assert ("attestation" in fragment.kinds) is bool(fragment.attestations)


def expected_attestations(data: dict[str, Any]) -> int:
    """Count, from the raw JSON, the attestations a manifest or index announces.

    Manifests: statement layers (DSSE or in-toto, plus Sigstore bundles that hold no blob
    signature). Indexes: BuildKit attestation-manifest entries and cosign "atts" entries.
    """
    layer_types = {"application/vnd.dsse.envelope.v1+json", "application/vnd.in-toto+json"}
    statements = sum(
        1
        for layer in data.get("layers") or []
        if layer.get("mediaType") in layer_types
        or (
            layer.get("mediaType", "").startswith("application/vnd.dev.sigstore.bundle")
            and (layer.get("annotations") or {}).get("dev.sigstore.bundle.content")
            != "message-signature"
        )
    )
    announced = sum(
        1
        for item in data.get("manifests") or []
        if (item.get("annotations") or {}).get("vnd.docker.reference.type")
        == "attestation-manifest"
        or (item.get("annotations") or {}).get("kind") == "dev.cosignproject.cosign/atts"
    )
    return statements + announced
