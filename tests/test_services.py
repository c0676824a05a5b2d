"""A missing real part skips a test on a user's clone and fails it in CI."""

from __future__ import annotations

import pytest
from services import REQUIRE_ENV, unavailable


def test_a_missing_part_skips_where_nobody_required_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="promtool is not installed"):
        unavailable("promtool", "apt-get install prometheus")


def test_a_missing_part_fails_where_ci_required_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="promtool is missing"):
        unavailable("promtool", "apt-get install prometheus")


def test_ci_requires_every_real_part() -> None:
    from conftest import ROOT

    assert f"export {REQUIRE_ENV}=1" in (ROOT / ".ci/run").read_text()
