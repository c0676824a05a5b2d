"""The merge's shortcuts for the common case (issue 13) give what the full path gives.

``join_aliases`` skips the union-find for a package version whose entries carry no alias
and no repeated id, and ``sort_versions`` returns a lone fixed version at once; these tests
hold the cases right next to the shortcut that must still take the full path.
"""

from __future__ import annotations

import subprocess
import sys

from gate.document import FindingSource, Package, Vulnerability
from gate.merge import join_aliases, settle_fix
from gate.versions import sort_versions


def vuln(
    vid: str,
    aliases: list[str] | None = None,
    tool: str = "trivy",
    package: str = "libssl1.1",
    fixed: list[str] | None = None,
) -> Vulnerability:
    return Vulnerability(
        id=vid,
        aliases=aliases or [],
        severity="high",
        package=Package(name=package, version="1.1.1n-0+deb11u3", type="deb"),
        fixed_versions=fixed or [],
        fix_available=bool(fixed),
        sources=[FindingSource(tool=tool, input=f"{tool}.json", severity="high")],
    )


def test_a_packages_cves_without_aliases_come_back_as_they_are_in_order() -> None:
    listed = [vuln("CVE-2023-0286"), vuln("CVE-2022-4450"), vuln("CVE-2023-0215")]
    joined = join_aliases(listed)
    assert len(joined) == 3
    assert all(got is given for got, given in zip(joined, listed, strict=True))


def test_one_id_spelled_in_two_cases_in_one_package_is_still_one_finding() -> None:
    # No alias anywhere in the group: only the repeated id can tie the two entries.
    joined = join_aliases([vuln("CVE-2023-0286", tool="trivy"), vuln("cve-2023-0286", tool="x")])
    assert [v.id for v in joined] == ["CVE-2023-0286"]
    assert [s.tool for s in joined[0].sources] == ["trivy", "x"]


def test_an_alias_in_a_group_of_many_still_joins_its_cve() -> None:
    listed = [
        vuln("CVE-2022-4450"),
        vuln("GHSA-aaaa-bbbb-cccc", aliases=["CVE-2023-0286"], tool="grype"),
        vuln("CVE-2023-0286"),
    ]
    joined = join_aliases(listed)
    assert [v.id for v in joined] == ["CVE-2022-4450", "CVE-2023-0286"]
    assert joined[1].aliases == ["GHSA-aaaa-bbbb-cccc"]
    assert [s.tool for s in joined[1].sources] == ["grype", "trivy"]


def test_the_same_cve_in_two_packages_stays_two_findings() -> None:
    joined = join_aliases([vuln("CVE-2023-0286"), vuln("CVE-2023-0286", package="openssl")])
    assert [v.package.name for v in joined] == ["libssl1.1", "openssl"]


def test_sort_versions_of_none_or_one_gives_a_new_list_as_written() -> None:
    one = ["1.1.1n-0+deb11u4"]
    assert sort_versions("deb", one) == one and sort_versions("deb", one) is not one
    assert sort_versions("deb", []) == []
    assert sort_versions("deb", ["1.1.1t-0+deb11u1", "1.1.1n-0+deb11u4"]) == [
        "1.1.1n-0+deb11u4",
        "1.1.1t-0+deb11u1",
    ]


def test_settle_fix_still_settles_a_lone_fixed_version() -> None:
    settled = settle_fix(vuln("CVE-2023-0286", fixed=["1.1.1n-0+deb11u4"]))
    assert settled.fixed_versions == ["1.1.1n-0+deb11u4"]
    assert (settled.fix_version, settled.status, settled.fix_available) == (
        "1.1.1n-0+deb11u4",
        "fixed",
        True,
    )
    unfixed = vuln("CVE-2023-0215")
    assert settle_fix(unfixed) is unfixed


def test_versions_of_an_ecosystem_gate_cannot_order_load_no_comparator() -> None:
    # univers costs ~20 ms to import: a report whose packages it cannot order skips it.
    code = (
        "import sys\n"
        "from gate.versions import lowest_fix, sort_versions\n"
        "assert lowest_fix('generic', '1.0', ['1.1']) is None\n"
        "assert sort_versions('generic', ['2', '1']) == ['2', '1']\n"
        "assert 'univers.versions' not in sys.modules\n"
        "assert lowest_fix('deb', '1.0', ['1.1']) == '1.1'\n"
        "assert 'univers.versions' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
