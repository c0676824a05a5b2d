"""In-toto attestations: the four wrappings, SLSA v0.1/v0.2/v1 fields, base image, corpus."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from conftest import corpus_params, fixture, load_input
from tests_support import parse_corpus, refusal, stand_in

from gate.document import Attestation
from gate.errors import SourceError
from gate.inputs import InputFile
from gate.sources.base import Fragment
from gate.sources.provenance import MAX_PAYLOAD_BYTES, ProvenanceSource, attestation_kind

SOURCE = ProvenanceSource()
DIGEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
COMMIT = "7c3e9a41b2d85f06e1a4c9b37d20f58e6a1b4c92"
BASE_DIGEST = "sha256:cae662172fd450bb0cd710a769079c05bfc5d8e35efa6576edc7d0377afdd4a2"
GENERATOR = (
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/"
    "generator_container_slsa3.yml@refs/tags/v2.0.0"
)
REPOSITORY = "https://github.com/acme/shop-api"
V01 = "https://in-toto.io/Statement/v0.1"
V1 = "https://in-toto.io/Statement/v1"
IN_TOTO = "application/vnd.in-toto+json"


def load(name: str) -> tuple[Any, InputFile]:
    """Load a fixture under fixtures/provenance, recorded by its path under fixtures/."""
    relative = f"provenance/{name}"
    return load_input(fixture(relative), relative)


def parse_fixture(name: str) -> Fragment:
    """Parse a fixture under fixtures/provenance."""
    return SOURCE.parse(*load(name))


def parse_inline(data: Any) -> Fragment:
    """Parse in-test data."""
    return SOURCE.parse(data, stand_in("attest/prov.json"))


def only(data: Any) -> Attestation:
    """The one attestation ``data`` holds."""
    (attestation,) = parse_inline(data).attestations
    return attestation


def encode(value: Any) -> str:
    """Base64 of the compact JSON of ``value``, as DSSE carries a statement."""
    return base64.b64encode(json.dumps(value).encode()).decode()


def dsse(statement: Any, *signatures: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A DSSE envelope around ``statement`` (already encoded when a string)."""
    payload = statement if isinstance(statement, str) else encode(statement)
    return {"payloadType": IN_TOTO, "payload": payload, "signatures": list(signatures), **extra}


def statement(predicate: Any, predicate_type: str = "https://slsa.dev/provenance/v0.2") -> Any:
    """A statement about the shop-api image digest."""
    return {
        "_type": V01,
        "predicateType": predicate_type,
        "subject": [{"name": "ghcr.io/acme/shop-api", "digest": {"sha256": DIGEST[7:]}}],
        "predicate": predicate,
    }


def docker(name: str, hexits: str = BASE_DIGEST[7:]) -> dict[str, Any]:
    """A BuildKit image material."""
    return {"uri": f"pkg:docker/{name}", "digest": {"sha256": hexits}}


# --- detection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(statement({}), True, id="statement-v0.1"),
        pytest.param({**statement({}), "_type": V1}, True, id="statement-v1"),
        pytest.param(dsse(statement({})), True, id="dsse"),
        pytest.param(
            {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "dsseEnvelope": {}},
            True,
            id="sigstore-bundle",
        ),
        pytest.param(
            {"image_summary": {}, "provenance_summary": {"provenance": []}}, True, id="gcloud"
        ),
        pytest.param(
            {
                "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.2",
                "messageSignature": {"signature": "c2ln"},
            },
            False,
            id="bundle-of-a-blob-signature",
        ),
        pytest.param(
            dsse("e30=", payloadType="application/vnd.dev.cosign.simplesigning.v1+json"),
            False,
            id="dsse-not-in-toto",
        ),
        pytest.param({"image_summary": {"digest": DIGEST}}, False, id="gcloud-no-provenance"),
        pytest.param({"_type": "https://example.com/Statement"}, False, id="foreign-type"),
        pytest.param(
            {"@context": "https://openvex.dev/ns/v0.2.0", "statements": []}, False, id="openvex"
        ),
        pytest.param({"bomFormat": "CycloneDX", "specVersion": "1.5"}, False, id="cyclonedx"),
        pytest.param([statement({})], False, id="list"),
        pytest.param(None, False, id="null"),
    ],
)
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


