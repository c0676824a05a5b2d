"""SPDX JSON: detection, creators, the described image, packages and licences, corpus."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FIXTURES, corpus_params, load_input
from tests_support import parse_corpus, refusal, replaced, stand_in

from gate.sources.base import Fragment
from gate.sources.spdx import SpdxSource

SOURCE = SpdxSource()
FIXTURE = FIXTURES / "sbom" / "spdx-2.3-image.json"
MANIFEST_DIGEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
IMAGE_ID = "sha256:9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
DIFF_ID = "sha256:2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a3740"


def parse_fixture() -> Fragment:
    """Parse fixtures/sbom/spdx-2.3-image.json."""
    data, source = load_input(FIXTURE, "sbom/spdx-2.3-image.json")
    return SOURCE.parse(data, source)


def parse_inline(data: Any) -> Fragment:
    """Parse an in-test document."""
    return SOURCE.parse(data, stand_in("inline.spdx.json"))


def document(*packages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A minimal SPDX 2.3 document."""
    return {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "doc",
        "creationInfo": {"created": "2024-10-14T07:19:02Z", "creators": ["Tool: trivy-0.56.2"]},
        "packages": list(packages),
        **extra,
    }


def describes(root: str) -> list[dict[str, str]]:
    """The relationship saying the document describes ``root``."""
    return [
        {
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": root,
        }
    ]


# --- detection -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}, True, id="2.3"),
        pytest.param({"spdxVersion": "SPDX-2.2", "SPDXID": "SPDXRef-DOCUMENT"}, True, id="2.2"),
        pytest.param({"spdxVersion": "SPDX-2.3"}, False, id="no-spdxid"),
        pytest.param({"spdxVersion": 2.3, "SPDXID": "SPDXRef-DOCUMENT"}, False, id="number"),
        pytest.param(
            {"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"},
            False,
            id="spdx-3-jsonld",
        ),
        pytest.param({"bomFormat": "CycloneDX", "specVersion": "1.5"}, False, id="cyclonedx"),
        pytest.param([], False, id="list"),
    ],
)
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


# --- the Syft-style image document -------------------------------------------------------


def test_scan_facts_and_subject() -> None:
    fragment = parse_fixture()
    assert (fragment.format, fragment.tool, fragment.tool_version) == (
        "spdx-json",
        "syft",
        "1.18.1",
    )
    assert fragment.created == "2024-10-14T07:19:02Z"
    assert fragment.kinds == ["sbom"]
    assert (fragment.artifact_name, fragment.artifact_type) == (
        "ghcr.io/acme/shop-api:1.4.2",
        "container_image",
    )
    assert fragment.artifact_digests == [MANIFEST_DIGEST]
    subject = fragment.subject
    assert (subject.registry, subject.repository, subject.tag) == (
        "ghcr.io",
        "acme/shop-api",
        "1.4.2",
    )
    assert subject.digest == MANIFEST_DIGEST  # the root's versionInfo
    assert subject.image_id is None
    assert fragment.image is None  # Syft's SPDX states no distribution
    assert fragment.vulnerabilities == [] and fragment.vex == [] and fragment.authority == 0


def test_packages_exclude_the_image_root_and_merge_by_purl() -> None:
    data, _ = load_input(FIXTURE)
    packages = {p.name: p for p in parse_fixture().packages}
    assert len(data["packages"]) == 9  # the image root and tomcat twice included
    assert list(packages) == [
        "libssl3",
        "curl",
        "zlib1g",
        "procps",
        "tomcat-embed-core",
        "kernel",
        "tini",
    ]
    assert packages["tomcat-embed-core"].cpes == [
        "cpe:2.3:a:apache:tomcat:10.1.33:*:*:*:*:*:*:*",
        "cpe:2.3:a:apache:tomcat_embed_core:10.1.33:*:*:*:*:*:*:*",
    ]
    tini = packages["tini"]
    assert (tini.purl, tini.type, tini.version) == (None, None, "0.19.0")
    assert packages["zlib1g"].type == "deb"
    assert all(p.locations == [] for p in packages.values())
    assert {s.tool for p in packages.values() for s in p.sources} == {"syft"}


