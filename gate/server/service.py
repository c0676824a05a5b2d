"""What one ``gate serve`` worker holds: its policies, its evaluation thread, its decision log.

**One engine per worker.** The embedded engine (regorus) cannot be shared between threads,
and gate runs every evaluation in a child forked from the asking process
(:mod:`gate.engines.isolation`). A worker therefore evaluates on exactly one thread, one
request at a time; requests wait in a bounded queue in front of it, and more parallelism
comes from more workers (``--workers``), never from more threads. The policy compile check
of a reload runs on that same thread, so that two forks never race for one pipe; once it
passed, that thread compiles the set once more and holds it, and every evaluation's child
forks from the compiled engine instead of compiling again (a reload swaps it).

Policies are loaded once per worker and swapped atomically when they change (SIGHUP, or a
changed digest seen by polling): a set that does not load or compile is never swapped in;
the worker keeps serving the old one and says so (readiness: ``stale`` with the error;
metrics: a failed reload). A verdict records the digest it was judged with.

Every verdict is recorded in the decision log before it is answered: a verdict the log
could not record is not returned (503), because a decision nobody can audit must not be
acted on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from gate.errors import ExitCode, GateError, UsageError
from gate.policy import DefinedRule, PolicyBundle
from gate.run import Phases, Settings, evaluate, given_waivers, load_policies

if TYPE_CHECKING:
    from gate.decisionlog.store import DecisionLog
    from gate.engines.opa import OpaOptions
    from gate.harbor import HarborClient, HarborSettings, ScanEvent
    from gate.metrics import GateMetrics
    from gate.verdict import Verdict

T = TypeVar("T")

MIB = 1024 * 1024
DEFAULT_LOG_URL = "sqlite:///gate-decisions.db"
DEFAULT_MAX_BODY = 128 * MIB
DEFAULT_QUEUE_LIMIT = 64
DEFAULT_READ_TIMEOUT = 60.0
"""Seconds a client may take to send its request body: a slow client holds a connection,
never the evaluation thread (the body is read in full before the request is queued)."""
BUSY_RETRY_SECONDS = 1


@dataclass(frozen=True)
class ServeConfig:
    """Everything a worker needs, picklable so that spawned workers receive it whole.

    Secrets (tokens, the log URL's password, Harbor credentials) are left out of ``repr``.
    """

    policies: tuple[str, ...] = ()
    data: tuple[str, ...] = ()
    verify_key: str | None = None
    stage: str | None = None
    engine: str = "regorus"
    opa: OpaOptions | None = field(default=None, repr=False)
    timeout: float | None = None
    log_url: str = field(default=DEFAULT_LOG_URL, repr=False)
    max_body: int = DEFAULT_MAX_BODY
    reload_interval: float = 5.0
    allow_request_waivers: bool = True
    tokens: tuple[str, ...] = field(default=(), repr=False)
    harbor: HarborSettings | None = field(default=None, repr=False)
    harbor_insecure_no_auth: bool = False
    queue_limit: int = DEFAULT_QUEUE_LIMIT
    read_timeout: float = DEFAULT_READ_TIMEOUT

    def settings_for(
        self, contents: dict[str, bytes], *, stage: str | None = None, **given: Any
    ) -> Settings:
        """Settings of one evaluation of ``contents`` (inputs by name) with this server's
        policies, engine and limits; ``stage`` defaults to ``--stage``, else the strictest."""
        return Settings(
            inputs=list(contents),
            contents=contents,
            stage=stage or self.stage,
            policies=list(self.policies),
            data=list(self.data),
            bundle_verify_key=self.verify_key,
            engine=self.engine,
            opa=self.opa,
            timeout=self.timeout,
            **given,
        )


class ServiceError(GateError):
    """A request the service refuses or cannot serve, with the HTTP status that says so."""

    status = 400
    retry_after: int | None = None


class BodyTooLarge(ServiceError):
    """The request body exceeds ``--max-body`` (declared or actually sent)."""

    exit_code = ExitCode.USAGE
    status = 413


class BodyTimeout(ServiceError):
    """The client did not send its body within the read timeout."""

    exit_code = ExitCode.USAGE
    status = 408


class Unauthorised(ServiceError):
    """A missing or wrong bearer token (or Harbor webhook secret)."""

    exit_code = ExitCode.USAGE
    status = 401


class NotFound(ServiceError):
    """No such decision."""

    exit_code = ExitCode.USAGE
    status = 404


class Unavailable(ServiceError):
    """No verdict can be given or recorded now: no policy, no log, or a full queue."""

    status = 503

    def __init__(self, message: str, *, retry_after: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


def http_status(error: GateError) -> int:
    """The documented status of an error: 400 usage (exit 2), 422 no verdict (exit 3), or
    the service's own (401, 404, 408, 413, 503)."""
    if isinstance(error, ServiceError):
        return error.status
    return 400 if error.exit_code == ExitCode.USAGE else 422


@dataclass(frozen=True)
class LoadedPolicy:
    """A policy set that compiled, and when it was swapped in."""

    bundle: PolicyBundle
    loaded_at: str

    @property
    def digest(self) -> str:
        return self.bundle.digest


@dataclass(frozen=True)
class Decided:
    """A recorded verdict: the JSON ``gate check -f json`` writes, and its log id."""

    verdict_json: str
    decision: str
    decision_id: int
    image: str | None = None


def compile_check(bundle: PolicyBundle) -> list[DefinedRule]:
    """Compile ``bundle`` as ``gate check`` does before evaluating (every module parses and
    passes the engine's analysis, calls resolve, ``deny``/``warn`` exist under data.gate),
    in a forked child: a hostile module cannot end the worker. Raises PolicyError; returns
    the rules the set defines.

    Bounded as ``gate policy lint`` is ($GATE_TIMEOUT, the data's timeout, else 300 s), not
    by ``--timeout``, which limits each request's evaluation."""
    from gate.engines.isolation import TIMEOUT_ENV, resolve_timeout, run_isolated
    from gate.engines.regorus import RegorusEngine, policy_set_name
    from gate.policy import require_rules
    from gate.run import QUERY

    def check() -> list[DefinedRule]:
        _, rules = RegorusEngine().load_checked(bundle.modules, bundle.data)
        require_rules(rules, QUERY, ("deny", "warn"))
        bundle.rules()  # METADATA blocks that do not parse fail here, not per request
        return rules

    rules: list[DefinedRule] = run_isolated(
        check,
        timeout=resolve_timeout(None, bundle.data),
        what="policy compile check",
        where=policy_set_name(bundle.modules),
        limit_names=(TIMEOUT_ENV,),
    )
    return rules


def compile_and_hold(bundle: PolicyBundle) -> None:
    """:func:`compile_check`, then compile ``bundle`` once more in this process and hold it:
    every request's child forks from that engine instead of compiling again
    (:func:`gate.engines.regorus.hold_policies`).

    Only on the evaluation thread, the one that uses and forks from the held engine: an
    engine held by any other thread would be dropped, in each forked child, on a thread that
    did not create it (regorus refuses that, noisily)."""
    from gate.engines.regorus import hold_policies

    hold_policies(bundle.modules, bundle.data, compile_check(bundle))


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GateService:
    """One worker's policies, evaluation thread and decision log (see the module docs)."""

    def __init__(
        self,
        config: ServeConfig,
        metrics: GateMetrics,
        *,
        open_log: Callable[[str], DecisionLog] | None = None,
    ) -> None:
        self.config = config
        self.metrics = metrics
        self._open_log = open_log or _open_decision_log
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gate-eval")
        self._queued = 0
        self._policy: LoadedPolicy | None = None
        self._reload_error: str | None = None
        self._failed: str | None = None
        """What the last failed reload failed on (digest or message): counted once."""
        self._reload_lock = threading.Lock()
        self._log: DecisionLog | None = None
        self._log_error: str | None = None
        self._log_lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Load and compile the policies and open the log (blocking: call off the event
        loop). Failures leave the worker running but not ready, retried later."""
        self.reload(forced=True)
        self._decision_log()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._log_lock:
            if self._log is not None:
                self._log.close()
                self._log = None

    # -- policies -------------------------------------------------------------------------

    @property
    def policy(self) -> LoadedPolicy | None:
        return self._policy

    def reload(self, *, forced: bool = False) -> bool:
        """Load the policies again; when their digest changed, compile-check them on the
        evaluation thread and swap them in. Returns whether the served set is current.

        A failure keeps the served set (stale) and is counted once per distinct failure,
        unless ``forced`` (SIGHUP, startup) asks again.
        """
        with self._reload_lock:
            try:
                bundle = load_policies(self.config.settings_for({}))
            except GateError as exc:
                return self._reload_failed(str(exc), exc, forced)
            current = self._policy
            if current is not None and bundle.digest == current.digest:
                if self._reload_error is not None:  # the broken set was put back: not stale
                    self.metrics.observe_policy_reload(ok=True)
                self._reload_error = self._failed = None
                return True
            if not forced and bundle.digest == self._failed:
                return False
            if self.config.engine == "regorus":
                try:
                    self._executor.submit(compile_and_hold, bundle).result()
                except GateError as exc:
                    return self._reload_failed(bundle.digest, exc, forced)
            self._policy = LoadedPolicy(bundle, utc_now())
            self._reload_error = self._failed = None
            self.metrics.set_policy(bundle.digest)
            self.metrics.observe_policy_reload(ok=True)
            return True

    def _reload_failed(self, key: str, error: GateError, forced: bool) -> bool:
        self._reload_error = str(error)
        if forced or key != self._failed:
            self.metrics.observe_policy_reload(ok=False)
        self._failed = key
        return False

    async def watch_policies(self, wake: asyncio.Event) -> None:
        """Reload on ``wake`` (SIGHUP) or every ``reload_interval`` seconds (0: on wake only)."""
        interval = self.config.reload_interval or None
        while True:
            try:
                await asyncio.wait_for(wake.wait(), timeout=interval)
                forced = True
            except TimeoutError:
                forced = False
            wake.clear()
            await asyncio.to_thread(self.reload, forced=forced)

    # -- decision log ---------------------------------------------------------------------

    def _decision_log(self) -> DecisionLog | None:
        # Opened lazily again after a failure: a database that comes up late makes the
        # worker ready without a restart.
        with self._log_lock:
            if self._log is None:
                try:
                    self._log = self._open_log(self.config.log_url)
                    self._log_error = None
                except GateError as exc:
                    self._log_error = str(exc)
            return self._log

    def decision_log(self) -> DecisionLog:
        """The open log; :class:`Unavailable` when it cannot be opened."""
        log = self._decision_log()
        if log is None:
            raise Unavailable(f"the decision log is unavailable: {self._log_error}")
        return log

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Ready when a compiled policy set is served and the log answers (blocking)."""
        policy = self._policy
        log_state: dict[str, Any] = {"ok": False, "error": None}
        log = self._decision_log()
        if log is None:
            log_state["error"] = self._log_error
        else:
            log_state["url"] = log.shown_url
            try:
                log.ping()
                log_state["ok"] = True
            except GateError as exc:
                log_state["error"] = str(exc)
        state = {
            "policy": {
                "digest": policy.digest if policy else None,
                "loaded_at": policy.loaded_at if policy else None,
                "stale": policy is not None and self._reload_error is not None,
                "error": self._reload_error,
            },
            "log": log_state,
        }
        ready = policy is not None and bool(log_state["ok"])
        return ready, {"ready": ready, "worker": os.getpid(), **state}

    # -- decisions ------------------------------------------------------------------------

    async def decide(self, settings: Settings, *, source: str) -> Decided:
        """Evaluate ``settings`` with the served policies, record the verdict, observe it.

        Raises the :class:`GateError` that prevented a verdict (counted as no verdict), or
        :class:`Unavailable` when there is no policy, the queue is full or the log could not
        record the verdict (then the verdict is not returned).
        """
        policy = self._policy
        if policy is None:
            raise Unavailable(
                f"no policy set is loaded: {self._reload_error or 'still loading'}",
                retry_after=BUSY_RETRY_SECONDS,
            )
        phases = Phases()
        try:
            verdict = await self._queued_evaluation(
                lambda: evaluate(settings, bundle=policy.bundle, phases=phases)
            )
        except GateError as exc:
            self.metrics.observe_no_verdict(exc, phases.as_dict(), source=source)
            raise
        from gate.formats import FORMATS

        verdict_json = FORMATS["json"].render(verdict)
        decision_id = await asyncio.to_thread(self._record, verdict, verdict_json, source)
        self.metrics.observe_verdict(verdict, phases.as_dict(), source=source)
        if settings.waivers_document is not None:
            self.metrics.observe_waivers(given_waivers(settings), dt.datetime.now(dt.UTC))
        return Decided(verdict_json, verdict.decision, decision_id, verdict.subject.reference)

    def _record(self, verdict: Verdict, verdict_json: str, source: str) -> int:
        # Whatever failed, the verdict is unrecorded: it must not be acted on.
        from gate.observe import record_verdict

        try:
            log = self.decision_log()
        except Unavailable:
            self.metrics.observe_log_write_failure()
            raise
        try:
            return record_verdict(
                log, verdict, verdict_json=verdict_json, source=source, metrics=self.metrics
            )
        except GateError as exc:
            raise Unavailable(
                f"the decision log could not record the verdict, so none is given: {exc}",
                retry_after=BUSY_RETRY_SECONDS,
            ) from exc

    async def _queued_evaluation(self, work: Callable[[], T]) -> T:
        # Only the event loop's thread counts, so the counter needs no lock.
        if self._queued >= self.config.queue_limit:
            raise Unavailable(
                f"busy: {self._queued} evaluations are waiting in this worker",
                retry_after=BUSY_RETRY_SECONDS,
            )
        self._queued += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        finally:
            self._queued -= 1

    async def harbor_scan(self, event: ScanEvent) -> Decided:
        """Fetch the artifact's vulnerability report from Harbor, evaluate it for the Harbor
        stage and record the decision (source ``harbor``)."""
        from gate.harbor import HarborClient

        harbor = self.config.harbor
        if harbor is None:  # pragma: no cover - the route exists only with --harbor-url
            raise NotFound("the Harbor webhook is not enabled")
        raw = await asyncio.to_thread(_fetch_report, HarborClient(harbor), event)
        settings = self.config.settings_for(
            {event.input_name: raw}, stage=harbor.stage, image=event.reference(harbor.host)
        )
        return await self.decide(settings, source="harbor")


def _fetch_report(client: HarborClient, event: ScanEvent) -> bytes:
    try:
        return client.vulnerability_report(event)
    finally:
        client.close()


def _open_decision_log(url: str) -> DecisionLog:
    from gate.decisionlog import open_log

    return open_log(url)


def refuse_request_waivers() -> UsageError:
    """The error for waivers in a request to a server started with --no-allow-request-waivers."""
    return UsageError(
        "this server does not accept waivers in requests (--no-allow-request-waivers)",
        where="request: waivers",
        hint="waivers are managed by the server's operators",
    )