@pytest.mark.parametrize(
    ("predicate_type", "kind"),
    [
        ("https://slsa.dev/provenance/v0.1", "provenance"),
        ("https://slsa.dev/provenance/v0.2", "provenance"),
        ("https://slsa.dev/provenance/v1", "provenance"),
        ("https://spdx.dev/Document", "sbom"),
        ("https://spdx.dev/Document/v2.3", "sbom"),
        ("https://cyclonedx.org/bom/v1.5", "sbom"),
        ("https://cosign.sigstore.dev/attestation/vuln/v1", "vulnerability-scan"),
        ("https://in-toto.io/attestation/vulns/v0.1", "vulnerability-scan"),
        ("https://openvex.dev/ns/v0.2.0", "vex"),
        ("https://cosign.sigstore.dev/attestation/v1", "other"),
        ("https://example.com/slsa.dev/provenance/v1", "other"),
        (None, "other"),
    ],
)
def test_attestation_kind(predicate_type: str | None, kind: str) -> None:
    assert attestation_kind(predicate_type) == kind


# --- the fixtures ---------------------------------------------------------------------


def test_slsa_v02_statement() -> None:
    fragment = parse_fixture("slsa-v0.2-statement.json")
    assert (fragment.format, fragment.tool, fragment.kinds) == (
        "in-toto",
        "in-toto",
        ["attestation"],
    )
    # Subjects are the core's to weigh: no hints, and matches_subject stays unknown.
    assert fragment.subject.model_dump(exclude_none=True, exclude_defaults=True) == {}
    (attestation,) = fragment.attestations
    assert attestation.kind == "provenance"
    assert attestation.predicate_type == "https://slsa.dev/provenance/v0.2"
    assert attestation.subjects == [
        {"name": "ghcr.io/acme/shop-api", "digest": {"sha256": DIGEST[7:]}}
    ]
    assert attestation.subject_digests == [DIGEST]
    assert attestation.matches_subject is None
    assert attestation.builder_id == GENERATOR
    assert attestation.build_type == (
        "https://github.com/slsa-framework/slsa-github-generator/container@v1"
    )
    assert (attestation.source_repository, attestation.source_revision) == (REPOSITORY, COMMIT)
    assert [(m.uri, m.digest) for m in attestation.materials] == [
        ("git+https://github.com/acme/shop-api@refs/heads/main", {"sha1": COMMIT}),
        (
            f"pkg:docker/debian@12.5-slim?digest={BASE_DIGEST}&platform=linux%2Famd64",
            {"sha256": BASE_DIGEST[7:]},
        ),
    ]
    assert (attestation.envelope, attestation.signed) == ("none", False)
    assert attestation.input == "provenance/slsa-v0.2-statement.json"
    assert fragment.image is not None and fragment.image.base is not None
    assert fragment.image.base.model_dump(exclude_none=True) == {
        "name": "docker.io/library/debian:12.5-slim",
        "digest": BASE_DIGEST,
        "source": "provenance",
    }
    assert fragment.authority == 0


def test_dsse_envelope_holds_the_same_statement() -> None:
    bare = parse_fixture("slsa-v0.2-statement.json").attestations[0]
    wrapped = parse_fixture("dsse-envelope.json").attestations[0]
    assert (wrapped.envelope, wrapped.signed) == ("dsse", True)
    unwrapped = {"envelope", "signed", "input"}
    assert wrapped.model_dump(exclude=unwrapped) == bare.model_dump(exclude=unwrapped)


