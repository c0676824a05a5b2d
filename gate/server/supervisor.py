"""The ``gate serve`` process model.

The supervisor binds the listening socket once and starts ``--workers`` worker processes
(``spawn``: a fresh interpreter each, nothing inherited but the socket and the config), each
running uvicorn on that shared socket with its own app, policies, evaluation thread and
decision-log connections. It

* sets ``PROMETHEUS_MULTIPROC_DIR`` to a fresh temporary directory before the workers
  start, so that ``/metrics`` of any worker sums every worker's metrics, and drops a dead
  worker's live gauges (:func:`gate.metrics.mark_worker_dead`);
* restarts a worker that dies, and gives up (exit 3) when workers keep dying at start;
* forwards SIGHUP to every worker (each reloads its policies in place);
* stops every worker on SIGTERM or SIGINT (uvicorn finishes the requests in flight).

With ``--workers 1`` the one worker runs in the supervisor's own process; SIGHUP is
handled by the app's lifespan either way.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from multiprocessing.context import SpawnProcess
from types import FrameType

from gate.errors import GateError
from gate.server.service import ServeConfig

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
POLL_SECONDS = 0.2
GRACEFUL_SECONDS = 10.0
"""How long a stopping worker may take to finish its requests before it is killed."""
KEEP_ALIVE_SECONDS = 5
CONNECTION_LIMIT = 512
"""Open connections per worker beyond which uvicorn answers 503 at once."""
CRASH_WINDOW_SECONDS = 30.0
MAX_QUICK_CRASHES = 5
"""Workers dying this many times in a row, each within CRASH_WINDOW_SECONDS of its start,
stop the server: a worker that cannot start would otherwise be respawned forever."""


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound as uvicorn binds it (IPv4/IPv6, SO_REUSEADDR)."""
    import uvicorn

    config = uvicorn.Config(app=_no_app, host=host, port=port, log_level="warning")
    try:
        return config.bind_socket()
    except SystemExit as exc:  # uvicorn logs the OSError and exits
        raise GateError(f"cannot listen on {host}:{port}", where="gate serve") from exc


async def _no_app(scope: object, receive: object, send: object) -> None:  # pragma: no cover
    raise RuntimeError("the bind-only config serves nothing")


def serve(config: ServeConfig, *, host: str, port: int, workers: int) -> int:
    """Listen on ``host:port`` and serve with ``workers`` processes until stopped; the exit
    code (0 after a requested stop, 3 when workers keep dying)."""
    sock = bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    print(
        f"gate serve: listening on http://{shown}:{bound_port} with {workers} worker(s)",
        file=sys.stderr,
        flush=True,
    )
    if workers == 1:
        return run_worker(config, sock)
    return Supervisor(config, sock, workers).run()


def run_worker(config: ServeConfig, sock: socket.socket) -> int:
    """Serve on ``sock`` in this process until uvicorn is told to stop."""
    # Until the app's lifespan installs its reload handler, SIGHUP must not end the worker.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    import uvicorn

    from gate.server.app import create_app

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            lifespan="on",
            log_level="warning",
            access_log=False,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            timeout_graceful_shutdown=int(GRACEFUL_SECONDS),
            limit_concurrency=CONNECTION_LIMIT,
            server_header=False,
        )
    )

    def stop(number: int, frame: FrameType | None) -> None:
        # Before uvicorn listens for signals, and after: uvicorn raises the stop signal again
        # once it has shut down, which would end an orderly stop as if killed.
        server.should_exit = True

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, stop)
    server.run(sockets=[sock])
    return 0 if server.started else 3


def _worker_main(config: ServeConfig, sock: socket.socket) -> None:  # pragma: no cover
    # Runs in a spawned worker; the return code tells the supervisor whether it started.
    sys.exit(run_worker(config, sock))


class Supervisor:
    """Starts, watches, restarts, signals and stops the worker processes."""

    def __init__(self, config: ServeConfig, sock: socket.socket, workers: int) -> None:
        self.config = config
        self.sock = sock
        self.count = workers
        self.stopping = False
        self.reload_asked = False
        self.context = multiprocessing.get_context("spawn")
        self.started_at: dict[int, float] = {}
        self.quick_crashes = 0

    def run(self) -> int:
        metrics_dir = tempfile.mkdtemp(prefix="gate-metrics-")
        # Before any worker starts (and imports prometheus_client): see gate.metrics.
        os.environ[MULTIPROC_ENV] = metrics_dir
        previous = {
            number: signal.signal(number, self._on_signal)
            for number in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)
        }
        workers: list[SpawnProcess] = []
        try:
            workers = [self._start() for _ in range(self.count)]
            return self._watch(workers, metrics_dir)
        finally:
            self._stop(workers)
            for number, handler in previous.items():
                signal.signal(number, handler)
            shutil.rmtree(metrics_dir, ignore_errors=True)

    def _on_signal(self, number: int, frame: FrameType | None) -> None:
        if number == signal.SIGHUP:
            self.reload_asked = True
        else:
            self.stopping = True

    def _start(self) -> SpawnProcess:
        process = self.context.Process(
            target=_worker_main, args=(self.config, self.sock), name="gate-worker", daemon=False
        )
        process.start()
        assert process.pid is not None
        self.started_at[process.pid] = time.monotonic()
        return process

    def _watch(self, workers: list[SpawnProcess], metrics_dir: str) -> int:
        from gate.metrics import mark_worker_dead

        while not self.stopping:
            if self.reload_asked:
                self.reload_asked = False
                for process in workers:
                    if process.pid is not None and process.is_alive():
                        os.kill(process.pid, signal.SIGHUP)
            for index, process in enumerate(workers):
                if process.is_alive() or self.stopping:
                    continue
                process.join()
                assert process.pid is not None
                mark_worker_dead(process.pid, metrics_dir)
                lived = time.monotonic() - self.started_at.pop(process.pid, 0.0)
                self.quick_crashes = self.quick_crashes + 1 if lived < CRASH_WINDOW_SECONDS else 0
                if self.quick_crashes >= MAX_QUICK_CRASHES:
                    print(
                        f"error: gate serve: workers keep dying at start "
                        f"({self.quick_crashes} in a row); stopping",
                        file=sys.stderr,
                        flush=True,
                    )
                    return 3
                print(
                    f"gate serve: worker {process.pid} exited ({process.exitcode}); restarting",
                    file=sys.stderr,
                    flush=True,
                )
                workers[index] = self._start()
            time.sleep(POLL_SECONDS)
        return 0

    def _stop(self, workers: list[SpawnProcess]) -> None:
        for process in workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn's graceful shutdown
        deadline = time.monotonic() + GRACEFUL_SECONDS + 2
        for process in workers:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
