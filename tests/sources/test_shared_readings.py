"""Values the scanner sources read once and share across findings (issue 13: per-finding cost).

Reports repeat a few hundred CVSS ratings and fixed-version strings across thousands of
findings, so the sources build each distinct one once. These tests hold the two promises
that make that safe: a shared value reads exactly as a fresh one would (down to the bytes of
the document), and no finding can change what another one reads.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from tests_support import stand_in

from gate.document import Package, Vulnerability
from gate.errors import SourceError
from gate.identifiers import set_apart, split_listing
from gate.merge import settle_fix
from gate.sources.grype import GrypeSource
from gate.sources.shape import string_list
from gate.sources.trivy import TrivySource, fixed_versions

VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def trivy_listing(index: int, **fields: Any) -> dict[str, Any]:
    """One Trivy vulnerability listing in its own package, with ``fields`` on top."""
    return {
        "VulnerabilityID": f"CVE-2024-{1000 + index}",
        "PkgName": f"pkg{index}",
        "InstalledVersion": "1.0",
        "Severity": "HIGH",
        **fields,
    }


def trivy_vulnerabilities(*listings: dict[str, Any]) -> list[Vulnerability]:
    """The vulnerabilities the Trivy source reads from a report of ``listings``."""
    report = {
        "SchemaVersion": 2,
        "ArtifactName": "alpine:3.20",
        "ArtifactType": "container_image",
        "Results": [{"Target": "t", "Type": "debian", "Vulnerabilities": list(listings)}],
    }
    return TrivySource().parse(report, stand_in("trivy.json")).vulnerabilities


def grype_match(index: int, rating: dict[str, Any]) -> dict[str, Any]:
    """One Grype match in its own package, rated by ``rating``."""
    return {
        "vulnerability": {"id": f"CVE-2024-{1000 + index}", "severity": "High", "cvss": [rating]},
        "artifact": {"name": f"pkg{index}", "version": "1.0", "type": "deb"},
    }


def test_trivy_findings_with_one_rating_share_it_and_each_reads_its_own() -> None:
    same = {"nvd": {"V3Score": 9.8, "V3Vector": VECTOR}}
    first, second, other = trivy_vulnerabilities(
        trivy_listing(1, CVSS=same),
        trivy_listing(2, CVSS=json.loads(json.dumps(same))),
        trivy_listing(3, CVSS={"nvd": {"V3Score": 5.3, "V3Vector": VECTOR}}),
    )
    assert first.cvss is not None and first.cvss is second.cvss
    assert (first.cvss.score, first.cvss.vector, first.cvss.version, first.cvss.source) == (
        9.8,
        VECTOR,
        "3.1",
        "nvd",
    )
    assert other.cvss is not None and other.cvss.score == 5.3


def test_a_negative_zero_score_is_written_as_given_after_a_zero() -> None:
    # -0.0 == 0.0 as a cache key: sharing would write the first one's spelling for both.
    zero, negative = trivy_vulnerabilities(
        trivy_listing(1, CVSS={"nvd": {"V3Score": 0.0, "V3Vector": VECTOR}}),
        trivy_listing(
            2, CVSS=json.loads('{"nvd": {"V3Score": -0.0, "V3Vector": "' + VECTOR + '"}}')
        ),
    )
    assert zero.cvss is not None and zero.cvss.score is not None
    assert negative.cvss is not None and negative.cvss.score is not None
    assert math.copysign(1, zero.cvss.score) == 1
    assert math.copysign(1, negative.cvss.score) == -1
    assert '"score":-0.0' in negative.model_dump_json()


def test_grype_matches_with_one_rating_share_it() -> None:
    rating = {
        "source": "nvd@nist.gov",
        "version": "3.1",
        "vector": VECTOR,
        "metrics": {"baseScore": 7.5},
    }
    report = {
        "matches": [grype_match(1, rating), grype_match(2, dict(rating))],
        "source": {"type": "image", "target": {"userInput": "alpine:3.20"}},
    }
    first, second = GrypeSource().parse(report, stand_in("grype.json")).vulnerabilities
    assert first.cvss is not None and first.cvss is second.cvss
    assert (first.cvss.score, first.cvss.source) == (7.5, "nvd")


def test_trivy_prefers_the_severity_source_then_nvd_then_file_order_among_three_raters() -> None:
    ratings = {
        "redhat": {"V3Score": 6.1, "V3Vector": VECTOR},
        "ghsa": {"V40Score": 8.7},
        "nvd": {"V2Score": 5.0, "V2Vector": "AV:N/AC:L/Au:N/C:N/I:N/A:P"},
    }
    preferred, nvd_first, unrated = trivy_vulnerabilities(
        trivy_listing(1, CVSS=ratings, SeveritySource="ghsa"),
        trivy_listing(2, CVSS=ratings, SeveritySource="debian"),
        trivy_listing(3, CVSS={"redhat": {}, "ghsa": {"V3Vector": VECTOR}}),
    )
    assert preferred.cvss is not None and (preferred.cvss.source, preferred.cvss.version) == (
        "ghsa",
        "4.0",
    )
    assert nvd_first.cvss is not None and (nvd_first.cvss.source, nvd_first.cvss.version) == (
        "nvd",
        "2.0",
    )
    assert unrated.cvss is not None and (unrated.cvss.source, unrated.cvss.score) == ("ghsa", None)


def test_a_cvss_generation_of_the_wrong_type_still_fails_where_it_is() -> None:
    # Absent generations are skipped unread; a present one is read and checked as before.
    with pytest.raises(SourceError) as caught:
        trivy_vulnerabilities(trivy_listing(1, CVSS={"nvd": {"V40Score": "9.1", "V3Score": 7.5}}))
    assert "Results[0].Vulnerabilities[0].CVSS.nvd.V40Score" in str(caught.value)
    assert "expected a number, got a string" in str(caught.value)


def test_fixed_versions_are_a_fresh_list_for_every_finding() -> None:
    first = fixed_versions("1.2.4, 1.3.0,,1.2.4")
    assert first == ["1.2.4", "1.3.0"]
    first.append("9.9")  # what one finding does with its list reaches no other finding
    assert fixed_versions("1.2.4, 1.3.0,,1.2.4") == ["1.2.4", "1.3.0"]
    assert fixed_versions(None) == [] and fixed_versions(" ,") == []


def test_trivy_findings_with_one_fixed_version_string_each_own_their_list() -> None:
    first, second = trivy_vulnerabilities(
        trivy_listing(1, FixedVersion="1.1, 1.2"), trivy_listing(2, FixedVersion="1.1, 1.2")
    )
    assert first.fixed_versions == second.fixed_versions == ["1.1", "1.2"]
    assert first.fixed_versions is not second.fixed_versions


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, [], id="null"),
        pytest.param([], [], id="empty"),
        pytest.param(["a", " ", "", "b"], ["a", "b"], id="blanks-dropped"),
    ],
)
def test_string_list_reads(value: Any, expected: list[str]) -> None:
    assert string_list(value, stand_in("r.json"), "x") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(["a", 3, None], "r.json: x[1]: expected a string, got a number", id="number"),
        pytest.param(["a", "b", None], "r.json: x[2]: expected a string, got null", id="null-item"),
        pytest.param("a", "r.json: x: expected an array, got a string", id="not-array"),
    ],
)
def test_string_list_refuses_what_is_not_strings_naming_the_first(value: Any, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        string_list(value, stand_in("r.json"), "x")
    assert str(caught.value).startswith(message)


def listing(identifier: str, *aliases: str) -> Vulnerability:
    return Vulnerability(
        id=identifier,
        aliases=list(aliases),
        severity="high",
        package=Package(name="p"),
        fix_available=False,
        sources=[],
    )


def test_a_lone_id_is_kept_as_is_and_a_lone_advisory_is_still_set_apart() -> None:
    for lone in ("CVE-2024-1", "GHSA-aaaa-bbbb-cccc"):
        vuln = listing(lone)
        assert split_listing(vuln) == [vuln] and split_listing(vuln)[0] is vuln
    (advisory,) = split_listing(listing("RHSA-2024:1234"))
    assert (advisory.id, advisory.aliases, advisory.advisories) == ("RHSA-2024:1234", [], [])
    assert set_apart("CVE-2024-1", []) == ([], [])
    assert set_apart("CVE-2024-1", ["DSA-5417-1", "GHSA-x"]) == (["GHSA-x"], ["DSA-5417-1"])


def test_trivy_listings_of_one_package_share_it_and_a_different_path_is_another() -> None:
    here = {"PkgName": "log4j-core", "InstalledVersion": "2.14.1", "PkgPath": "app/a.jar"}
    first, second, elsewhere = trivy_vulnerabilities(
        trivy_listing(1, **here),
        trivy_listing(2, **here),
        trivy_listing(3, **{**here, "PkgPath": "app/b.jar"}),
    )
    assert first.package is second.package
    assert elsewhere.package is not first.package and elsewhere.package.path == "app/b.jar"


def test_grype_matches_of_one_package_share_it() -> None:
    rating = {"version": "3.1", "vector": VECTOR, "metrics": {"baseScore": 7.5}}
    matches = [grype_match(1, rating), grype_match(2, rating), grype_match(3, rating)]
    matches[1]["artifact"] = dict(matches[0]["artifact"])
    report = {"matches": matches, "source": {"type": "image", "target": {"userInput": "a:1"}}}
    first, second, other = GrypeSource().parse(report, stand_in("grype.json")).vulnerabilities
    assert first.package is second.package and first.package.name == "pkg1"
    assert other.package.name == "pkg3"


def test_a_shared_package_renamed_for_one_finding_stays_as_read_for_the_other() -> None:
    # settle_fix names a Maven package group:artifact by copying it: the finding that
    # shares the package read from the report must not see the new name.
    purl = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    listing_fields = {"PkgName": "log4j-core", "PkgIdentifier": {"PURL": purl}}
    first, second = trivy_vulnerabilities(
        trivy_listing(1, **listing_fields), trivy_listing(2, **listing_fields)
    )
    assert first.package is second.package
    settled = settle_fix(first)
    assert settled.package.name == "org.apache.logging.log4j:log4j-core"
    assert second.package.name == first.package.name == "log4j-core"


def test_the_caches_shared_across_reports_are_bounded() -> None:
    # A server reads report after report in one process: what it keeps must not grow with them.
    from gate.sources.base import shared_package
    from gate.sources.cvss import _shared_rating
    from gate.sources.trivy import _fixed_versions

    for cache in (_shared_rating, shared_package, _fixed_versions):
        assert cache.cache_info().maxsize is not None
        assert cache.cache_info().maxsize <= 8192


def test_shared_models_cannot_be_changed_in_place() -> None:
    from pydantic import ValidationError

    rating = {"nvd": {"V3Score": 9.8, "V3Vector": VECTOR}}
    first, second = trivy_vulnerabilities(
        trivy_listing(1, CVSS=rating, PkgName="zlib"), trivy_listing(2, CVSS=rating, PkgName="zlib")
    )
    assert first.package is second.package and first.cvss is second.cvss
    with pytest.raises(ValidationError):
        first.package.name = "openssl"
    with pytest.raises(ValidationError):
        first.cvss.score = 0.0  # type: ignore[union-attr]
    assert second.package.name == "zlib" and second.cvss is not None and second.cvss.score == 9.8