def test_sigstore_bundle_with_slsa_v1() -> None:
    fragment = parse_fixture("sigstore-bundle-slsa-v1.json")
    (attestation,) = fragment.attestations
    assert (attestation.envelope, attestation.signed) == ("sigstore-bundle", True)
    assert attestation.predicate_type == "https://slsa.dev/provenance/v1"
    assert attestation.subject_digests == [DIGEST]
    assert attestation.builder_id == (
        "https://github.com/acme/shop-api/.github/workflows/release.yml@refs/heads/main"
    )
    assert attestation.build_type == "https://actions.github.io/buildtypes/workflow/v1"
    # workflow.repository names the source; its resolved dependency gives the commit.
    assert (attestation.source_repository, attestation.source_revision) == (REPOSITORY, COMMIT)
    assert [(m.uri, m.digest) for m in attestation.materials] == [
        ("git+https://github.com/acme/shop-api@refs/heads/main", {"gitCommit": COMMIT})
    ]
    assert fragment.image is None


def test_sbom_attestation_has_no_provenance_fields() -> None:
    fragment = parse_fixture("sbom-attestation.json")
    (attestation,) = fragment.attestations
    assert (attestation.kind, attestation.predicate_type) == (
        "sbom",
        "https://spdx.dev/Document/v2.3",
    )
    assert attestation.subject_digests == [DIGEST]
    assert (attestation.builder_id, attestation.source_repository, attestation.materials) == (
        None,
        None,
        [],
    )
    assert fragment.image is None


# --- envelopes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signatures", "signed"),
    [
        pytest.param([], False, id="none"),
        pytest.param([{"keyid": "", "sig": ""}], False, id="empty-sig"),
        pytest.param([{"keyid": "projects/p/keys/k"}], False, id="keyid-only"),
        pytest.param([{"sig": ""}, {"sig": "MEUCIQ"}], True, id="second-signs"),
    ],
)
def test_dsse_signed_means_a_signature_is_present(
    signatures: list[dict[str, Any]], signed: bool
) -> None:
    assert only(dsse(statement({}), *signatures)).signed is signed


def test_url_safe_unpadded_base64_is_read() -> None:
    # A subject name chosen so that the encoding holds '-' or '_' and needs padding.
    value = statement({}, "https://example.com/p")
    value["subject"][0]["name"] = "ghcr.io/acme/shop-api?>>>"
    payload = base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    assert "=" not in payload and ("-" in payload or "_" in payload)
    assert only(dsse(payload)).subjects[0]["name"] == "ghcr.io/acme/shop-api?>>>"


