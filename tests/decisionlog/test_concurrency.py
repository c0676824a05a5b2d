"""Many writers at once (parallel CI jobs, server workers) lose nothing: real processes."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest

from gate.decisionlog import DecisionQuery, open_log
from gate.verdict import Verdict

from .conftest import as_json

PROCESSES = 8
RECORDS_EACH = 25


def _writer(url: str, verdict_json: str, worker: int, start: Any, ids: Any) -> None:
    verdict = Verdict.model_validate_json(verdict_json).model_copy(update={"stage": f"w{worker}"})
    text = as_json(verdict)
    start.wait()  # every process opens the new log at once: the first open must not race
    log = open_log(url)
    try:
        for _ in range(RECORDS_EACH):
            ids.put(log.record(verdict, verdict_json=text, source="cli"))
    finally:
        log.close()


@pytest.mark.timeout(240)
def test_parallel_writers_lose_nothing(log_url: str, passing_verdict: Verdict) -> None:
    context = multiprocessing.get_context("fork")
    start = context.Barrier(PROCESSES)
    ids = context.Queue()
    workers = [
        context.Process(target=_writer, args=(log_url, as_json(passing_verdict), n, start, ids))
        for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    returned = [ids.get(timeout=180) for _ in range(PROCESSES * RECORDS_EACH)]
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES
    assert len(set(returned)) == PROCESSES * RECORDS_EACH
    log = open_log(log_url, create=False)
    try:
        rows = log.list(DecisionQuery(limit=PROCESSES * RECORDS_EACH))
        assert sorted(r.id for r in rows) == sorted(returned)
        by_worker = {f"w{n}": 0 for n in range(PROCESSES)}
        for row in rows:
            by_worker[row.stage] += 1
        assert by_worker == {f"w{n}": RECORDS_EACH for n in range(PROCESSES)}
    finally:
        log.close()


def test_threads_of_one_process_share_a_log(log_url: str, passing_verdict: Verdict) -> None:
    from concurrent.futures import ThreadPoolExecutor

    text = as_json(passing_verdict)
    log = open_log(log_url)
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            ids = list(
                pool.map(
                    lambda _: log.record(passing_verdict, verdict_json=text, source="server"),
                    range(100),
                )
            )
        assert len(set(ids)) == 100
        assert sorted(r.id for r in log.list(DecisionQuery(limit=1000))) == sorted(ids)
    finally:
        log.close()
