"""apply_vex: which statements apply to which vulnerability, and which one wins."""

from __future__ import annotations

from typing import Any

import pytest

from gate import vex
from gate.document import FindingSource, Package, Subject, VexAssessment, Vulnerability
from gate.vex import VexStatement, apply_vex, parse_purl

DIGEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
IMAGE_ID = "sha256:9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
OTHER_DIGEST = "sha256:" + "0" * 64
SUBJECT = Subject(
    reference="ghcr.io/acme/shop-api:1.4.2",
    registry="ghcr.io",
    repository="acme/shop-api",
    tag="1.4.2",
    digest=DIGEST,
    image_id=IMAGE_ID,
)
ZLIB_PURL = "pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12.5&epoch=1"
"""How Trivy writes the zlib1g package URL: the epoch as a qualifier."""
OCI = f"pkg:oci/shop-api@{DIGEST.replace(':', '%3A')}?repository_url=ghcr.io/acme/shop-api"


def finding(
    id: str = "CVE-2023-45853",
    *,
    aliases: tuple[str, ...] = (),
    name: str = "zlib1g",
    version: str | None = "1:1.2.13.dfsg-1",
    type: str | None = "deb",
    purl: str | None = ZLIB_PURL,
) -> Vulnerability:
    """A scanner finding in one package."""
    return Vulnerability(
        id=id,
        aliases=list(aliases),
        severity="critical",
        package=Package(name=name, version=version, type=type, purl=purl),
        fix_available=False,
        sources=[FindingSource(tool="trivy", input="trivy.json", severity="critical")],
    )


def statement(*products: str, **fields: Any) -> VexStatement:
    """A not_affected statement about CVE-2023-45853 in ``products``."""
    values: dict[str, Any] = {
        "vulnerability": "CVE-2023-45853",
        "status": "not_affected",
        "source": "vex.json",
        "products": products,
    }
    values.update(fields)
    return VexStatement(**values)


def applied(vuln: Vulnerability, *statements: VexStatement, subject: Subject = SUBJECT) -> Any:
    """The ``vex`` apply_vex gives ``vuln``."""
    [result] = apply_vex([vuln], list(statements), subject)
    return result.vex


# --- does a statement apply? ----------------------------------------------------------

NO_PURL = {"purl": None}