def test_oversized_payload_is_refused_before_decoding() -> None:
    payload = "A" * ((MAX_PAYLOAD_BYTES // 3 + 2) * 4)
    with pytest.raises(SourceError, match=r"attest/prov.json: payload: payload larger than 32"):
        parse_inline(dsse(payload))


def test_gcloud_describe_without_envelope_reads_the_grafeas_statement() -> None:
    grafeas = statement(None, "https://slsa.dev/provenance/v0.1")
    del grafeas["predicate"]
    grafeas["slsaProvenance"] = {
        "builder": {"id": "https://cloudbuild.googleapis.com/GoogleHostedWorker@v0.3"},
        "recipe": {"type": "https://cloudbuild.googleapis.com/CloudBuildYaml@v0.1"},
        "materials": [{"uri": "https://github.com/acme/shop-api", "digest": {"sha1": COMMIT}}],
    }
    data = {
        "image_summary": {"digest": DIGEST},
        "provenance_summary": {
            "provenance": [
                {"build": {"intotoStatement": grafeas}},
                {"envelope": dsse(statement({}, "https://example.com/p"), {"sig": "MEQ"})},
            ]
        },
    }
    first, second = parse_inline(data).attestations
    assert (first.envelope, first.signed, first.kind) == ("none", False, "provenance")
    assert first.builder_id == "https://cloudbuild.googleapis.com/GoogleHostedWorker@v0.3"
    assert first.build_type == "https://cloudbuild.googleapis.com/CloudBuildYaml@v0.1"
    assert (first.source_repository, first.source_revision) == (REPOSITORY, COMMIT)
    assert (second.envelope, second.signed, second.kind) == ("dsse", True, "other")


# --- SLSA fields ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "repository"),
    [
        ("git+https://github.com/acme/shop-api@refs/heads/main", REPOSITORY),
        ("https://github.com/acme/shop-api.git#7c3e9a41", REPOSITORY),
        ("git+https://github.com/acme/shop-api.git", REPOSITORY),
        ("https://github.com/acme/shop-api/", REPOSITORY),
        (
            "git+ssh://git@github.com/acme/shop-api@refs/tags/v1",
            "ssh://git@github.com/acme/shop-api",
        ),
    ],
)
def test_source_repository_is_normalised(uri: str, repository: str) -> None:
    predicate = {"invocation": {"configSource": {"uri": uri, "digest": {"sha1": COMMIT}}}}
    found = only(statement(predicate))
    assert (found.source_repository, found.source_revision) == (repository, COMMIT)


@pytest.mark.parametrize(
    ("predicate", "repository", "revision"),
    [
        pytest.param(
            {
                "invocation": {"configSource": {"entryPoint": "Dockerfile"}},
                "materials": [
                    docker("golang@1.22"),
                    {
                        "uri": "https://github.com/acme/shop-api.git#main",
                        "digest": {"sha1": COMMIT},
                    },
                ],
            },
            REPOSITORY,
            COMMIT,
            id="v0.2-first-git-material",
        ),
        pytest.param({"materials": [docker("golang@1.22")]}, None, None, id="v0.2-local-context"),
        pytest.param(
            {
                "recipe": {"definedInMaterial": 1},
                "materials": [
                    {"uri": "https://github.com/acme/tools", "digest": {"sha1": "1" * 40}},
                    {"uri": "https://github.com/acme/shop-api", "digest": {"sha1": COMMIT}},
                ],
            },
            REPOSITORY,
            COMMIT,
            id="v0.1-defined-in-material",
        ),
        pytest.param(
            {
                "buildDefinition": {
                    "externalParameters": {
                        "source": {
                            "uri": f"git+{REPOSITORY}@refs/tags/v14",
                            "digest": {"sha1": COMMIT},
                        }
                    }
                }
            },
            REPOSITORY,
            COMMIT,
            id="v1-container-based-source",
        ),
        pytest.param(
            {
                "buildDefinition": {
                    "externalParameters": {"configSource": f"{REPOSITORY}.git#v1.4.2"}
                }
            },
            REPOSITORY,
            None,
            id="v1-config-source-string",
        ),
        pytest.param(
            {
                "buildDefinition": {
                    "externalParameters": {"workflow": {"repository": REPOSITORY}},
                    "resolvedDependencies": [
                        {
                            "uri": "git+https://github.com/acme/other@main",
                            "digest": {"gitCommit": "2" * 40},
                        }
                    ],
                }
            },
            REPOSITORY,
            None,
            id="v1-workflow-without-its-commit",
        ),
        pytest.param(
            {
                "runDetails": {"builder": {"id": "https://example.com/builder"}},
                "buildDefinition": {
                    "resolvedDependencies": [
                        docker("golang@1.22"),
                        {"uri": f"git+{REPOSITORY}@refs/heads/main", "digest": {"sha1": COMMIT}},
                    ]
                },
            },
            REPOSITORY,
            COMMIT,
            id="v1-first-git-dependency",
        ),
    ],
)
def test_source_of_each_slsa_shape(
    predicate: dict[str, Any], repository: str | None, revision: str | None
) -> None:
    found = only(statement(predicate))
    assert (found.source_repository, found.source_revision) == (repository, revision)


def test_materials_without_uri_or_digest_are_skipped() -> None:
    predicate = {
        "materials": [{"uri": "https://example.com/a"}, {}, {"digest": {"sha256": "f" * 64}}]
    }
    assert [(m.uri, m.digest) for m in only(statement(predicate)).materials] == [
        ("https://example.com/a", {}),
        (None, {"sha256": "f" * 64}),
    ]


def test_subject_digests_are_unique_and_valid() -> None:
    value = statement({}, "https://example.com/p")
    value["subject"] = [
        {"name": "a:v1", "digest": {"sha256": DIGEST[7:]}},
        {"name": "a:latest", "digest": {"sha256": DIGEST[7:], "sha512": "e" * 128}},
        {"name": "redacted", "digest": {"sha256": "REDACTED"}},
    ]
    found = only(value)
    assert found.subject_digests == [DIGEST, "sha512:" + "e" * 128]
    assert len(found.subjects) == 3


# --- base image -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("materials", "name", "digest"),
    [
        pytest.param(
            [docker("golang@1.22?platform=linux%2Famd64")],
            "docker.io/library/golang:1.22",
            BASE_DIGEST,
            id="one-image",
        ),
        pytest.param(
            [docker(f"gcr.io/distroless/static?digest={BASE_DIGEST}&platform=linux%2Famd64")],
            "gcr.io/distroless/static",
            BASE_DIGEST,
            id="registry-in-name-digest-only",
        ),
        pytest.param(
            [docker("acme/base@2.0?repository_url=registry.acme.test")],
            "registry.acme.test/acme/base:2.0",
            BASE_DIGEST,
            id="repository-url-qualifier",
        ),
        pytest.param(
            [docker("docker/dockerfile@1.7"), docker("alpine@3.20", "1" * 64)],
            "docker.io/library/alpine:3.20",
            "sha256:" + "1" * 64,
            id="frontend-is-no-base",
        ),
        pytest.param(
            [docker("golang@1.22"), docker("gcr.io/distroless/static", "1" * 64)],
            None,
            None,
            id="multi-stage",
        ),
        pytest.param(
            [docker("alpine@3.20"), docker("alpine@3.20")],
            "docker.io/library/alpine:3.20",
            BASE_DIGEST,
            id="listed-twice",
        ),
        pytest.param(
            [{"uri": "https://github.com/acme/shop-api", "digest": {"sha1": COMMIT}}],
            None,
            None,
            id="no-image",
        ),
    ],
)
def test_base_image_from_buildkit_materials(
    materials: list[dict[str, Any]], name: str | None, digest: str | None
) -> None:
    fragment = parse_inline(statement({"materials": materials}))
    if name is None:
        assert fragment.image is None
    else:
        assert fragment.image is not None and fragment.image.base is not None
        assert (fragment.image.base.name, fragment.image.base.digest) == (name, digest)
        assert fragment.image.base.source == "provenance"


