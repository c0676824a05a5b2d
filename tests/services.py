"""Real parts the tests start (registries, PostgreSQL, promtool): skip where they are missing,
fail where CI promised them.

``.ci/run`` installs every real part and sets ``GATE_REQUIRE_SERVICES=1``, so that a broken
install turns tests red instead of silently skipping the behaviour they guard.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRE_ENV = "GATE_REQUIRE_SERVICES"


def required() -> bool:
    """Whether missing real parts are failures here (CI) rather than skips (a user's clone)."""
    return os.environ.get(REQUIRE_ENV) == "1"


def unavailable(what: str, install: str) -> NoReturn:
    """End the current test: ``what`` is missing; ``install`` says how to get it."""
    if required():
        pytest.fail(f"{what} is missing but {REQUIRE_ENV}=1 requires it ({install})")
    pytest.skip(f"{what} is not installed ({install})")
