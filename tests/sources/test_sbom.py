"""The helpers the SBOM sources share: package URLs, licences, what a package is, inventory."""

from __future__ import annotations

from typing import Any

import pytest
from tests_support import stand_in

from gate.errors import SourceError
from gate.sources.base import Fragment
from gate.sources.sbom import (
    Inventory,
    Purl,
    declared_first,
    describe_image,
    is_package,
    license_expression,
    parse_purl,
    tool_version,
)

SOURCE = stand_in("sbom.json")
DIGEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            "pkg:deb/debian/zlib1g@1%3A1.2.13?arch=amd64&epoch=1#sub",
            Purl("deb", "debian", "zlib1g", "1:1.2.13", {"arch": "amd64", "epoch": "1"}),
            id="full",
        ),
        pytest.param(
            "pkg:maven/org.apache.tomcat.embed/tomcat-embed-core@10.1.33",
            Purl("maven", "org.apache.tomcat.embed", "tomcat-embed-core", "10.1.33"),
            id="maven",
        ),
        pytest.param(
            "pkg:npm/%40angular/core@17.0.0",
            Purl("npm", "@angular", "core", "17.0.0"),
            id="encoded-scope",
        ),
        pytest.param(
            "pkg:npm/@angular/core",
            Purl("npm", "@angular", "core", None),
            id="raw-scope-no-version",
        ),
        pytest.param("PKG:PyPI/Django@5.0", Purl("pypi", None, "Django", "5.0"), id="case"),
        pytest.param("a-purl-1", None, id="not-a-purl"),
        pytest.param("pkg:generic", None, id="no-name"),
        pytest.param("", None, id="empty"),
    ],
)
def test_parse_purl(value: str, expected: Purl | None) -> None:
    assert parse_purl(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("MIT", "MIT", id="id"),
        pytest.param("  MIT   OR\n\tApache-2.0 ", "MIT OR Apache-2.0", id="white-space"),
        pytest.param("NOASSERTION", None, id="noassertion"),
        pytest.param("none", None, id="none-any-case"),
        pytest.param("   ", None, id="blank"),
        pytest.param(3, None, id="not-text"),
    ],
)
def test_license_expression(value: Any, expected: str | None) -> None:
    assert license_expression(value) == expected


def test_declared_first_and_tool_version() -> None:
    pairs = [("A", "concluded"), ("B", None), (None, "declared"), ("C", "declared")]
    assert declared_first(pairs) == ["B", "C", "A"]
    assert (tool_version("[not provided]"), tool_version("1.18.1")) == (None, "1.18.1")


@pytest.mark.parametrize(
    ("kind", "purl", "version", "expected"),
    [
        pytest.param("library", "pkg:npm/a@1", "1", True, id="library"),
        pytest.param(None, None, "1.0", True, id="version-only"),
        pytest.param("application", None, None, False, id="trivy-grouping"),
        pytest.param("operating-system", None, "12.5", False, id="os"),
        pytest.param("OPERATING-SYSTEM", None, "12.5", False, id="spdx-purpose"),
        pytest.param("container", None, "sha256:x", False, id="container"),
        pytest.param("LIBRARY", "pkg:oci/shop-api@sha256%3Aab", None, False, id="oci-purl"),
        pytest.param("firmware", None, "2.1", True, id="firmware"),
    ],
)
def test_is_package(
    kind: str | None, purl: str | None, version: str | None, expected: bool
) -> None:
    assert is_package(kind, parse_purl(purl), version) is expected


@pytest.mark.parametrize(
    ("version", "purl", "expected"),
    [
        pytest.param("8.39-13", "pkg:deb/ubuntu/libpcre3@8.39-13?epoch=2", "2:8.39-13", id="add"),
        pytest.param(
            "2:8.39-13", "pkg:deb/ubuntu/libpcre3@2%3A8.39-13?epoch=2", "2:8.39-13", id="already"
        ),
        pytest.param("8.39-13", "pkg:deb/ubuntu/libpcre3@8.39-13?epoch=0", "8.39-13", id="zero"),
        pytest.param(None, "pkg:rpm/redhat/bash@5.1?epoch=1", "1:5.1", id="from-purl"),
    ],
)
def test_epoch_goes_back_into_the_version(version: str | None, purl: str, expected: str) -> None:
    inventory = Inventory("trivy", SOURCE)
    package = inventory.add("components[0]", name="pkg", version=version, purl=purl)
    assert package is not None and package.version == expected
    assert inventory.packages()[0].version == expected


def test_inventory_merges_and_keys() -> None:
    inventory = Inventory("syft", SOURCE)
    first = inventory.add(
        "a[0]",
        name=None,
        version=None,
        purl="pkg:alpine/musl@1.2.2?arch=x86_64",
        licenses=["MIT", "NOASSERTION"],
        cpes=["cpe:a"],
        locations=["/lib/apk/db/installed"],
    )
    inventory.add(
        "a[1]",
        name="musl",
        version="1.2.2",
        purl="pkg:alpine/musl@1.2.2?arch=x86_64",
        licenses=["MIT", "BSD-2-Clause"],
        cpes=["cpe:b", "cpe:a"],
        locations=["/other"],
    )
    inventory.add("a[2]", name="tini", version="0.19.0", purl="not-a-purl", ecosystem="binary")
    inventory.add("a[3]", name="tini", version="0.19.0", purl=None, ecosystem="binary")
    assert first is not None
    assert (first.name, first.version, first.type, first.path) == (
        "musl",
        "1.2.2",
        "apk",
        "/lib/apk/db/installed",
    )
    musl, tini = inventory.packages()
    assert (musl.licenses, musl.cpes, musl.locations) == (
        ["MIT", "BSD-2-Clause"],
        ["cpe:a", "cpe:b"],
        ["/lib/apk/db/installed", "/other"],
    )
    assert (tini.type, tini.purl) == ("generic", None)


def test_inventory_refuses_a_package_without_any_name() -> None:
    with pytest.raises(SourceError) as caught:
        Inventory("syft", SOURCE).add("artifacts[4]", name=None, version="1", purl=None)
    assert str(caught.value).startswith("sbom.json: artifacts[4].name:")


@pytest.mark.parametrize(
    ("kwargs", "reference", "digest"),
    [
        pytest.param(
            {"name": "shop-api", "version": "1.4.2"}, "shop-api:1.4.2", None, id="tag-version"
        ),
        pytest.param(
            {"name": "shop-api", "version": DIGEST}, "shop-api", DIGEST, id="digest-version"
        ),
        pytest.param(
            {"name": "user input!", "tags": ["ghcr.io/acme/shop-api:1.4.2"]},
            "ghcr.io/acme/shop-api:1.4.2",
            None,
            id="tag-after-bad-name",
        ),
        pytest.param(
            {"name": None, "repo_digests": [f"ghcr.io/acme/shop-api@{DIGEST}"]},
            None,
            DIGEST,
            id="repo-digest",
        ),
        pytest.param(
            {
                "name": None,
                "purl": f"pkg:oci/shop-api@{DIGEST.replace(':', '%3A')}"
                "?repository_url=ghcr.io%2Facme%2Fshop-api",
            },
            "ghcr.io/acme/shop-api",
            DIGEST,
            id="oci-purl",
        ),
    ],
)
def test_describe_image(kwargs: dict[str, Any], reference: str | None, digest: str | None) -> None:
    fragment = Fragment(format="x", tool="x")
    describe_image(fragment, **kwargs)
    assert fragment.artifact_type == "container_image"
    assert (fragment.subject.reference, fragment.subject.digest) == (reference, digest)