def test_only_provenance_names_a_base_image() -> None:
    value = statement({"materials": [docker("alpine@3.20")]}, "https://example.com/build")
    assert parse_inline(value).image is None


# --- malformed input ------------------------------------------------------------------


def broken_statement(**changes: Any) -> dict[str, Any]:
    """The fixture statement with top-level keys replaced."""
    data = copy.deepcopy(load("slsa-v0.2-statement.json")[0])
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "place", "message"),
    [
        pytest.param({"foo": 1}, "", "not an in-toto statement, DSSE envelope", id="unknown"),
        pytest.param(dsse("%%%not-base64%%%"), "payload", "is not valid base64", id="base64"),
        pytest.param(dsse(""), "payload", "expected a base64 string", id="empty-payload"),
        pytest.param(
            {**dsse(""), "payload": 5}, "payload", "expected a base64 string", id="number-payload"
        ),
        pytest.param(
            dsse(base64.b64encode(b"{not json").decode()),
            "payload",
            "decoded payload: line 1 column 2: invalid JSON",
            id="payload-not-json",
        ),
        pytest.param(
            dsse(encode([1])), "payload(decoded)", "expected an object", id="payload-array"
        ),
        pytest.param(
            dsse(encode({"predicate": {}})),
            "payload(decoded)._type",
            "expected an in-toto statement type",
            id="payload-no-type",
        ),
        pytest.param(
            dsse(statement({}), "sig"), "signatures[0]", "expected an object", id="sig-string"
        ),
        pytest.param(
            {
                "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                "dsseEnvelope": dsse(statement({}), payloadType="text/plain"),
            },
            "dsseEnvelope.payloadType",
            "is not an in-toto statement",
            id="bundle-payload-type",
        ),
        pytest.param(
            broken_statement(subject={"name": "x"}), "subject", "expected an array", id="subject"
        ),
        pytest.param(
            broken_statement(subject=[{"name": "x", "digest": {"sha256": 1}}]),
            "subject[0].digest.sha256",
            "expected a string",
            id="digest-number",
        ),
        pytest.param(
            broken_statement(predicate=[]), "predicate", "expected an object", id="predicate"
        ),
        pytest.param(
            broken_statement(predicate={"materials": ["git+https://x"]}),
            "predicate.materials[0]",
            "expected an object",
            id="material-string",
        ),
        pytest.param(
            broken_statement(predicate={"builder": {"id": 7}}),
            "predicate.builder.id",
            "expected a string",
            id="builder-id",
        ),
        pytest.param(
            broken_statement(predicate={"buildDefinition": {"resolvedDependencies": {"uri": "x"}}}),
            "predicate.buildDefinition.resolvedDependencies",
            "expected an array",
            id="v1-dependencies",
        ),
        pytest.param(
            {"provenance_summary": {"provenance": [{"build": {"intotoStatement": []}}]}},
            "provenance_summary.provenance[0].build.intotoStatement",
            "expected an object",
            id="gcloud-statement",
        ),
        pytest.param(
            {"provenance_summary": {"provenance": {}}},
            "provenance_summary.provenance",
            "expected an array",
            id="gcloud-provenance",
        ),
    ],
)
def test_malformed_input_names_file_and_place(data: Any, place: str, message: str) -> None:
    text = refusal(SOURCE, data, "attest/prov.json")
    assert text.startswith(f"attest/prov.json: {place}:" if place else "attest/prov.json:")
    assert message in text


