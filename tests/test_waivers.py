"""Waiver files: validation messages, matching, expiry, unused and expiring reports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gate.errors import WaiverError
from gate.verdict import Result
from gate.waivers import apply_waivers, load_waivers

NOW = dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)
REF = ["ghcr.io/acme/shop-api:1.4.2"]


def vuln_result(
    cve: str = "CVE-2024-0001", package: str = "openssl", rule: str = "vuln-fixable-critical"
):
    return Result(
        id=rule,
        msg=f"{cve} in {package}",
        severity="critical",
        level="deny",
        package="gate.vulnerabilities.fixable_critical",
        finding={
            "kind": "vulnerability",
            "id": cve,
            "aliases": ["GHSA-aaaa-bbbb-cccc"],
            "package": package,
            "version": "3.0.1",
            "purl": f"pkg:deb/debian/{package}@3.0.1?arch=amd64",
        },
    )


def root_result():
    return Result(
        id="image-root-user",
        msg="runs as root",
        severity="high",
        level="deny",
        package="gate.image.root_user",
        finding={"kind": "image", "field": "user", "value": ""},
    )


def write(tmp_path: Path, text: str, name: str = "waivers.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def waiver_yaml(**fields: str) -> str:
    body = "\n".join(f"    {k}: {v}" for k, v in fields.items())
    return "waivers:\n  - " + body.lstrip() + "\n"


BASE = {"reason": "accepted", "owner": "sec-team", "expires": "2027-01-31"}


@pytest.mark.parametrize(
    ("fields", "matches"),
    [
        ({"vulnerability": "CVE-2024-0001"}, True),
        ({"vulnerability": "cve-2024-0001"}, True),
        ({"vulnerability": "GHSA-aaaa-bbbb-cccc"}, True),
        ({"vulnerability": "CVE-2024-9999"}, False),
        ({"rule": "vuln-fixable-critical"}, True),
        ({"rule": "vuln-fixable-high"}, False),
        ({"vulnerability": "CVE-2024-0001", "package": "openssl"}, True),
        ({"vulnerability": "CVE-2024-0001", "package": "libssl3"}, False),
        ({"vulnerability": "CVE-2024-0001", "package": "pkg:deb/debian/openssl"}, True),
        ({"vulnerability": "CVE-2024-0001", "package": "pkg:deb/debian/openssl@3.0.1"}, True),
        ({"vulnerability": "CVE-2024-0001", "package": "pkg:deb/debian/openssl@3.0.2"}, False),
        ({"vulnerability": "CVE-2024-0001", "image": "'ghcr.io/acme/*'"}, True),
        ({"vulnerability": "CVE-2024-0001", "image": "'ghcr.io/other/*'"}, False),
        ({"rule": "vuln-fixable-critical", "vulnerability": "CVE-2024-0001"}, True),
        ({"rule": "image-root-user", "vulnerability": "CVE-2024-0001"}, False),
    ],
    ids=lambda v: str(v),
)
def test_matching(tmp_path, fields, matches):
    waivers = load_waivers(write(tmp_path, waiver_yaml(**fields, **BASE)))
    outcome = apply_waivers([vuln_result(), root_result()], waivers, REF, NOW)
    assert len(outcome.waived) == (1 if matches else 0)
    if matches:
        assert outcome.waived[0].waiver.owner == "sec-team"
        assert outcome.waived[0].id == "vuln-fixable-critical"
        assert [p.kind for p in outcome.problems] == []
    else:
        assert [p.kind for p in outcome.problems] == ["unused"]
    assert len(outcome.kept) + len(outcome.waived) == 2


def test_image_scoped_waiver_needs_a_known_image(tmp_path):
    waivers = load_waivers(
        write(tmp_path, waiver_yaml(rule="image-root-user", image="'*'", **BASE))
    )
    assert apply_waivers([root_result()], waivers, [], NOW).waived == []


def test_expired_waiver_suppresses_nothing_and_is_reported(tmp_path):
    waivers = load_waivers(
        write(
            tmp_path,
            waiver_yaml(vulnerability="CVE-2024-0001", reason="x", owner="y", expires="2026-11-01"),
        )
    )
    outcome = apply_waivers([vuln_result()], waivers, REF, NOW)
    assert outcome.waived == []
    assert [r.id for r in outcome.kept] == ["vuln-fixable-critical"]
    assert [p.kind for p in outcome.problems] == ["expired"]
    assert "no longer suppresses" in outcome.problems[0].msg


def test_expiry_date_ends_at_midnight_utc(tmp_path):
    waivers = load_waivers(
        write(
            tmp_path,
            waiver_yaml(rule="image-root-user", reason="x", owner="y", expires="2026-11-28"),
        )
    )
    before = apply_waivers(
        [root_result()], waivers, REF, dt.datetime(2026, 11, 27, 23, 59, tzinfo=dt.UTC)
    )
    after = apply_waivers(
        [root_result()], waivers, REF, dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.UTC)
    )
    assert len(before.waived) == 1
    assert after.waived == [] and after.problems[0].kind == "expired"


def test_waiver_expiring_within_14_days_is_a_warning(tmp_path):
    waivers = load_waivers(
        write(
            tmp_path,
            waiver_yaml(rule="image-root-user", reason="x", owner="y", expires="2026-12-05"),
        )
    )
    outcome = apply_waivers([root_result()], waivers, REF, NOW)
    assert len(outcome.waived) == 1
    assert [p.kind for p in outcome.problems] == ["expiring"]
    assert "in 7 day(s)" in outcome.problems[0].msg
    [warning] = outcome.expiry_warnings()
    assert (warning.id, warning.level) == ("waiver-expiring", "warn")
    assert warning.msg == outcome.problems[0].msg


def test_rfc3339_expiry_and_json_files(tmp_path):
    path = write(
        tmp_path,
        '{"waivers": [{"rule": "image-root-user", "reason": "r", "owner": "o", '
        '"expires": "2026-11-27T13:00:00Z"}]}',
        "w.json",
    )
    waivers = load_waivers(path)
    assert len(apply_waivers([root_result()], waivers, REF, NOW).waived) == 1
    later = NOW + dt.timedelta(hours=2)
    assert apply_waivers([root_result()], waivers, REF, later).waived == []


@pytest.mark.parametrize(
    ("text", "place", "message"),
    [
        (
            "waivers:\n  - rule: x\n    reason: r\n    owner: o\n",
            "waivers[0]",
            "'expires' is required",
        ),
        (
            "waivers:\n  - rule: x\n    reason: r\n    owner: o\n    expires: 2026-01-01\n"
            "  - reason: r\n    owner: o\n    expires: 2026-01-01\n",
            "waivers[1]",
            "must name a 'rule' or a 'vulnerability'",
        ),
        (
            "waivers:\n  - rule: x\n    reason: r\n    owner: o\n    expires: next week\n",
            "waivers[0].expires",
            "is not a date",
        ),
        (
            "waivers:\n  - rule: x\n    reason: r\n    owner: o\n"
            "    expires: 2026-01-01\n    expiry: 1\n",
            "waivers[0]",
            "unknown key",
        ),
        ("- rule: x\n", "", "is not of type 'object'"),
        ("waivers: [\n", "", "not valid YAML/JSON: line"),
        ("", "", "empty waivers file"),
        (
            "waivers:\n  - rule: x\n    owner: o\n    expires: 2026-01-01\n",
            "waivers[0]",
            "'reason' is required",
        ),
    ],
    ids=[
        "no-expires",
        "no-rule-or-vuln",
        "bad-date",
        "unknown-key",
        "not-object",
        "bad-yaml",
        "empty",
        "no-reason",
    ],
)
def test_mistakes_name_the_entry(tmp_path, text, place, message):
    path = write(tmp_path, text)
    with pytest.raises(WaiverError) as caught:
        load_waivers(path)
    error = caught.value
    assert message in error.message
    assert error.where is not None and error.where.startswith(path)
    if place:
        assert error.where == f"{path}: {place}"


def test_missing_waivers_file_is_an_error(tmp_path):
    with pytest.raises(WaiverError, match="no such file"):
        load_waivers(str(tmp_path / "nope.yaml"))
