"""The typed JSON readers every source uses: lazy places, field readers, shared attributions.

Places of large reports are (place, key) pairs, rendered only for an error message: these
tests pin that a pair names exactly the path the eager ``at`` chain names, and that each
``*_at`` reader answers (value or error, byte for byte) as its plain reader does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gate.errors import SourceError
from gate.inputs import InputFile
from gate.sources.base import Attributions, rfc3339
from gate.sources.shape import (
    Place,
    array,
    array_at,
    at,
    cwe_ids,
    cwe_ids_at,
    mapping,
    mapping_at,
    number,
    number_at,
    objects_at,
    string_list,
    string_list_at,
    text_at,
    where,
)

SOURCE = InputFile(path="scans/report.json", sha256="0" * 64, size=1)


@pytest.mark.parametrize(
    ("place", "path"),
    [
        ("Results[0].Target", "Results[0].Target"),
        (("", "SchemaVersion"), "SchemaVersion"),
        (("", 0), "[0]"),
        ((("", 0), "Vulnerabilities"), "[0].Vulnerabilities"),
        (((("Results", 2), "Vulnerabilities"), 17), "Results[2].Vulnerabilities[17]"),
        (
            (((("matches", 0), "vulnerability"), "fix"), "state"),
            "matches[0].vulnerability.fix.state",
        ),
        ((("runs", 0), "weird key.with dots"), "runs[0].weird key.with dots"),
    ],
)
def test_a_place_pair_names_the_path_at_would_build(place: Place, path: str) -> None:
    assert where(place) == path
    assert at(place, "x") == f"{path}.x"
    assert at(place, 3) == f"{path}[3]"


def _outcome(read: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "value", read()
    except SourceError as error:
        return "error", (error.where, str(error), error.hint)


PLAIN_AND_FIELD_READERS = [
    (mapping, mapping_at),
    (array, array_at),
    (string_list, string_list_at),
    (number, number_at),
    (cwe_ids, cwe_ids_at),
]
HOSTILE = [
    None,
    7,
    7.5,
    True,
    "",
    " ",
    "CWE-79",
    [],
    {},
    {"nested": 1},
    [1],
    ["x", " ", "y"],
    ["CWE-79", 3, None],
    [{"cwe": "CWE-20"}, {"cwe": []}],
    [True],
]


@pytest.mark.parametrize(("plain", "field"), PLAIN_AND_FIELD_READERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_a_field_reader_answers_as_its_plain_reader_with_the_eager_path(
    plain: Callable[..., Any], field: Callable[..., Any], value: Any
) -> None:
    parent: Place = (("Results", 0), "Vulnerabilities")
    obj = {"Key": value}
    eager = _outcome(lambda: plain(value, SOURCE, at(parent, "Key")))
    lazy = _outcome(lambda: field(obj, "Key", SOURCE, parent))
    assert lazy == eager
    if eager[0] == "error":  # the sweep must reach the error messages, not only values
        assert eager[1][0].startswith("scans/report.json: Results[0].Vulnerabilities.Key")


def test_an_absent_field_reads_as_null() -> None:
    assert mapping_at({}, "k", SOURCE, "p") == {}
    assert array_at({}, "k", SOURCE, "p") == []
    assert string_list_at({}, "k", SOURCE, "p") == []
    assert number_at({}, "k", SOURCE, "p") is None
    assert cwe_ids_at({}, "k", SOURCE, "p") == []
    assert text_at({}, "k", SOURCE, "p") is None


def test_objects_are_checked_one_by_one_as_the_reading_reaches_them() -> None:
    record = {"cvss": [{"score": 1}, "not an object", {"score": 3}]}
    items = objects_at(record, "cvss", SOURCE, ("matches", 4))
    first, first_place = next(items)
    assert first == {"score": 1}
    assert where(first_place) == "matches[4].cvss[0]"
    with pytest.raises(SourceError) as caught:
        next(items)
    assert caught.value.where == "scans/report.json: matches[4].cvss[1]"
    assert str(caught.value).endswith(": expected an object, got a string")


def test_objects_of_a_null_or_absent_array_are_none_and_of_a_non_array_fail() -> None:
    assert list(objects_at({"cvss": None}, "cvss", SOURCE, "m")) == []
    assert list(objects_at({}, "cvss", SOURCE, "m")) == []
    with pytest.raises(SourceError) as caught:
        list(objects_at({"cvss": {"score": 1}}, "cvss", SOURCE, "m"))
    assert caught.value.where == "scans/report.json: m.cvss"


def test_cwe_ids_read_every_spelling_alike_and_drop_placeholders() -> None:
    written = ["CWE-79", 79, {"cwe": "cwe-0079"}, " CWE-79 ", "NVD-CWE-noinfo", {"cwe": "CWE-20"}]
    assert cwe_ids(written, SOURCE, "cwes") == ["CWE-79", "CWE-20"]
    # read twice: the memoised conversion answers the same
    assert cwe_ids(written, SOURCE, "cwes") == ["CWE-79", "CWE-20"]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-11-27T10:00:00.123456789Z", "2026-11-27T10:00:00.123456789Z"),
        ("2026-11-27 12:00:00+02:00", "2026-11-27T10:00:00Z"),
        ("2024-02-30T00:00:00Z", None),
        # whose UTC falls outside the years 1-9999: unreadable, not a crash
        ("9999-12-31T23:00:00-05:00", None),
        ("0001-01-01T00:30:00+01:00", None),
    ],
)
def test_timestamps_are_read_the_same_every_time(written: str, expected: str | None) -> None:
    assert rfc3339(written) == expected
    assert rfc3339(written) == expected


def test_attributions_are_built_once_per_rating_of_one_report() -> None:
    attribution = Attributions("grype", SOURCE)
    high = attribution("high", "nvd")
    assert attribution("high", "nvd") is high
    assert (high.tool, high.input, high.severity, high.severity_source) == (
        "grype",
        "scans/report.json",
        "high",
        "nvd",
    )
    assert attribution("high", "debian") != high
    assert attribution("low").severity_source is None
    assert Attributions("grype", SOURCE)("high", "nvd") is not high  # per report


def test_memoised_readings_are_bounded() -> None:
    """Hostile reports of distinct timestamps, CWE ids, vectors or raters evict, never grow
    a long-lived process (gate serve) without limit."""
    from gate.sources import base, cvss, cyclonedx, shape

    memos = [base._rfc3339, shape._cwe_name, cvss.cvss_version, cyclonedx._rater]
    for memo in memos:
        limit = memo.cache_info().maxsize
        assert limit is not None and limit <= 8192, memo
