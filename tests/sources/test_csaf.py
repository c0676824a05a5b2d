"""CSAF VEX source: detection, product tree resolution, status mapping, refusals, corpus."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import corpus_params, fixture, load_input
from tests_support import parse_corpus, refusal, shop_api_findings, stand_in

from gate.reference import parse_reference
from gate.sources.base import Fragment
from gate.sources.csaf import CsafSource
from gate.vex import apply_vex

SOURCE = CsafSource()
DIGEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
SUBJECT = parse_reference("ghcr.io/acme/shop-api:1.4.2").model_copy(update={"digest": DIGEST})
INLINE = stand_in("inline.json")
SHOP_API = (
    "pkg:oci/shop-api@sha256%3A4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
    "?repository_url=ghcr.io/acme/shop-api&tag=1.4.2"
)


def parse_fixture() -> Fragment:
    """Parse fixtures/vex/csaf-vex.json, recorded under its relative path."""
    data, source = load_input(fixture("vex/csaf-vex.json"), "vex/csaf-vex.json")
    return SOURCE.parse(data, source)


def parse_inline(data: Any) -> Fragment:
    """Parse an in-test document."""
    return SOURCE.parse(data, INLINE)


def csaf(*vulnerabilities: dict[str, Any], **product_tree: Any) -> dict[str, Any]:
    """A CSAF 2.0 VEX document with two plain products unless ``product_tree`` says."""
    tree = {
        "full_product_names": [
            {"name": "app 1.0", "product_id": "APP",
             "product_identification_helper": {"purl": "pkg:oci/app?repository_url=ghcr.io/x/app"}},
            {"name": "lib 2.0", "product_id": "LIB",
             "product_identification_helper": {"purl": "pkg:npm/lib@2.0"}},
        ],
        **product_tree,
    }  # fmt: skip
    return {
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "publisher": {"category": "vendor", "name": "X", "namespace": "https://x.example"},
            "title": "t",
            "tracking": {
                "current_release_date": "2024-05-01T00:00:00Z",
                "initial_release_date": "2024-04-01T00:00:00Z",
                "id": "X-1",
                "revision_history": [],
                "status": "final",
                "version": "1",
            },
        },
        "product_tree": tree,
        "vulnerabilities": list(vulnerabilities),
    }


def vulnerability(**fields: Any) -> dict[str, Any]:
    """A vulnerability of CVE-2024-0001; ``fields`` override."""
    return {"cve": "CVE-2024-0001", "product_status": {"known_not_affected": ["LIB"]}, **fields}


def summary(fragment: Fragment) -> list[tuple[Any, ...]]:
    """(id, status, products, subcomponents) of each statement."""
    return [(s.vulnerability, s.status, s.products, s.subcomponents) for s in fragment.vex]


# --- the shop-api fixture ---------------------------------------------------------------


def test_scan_facts() -> None:
    fragment = parse_fixture()
    assert (fragment.format, fragment.tool, fragment.tool_version) == (
        "csaf-vex",
        "secvisogram",
        "1.14.0",
    )
    assert fragment.created == "2024-03-05T10:00:00Z"
    assert fragment.kinds == ["vex"]
    assert (fragment.vulnerabilities, fragment.packages) == ([], [])


def test_statements_of_the_fixture() -> None:
    statements = parse_fixture().vex
    assert summary(parse_fixture()) == [
        ("CVE-2023-45853", "not_affected", (SHOP_API,),
         ("pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64",)),
        ("CVE-2023-38545", "affected", (SHOP_API,),
         ("pkg:deb/debian/curl@7.88.1-10%2Bdeb12u1?arch=amd64",)),
        ("CVE-2024-5535", "fixed",
         ("pkg:oci/shop-api@sha256%3A0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
          "?repository_url=ghcr.io/acme/shop-api&tag=1.4.3",),
         ("pkg:deb/debian/libssl3@3.0.13-1~deb12u1",)),
        ("CVE-2024-5535", "under_investigation", (SHOP_API,),
         ("pkg:deb/debian/libssl3@3.0.11-1~deb12u2",)),
    ]  # fmt: skip
    zlib, curl = statements[0], statements[1]
    assert zlib.justification == "vulnerable_code_not_in_execute_path"
    assert zlib.impact_statement == "shop-api never creates zip archives; MiniZip is not reachable."
    assert zlib.action_statement is None
    assert curl.aliases == ("DSA-5587-1",)
    assert curl.justification is None
    # remediations reach the product through its group and directly, in document order
    assert curl.action_statement == (
        "Upgrade to shop-api 1.4.3, built on curl 7.88.1-10+deb12u4.\n"
        "Unset ALL_PROXY in the deployment."
    )
    assert curl.impact_statement == "The health check uses curl through the SOCKS5 egress proxy."
    assert [s.order for s in statements] == [(0, 0), (1, 0), (2, 0), (2, 1)]
    assert {(s.source, s.timestamp, s.document_id, s.author) for s in statements} == {
        ("vex/csaf-vex.json", "2024-03-05T10:00:00Z", "ACME-VEX-2024-0003", "ACME Product Security")
    }


def test_fixture_applied_to_the_trivy_findings() -> None:
    result = apply_vex(shop_api_findings(), parse_fixture().vex, SUBJECT)
    assert {v.package.name: v.vex.status if v.vex else None for v in result} == {
        "zlib1g": "not_affected",
        "curl": "affected",
        # 'fixed' is about shop-api 1.4.3 (another digest), not the image gated here
        "libssl3": "under_investigation",
        "apt": None,
        "com.fasterxml.jackson.core:jackson-databind": None,
        "org.apache.tomcat.embed:tomcat-embed-core": None,
    }


# --- mapping details ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lists", "expected"),
    [
        ({"known_not_affected": ["LIB"]}, ["not_affected"]),
        ({"known_affected": ["LIB"]}, ["affected"]),
        ({"first_affected": ["LIB"], "last_affected": ["APP"]}, ["affected", "affected"]),
        ({"fixed": ["LIB"]}, ["fixed"]),
        ({"first_fixed": ["LIB"], "fixed": ["LIB", "APP"]}, ["fixed", "fixed"]),
        ({"under_investigation": ["LIB", "LIB"]}, ["under_investigation"]),
        ({"recommended": ["LIB"]}, []),
        ({}, []),
    ],
    ids=["known-not-affected", "known-affected", "first-last-affected", "fixed",
         "first-fixed-counted-once", "repeat-counted-once", "recommended-ignored", "none"],
)  # fmt: skip
def test_status_lists(lists: dict[str, list[str]], expected: list[str]) -> None:
    fragment = parse_inline(csaf(vulnerability(product_status=lists)))
    assert [s.status for s in fragment.vex] == expected


def test_ids_give_the_id_when_there_is_no_cve() -> None:
    ids = [{"system_name": "GHSA", "text": "GHSA-aaaa"}, {"system_name": "x", "text": "X-1"}]
    with_cve = parse_inline(csaf(vulnerability(ids=ids))).vex[0]
    without = parse_inline(csaf(vulnerability(cve=None, ids=ids))).vex[0]
    assert (with_cve.vulnerability, with_cve.aliases) == ("CVE-2024-0001", ("GHSA-aaaa", "X-1"))
    assert (without.vulnerability, without.aliases) == ("GHSA-aaaa", ("X-1",))


def test_vulnerability_without_any_id_yields_nothing() -> None:
    fragment = parse_inline(csaf(vulnerability(cve=None, title="unnamed"), vulnerability()))
    assert [s.order for s in fragment.vex] == [(1, 0)]


def test_flags_threats_and_remediations_are_per_product() -> None:
    fragment = parse_inline(
        csaf(
            vulnerability(
                product_status={"known_not_affected": ["LIB"], "known_affected": ["APP"]},
                flags=[
                    {"label": "component_not_present", "product_ids": ["APP"]},
                    {"label": "vulnerable_code_not_present", "product_ids": ["LIB"]},
                    {"label": "inline_mitigations_already_exist", "product_ids": ["LIB"]},
                ],
                threats=[
                    {"category": "exploit_status", "details": "PoC public", "product_ids": ["LIB"]},
                    {"category": "impact", "details": "lib impact", "product_ids": ["LIB"]},
                    {"category": "impact", "details": "app impact", "product_ids": ["APP"]},
                ],
                remediations=[
                    {"category": "vendor_fix", "details": "upgrade", "product_ids": ["APP", "LIB"]}
                ],
            )
        )
    )
    by_status = {s.status: s for s in fragment.vex}
    lib, app = by_status["not_affected"], by_status["affected"]
    assert (lib.justification, lib.impact_statement, lib.action_statement) == (
        "vulnerable_code_not_present",
        "lib impact",
        None,
    )
    assert (app.justification, app.impact_statement, app.action_statement) == (
        None,
        "app impact",
        "upgrade",
    )


def test_branches_are_walked_to_any_depth() -> None:
    leaf = {"name": "deep 1", "product_id": "DEEP",
            "product_identification_helper": {"purl": "pkg:npm/deep@1"}}  # fmt: skip
    branch: dict[str, Any] = {"category": "product_version", "name": "1", "product": leaf}
    for level in range(40):
        branch = {"category": "vendor", "name": f"v{level}", "branches": [branch]}
    fragment = parse_inline(
        csaf(vulnerability(product_status={"fixed": ["DEEP"]}), branches=[branch])
    )
    assert summary(fragment) == [("CVE-2024-0001", "fixed", ("pkg:npm/deep@1",), ())]


@pytest.mark.parametrize(
    ("helper", "expected"),
    [
        ({"purl": "pkg:npm/a@1", "cpe": "cpe:2.3:a:x:a:1:*:*:*:*:*:*:*"},
         ("pkg:npm/a@1", "cpe:2.3:a:x:a:1:*:*:*:*:*:*:*")),
        ({"purls": ["pkg:npm/a@1", "pkg:npm/a@1?x=y"]}, ("pkg:npm/a@1", "pkg:npm/a@1?x=y")),
        ({"hashes": []}, ("Product A 1",)),
        (None, ("Product A 1",)),
    ],
    ids=["purl-and-cpe", "csaf-2.1-purls", "no-identifier", "no-helper"],
)  # fmt: skip
def test_product_names(helper: Any, expected: tuple[str, ...]) -> None:
    product = {"name": "Product A 1", "product_id": "A", "product_identification_helper": helper}
    fragment = parse_inline(
        csaf(vulnerability(product_status={"fixed": ["A"]}), full_product_names=[product])
    )
    assert fragment.vex[0].products == expected


def test_relationships_resolve_in_any_order() -> None:
    relationships = [
        {   # refers to a relationship product defined after it
            "category": "installed_on",
            "product_reference": "LIB-IN-APP",
            "relates_to_product_reference": "APP",
            "full_product_name": {"name": "outer", "product_id": "OUTER"},
        },
        {
            "category": "default_component_of",
            "product_reference": "LIB",
            "relates_to_product_reference": "APP",
            "full_product_name": {"name": "lib in app", "product_id": "LIB-IN-APP"},
        },
    ]  # fmt: skip
    fragment = parse_inline(
        csaf(
            vulnerability(product_status={"known_affected": ["LIB-IN-APP", "OUTER"]}),
            relationships=relationships,
        )
    )
    app = ("pkg:oci/app?repository_url=ghcr.io/x/app",)
    assert summary(fragment) == [
        ("CVE-2024-0001", "affected", app, ("pkg:npm/lib@2.0",)),
        ("CVE-2024-0001", "affected", app, ("pkg:npm/lib@2.0",)),
    ]


def test_groups_expand_in_flags() -> None:
    fragment = parse_inline(
        csaf(
            vulnerability(
                product_status={"known_not_affected": ["LIB", "APP"]},
                flags=[{"label": "component_not_present", "group_ids": ["ALL"]}],
            ),
            product_groups=[{"group_id": "ALL", "product_ids": ["LIB", "APP"]}],
        )
    )
    assert [s.justification for s in fragment.vex] == ["component_not_present"] * 2


def test_initial_release_date_and_no_generator() -> None:
    data = csaf(vulnerability())
    del data["document"]["tracking"]["current_release_date"]
    fragment = parse_inline(data)
    assert (fragment.tool, fragment.tool_version, fragment.created) == (
        "csaf",
        None,
        "2024-04-01T00:00:00Z",
    )
    assert fragment.vex[0].timestamp == "2024-04-01T00:00:00Z"


def test_csaf_2_1_is_read() -> None:
    data = csaf(vulnerability())
    data["document"]["csaf_version"] = "2.1"
    assert len(parse_inline(data).vex) == 1


# --- refusals -------------------------------------------------------------------------------


def _cycle(data: dict[str, Any]) -> None:
    data["product_tree"]["relationships"] = [
        {
            "category": "default_component_of",
            "product_reference": component,
            "relates_to_product_reference": "APP",
            "full_product_name": {"name": product_id, "product_id": product_id},
        }
        for product_id, component in (("A", "B"), ("B", "A"))
    ]


@pytest.mark.parametrize(
    ("change", "place", "message"),
    [
        (lambda d: d["document"].update(csaf_version="3.0"), "document.csaf_version",
         "unsupported CSAF version '3.0'"),
        (lambda d: d["vulnerabilities"][0]["product_status"].update(known_affected=["NOPE"]),
         "vulnerabilities[0].product_status.known_affected[0]", "unknown product id 'NOPE'"),
        (lambda d: d["vulnerabilities"][0].update(
            flags=[{"label": "component_not_present", "group_ids": ["NOPE"]}]),
         "vulnerabilities[0].flags[0].group_ids[0]", "unknown group id 'NOPE'"),
        (lambda d: d["product_tree"].update(relationships=[
            {"category": "default_component_of", "product_reference": "NOPE",
             "relates_to_product_reference": "APP",
             "full_product_name": {"name": "x", "product_id": "X"}}]),
         "product_tree.relationships[0].product_reference", "unknown product id 'NOPE'"),
        (lambda d: d["product_tree"].update(relationships=[
            {"category": "default_component_of", "relates_to_product_reference": "APP",
             "full_product_name": {"name": "x", "product_id": "X"}}]),
         "product_tree.relationships[0].product_reference", "missing product_reference"),
        (_cycle, "product_tree.relationships[0].product_reference", "cycle"),
        (lambda d: d["product_tree"]["full_product_names"][0].pop("product_id"),
         "product_tree.full_product_names[0].product_id", "missing product_id"),
        (lambda d: d["product_tree"].update(branches=[{"name": "v", "branches": {}}]),
         "product_tree.branches[0].branches", "expected an array"),
        (lambda d: d["product_tree"].update(
            branches=[{"name": "v", "branches": [{"name": "p", "product": "P"}]}]),
         "product_tree.branches[0].branches[0].product", "expected an object"),
        (lambda d: d["product_tree"].update(product_groups=[{"product_ids": ["APP"]}]),
         "product_tree.product_groups[0].group_id", "missing group_id"),
        (lambda d: d["vulnerabilities"][0].update(product_status={"fixed": "LIB"}),
         "vulnerabilities[0].product_status.fixed", "expected an array"),
        (lambda d: d["vulnerabilities"][0].update(ids=[{"text": 5}]),
         "vulnerabilities[0].ids[0].text", "expected a string"),
        (lambda d: d["vulnerabilities"][0].update(threats=[{"category": "impact", "details": "x",
                                                            "product_ids": "LIB"}]),
         "vulnerabilities[0].threats[0].product_ids", "expected an array"),
        (lambda d: d["document"]["tracking"].update(current_release_date="soon"),
         "document.tracking.current_release_date", "not an RFC 3339 timestamp"),
        (lambda d: d.update(vulnerabilities={}), "vulnerabilities", "expected an array"),
        (lambda d: d.update(product_tree=[]), "product_tree", "expected an object"),
    ],
    ids=["csaf-3", "unknown-status-product", "unknown-group", "unknown-relationship-end",
         "missing-relationship-end", "relationship-cycle", "missing-product-id",
         "branches-object", "product-string", "missing-group-id", "status-list-string",
         "id-text-number", "threat-product-ids-string", "bad-date", "vulnerabilities-object",
         "product-tree-array"],
)  # fmt: skip
def test_malformed_documents_fail_with_the_json_path(change: Any, place: str, message: str) -> None:
    data = copy.deepcopy(csaf(vulnerability()))
    change(data)
    text = refusal(SOURCE, data, "inline.json")
    assert text.startswith(f"inline.json: {place}: ")
    assert message in text


# --- detection ------------------------------------------------------------------------------


def _with_category(category: str) -> dict[str, Any]:
    data = csaf(vulnerability())
    data["document"]["category"] = category
    return data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (csaf(), True),
        ({"document": {"category": "csaf_vex", "csaf_version": "2.1"}}, True),
        (_with_category("csaf_security_advisory"), False),
        (_with_category("csaf_base"), False),
        (_with_category("CSAF_VEX"), False),
        ({"document": {"category": "csaf_vex"}}, False),
        ({"document": "csaf_vex"}, False),
        ({"@context": "https://openvex.dev/ns/v0.2.0", "statements": []}, False),
        ({"bomFormat": "CycloneDX", "specVersion": "1.4", "vulnerabilities": []}, False),
        ([csaf()], False),
        (None, False),
    ],
    ids=["csaf-vex", "minimal", "security-advisory", "csaf-base", "category-case",
         "no-csaf-version", "document-string", "openvex", "cyclonedx", "list", "null"],
)  # fmt: skip
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


# --- the real corpus (../shared/corpus, optional) -----------------------------------------

_GROUPS = {
    "not_affected": ("known_not_affected",),
    "affected": ("known_affected", "first_affected", "last_affected"),
    "fixed": ("fixed", "first_fixed"),
    "under_investigation": ("under_investigation",),
}


def _expected_statements(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(id, status) per (vulnerability × status × distinct product id), from the raw JSON."""
    expected = []
    for vuln in data.get("vulnerabilities") or []:
        ids = [vuln.get("cve")] + [i.get("text") for i in vuln.get("ids") or []]
        ids = [i for i in ids if i]
        if not ids:
            continue
        lists = vuln.get("product_status") or {}
        for status, keys in _GROUPS.items():
            distinct = {product for key in keys for product in lists.get(key) or []}
            expected.extend((ids[0], status) for _ in distinct)
    return expected


@pytest.mark.parametrize("local_path", corpus_params("csaf"))
def test_corpus_csaf(local_path: str) -> None:
    data, fragment = parse_corpus(SOURCE, local_path)
    produced = sorted((s.vulnerability, s.status) for s in fragment.vex)
    assert produced == sorted(_expected_statements(data))
    assert fragment.created is not None
    assert {s.document_id for s in fragment.vex} <= {data["document"]["tracking"]["id"]}