@pytest.mark.parametrize(
    ("package", "licenses"),
    [
        pytest.param("libssl3", ["Apache-2.0"], id="declared-concluded-noassertion"),
        pytest.param("zlib1g", ["Zlib"], id="declared-equals-concluded"),
        pytest.param("procps", ["GPL-2.0-or-later"], id="concluded-only"),
        pytest.param("kernel", ["AGPL-3.0-only"], id="agpl"),
        pytest.param("tini", [], id="noassertion-both"),
    ],
)
def test_licenses(package: str, licenses: list[str]) -> None:
    packages = {p.name: p for p in parse_fixture().packages}
    assert packages[package].licenses == licenses


def test_declared_licence_comes_before_concluded() -> None:
    package = {
        "SPDXID": "SPDXRef-a",
        "name": "a",
        "versionInfo": "1",
        "licenseConcluded": "MIT",
        "licenseDeclared": "MIT  OR\n Apache-2.0",
    }
    [listed] = parse_inline(document(package)).packages
    assert listed.licenses == ["MIT OR Apache-2.0", "MIT"]


# --- creators, roots, versions (inline) --------------------------------------------------


@pytest.mark.parametrize(
    ("creators", "tool"),
    [
        pytest.param(
            ["Organization: Anchore, Inc", "Tool: syft-0.42.4"], ("syft", "0.42.4"), id="syft"
        ),
        pytest.param(["Tool: syft-v0.42.0-bogus"], ("syft", "v0.42.0-bogus"), id="v-prefix"),
        pytest.param(["Tool: syft-[not provided]"], ("syft", None), id="not-provided"),
        pytest.param(["Tool: sbom-tool-2.2.3"], ("sbom-tool", "2.2.3"), id="dash-in-name"),
        pytest.param(["Tool: Trivy-0.56.2", "Tool: other-1"], ("trivy", "0.56.2"), id="first"),
        pytest.param(
            ["Tool: github.com/spdx/tools-golang"],
            ("github.com/spdx/tools-golang", None),
            id="no-version",
        ),
        pytest.param(["Person: Jane Doe"], ("spdx", None), id="no-tool"),
    ],
)
def test_tool(creators: list[str], tool: tuple[str, str | None]) -> None:
    fragment = parse_inline(document(creationInfo={"creators": creators}))
    assert (fragment.tool, fragment.tool_version) == tool


def test_trivy_root_attributions_and_operating_system() -> None:
    root = {
        "SPDXID": "SPDXRef-ContainerImage-1",
        "name": "ghcr.io/acme/shop-api:1.4.2",
        "primaryPackagePurpose": "CONTAINER",
        "attributionTexts": [
            "SchemaVersion: 2",
            f"ImageID: {IMAGE_ID}",
            f"RepoDigest: ghcr.io/acme/shop-api@{MANIFEST_DIGEST}",
            f"DiffID: {DIFF_ID}",
            "RepoTag: ghcr.io/acme/shop-api:1.4.2",
        ],
    }
    os_package = {
        "SPDXID": "SPDXRef-OperatingSystem-1",
        "name": "debian",
        "versionInfo": "12.5",
        "primaryPackagePurpose": "OPERATING-SYSTEM",
    }
    grouping = {
        "SPDXID": "SPDXRef-Application-1",
        "name": "Java",
        "primaryPackagePurpose": "APPLICATION",
    }
    fragment = parse_inline(
        document(root, os_package, grouping, relationships=describes("SPDXRef-ContainerImage-1"))
    )
    assert fragment.packages == []
    assert fragment.subject.reference == "ghcr.io/acme/shop-api:1.4.2"
    assert (fragment.subject.digest, fragment.subject.image_id) == (MANIFEST_DIGEST, IMAGE_ID)
    assert fragment.artifact_digests == [IMAGE_ID, MANIFEST_DIGEST]
    assert fragment.image is not None
    assert (fragment.image.os_family, fragment.image.os_version) == ("debian", "12.5")
    assert [layer.digest for layer in fragment.image.layers] == [DIFF_ID]


@pytest.mark.parametrize(
    ("extra", "artifact_type"),
    [
        pytest.param(
            {"documentDescribes": ["SPDXRef-root"]}, "container_image", id="documentDescribes"
        ),
        pytest.param(
            {
                "relationships": [
                    {
                        "spdxElementId": "SPDXRef-root",
                        "relationshipType": "DESCRIBED_BY",
                        "relatedSpdxElement": "SPDXRef-DOCUMENT",
                    }
                ]
            },
            "container_image",
            id="described-by",
        ),
        pytest.param({"relationships": describes("SPDXRef-missing")}, None, id="dangling"),
        pytest.param({}, None, id="not-described"),
    ],
)
def test_how_the_root_is_found(extra: dict[str, Any], artifact_type: str | None) -> None:
    root = {
        "SPDXID": "SPDXRef-root",
        "name": "alpine:3.20",
        "externalRefs": [{"referenceType": "purl", "referenceLocator": "pkg:oci/alpine"}],
    }
    fragment = parse_inline(document(root, **extra))
    assert fragment.artifact_type == artifact_type
    assert fragment.subject.reference == ("alpine:3.20" if artifact_type else None)
    assert fragment.packages == []  # an image is never a package


