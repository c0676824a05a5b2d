"""OpenVEX source: detection, statement mapping and expansion, refusals, the real corpus."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import corpus_params, fixture, load_input
from tests_support import parse_corpus, refusal, shop_api_findings, stand_in

from gate.document import Subject
from gate.reference import parse_reference
from gate.sources.base import Fragment
from gate.sources.openvex import OpenVexSource
from gate.vex import apply_vex

SOURCE = OpenVexSource()
DIGEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
IMAGE_ID = "sha256:9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
SUBJECT = parse_reference("ghcr.io/acme/shop-api:1.4.2").model_copy(
    update={"digest": DIGEST, "image_id": IMAGE_ID}
)
INLINE = stand_in("inline.json")


def parse_fixture(name: str) -> Fragment:
    """Parse a fixture under fixtures/vex, recorded under its relative path."""
    data, source = load_input(fixture(f"vex/{name}"), f"vex/{name}")
    return SOURCE.parse(data, source)


def parse_inline(data: Any) -> Fragment:
    """Parse an in-test document."""
    return SOURCE.parse(data, INLINE)


def assessed(fragment: Fragment, subject: Subject = SUBJECT) -> dict[str, Any]:
    """package name → (status, justification) of the Trivy findings after applying VEX."""
    return {
        v.package.name: (v.vex.status, v.vex.justification) if v.vex else None
        for v in apply_vex(shop_api_findings(), fragment.vex, subject)
    }


def document(*statements: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A v0.2.0 document around ``statements``."""
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/1",
        "author": "ACME",
        "timestamp": "2024-03-01T09:00:00Z",
        "version": 1,
        "statements": list(statements),
        **fields,
    }


def one(**fields: Any) -> dict[str, Any]:
    """A v0.2.0 statement; ``fields`` override."""
    return {
        "vulnerability": {"name": "CVE-2024-0001"},
        "products": [{"@id": "pkg:deb/debian/zlib1g@1.2.13"}],
        "status": "fixed",
        **fields,
    }


# --- the shop-api fixtures --------------------------------------------------------------


def test_scan_facts() -> None:
    fragment = parse_fixture("openvex-0.2.0-shop-api.json")
    assert (fragment.format, fragment.tool, fragment.tool_version) == ("openvex", "openvex", None)
    assert fragment.created == "2024-03-01T09:00:00Z"
    assert fragment.kinds == ["vex"]
    assert (fragment.vulnerabilities, fragment.packages, fragment.attestations) == ([], [], [])


def test_statements_of_the_v020_fixture() -> None:
    statements = parse_fixture("openvex-0.2.0-shop-api.json").vex
    assert [(s.vulnerability, s.status, s.justification, s.timestamp) for s in statements] == [
        ("CVE-2023-45853", "not_affected", "vulnerable_code_not_in_execute_path",
         "2024-02-20T19:30:00.25Z"),
        ("CVE-2023-45853", "under_investigation", None, "2024-01-10T08:00:00Z"),
        # no statement timestamp: the document's
        ("CVE-2023-38545", "affected", None, "2024-03-01T09:00:00Z"),
        ("CVE-2024-5535", "not_affected", None, "2024-03-01T09:00:00Z"),
    ]  # fmt: skip
    curl = statements[2]
    assert curl.aliases == ("DSA-5587-1",)
    assert curl.subcomponents == (
        "https://acme.example/sbom/shop-api/curl",
        "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u1?arch=amd64",
    )
    assert curl.action_statement and curl.action_statement.startswith("The health check")
    assert [s.order for s in statements] == [(0, 0), (1, 0), (2, 0), (3, 0)]
    assert {(s.source, s.document_id, s.author) for s in statements} == {
        (
            "vex/openvex-0.2.0-shop-api.json",
            "https://vex.acme.example/shop-api/vex-2024-0007",
            "ACME Product Security <psirt@acme.example>",
        )
    }


def test_v020_fixture_applied_to_the_trivy_findings() -> None:
    assert assessed(parse_fixture("openvex-0.2.0-shop-api.json")) == {
        # the later statement wins although it is listed first
        "zlib1g": ("not_affected", "vulnerable_code_not_in_execute_path"),
        "curl": ("affected", None),
        "libssl3": ("not_affected", None),
        "apt": None,
        "com.fasterxml.jackson.core:jackson-databind": None,
        "org.apache.tomcat.embed:tomcat-embed-core": None,
    }


def test_v020_fixture_does_not_apply_to_another_build() -> None:
    other = SUBJECT.model_copy(update={"digest": "sha256:" + "1" * 64, "image_id": None})
    assert set(assessed(parse_fixture("openvex-0.2.0-shop-api.json"), other).values()) == {None}


