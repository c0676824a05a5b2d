"""Real registries for the tests: Distribution (``docker-registry``) on free loopback ports.

Session-scoped: ``registry`` (anonymous), ``second_registry`` (another instance, for copies
across registries), ``auth_registry`` (htpasswd basic auth, support.TEST_USERNAME/PASSWORD)
and ``tls_registry`` (TLS with a CA made in the test; ``.ca_file``). Skipped with the reason
when ``docker-registry`` is not installed (.ci/run installs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from services import unavailable

from registry.support import (
    REGISTRY_BINARY,
    RunningRegistry,
    make_tls_files,
    registry_available,
    start_registry,
)


def _serve(root: Path, **options: object) -> Iterator[RunningRegistry]:
    if not registry_available():
        unavailable(REGISTRY_BINARY, "apt-get install docker-registry")
    running = start_registry(root, **options)  # type: ignore[arg-type]
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    yield from _serve(tmp_path_factory.mktemp("registry"))


@pytest.fixture(scope="session")
def second_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    yield from _serve(tmp_path_factory.mktemp("second-registry"))


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    yield from _serve(tmp_path_factory.mktemp("auth-registry"), htpasswd=True)


@pytest.fixture(scope="session")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    root = tmp_path_factory.mktemp("tls-registry")
    yield from _serve(root, tls=make_tls_files(root / "tls"))
