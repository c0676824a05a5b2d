"""Syft JSON: detection, schema generations, image source, distro, artifacts, corpus."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FIXTURES, format_params, load_input
from tests_support import parse_corpus, refusal, replaced, stand_in

from gate.sources.base import Fragment, purl_type
from gate.sources.syft import SyftSource

SOURCE = SyftSource()
FIXTURE = FIXTURES / "sbom" / "syft-image.json"
MANIFEST_DIGEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
IMAGE_ID = "sha256:9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"


def parse_fixture() -> Fragment:
    """Parse fixtures/sbom/syft-image.json."""
    data, source = load_input(FIXTURE, "sbom/syft-image.json")
    return SOURCE.parse(data, source)


def parse_inline(data: Any) -> Fragment:
    """Parse an in-test document."""
    return SOURCE.parse(data, stand_in("inline.syft.json"))


def legacy(*artifacts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A schema 1.x document: ``source.target``, old distro fields, string licences."""
    return {
        "artifacts": list(artifacts),
        "source": {"type": "image", "target": {"userInput": "alpine:latest", "tags": []}},
        "distro": {"name": "alpine", "version": "3.14.2", "idLike": ""},
        "descriptor": {"name": "syft", "version": "[not provided]"},
        "schema": {"version": "1.1.0"},
        **extra,
    }


# --- detection -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({"artifacts": [], "descriptor": {}, "schema": {}}, True, id="minimal"),
        pytest.param({"artifacts": [], "descriptor": {}}, False, id="no-schema"),
        pytest.param({"artifacts": {}, "descriptor": {}, "schema": {}}, False, id="artifacts-obj"),
        pytest.param({"matches": [], "descriptor": {}, "source": {}}, False, id="grype"),
        pytest.param({"runs": [{"artifacts": []}], "version": "2.1.0"}, False, id="sarif"),
        pytest.param(None, False, id="null"),
    ],
)
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


# --- the schema 16 image SBOM ----------------------------------------------------------


def test_scan_facts_and_subject() -> None:
    fragment = parse_fixture()
    assert (fragment.format, fragment.tool, fragment.tool_version) == (
        "syft-json",
        "syft",
        "1.18.1",
    )
    assert fragment.created is None  # Syft JSON records no time
    assert fragment.kinds == ["sbom"]
    assert (fragment.artifact_name, fragment.artifact_type) == (
        "ghcr.io/acme/shop-api:1.4.2",
        "container_image",
    )
    assert fragment.artifact_digests == [IMAGE_ID, MANIFEST_DIGEST]
    subject = fragment.subject
    assert (subject.reference, subject.registry, subject.repository, subject.tag) == (
        "ghcr.io/acme/shop-api:1.4.2",
        "ghcr.io",
        "acme/shop-api",
        "1.4.2",
    )
    assert (subject.digest, subject.image_id) == (MANIFEST_DIGEST, IMAGE_ID)
    assert fragment.authority == 0


def test_image_facts() -> None:
    image = parse_fixture().image
    assert image is not None
    assert (image.os_family, image.os_version) == ("debian", "12")  # id / versionID
    assert (image.os, image.architecture, image.size) == ("linux", "amd64", 231456768)
    assert [layer.size for layer in image.layers] == [77844480, 119537664, 34074624]
    assert image.user is None and image.labels == {}  # not claimed from an SBOM


def test_artifacts_merge_by_purl() -> None:
    data, _ = load_input(FIXTURE)
    packages = {p.name: p for p in parse_fixture().packages}
    assert len(data["artifacts"]) == 7
    assert len(packages) == 6
    tomcat = packages["tomcat-embed-core"]
    assert tomcat.locations == [
        "/app/lib/tomcat-embed-core-10.1.33.jar",
        "/app/BOOT-INF/lib/tomcat-embed-core-10.1.33.jar",
    ]
    assert tomcat.cpes == [
        "cpe:2.3:a:apache:tomcat:10.1.33:*:*:*:*:*:*:*",
        "cpe:2.3:a:apache:tomcat_embed_core:10.1.33:*:*:*:*:*:*:*",
    ]
    assert tomcat.type == "maven"
    assert packages["zlib1g"].version == "1:1.2.13.dfsg-1"
    assert packages["libssl3"].sources[0].model_dump() == {
        "tool": "syft",
        "input": "sbom/syft-image.json",
    }


@pytest.mark.parametrize(
    ("package", "licenses"),
    [
        pytest.param("libssl3", ["Apache-2.0"], id="spdx-expression"),
        pytest.param("tomcat-embed-core", ["Apache-2.0"], id="expression-over-value"),
        pytest.param("procps", ["GPL-2.0-or-later", "LGPL-2.0-or-later"], id="declared-first"),
        pytest.param(
            "kernel",
            ["GNU Affero General Public License v3", "AGPL-3.0-only"],
            id="value-if-no-expr",
        ),
    ],
)
def test_licenses(package: str, licenses: list[str]) -> None:
    packages = {p.name: p for p in parse_fixture().packages}
    assert packages[package].licenses == licenses


# --- older schemas and other sources (inline) --------------------------------------------