def test_legacy_fixture() -> None:
    fragment = parse_fixture("openvex-0.0.1-legacy.json")
    assert fragment.created is None
    assert [(s.vulnerability, s.products, s.subcomponents, s.timestamp) for s in fragment.vex] == [
        ("CVE-2023-45853", ("ghcr.io/acme/shop-api:1.4.2",),
         ("pkg:deb/debian/zlib1g@1.2.13.dfsg-1?epoch=1",), None),
        ("CVE-2011-3374", (f"ghcr.io/acme/shop-api@{DIGEST}",), (), None),
    ]  # fmt: skip
    statuses = assessed(fragment)
    assert statuses["zlib1g"] == ("not_affected", "vulnerable_code_not_present")
    assert statuses["apt"] == ("affected", None)
    assert statuses["curl"] is None


# --- mapping details ----------------------------------------------------------------------


def test_one_statement_per_product_each_with_its_own_subcomponents() -> None:
    fragment = parse_inline(
        document(
            one(),
            one(
                products=[
                    {"@id": "ghcr.io/acme/a", "subcomponents": [{"@id": "pkg:npm/x@1"}]},
                    {"@id": "ghcr.io/acme/b", "subcomponents": ["pkg:npm/y@2"]},
                    "ghcr.io/acme/c",
                ]
            ),
        )
    )
    assert [(s.products, s.subcomponents, s.order) for s in fragment.vex] == [
        (("pkg:deb/debian/zlib1g@1.2.13",), (), (0, 0)),
        (("ghcr.io/acme/a",), ("pkg:npm/x@1",), (1, 0)),
        (("ghcr.io/acme/b",), ("pkg:npm/y@2",), (1, 1)),
        (("ghcr.io/acme/c",), (), (1, 2)),
    ]


def test_statement_level_subcomponents_narrow_every_product() -> None:
    fragment = parse_inline(
        document(
            one(
                products=[
                    "ghcr.io/acme/a",
                    {"@id": "ghcr.io/acme/b", "subcomponents": ["pkg:x/y"]},
                ],
                subcomponents=["pkg:npm/z@1"],
            )
        )
    )
    assert [s.subcomponents for s in fragment.vex] == [("pkg:npm/z@1",), ("pkg:x/y", "pkg:npm/z@1")]


def test_product_identifiers_are_alternative_names() -> None:
    product = {
        "@id": "https://acme.example/products/a",
        "identifiers": {
            "purl": "pkg:oci/a?repository_url=ghcr.io/acme/a",
            "cpe23": "cpe:2.3:a:acme:a:1:*:*:*:*:*:*:*",
            "@cpe22": "cpe:/a:acme:a:1",
        },
        "hashes": {"sha-256": "ab" * 32},
    }
    [statement] = parse_inline(document(one(products=[product]))).vex
    assert statement.products == (
        "https://acme.example/products/a",
        "pkg:oci/a?repository_url=ghcr.io/acme/a",
        "cpe:2.3:a:acme:a:1:*:*:*:*:*:*:*",
        "cpe:/a:acme:a:1",
    )


def test_statement_without_products_yields_none() -> None:
    fragment = parse_inline(
        document(one(products=[]), {"vulnerability": "CVE-1", "status": "fixed"})
    )
    assert fragment.vex == []


@pytest.mark.parametrize(
    ("vulnerability", "expected"),
    [
        ("CVE-2024-0001", ("CVE-2024-0001", ())),
        ({"name": "CVE-2024-0001", "aliases": ["GHSA-aaaa", "  "]},
         ("CVE-2024-0001", ("GHSA-aaaa",))),
        ({"@id": "https://nvd.nist.gov/vuln/detail/CVE-2024-0001"},
         ("https://nvd.nist.gov/vuln/detail/CVE-2024-0001", ())),
    ],
    ids=["string", "object-with-aliases", "only-@id"],
)  # fmt: skip
def test_vulnerability_shapes(vulnerability: Any, expected: tuple[Any, ...]) -> None:
    [statement] = parse_inline(document(one(vulnerability=vulnerability))).vex
    assert (statement.vulnerability, statement.aliases) == expected


def test_tooling_names_the_tool() -> None:
    assert parse_inline(document(tooling="VEXctl/0.3.0")).tool == "vexctl/0.3.0"


