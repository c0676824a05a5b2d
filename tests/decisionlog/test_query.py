"""One parser for `gate log` flags and GET /v1/decisions parameters."""

from __future__ import annotations

import datetime as dt

import pytest

from gate.decisionlog import ImageFilter, parse_age, parse_query
from gate.errors import UsageError

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", dt.datetime(2026, 12, 6, 10, 30, tzinfo=dt.UTC)),
        ("24h", dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)),
        ("7d", dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)),
        ("2w", dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)),
        ("2026-12-01", dt.datetime(2026, 12, 1, tzinfo=dt.UTC)),
        ("2026-12-01T08:00:00Z", dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)),
        ("2026-12-01T10:00:00+02:00", dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)),
        ("2026-12-01T08:00:00", dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)),
    ],
)
def test_since_and_until_accept_times_dates_and_ages(text: str, expected: dt.datetime) -> None:
    query = parse_query(since=text, now=NOW)
    assert query.since == expected
    assert parse_query(until=text, now=NOW).until == expected


@pytest.mark.parametrize(
    "text", ["yesterday", "7 days", "-7d", "7y", "0d", "2026-13-01", "99999999999d", "1e3h"]
)
def test_bad_times_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="--since"):
        parse_query(since=text, now=NOW)


def test_until_before_since_is_refused() -> None:
    with pytest.raises(UsageError, match="before --since"):
        parse_query(since="2026-12-02", until="2026-12-01", now=NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (DIGEST, ImageFilter(digest=DIGEST)),
        (DIGEST.upper().replace("SHA256", "sha256"), ImageFilter(digest=DIGEST)),
        (f"ghcr.io/acme/api:1.2@{DIGEST}", ImageFilter(digest=DIGEST)),
        ("ghcr.io/acme/api:1.2", ImageFilter(registry="ghcr.io", repository="acme/api", tag="1.2")),
        ("ghcr.io/acme/api", ImageFilter(registry="ghcr.io", repository="acme/api")),
        ("nginx", ImageFilter(registry="docker.io", repository="library/nginx")),
        (
            "index.docker.io/library/nginx:1",
            ImageFilter(registry="docker.io", repository="library/nginx", tag="1"),
        ),
    ],
)
def test_image_filters_are_normalised_like_gate_names_images(
    text: str, expected: ImageFilter
) -> None:
    assert parse_query(image=text).image == expected


@pytest.mark.parametrize("text", ["not an image", "./archive.tar", "UPPER/Case"])
def test_what_is_not_an_image_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="--image"):
        parse_query(image=text)


def test_decision_limit_and_lengths_are_checked() -> None:
    assert parse_query(decision="fail").decision == "fail"
    assert parse_query(limit="20").limit == 20
    assert parse_query(limit=5).limit == 5
    assert parse_query(image="", stage="", decision="", since="", limit="") == parse_query()
    for bad in ({"decision": "FAIL"}, {"decision": "maybe"}, {"limit": "0"}, {"limit": "ten"},
                {"limit": "10001"}, {"stage": "x" * 513}, {"image": "a" * 513}):  # fmt: skip
        with pytest.raises(UsageError):
            parse_query(**bad)  # type: ignore[arg-type]


def test_ages_for_prune() -> None:
    assert parse_age("90d", "--older-than") == dt.timedelta(days=90)
    with pytest.raises(UsageError, match="--older-than"):
        parse_age("90", "--older-than")
