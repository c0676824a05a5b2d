"""Helpers and fixtures of the `gate serve` tests: the app in-process (Starlette's TestClient,
an httpx client) and the real server as a subprocess on a loopback port (`gate serve --port
0`) with an httpx client.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import fixture

from gate.metrics import GateMetrics
from gate.policy import default_policy_dir
from gate.server.app import create_app
from gate.server.service import ServeConfig

AT = "2024-10-14T12:00:00Z"
"""When the fixture reports were made: verdicts at this time do not depend on the clock."""
TRIVY = fixture("reports/trivy/v2-image.json")
"""Fails at every stage (a leaked key, fixable criticals)."""
EMPTY = fixture("reports/grype/empty.json")
"""Passes at dev."""
START_SECONDS = 60.0
"""How long a server may take to listen and answer /healthz (policies compile first)."""


def check_body(*files: Path, names: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    """A JSON check request sending ``files`` as text (so their hashes are the files')."""
    given = names or [f.name for f in files]
    inputs = [{"name": n, "content": f.read_text()} for n, f in zip(given, files, strict=True)]
    return {"inputs": inputs, **fields}


def metric(metrics_text: str, name: str, **labels: str) -> float:
    """The sum of the samples ``name`` with ``labels`` in a /metrics exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def cli_verdict(tmp_path: Path, *files: Path, **options: str) -> str:
    """`gate check -f json` of ``files`` copied into a directory under their own names (as a
    request names them), so that the verdict's input paths are the same."""
    work = tmp_path / "cli"
    work.mkdir(exist_ok=True)
    for f in files:
        shutil.copyfile(f, work / f.name)
    flags = [part for key, value in options.items() for part in (f"--{key}", value)]
    run = subprocess.run(
        [sys.executable, "-m", "gate", "check", *(f.name for f in files), *flags]
        + ["-f", "json", "--no-config", "-q"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode in (0, 1), run.stderr
    return run.stdout


def policy_copy(tmp_path: Path) -> Path:
    """A copy of the bundled pack that a test may edit (reload tests)."""
    target = tmp_path / "policies"
    shutil.copytree(default_policy_dir(), target)
    return target


def policy_module(policies: Path) -> Path:
    """A Rego module of ``policies`` that check loads (not a unit test)."""
    return next(p for p in sorted(policies.rglob("*.rego")) if not p.name.endswith("_test.rego"))


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``make_client(**ServeConfig changes, metrics=, open_log=)``: a started in-process app
    (lifespan run: policies compiled, log opened) behind an httpx-based TestClient. The log
    is SQLite in tmp_path unless ``log_url`` is given. ``client.metrics`` is its GateMetrics."""
    with warnings.catch_warnings():
        # Starlette 1.x suggests httpx2 for its TestClient; httpx is what the issue chose.
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    started: list[Any] = []

    def make(*, metrics: GateMetrics | None = None, open_log: Any = None, **changes: Any) -> Any:
        changes.setdefault("log_url", f"sqlite:///{tmp_path / 'decisions.db'}")
        changes.setdefault("reload_interval", 0)
        config = ServeConfig(**changes)
        observed = metrics or GateMetrics()
        client = TestClient(create_app(config, metrics=observed, open_log=open_log))
        client.__enter__()
        client.metrics = observed  # type: ignore[attr-defined]
        started.append(client)
        return client

    yield make
    for client in reversed(started):
        client.__exit__(None, None, None)


@dataclass
class Served:
    """A `gate serve` subprocess listening on loopback."""

    process: subprocess.Popen[bytes]
    url: str
    stderr_path: Path

    def client(self, **options: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120, **options)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, wait_ready: bool = True
) -> Served:
    """Run `gate serve --port 0 ARGS` and wait until it listens and /healthz answers."""
    stderr_path = tmp_path / f"serve-{time.monotonic_ns()}.err"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "gate", "serve", "--port", "0", *args],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, **(env or {})},
        )
    deadline = time.monotonic() + START_SECONDS
    url = None
    while url is None:
        found = re.search(r"listening on (http://\S+) ", stderr_path.read_text(errors="replace"))
        if found:
            url = found[1]
        elif process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise AssertionError(f"gate serve did not start:\n{stderr_path.read_text()}")
        else:
            time.sleep(0.05)
    served = Served(process, url, stderr_path)
    probe = "/readyz" if wait_ready else "/healthz"
    with served.client() as client:
        while True:
            try:
                if client.get(probe).status_code == 200:
                    return served
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                served.stop()
                raise AssertionError(f"gate serve is not ready:\n{served.stderr()}")
            time.sleep(0.05)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """``serve(*args, env=)``: a started `gate serve` subprocess, stopped after the test."""
    running: list[Served] = []

    def start(*args: str, env: dict[str, str] | None = None, wait_ready: bool = True) -> Served:
        served = start_server(tmp_path, *args, env=env, wait_ready=wait_ready)
        running.append(served)
        return served

    yield start
    for served in running:
        served.stop()


def wait_for(condition: Callable[[], Any], what: str, seconds: float = 60.0) -> Any:
    """Poll ``condition`` until it returns something truthy (bounded: a hang fails)."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def verdict_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    loaded: dict[str, Any] = json.loads(response.text)
    return loaded