APPLIES = [
    # identity
    ("id-equal", statement(ZLIB_PURL), {}, True),
    ("id-case-insensitive", statement(ZLIB_PURL, vulnerability="cve-2023-45853"), {}, True),
    ("statement-alias-is-vuln-id",
     statement(ZLIB_PURL, vulnerability="GHSA-0000", aliases=("CVE-2023-45853",)), {}, True),
    ("vuln-alias-is-statement-id",
     statement(ZLIB_PURL, vulnerability="ghsa-0000"), {"aliases": ("GHSA-0000",)}, True),
    ("other-id", statement(ZLIB_PURL, vulnerability="CVE-2023-0001"), {}, False),
    # package products
    ("purl-epoch-in-version", statement("pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1"), {}, True),
    ("purl-epoch-qualifier", statement("pkg:deb/debian/zlib1g@1.2.13.dfsg-1?epoch=1"), {}, True),
    ("purl-encoded-epoch", statement("pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1"), {}, True),
    ("purl-no-version", statement("pkg:deb/debian/zlib1g"), {}, True),
    ("purl-qualifiers-ignored",
     statement("pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=arm64&distro=debian-11"), {}, True),
    ("purl-case-of-name", statement("pkg:DEB/debian/Zlib1g@1:1.2.13.dfsg-1"), {}, True),
    ("purl-other-version", statement("pkg:deb/debian/zlib1g@1:1.3-1"), {}, False),
    ("purl-missing-epoch", statement("pkg:deb/debian/zlib1g@1.2.13.dfsg-1"), {}, False),
    ("purl-other-name", statement("pkg:deb/debian/zlib1g-dev@1:1.2.13.dfsg-1"), {}, False),
    ("purl-other-namespace", statement("pkg:deb/ubuntu/zlib1g@1:1.2.13.dfsg-1"), {}, False),
    ("purl-other-type", statement("pkg:rpm/debian/zlib1g@1:1.2.13.dfsg-1"), {}, False),
    ("no-purl-name-version", statement("pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1"), NO_PURL, True),
    ("no-purl-other-version", statement("pkg:deb/debian/zlib1g@1:1.3-1"), NO_PURL, False),
    ("no-purl-other-type", statement("pkg:apk/alpine/zlib1g@1:1.2.13.dfsg-1"), NO_PURL, False),
    ("no-purl-go-module", statement("pkg:golang/golang.org/x/net@v0.17.0"),
     {"name": "golang.org/x/net", "version": "v0.17.0", "type": "golang", "purl": None}, True),
    ("maven-no-purl", statement("pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.3"),
     {"name": "com.fasterxml.jackson.core:jackson-databind", "version": "2.13.3",
      "type": "maven", "purl": None}, True),
    ("pypi-pep503", statement("pkg:pypi/zope-interface@6.0"),
     {"name": "zope.interface", "version": "6.0", "type": "pypi",
      "purl": "pkg:pypi/zope.interface@6.0"}, True),
    ("curl-plus-encoded", statement("pkg:deb/debian/curl@7.88.1-10%2Bdeb12u1"),
     {"name": "curl", "version": "7.88.1-10+deb12u1",
      "purl": "pkg:deb/debian/curl@7.88.1-10+deb12u1"}, True),
    ("cpe-product", statement("cpe:2.3:a:zlib:zlib:1.2.13:*:*:*:*:*:*:*"), {}, False),
    # the image, by reference
    ("image-ref-tag", statement("ghcr.io/acme/shop-api:1.4.2"), {}, True),
    ("image-ref-no-tag", statement("ghcr.io/acme/shop-api"), {}, True),
    ("image-ref-digest", statement(f"ghcr.io/acme/shop-api@{DIGEST}"), {}, True),
    ("image-ref-other-tag", statement("ghcr.io/acme/shop-api:1.4.1"), {}, False),
    ("image-ref-other-digest", statement(f"ghcr.io/acme/shop-api:1.4.2@{OTHER_DIGEST}"), {}, False),
    ("image-ref-other-registry", statement("docker.io/acme/shop-api:1.4.2"), {}, False),
    ("image-ref-other-repository", statement("ghcr.io/acme/cart-api:1.4.2"), {}, False),
    ("image-ref-bare-name", statement("shop-api"), {}, False),
    # the image, by digest
    ("digest-manifest", statement(DIGEST), {}, True),
    ("digest-image-id", statement(IMAGE_ID), {}, True),
    ("digest-upper-case", statement(DIGEST.upper().replace("SHA256", "sha256")), {}, True),
    ("digest-other", statement(OTHER_DIGEST), {}, False),
    # the image, by pkg:oci
    ("oci-repository-url", statement(OCI), {}, True),
    ("oci-repository-url-scheme",
     statement("pkg:oci/shop-api?repository_url=https://ghcr.io/acme/shop-api/"), {}, True),
    ("oci-repository-url-without-name", statement("pkg:oci/shop-api?repository_url=ghcr.io/acme"),
     {}, True),
    ("oci-repository-url-other", statement("pkg:oci/shop-api?repository_url=quay.io/acme/shop-api"),
     {}, False),
    ("oci-name-only", statement("pkg:oci/shop-api"), {}, True),
    ("oci-name-other", statement("pkg:oci/cart-api"), {}, False),
    ("oci-digest-decides", statement(f"pkg:oci/renamed@{DIGEST.replace(':', '%3A')}"), {}, True),
    ("oci-other-digest",
     statement(f"pkg:oci/shop-api@{OTHER_DIGEST}?repository_url=ghcr.io/acme/shop-api"), {}, False),
    ("oci-tag-qualifier", statement("pkg:oci/shop-api?tag=1.4.2"), {}, True),
    ("oci-other-tag-qualifier", statement("pkg:oci/shop-api?tag=1.4.3"), {}, False),
    # subcomponents narrow an image product
    ("sub-matches", statement(OCI, subcomponents=("pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1",)), {},
     True),
    ("sub-any-of", statement(OCI, subcomponents=("pkg:deb/debian/curl", "pkg:deb/debian/zlib1g")),
     {}, True),
    ("sub-other-package", statement(OCI, subcomponents=("pkg:deb/debian/curl",)), {}, False),
    ("sub-not-a-purl", statement(OCI, subcomponents=("https://acme.example/sbom#zlib",)), {},
     False),
    ("sub-no-purl-name-version",
     statement(OCI, subcomponents=("pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1",)), NO_PURL, True),
    ("sub-other-image", statement("ghcr.io/acme/cart-api", subcomponents=(ZLIB_PURL,)), {}, False),
    ("package-product-with-subs",
     statement(ZLIB_PURL, subcomponents=("pkg:deb/debian/curl",)), {}, True),
    ("no-products", statement(), {}, False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("given", "package", "expected"),
    [pytest.param(given, package, expected, id=name) for name, given, package, expected in APPLIES],
)
def test_statement_applies(given: VexStatement, package: dict[str, Any], expected: bool) -> None:
    vex_found = applied(finding(**package), given)
    assert (vex_found is not None) is expected


def test_image_product_without_known_digests_falls_back_to_the_name() -> None:
    unpinned = SUBJECT.model_copy(update={"digest": None, "image_id": None})
    pinned = statement(f"pkg:oci/shop-api@{OTHER_DIGEST}?repository_url=ghcr.io/acme/shop-api")
    assert applied(finding(), pinned, subject=unpinned) is not None
    assert applied(finding(), statement(DIGEST), subject=unpinned) is None


def test_registry_only_repository_url_as_vexctl_writes_it() -> None:
    subject = Subject(
        registry="registry.k8s.io", repository="kube-apiserver", tag="v1.26.0", digest=None
    )
    product = "pkg:oci/kube-apiserver?repository_url=registry.k8s.io&tag=v1.26.0"
    assert applied(finding(), statement(product), subject=subject) is not None


def test_docker_hub_short_names_resolve_as_docker_does() -> None:
    subject = Subject(registry="docker.io", repository="library/nginx", tag="1.25")
    assert applied(finding(), statement("nginx"), subject=subject) is not None
    assert applied(finding(), statement("nginx:1.24"), subject=subject) is None


def test_unknown_subject_only_package_products_apply() -> None:
    assert applied(finding(), statement(OCI), subject=Subject()) is None
    assert applied(finding(), statement(ZLIB_PURL), subject=Subject()) is not None


# --- which statement wins -------------------------------------------------------------


def winner(*statements: VexStatement) -> str | None:
    """The ``impact_statement`` (used as a label) of the statement that wins."""
    found = applied(finding(), *statements)
    return None if found is None else found.impact_statement


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        pytest.param(
            [statement(ZLIB_PURL, impact_statement="new", timestamp="2024-02-01T00:00:00Z"),
             statement(ZLIB_PURL, impact_statement="old", timestamp="2024-01-01T00:00:00Z")],
            "new", id="later-timestamp-listed-first",
        ),
        pytest.param(
            [statement(ZLIB_PURL, impact_statement="old", timestamp="2024-01-01T00:00:00Z"),
             statement(ZLIB_PURL, impact_statement="new", timestamp="2024-02-01T00:00:00Z")],
            "new", id="later-timestamp-listed-last",
        ),
        pytest.param(
            [statement(ZLIB_PURL, impact_statement="new", timestamp="2024-02-20T14:30:00-05:00"),
             statement(ZLIB_PURL, impact_statement="old", timestamp="2024-02-20T19:00:00Z")],
            "new", id="instants-not-strings",
        ),
        pytest.param(
            [statement(ZLIB_PURL, impact_statement="new", timestamp="2024-01-01T00:00:00.5Z"),
             statement(ZLIB_PURL, impact_statement="old", timestamp="2024-01-01T00:00:00Z")],
            "new", id="fractional-seconds",
        ),
        pytest.param(
            [statement(ZLIB_PURL, impact_statement="new", timestamp="2024-01-01T00:00:00Z",
                       order=(1, 0)),
             statement(ZLIB_PURL, impact_statement="old", timestamp="2024-01-01T00:00:00Z",
                       order=(0, 5))],
            "new", id="tie-broken-by-order",
        ),
        pytest.param(
            [statement(ZLIB_PURL, impact_statement="old", order=(2,)),
             statement(ZLIB_PURL, impact_statement="new", order=(2,))],
            "new", id="full-tie-later-in-list",
        ),
        pytest.param(
            [statement(ZLIB_PURL, impact_statement="new", timestamp="2020-01-01T00:00:00Z"),
             statement(ZLIB_PURL, impact_statement="old", order=(9, 9))],
            "new", id="untimestamped-sorts-first",
        ),
        pytest.param(
            [statement(ZLIB_PURL, impact_statement="new", timestamp="1960-01-01T00:00:00Z"),
             statement(ZLIB_PURL, impact_statement="old", order=(9, 9))],
            "new", id="untimestamped-before-pre-epoch-times",
        ),
        pytest.param(
            [statement(ZLIB_PURL, impact_statement="new", timestamp="2020-01-01T00:00:00Z"),
             statement(ZLIB_PURL, impact_statement="old", timestamp="last tuesday", order=(9,))],
            "new", id="unreadable-timestamp-sorts-first",
        ),
        pytest.param(
            [statement(ZLIB_PURL, impact_statement="new", timestamp="2020-01-01T00:00:00Z"),
             statement("pkg:deb/debian/curl", impact_statement="other",
                       timestamp="2025-01-01T00:00:00Z")],
            "new", id="later-but-not-applicable",
        ),
        pytest.param(
            [statement(OCI, impact_statement="image", timestamp="2024-03-01T00:00:00Z"),
             statement(ZLIB_PURL, impact_statement="package", timestamp="2024-01-01T00:00:00Z")],
            "image", id="image-and-package-products-compete-on-time",
        ),
    ],
)  # fmt: skip
def test_latest_applicable_statement_wins(
    statements: list[VexStatement], expected: str | None
) -> None:
    assert winner(*statements) == expected


