"""A throwaway PostgreSQL cluster on loopback for the tests (pytest plugin: tests/conftest.py).

``postgres_url`` (session): ``postgresql://postgres@127.0.0.1:PORT/gate`` of a cluster made
by initdb in a temporary directory, listening on 127.0.0.1 only (its unix socket in that
directory), trust authentication for local and 127.0.0.1 connections only; stopped and
deleted at the end. ``fresh_postgres_url``: a new, empty database of that cluster per test.

PostgreSQL refuses to run as root: as root the cluster belongs to the ``postgres`` user
and its programs run through ``runuser``. Missing binaries skip the tests, unless
``GATE_REQUIRE_SERVICES=1`` (CI) makes them fail.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from services import unavailable

INSTALL = "apt-get install postgresql"
CLUSTER_USER = "postgres"
START_TIMEOUT_S = 60


@dataclass(frozen=True)
class Cluster:
    """A running throwaway cluster."""

    port: int
    directory: Path

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, statement: str) -> None:
        """Run one statement as the superuser, outside a transaction (CREATE DATABASE)."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(statement)  # type: ignore[arg-type]


def postgres_bindir() -> Path | None:
    """The directory of initdb/pg_ctl: from PATH, else Debian's newest /usr/lib/postgresql."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: (
            int(Path(path).parent.parent.name) if Path(path).parent.parent.name.isdigit() else 0
        ),
    )
    return Path(candidates[-1]).parent if candidates else None


def _as_cluster_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", CLUSTER_USER, "--", *command]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(command: list[str], log: Path) -> None:
    result = subprocess.run(
        _as_cluster_user(command), capture_output=True, text=True, timeout=START_TIMEOUT_S
    )
    if result.returncode != 0:
        server_log = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n"
            f"{result.stderr}\n{server_log}"
        )


def start_cluster(bindir: Path) -> Cluster:
    # Not under pytest's tmp_path: its parents are private to root, and the cluster's
    # user must reach the directory.
    directory = Path(tempfile.mkdtemp(prefix="gate-pg-"))
    data = directory / "data"
    log = directory / "server.log"
    if os.geteuid() == 0:
        shutil.chown(directory, CLUSTER_USER, CLUSTER_USER)
    _run(
        [
            str(bindir / "initdb"),
            "-D", str(data), "-U", "postgres", "-E", "UTF8", "--no-sync",
            "--auth-local=trust", "--auth-host=reject",
        ],
        log,
    )  # fmt: skip
    (data / "pg_hba.conf").write_text(
        "local all all trust\nhost all all 127.0.0.1/32 trust\n", encoding="utf-8"
    )
    if os.geteuid() == 0:
        shutil.chown(data / "pg_hba.conf", CLUSTER_USER, CLUSTER_USER)
    for _ in range(5):  # the probed port may be taken before the server binds it
        port = _free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={directory} "
            "-c fsync=off -c full_page_writes=off -c max_connections=100"
        )
        try:
            _run(
                [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                 "-w", "-t", str(START_TIMEOUT_S), "start"],
                log,
            )  # fmt: skip
        except RuntimeError:
            if "could not bind" in (log.read_text(errors="replace") if log.exists() else ""):
                continue
            shutil.rmtree(directory, ignore_errors=True)
            raise
        cluster = Cluster(port=port, directory=directory)
        cluster.admin("CREATE DATABASE gate")
        return cluster
    shutil.rmtree(directory, ignore_errors=True)
    raise RuntimeError("no free port for PostgreSQL after 5 tries")


def stop_cluster(bindir: Path, cluster: Cluster) -> None:
    subprocess.run(
        _as_cluster_user(
            [str(bindir / "pg_ctl"), "-D", str(cluster.directory / "data"), "-m", "immediate",
             "-w", "stop"]
        ),
        capture_output=True,
        timeout=START_TIMEOUT_S,
    )  # fmt: skip
    shutil.rmtree(cluster.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A running throwaway cluster for the whole session."""
    bindir = postgres_bindir()
    if bindir is None:
        unavailable("PostgreSQL (initdb, pg_ctl)", INSTALL)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg", "pip install 'psycopg[binary]'")
    cluster = start_cluster(bindir)
    try:
        yield cluster
    finally:
        stop_cluster(bindir, cluster)


@pytest.fixture(scope="session")
def postgres_url(postgres_cluster: Cluster) -> str:
    """``postgresql://postgres@127.0.0.1:PORT/gate``: one database shared by the session."""
    return postgres_cluster.url("gate")


_DATABASE_NUMBERS = itertools.count(1)


@pytest.fixture
def fresh_postgres_url(postgres_cluster: Cluster) -> Iterator[str]:
    """A new empty database for one test (so that tests do not see each other's rows)."""
    name = f"gate_test_{os.getpid()}_{next(_DATABASE_NUMBERS)}"
    postgres_cluster.admin(f"CREATE DATABASE {name}")
    try:
        yield postgres_cluster.url(name)
    finally:
        postgres_cluster.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