# --- the corpus -----------------------------------------------------------------------


def raw_statements(data: dict[str, Any]) -> list[tuple[dict[str, Any], str, bool]]:
    """Decode the statements of a corpus file here, independently of the source.

    Returns (statement, envelope, signed) triples.
    """

    def opened(envelope: dict[str, Any]) -> dict[str, Any]:
        return json.loads(base64.b64decode(envelope["payload"]))

    def signed(envelope: dict[str, Any]) -> bool:
        return any(signature.get("sig") for signature in envelope.get("signatures") or [])

    if "_type" in data:
        return [(data, "none", False)]
    if "payloadType" in data:
        return [(opened(data), "dsse", signed(data))]
    if "dsseEnvelope" in data:
        return [(opened(data["dsseEnvelope"]), "sigstore-bundle", signed(data["dsseEnvelope"]))]
    entries = data["provenance_summary"]["provenance"]
    return [(opened(e["envelope"]), "dsse", signed(e["envelope"])) for e in entries]


def raw_builder(statement_data: dict[str, Any]) -> str | None:
    """The builder id as SLSA v0.x or v1 spells it ("" counts as none)."""
    predicate = statement_data["predicate"]
    builder = (predicate.get("runDetails") or predicate).get("builder") or {}
    return builder.get("id") or None


@pytest.mark.parametrize("local_path", corpus_params("provenance"))
def test_corpus(local_path: str) -> None:
    data, fragment = parse_corpus(SOURCE, local_path)
    expected = raw_statements(data)
    assert len(fragment.attestations) == len(expected)
    for attestation, (raw, envelope, signed) in zip(fragment.attestations, expected, strict=True):
        predicate = raw["predicate"]
        definition = predicate.get("buildDefinition") or {}
        materials = predicate.get("materials") or definition.get("resolvedDependencies") or []
        digests = {f"sha256:{s['digest']['sha256']}" for s in raw["subject"]}
        assert attestation.kind == "provenance"
        assert attestation.predicate_type == raw["predicateType"]
        assert sorted(attestation.subject_digests) == sorted(digests)
        assert len(attestation.subjects) == len(raw["subject"])
        assert attestation.builder_id == raw_builder(raw)
        assert len(attestation.materials) == len(materials)
        assert (attestation.envelope, attestation.signed) == (envelope, signed)
        # Every corpus build came from a git repository at a known commit.
        assert attestation.source_repository and attestation.source_repository.startswith(
            "https://github.com/"
        )
        assert attestation.source_revision and len(attestation.source_revision) == 40
        assert attestation.input == local_path