def test_assessment_carries_the_statement() -> None:
    given = statement(
        ZLIB_PURL,
        status="affected",
        justification=None,
        impact_statement="reachable",
        action_statement="upgrade",
        timestamp="2024-01-01T00:00:00Z",
        document_id="doc-1",
        author="ACME",
        source="vex/acme.json",
    )
    assert applied(finding(), given) == VexAssessment(
        status="affected",
        impact_statement="reachable",
        action_statement="upgrade",
        timestamp="2024-01-01T00:00:00Z",
        input="vex/acme.json",
        document_id="doc-1",
        author="ACME",
    )


def test_inputs_are_not_mutated_and_order_is_kept() -> None:
    vulnerabilities = [
        finding("CVE-2024-0001"),
        finding(),
        finding("CVE-2024-0002", name="curl", purl="pkg:deb/debian/curl@7.88.1"),
    ]
    before = [v.model_dump() for v in vulnerabilities]
    statements = [statement(ZLIB_PURL)]
    result = apply_vex(vulnerabilities, statements, SUBJECT)
    assert [v.model_dump() for v in vulnerabilities] == before
    assert [v.id for v in result] == ["CVE-2024-0001", "CVE-2023-45853", "CVE-2024-0002"]
    assert [v.vex is not None for v in result] == [False, True, False]
    assert result[1] is not vulnerabilities[1]
    assert result is not vulnerabilities
    assert statements == [statement(ZLIB_PURL)]


