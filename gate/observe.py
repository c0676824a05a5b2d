"""What a run leaves behind besides its report: a decision-log row and Prometheus metrics.

``gate check`` and ``gate promote`` record their verdict with ``--log URL`` (or
``$GATE_DECISION_LOG``) and publish the run's metrics with ``--metrics-file PATH``
(node_exporter's textfile collector) or ``--pushgateway URL``. ``gate serve`` keeps one log
and one set of metrics per worker and records through :func:`record_verdict` too.

The log is part of the decision; metrics are not. A verdict that was asked to be recorded
and could not be is no verdict (exit 3: nobody could audit it), and the log is opened
before anything is evaluated so an unreachable one costs nothing. Metrics that cannot be
delivered are a warning: they never change the exit code, in either direction.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from gate.errors import DecisionLogError, GateError

if TYPE_CHECKING:
    from gate.decisionlog.store import DecisionLog
    from gate.metrics import GateMetrics
    from gate.run import Phases, Settings
    from gate.verdict import Verdict


def record_verdict(
    log: DecisionLog,
    verdict: Verdict,
    *,
    verdict_json: str,
    source: str,
    metrics: GateMetrics | None = None,
) -> int:
    """Record ``verdict`` (its JSON as ``gate check -f json`` writes it) and return its id.

    Raises :class:`DecisionLogError` whatever went wrong, counting the failure in
    ``metrics``: the caller must then not act on the verdict.
    """
    try:
        return log.record(verdict, verdict_json=verdict_json, source=source)
    except Exception as exc:
        if metrics is not None:
            metrics.observe_log_write_failure()
        if isinstance(exc, DecisionLogError):
            raise
        raise DecisionLogError(
            f"the decision log could not record the verdict ({type(exc).__name__})",
            where=log.shown_url,
        ) from exc


@dataclass
class RunObserver:
    """The decision log and metrics one CLI run was asked for (all optional)."""

    log_url: str | None = None
    metrics_file: str | None = None
    pushgateway: str | None = None
    source: str = "cli"
    recorded_id: int | None = None
    stage: str | None = None
    _log: DecisionLog | None = field(default=None, repr=False)
    _metrics: GateMetrics | None = field(default=None, repr=False)

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> RunObserver:
        """The observer the options ask for; a Pushgateway URL gate cannot use is exit 2."""
        pushgateway = options.get("pushgateway") or None
        if pushgateway:
            from gate.metrics import PushTarget

            PushTarget.parse(pushgateway)
        return cls(
            log_url=options.get("log_url") or None,
            metrics_file=options.get("metrics_file") or None,
            pushgateway=pushgateway,
        )

    def open(self) -> None:
        """Open (create, migrate) the log before anything is evaluated: exit 3 if it cannot."""
        if self.log_url:
            from gate.decisionlog import open_log

            self._log = open_log(self.log_url)
        if self.metrics_file or self.pushgateway:
            from gate.metrics import GateMetrics

            try:
                self._metrics = GateMetrics()
            except GateError as exc:  # e.g. a server's PROMETHEUS_MULTIPROC_DIR in this env
                _not_delivered(exc)

    @contextmanager
    def observing(self, settings: Settings) -> Iterator[Phases]:
        """Time the evaluation inside; count a run without a verdict; publish metrics after."""
        from gate.run import Phases

        phases = Phases()
        self.stage = settings.stage
        started = time.perf_counter()
        try:
            yield phases
        except GateError as error:
            if self._metrics is not None:
                phases.total = phases.total or time.perf_counter() - started
                self._metrics.observe_no_verdict(
                    error, phases.as_dict(), source=self.source, stage=settings.stage
                )
            raise
        finally:
            self._publish()
            if self._log is not None:
                self._log.close()

    def record(self, verdict: Verdict, phases: Phases, settings: Settings) -> None:
        """Record and count ``verdict``; a log that cannot record it is exit 3."""
        self.stage = verdict.stage
        if self._metrics is not None:
            self._metrics.observe_verdict(verdict, phases.as_dict(), source=self.source)
            from gate.run import given_waivers

            waivers = given_waivers(settings)
            if waivers:
                self._metrics.observe_waivers(waivers, settings.evaluation_time())
        if self._log is not None:
            from gate.formats import FORMATS

            self.recorded_id = record_verdict(
                self._log,
                verdict,
                verdict_json=FORMATS["json"].render(verdict),
                source=self.source,
                metrics=self._metrics,
            )

    def _publish(self) -> None:
        if self._metrics is None:
            return

        try:
            if self.metrics_file:
                self._metrics.write_textfile(self.metrics_file)
            if self.pushgateway:
                # Its own job, grouped by stage: runs of other stages, and the servers that
                # the alert rules watch (job "gate"), keep their series.
                self._metrics.push(
                    self.pushgateway, job="gate-cli", grouping={"stage": self.stage or "unknown"}
                )
        except (GateError, OSError) as exc:
            _not_delivered(exc)


def _not_delivered(error: Exception) -> None:
    # Metrics are about the gate, not the image: they never change the decision.
    click.echo(f"warning: metrics not delivered: {error}", err=True)