def test_every_status_is_kept() -> None:
    statuses = ["not_affected", "affected", "fixed", "under_investigation"]
    fragment = parse_inline(document(*(one(status=status) for status in statuses)))
    assert [s.status for s in fragment.vex] == statuses


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "place", "message"),
    [
        (lambda d: d["statements"][0].update(status="exploitable"), "statements[0].status",
         "unknown status 'exploitable'"),
        (lambda d: d["statements"][0].pop("status"), "statements[0].status", "missing status"),
        (lambda d: d["statements"][0].pop("vulnerability"), "statements[0].vulnerability",
         "missing vulnerability"),
        (lambda d: d["statements"][0].update(vulnerability={"description": "x"}),
         "statements[0].vulnerability", "neither 'name' nor '@id'"),
        (lambda d: d["statements"][0].update(vulnerability=7), "statements[0].vulnerability",
         "got a number"),
        (lambda d: d["statements"][0]["vulnerability"].update(aliases="GHSA"),
         "statements[0].vulnerability.aliases", "expected an array"),
        (lambda d: d["statements"][0].update(products={"@id": "x"}), "statements[0].products",
         "expected an array"),
        (lambda d: d["statements"][0].update(products=[3]), "statements[0].products[0]",
         "expected a string or an object"),
        (lambda d: d["statements"][0]["products"][0].update(subcomponents=[None]),
         "statements[0].products[0].subcomponents[0]", "expected a string or an object"),
        (lambda d: d["statements"][0]["products"][0].update(identifiers=["pkg:x/y"]),
         "statements[0].products[0].identifiers", "expected an object"),
        (lambda d: d["statements"][0].update(timestamp="yesterday"), "statements[0].timestamp",
         "not an RFC 3339 timestamp"),
        (lambda d: d.update(timestamp="2024-13-01T00:00:00Z"), "timestamp",
         "not an RFC 3339 timestamp"),
        (lambda d: d["statements"][0].update(justification=["x"]),
         "statements[0].justification", "expected a string"),
        (lambda d: d.update(statements={}), "statements", "expected an array"),
        (lambda d: d["statements"].append("CVE-1"), "statements[1]", "expected an object"),
    ],
    ids=["unknown-status", "missing-status", "missing-vulnerability", "vulnerability-no-name",
         "vulnerability-number", "aliases-string", "products-object", "product-number",
         "subcomponent-null", "identifiers-array", "bad-statement-time", "bad-document-time",
         "justification-array", "statements-object", "statement-string"],
)  # fmt: skip
def test_malformed_documents_fail_with_the_json_path(change: Any, place: str, message: str) -> None:
    data = copy.deepcopy(document(one()))
    change(data)
    text = refusal(SOURCE, data, "inline.json")
    assert text.startswith(f"inline.json: {place}: ")
    assert message in text


# --- detection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (document(), True),
        ({"@context": "https://openvex.dev/ns", "statements": []}, True),
        ({"@context": "https://openvex.dev/ns/v0.2.0"}, True),
        ({"@context": ["https://openvex.dev/ns/v0.2.0", "https://example.com/ext"]}, True),
        ({"@context": "https://openvex.dev/nsx", "statements": []}, False),
        ({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}, False),
        ({"_type": "https://in-toto.io/Statement/v0.1",
          "predicateType": "https://openvex.dev/ns/v0.2.0", "predicate": document()}, False),
        ({"statements": [], "author": "x"}, False),
        ({"document": {"category": "csaf_vex", "csaf_version": "2.0"}}, False),
        ({"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": []}, False),
        ([document()], False),
        (None, False),
        ("https://openvex.dev/ns", False),
    ],
    ids=["v0.2.0", "v0.0.1", "no-statements", "context-list", "other-context", "spdx3",
         "in-toto-wrapper", "no-context", "csaf", "cyclonedx", "list", "null", "string"],
)  # fmt: skip
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


# --- the real corpus (../shared/corpus, optional) -----------------------------------------


def _expected_statements(data: dict[str, Any]) -> int:
    """One statement per (statement × product), counted straight from the raw JSON."""
    return sum(len(statement.get("products") or []) for statement in data["statements"])


@pytest.mark.parametrize("local_path", corpus_params("openvex"))
def test_corpus_openvex(local_path: str) -> None:
    data, fragment = parse_corpus(SOURCE, local_path)
    assert len(fragment.vex) == _expected_statements(data)
    assert {s.vulnerability for s in fragment.vex} <= {
        s["vulnerability"] if isinstance(s["vulnerability"], str) else s["vulnerability"]["name"]
        for s in data["statements"]
    }
    assert [s.status for s in fragment.vex] == [
        s["status"] for s in data["statements"] for _ in s.get("products") or []
    ]
