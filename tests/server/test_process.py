"""The real `gate serve` over loopback HTTP: startup checks, workers, signals, the load test."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from gate.decisionlog import open_log, parse_query
from server.support import (
    AT,
    EMPTY,
    TRIVY,
    check_body,
    cli_verdict,
    metric,
    policy_copy,
    policy_module,
    verdict_of,
    wait_for,
)


def log_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'decisions.db'}"


def serve_fails(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run `gate serve` expecting it to refuse to start; its exit code and stderr."""
    run = subprocess.run(
        [sys.executable, "-m", "gate", "serve", "--port", "0", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    assert "listening on" not in run.stderr
    return run.returncode, run.stderr


def readiness(client: httpx.Client) -> dict[str, object]:
    """/readyz on a new connection: a kept-alive one would ask the same worker each time."""
    answer = client.get("/readyz", headers={"Connection": "close"})
    state: dict[str, object] = answer.json()
    return state


def test_the_server_answers_like_gate_check_and_stops_on_sigterm(serve, tmp_path):
    served = serve("--log", log_url(tmp_path))
    with served.client() as client:
        response = client.post("/v1/check", json=check_body(TRIVY, stage="dev", at=AT))
        assert response.headers["X-Gate-Decision"] == "fail"
        assert response.text == cli_verdict(tmp_path, TRIVY, stage="dev", at=AT)
        assert client.get("/healthz").status_code == 200
    assert served.stop() == 0
    # Never a traceback without --debug: an engine held by another thread than the one that
    # forks used to be dropped noisily in every evaluation's child.
    assert "Traceback" not in served.stderr(), served.stderr()


def test_tokens_from_the_environment_reach_every_worker(serve, tmp_path):
    token = "api-t0ken-7c1e"
    served = serve(
        "--log", log_url(tmp_path), "--workers", "2", env={"GATE_API_TOKENS": f"x-other,{token}"}
    )
    body = check_body(EMPTY, stage="dev", at=AT)
    with served.client() as client:
        workers = set()
        for _ in range(200):
            workers.add(readiness(client)["worker"])
            if len(workers) == 2:
                break
        assert len(workers) == 2
        for _ in range(6):  # new connections: both workers answer some of these
            fresh = {"Connection": "close"}
            assert client.post("/v1/check", json=body, headers=fresh).status_code == 401
            authorised = {**fresh, "Authorization": f"Bearer {token}"}
            assert client.post("/v1/check", json=body, headers=authorised).status_code == 200
    assert token not in served.stderr()


@pytest.mark.parametrize("workers", [1, 2])
def test_sighup_reloads_the_policies_of_every_worker(serve, tmp_path, workers):
    policies = policy_copy(tmp_path)
    served = serve(
        "--log", log_url(tmp_path), "--workers", str(workers), "--policy", str(policies),
        "--reload-interval", "0",
    )  # fmt: skip
    with served.client() as client:
        before = readiness(client)["policy"]["digest"]  # type: ignore[index]
        module = policy_module(policies)
        module.write_text(module.read_text() + "\n# reviewed change\n")
        served.process.send_signal(signal.SIGHUP)
        reloaded: set[object] = set()

        def every_worker_reloaded() -> bool:
            state = readiness(client)
            if state["policy"]["digest"] != before:  # type: ignore[index]
                reloaded.add(state["worker"])
            return len(reloaded) == workers

        wait_for(every_worker_reloaded, "every worker to reload on SIGHUP")
        verdict = verdict_of(client.post("/v1/check", json=check_body(EMPTY, stage="dev", at=AT)))
        assert verdict["policy"]["digest"] != before
    assert served.process.poll() is None  # SIGHUP never stops the server


def test_a_changed_policy_is_picked_up_by_polling_and_a_broken_one_is_not(serve, tmp_path):
    policies = policy_copy(tmp_path)
    served = serve(
        "--log", log_url(tmp_path), "--policy", str(policies), "--reload-interval", "0.2"
    )
    module = policy_module(policies)
    with served.client() as client:
        before = readiness(client)["policy"]["digest"]  # type: ignore[index]
        module.write_text(module.read_text() + "\n# reviewed change\n")
        changed = wait_for(
            lambda: (d := readiness(client)["policy"]["digest"]) != before and d,  # type: ignore[index]
            "the polled reload",
        )
        module.write_text(module.read_text() + "\nnot rego at all {\n")
        wait_for(lambda: readiness(client)["policy"]["stale"], "the failed reload")  # type: ignore[index]
        verdict = verdict_of(client.post("/v1/check", json=check_body(EMPTY, stage="dev", at=AT)))
        assert verdict["policy"]["digest"] == changed
        assert metric(client.get("/metrics").text, "gate_policy_stale") == 1


def test_a_worker_that_dies_is_replaced(serve, tmp_path):
    served = serve("--log", log_url(tmp_path), "--workers", "2")
    with served.client() as client:
        victim = readiness(client)["worker"]
        os.kill(int(victim), signal.SIGKILL)  # type: ignore[call-overload]
        seen: set[object] = set()

        def replaced() -> bool:
            state = readiness(client)
            seen.add(state["worker"])
            return len(seen - {victim}) == 2

        wait_for(replaced, "a replacement worker")
        ok = client.post("/v1/check", json=check_body(EMPTY, stage="dev", at=AT))
        assert ok.status_code == 200
    assert "restarting" in served.stderr()


LOAD_REQUESTS = 500
LOAD_CLIENTS = 20


def test_load_500_checks_from_20_clients_on_2_workers_lose_nothing(serve, tmp_path):
    served = serve("--log", log_url(tmp_path), "--workers", "2")
    bodies = [
        json.dumps(check_body(report, stage="dev", at=AT)).encode() for report in (TRIVY, EMPTY)
    ]

    def one(index: int, client: httpx.Client) -> tuple[int, float, str]:
        started = time.perf_counter()
        response = client.post(
            "/v1/check",
            content=bodies[index % 2],
            headers={"content-type": "application/json"},
        )
        return (
            response.status_code,
            time.perf_counter() - started,
            response.headers.get("X-Gate-Decision-Id", ""),
        )

    limits = httpx.Limits(max_connections=LOAD_CLIENTS)
    started = time.perf_counter()
    with served.client(limits=limits) as client, ThreadPoolExecutor(LOAD_CLIENTS) as pool:
        answers = list(pool.map(lambda i: one(i, client), range(LOAD_REQUESTS)))
        metrics_text = client.get("/metrics").text
    elapsed = time.perf_counter() - started
    statuses = [status for status, _, _ in answers]
    assert statuses.count(200) == LOAD_REQUESTS, {s: statuses.count(s) for s in set(statuses)}
    ids = {decision_id for _, _, decision_id in answers}
    assert len(ids) == LOAD_REQUESTS  # every answer names its own log row
    log = open_log(log_url(tmp_path))
    try:
        rows = log.list(parse_query(limit=10_000))
    finally:
        log.close()
    assert len(rows) == LOAD_REQUESTS
    assert {str(r.id) for r in rows} == ids
    # Metrics are summed over both workers.
    assert metric(metrics_text, "gate_decisions_total", source="server") == LOAD_REQUESTS
    latencies = sorted(seconds for _, seconds, _ in answers)
    p50 = statistics.median(latencies)
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"\nload: {LOAD_REQUESTS} checks, {LOAD_CLIENTS} clients, 2 workers: "
        f"{LOAD_REQUESTS / elapsed:.1f} req/s, p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"rows {len(rows)}/{LOAD_REQUESTS}"
    )


# -- refusing to start -----------------------------------------------------------------------


def test_policies_that_do_not_compile_stop_the_server_before_it_listens(tmp_path):
    policies = policy_copy(tmp_path)
    module = policy_module(policies)
    module.write_text(module.read_text() + "\nnot rego {\n")
    code, stderr = serve_fails(tmp_path, "--log", log_url(tmp_path), "--policy", str(policies))
    assert code == 3 and "does not compile" in stderr


def test_an_unreachable_log_stops_the_server_without_printing_its_password(tmp_path):
    url = "postgresql://gate:pw-n3ver-printed@127.0.0.1:1/gate"
    code, stderr = serve_fails(tmp_path, "--log", url)
    assert code == 3 and stderr.startswith("error: ")
    assert "pw-n3ver-printed" not in stderr


@pytest.mark.parametrize(
    ("args", "env", "problem"),
    [
        (["--stage", "qa"], {}, "unknown stage"),
        ([], {"GATE_API_TOKENS": " , "}, "holds no token"),
        ([], {"GATE_API_TOKENS": "a", "GATE_API_TOKENS_FILE": "t"}, "not both"),
        (["--harbor-url", "https://harbor.example"], {}, "GATE_HARBOR_WEBHOOK_SECRET"),
        (["--harbor-stage", "dev"], {}, "needs --harbor-url"),
        (["--harbor-url", "http://harbor.example"], {}, "https"),
    ],
)
def test_usage_errors_stop_the_server_with_exit_2(tmp_path, args, env, problem):
    code, stderr = serve_fails(tmp_path, "--log", log_url(tmp_path), *args, env=env)
    assert code == 2 and problem in stderr, stderr


def test_tokens_come_from_a_file_one_per_line(tmp_path):
    from gate.server.commands import load_tokens

    tokens = tmp_path / "tokens"
    tokens.write_text("# rotated 2026-12\nfirst-token\n\n  second-token  \n")
    assert load_tokens({"GATE_API_TOKENS_FILE": str(tokens)}) == ("first-token", "second-token")
    assert load_tokens({"GATE_API_TOKENS": "a, b"}) == ("a", "b")
    assert load_tokens({}) == ()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False), ("::", False)],
)
def test_non_loopback_addresses_are_told_apart(host, loopback):
    from gate.server.commands import is_loopback

    assert is_loopback(host) is loopback
