#!/usr/bin/env python3
"""Measure `gate serve` over loopback: POST /v1/check throughput and latency, log rows
written against requests sent, and the RSS of a worker as requests accumulate.

Starts `gate serve --workers 2 --port 0` with a fresh SQLite decision log in a temporary
directory, then:

1. the fixture report (fixtures/reports/trivy/v2-image.json): --requests checks from
   --clients concurrent clients; req/s, p50, p95;
2. a synthetic 10,000-finding Trivy report (scripts/make_trivy_report.py): --large-requests
   checks from --large-clients clients;
3. the RSS (VmRSS of /proc/PID/status) of each worker after 10 and after --rss-requests
   requests in total;
4. rows in the decision log against requests answered 200.

    python scripts/bench_serve.py [--requests 500] [--clients 20] [--rss-requests 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
FIXTURE = HERE.parent / "fixtures" / "reports" / "trivy" / "v2-image.json"
AT = "2024-10-14T12:00:00Z"
START_SECONDS = 120


def start_server(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    log = work / "serve.err"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "gate", "serve", "--port", "0", "--workers", "2"]
            + ["--log", f"sqlite:///{work / 'decisions.db'}"],
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    deadline = time.monotonic() + START_SECONDS
    while True:
        found = re.search(r"listening on (http://\S+) ", log.read_text(errors="replace"))
        if found:
            url = found[1]
            break
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"gate serve did not start:\n{log.read_text()}")
        time.sleep(0.1)
    while True:
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"gate serve is not ready:\n{log.read_text()}")
        time.sleep(0.1)


def body_of(report: bytes) -> bytes:
    request = {"inputs": [{"name": "trivy.json", "content": report.decode()}], "stage": "dev"}
    return json.dumps({**request, "at": AT}).encode()


def run_checks(url: str, body: bytes, count: int, clients: int) -> dict[str, float]:
    """Send ``count`` checks from ``clients`` threads; statuses and latency percentiles."""
    headers = {"content-type": "application/json"}
    with httpx.Client(
        base_url=url, timeout=600, limits=httpx.Limits(max_connections=clients)
    ) as client:

        def one(_: int) -> tuple[int, float]:
            started = time.perf_counter()
            status = client.post("/v1/check", content=body, headers=headers).status_code
            return status, time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            answers = list(pool.map(one, range(count)))
        elapsed = time.perf_counter() - started
    latencies = sorted(seconds for _, seconds in answers) or [0.0]
    return {
        "requests": count,
        "ok": sum(1 for status, _ in answers if status == 200),
        "req_per_s": count / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000,
    }


def worker_pids(url: str) -> set[int]:
    """The worker processes, as /readyz names them (each on a new connection)."""
    seen: set[int] = set()
    for _ in range(400):
        seen.add(int(httpx.get(f"{url}/readyz", headers={"Connection": "close"}).json()["worker"]))
        if len(seen) == 2:
            break
    return seen


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found[1]) / 1024 if found else float("nan")


def count_rows(work: Path) -> int:
    from gate.decisionlog import open_log, parse_query

    log = open_log(f"sqlite:///{work / 'decisions.db'}")
    try:
        return len(log.list(parse_query(limit=10_000)))
    finally:
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--large-requests", type=int, default=40)
    parser.add_argument("--large-clients", type=int, default=4)
    parser.add_argument("--rss-requests", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        large = subprocess.run(
            [sys.executable, str(HERE / "make_trivy_report.py"), "10000"],
            capture_output=True,
            check=True,
        ).stdout
        process, url = start_server(work)
        sent = 0
        try:
            fixture_body = body_of(FIXTURE.read_bytes())
            pids = worker_pids(url)
            warm = run_checks(url, fixture_body, 10, 2)
            sent += 10
            rss_10 = {pid: rss_mib(pid) for pid in pids}
            fixture = run_checks(url, fixture_body, args.requests, args.clients)
            sent += args.requests
            rest = run_checks(url, fixture_body, max(0, args.rss_requests - sent), args.clients)
            sent += int(rest["requests"])
            rss_after = {pid: rss_mib(pid) for pid in pids}
            big = run_checks(url, body_of(large), args.large_requests, args.large_clients)
            sent += args.large_requests
            rss_large = {pid: rss_mib(pid) for pid in pids}
            rows = count_rows(work)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    print(f"gate serve, 2 workers, loopback, {os.cpu_count()} CPUs")
    print("| workload | requests | 200s | req/s | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, result in (
        ("warm-up (fixture, 2 clients)", warm),
        (f"fixture trivy v2-image, {args.clients} clients", fixture),
        (f"10k-finding report ({len(large) / 2**20:.1f} MiB), {args.large_clients} clients", big),
    ):
        print(
            f"| {name} | {result['requests']:.0f} | {result['ok']:.0f} | "
            f"{result['req_per_s']:.1f} | {result['p50_ms']:.0f} | {result['p95_ms']:.0f} |"
        )
    answered = sum(result["ok"] for result in (warm, fixture, rest, big))
    print(f"\ndecision-log rows: {rows} written for {sent} requests sent ({answered:.0f} got 200)")
    counted = sent - args.large_requests
    print(f"\n| worker pid | RSS MiB after 10 | after {counted} | then + 10k reports |")
    print("|---:|---:|---:|---:|")
    for pid in sorted(pids):
        print(f"| {pid} | {rss_10[pid]:.1f} | {rss_after[pid]:.1f} | {rss_large[pid]:.1f} |")


if __name__ == "__main__":
    main()