def test_file_root_is_a_filesystem() -> None:
    root = {"SPDXID": "SPDXRef-root", "name": "/src/shop-api", "primaryPackagePurpose": "FILE"}
    fragment = parse_inline(document(root, relationships=describes("SPDXRef-root")))
    assert (fragment.artifact_type, fragment.artifact_name) == ("filesystem", "/src/shop-api")
    assert fragment.subject.reference is None


def test_syft_0_42_alpine_purl_type_reads_as_apk() -> None:
    package = {
        "SPDXID": "SPDXRef-a",
        "name": "musl",
        "versionInfo": "1.2.2-r7",
        "externalRefs": [
            {
                "referenceCategory": "PACKAGE_MANAGER",
                "referenceType": "purl",
                "referenceLocator": "pkg:alpine/musl@1.2.2-r7?arch=x86_64",
            },
            {
                "referenceCategory": "SECURITY",
                "referenceType": "cpe22Type",
                "referenceLocator": "cpe:/a:musl-libc:musl:1.2.2-r7",
            },
        ],
    }
    [listed] = parse_inline(document(package)).packages
    assert (listed.type, listed.purl) == ("apk", "pkg:alpine/musl@1.2.2-r7?arch=x86_64")
    assert listed.cpes == ["cpe:/a:musl-libc:musl:1.2.2-r7"]


# --- malformed -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "place"),
    [
        pytest.param(["spdxVersion"], "SPDX-3.0", "spdxVersion", id="version"),
        pytest.param(["packages"], {}, "packages", id="packages-object"),
        pytest.param(["packages", 1], "curl", "packages[1]", id="package-string"),
        pytest.param(["packages", 7, "name"], "", "packages[7].name", id="no-name-no-purl"),
        pytest.param(
            ["packages", 0, "licenseDeclared"],
            ["MIT"],
            "packages[0].licenseDeclared",
            id="licence-array",
        ),
        pytest.param(
            ["packages", 0, "externalRefs", 1],
            "pkg:deb/x",
            "packages[0].externalRefs[1]",
            id="ref-string",
        ),
        pytest.param(
            ["creationInfo", "creators"],
            "Tool: syft",
            "creationInfo.creators",
            id="creators-string",
        ),
        pytest.param(["relationships", 0], 5, "relationships[0]", id="relationship-number"),
    ],
)
def test_malformed_documents_name_file_and_place(
    path: list[str | int], value: Any, place: str
) -> None:
    data = replaced(load_input(FIXTURE)[0], path, value)
    message = refusal(SOURCE, data, "sboms/shop.spdx.json")
    assert message.startswith(f"sboms/shop.spdx.json: {place}:")


# --- the real corpus -------------------------------------------------------------------


def _expected_packages(data: dict[str, Any]) -> int:
    """Distinct packages by the documented rule, straight from the raw JSON.

    Not packages: purposes CONTAINER / OPERATING-SYSTEM / FILE…, ``pkg:oci`` purls, and
    entries with neither purl nor version. Identity: the purl, else (name, version).
    """
    keys = set()
    for package in data.get("packages") or []:
        purls = [
            ref["referenceLocator"]
            for ref in package.get("externalRefs") or []
            if ref.get("referenceType") == "purl"
        ]
        purl = purls[0] if purls and purls[0].startswith("pkg:") else None
        purpose = package.get("primaryPackagePurpose")
        if purpose in ("CONTAINER", "OPERATING-SYSTEM", "FILE") or (purl or "").startswith(
            "pkg:oci/"
        ):
            continue
        if purl or package.get("versionInfo"):
            keys.add(purl or (package["name"], package.get("versionInfo")))
    return len(keys)


@pytest.mark.parametrize("local_path", corpus_params("spdx"))
def test_corpus(local_path: str) -> None:
    data, fragment = parse_corpus(SOURCE, local_path)
    assert len(fragment.packages) == _expected_packages(data)
    assert fragment.tool == "syft"
    assert all(p.sources[0].input == local_path for p in fragment.packages)