def test_schema_1_layout() -> None:
    artifact = {
        "name": "musl",
        "version": "1.2.2-r3",
        "type": "apk",
        "locations": [{"path": "/lib/apk/db/installed"}],
        "licenses": ["MIT"],
        "cpes": ["cpe:2.3:a:musl-libc:musl:1.2.2-r3:*:*:*:*:*:*:*"],
        "purl": "pkg:apk/alpine/musl@1.2.2-r3?arch=x86_64",
    }
    fragment = parse_inline(legacy(artifact))
    assert fragment.tool_version is None  # "[not provided]"
    assert fragment.subject.reference == "alpine:latest"
    assert fragment.image is not None
    assert (fragment.image.os_family, fragment.image.os_version) == ("alpine", "3.14.2")
    [package] = fragment.packages
    assert (package.licenses, package.cpes, package.locations) == (
        ["MIT"],
        ["cpe:2.3:a:musl-libc:musl:1.2.2-r3:*:*:*:*:*:*:*"],
        ["/lib/apk/db/installed"],
    )


def test_artifact_without_purl_is_keyed_by_type_name_version() -> None:
    artifacts = [
        {"name": "python", "version": "3.12.4", "type": "binary", "purl": ""},
        {"name": "python", "version": "3.12.4", "type": "binary"},
        {"name": "python", "version": "3.11.9", "type": "binary"},
    ]
    packages = parse_inline(legacy(*artifacts)).packages
    assert [(p.type, p.version, p.purl) for p in packages] == [
        ("generic", "3.12.4", None),
        ("generic", "3.11.9", None),
    ]


@pytest.mark.parametrize(
    ("user_input", "tags", "reference"),
    [
        pytest.param(
            "registry:ghcr.io/acme/shop-api:1.4.2",
            [],
            "ghcr.io/acme/shop-api:1.4.2",
            id="scheme-stripped",
        ),
        pytest.param(
            "docker-archive:/tmp/shop.tar", ["shop-api:dev"], "shop-api:dev", id="archive-uses-tag"
        ),
        pytest.param("/tmp/shop.tar", [], None, id="bare-archive-path"),
        pytest.param(IMAGE_ID, [], None, id="image-id"),
    ],
)
def test_reference_choice(user_input: str, tags: list[str], reference: str | None) -> None:
    data = legacy(source={"type": "image", "target": {"userInput": user_input, "tags": tags}})
    fragment = parse_inline(data)
    assert fragment.subject.reference == reference
    assert fragment.artifact_name == user_input


@pytest.mark.parametrize(
    "source",
    [
        pytest.param({"type": "directory", "target": "/src/shop-api"}, id="schema-1"),
        pytest.param(
            {
                "id": "x",
                "name": "/src/shop-api",
                "type": "directory",
                "metadata": {"path": "/src/shop-api"},
            },
            id="schema-16",
        ),
    ],
)
def test_directory_source(source: dict[str, Any]) -> None:
    fragment = parse_inline(legacy(source=source))
    assert (fragment.artifact_type, fragment.artifact_name) == ("filesystem", "/src/shop-api")
    assert fragment.subject.reference is None and fragment.image is None
    assert fragment.artifact_digests == []


# --- malformed -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "place"),
    [
        pytest.param(["artifacts", 2], "zlib1g", "artifacts[2]", id="artifact-string"),
        pytest.param(
            ["artifacts", 0, "licenses", 0], 1, "artifacts[0].licenses[0]", id="licence-number"
        ),
        pytest.param(
            ["artifacts", 0, "cpes", 0, "cpe"], ["x"], "artifacts[0].cpes[0].cpe", id="cpe-array"
        ),
        pytest.param(
            ["artifacts", 0, "locations"],
            "/var/lib/dpkg/status",
            "artifacts[0].locations",
            id="locations-string",
        ),
        pytest.param(
            ["source", "metadata", "tags"], "latest", "source.metadata.tags", id="tags-string"
        ),
        pytest.param(
            ["source", "metadata", "imageSize"],
            "1 GB",
            "source.metadata.imageSize",
            id="size-string",
        ),
        pytest.param(["distro"], [], "distro", id="distro-array"),
    ],
)
def test_malformed_documents_name_file_and_place(
    path: list[str | int], value: Any, place: str
) -> None:
    data = replaced(load_input(FIXTURE)[0], path, value)
    message = refusal(SOURCE, data, "sboms/shop.syft.json")
    assert message.startswith(f"sboms/shop.syft.json: {place}:")


def test_artifact_without_name_or_purl_fails() -> None:
    message = refusal(
        SOURCE, legacy({"name": "", "version": "1.0", "type": "apk"}), "inline.syft.json"
    )
    assert message.startswith("inline.syft.json: artifacts[0].name:")


# --- the real corpus -------------------------------------------------------------------


@pytest.mark.parametrize("local_path", format_params("syft-json"))
def test_corpus(local_path: str) -> None:
    data, fragment = parse_corpus(SOURCE, local_path)
    expected = {
        artifact.get("purl") or (purl_type(artifact["type"]), artifact["name"], artifact["version"])
        for artifact in data["artifacts"]
    }
    assert len(fragment.packages) == len(expected)
    assert fragment.artifact_type == "container_image"
    assert fragment.image is not None and fragment.image.os_family == "alpine"
    assert fragment.subject.image_id is not None