def test_no_statements_changes_nothing() -> None:
    vulnerabilities = [finding()]
    assert apply_vex(vulnerabilities, [], SUBJECT) == vulnerabilities


# --- scale ----------------------------------------------------------------------------


def test_statements_are_indexed_by_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """10,000 findings × 1,000 statements: each finding only tries its own statements."""
    calls = 0
    original = vex._Rule.applies

    def counting(self: Any, package: Any) -> bool:
        nonlocal calls
        calls += 1
        return original(self, package)

    monkeypatch.setattr(vex._Rule, "applies", counting)
    vulnerabilities = [
        finding(f"CVE-2024-{n:05d}", name=f"pkg-{n % 50}", purl=f"pkg:deb/debian/pkg-{n % 50}@1.0")
        for n in range(10_000)
    ]
    statements = [
        statement("ghcr.io/acme/shop-api", vulnerability=f"cve-2024-{n:05d}", order=(n,))
        for n in range(0, 10_000, 10)
    ]
    result = apply_vex(vulnerabilities, statements, SUBJECT)
    covered = [v.id for v in result if v.vex is not None]
    assert covered == [f"CVE-2024-{n:05d}" for n in range(0, 10_000, 10)]
    assert calls == len(statements)


# --- package URLs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pkg:deb/debian/curl@7.88.1-10%2Bdeb12u1?arch=amd64#sub/path",
         ("deb", "debian", "curl", "7.88.1-10+deb12u1", {"arch": "amd64"})),
        ("pkg:npm/@angular/core@16.0.0", ("npm", "@angular", "core", "16.0.0", {})),
        ("pkg:npm/%40angular/core", ("npm", "@angular", "core", None, {})),
        ("pkg:golang/golang.org/x/net@v0.17.0",
         ("golang", "golang.org/x", "net", "v0.17.0", {})),
        ("PKG:OCI/shop-api?Repository_URL=ghcr.io%2Facme%2Fshop-api",
         ("oci", "", "shop-api", None, {"repository_url": "ghcr.io/acme/shop-api"})),
    ],
)  # fmt: skip
def test_parse_purl(text: str, expected: tuple[Any, ...]) -> None:
    purl = parse_purl(text)
    assert purl is not None
    assert (purl.type, purl.namespace, purl.name, purl.version, purl.qualifiers) == expected


@pytest.mark.parametrize("text", ["", "pkg:", "pkg:deb", "pkg:/x", "deb/debian/curl", "cpe:2.3:a"])
def test_parse_purl_rejects(text: str) -> None:
    assert parse_purl(text) is None
