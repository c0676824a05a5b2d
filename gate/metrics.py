"""Prometheus metrics of gate: what it decided, how long it took, and whether it is healthy.

Imported only by ``gate serve`` and by CLI runs that ask for metrics (``--metrics-file``,
``--pushgateway``): ``prometheus_client`` is imported when :class:`GateMetrics` is made.

Every family (names as PromQL writes them; counters end in ``_total``):

================================================  =========  ================================
``gate_decisions_total``                          counter    stage, decision (pass, fail,
                                                             error = no verdict), source
                                                             (cli, server, harbor), advisory
``gate_no_verdicts_total``                        counter    error (usage, input, source,
                                                             waiver, policy, engine, registry,
                                                             decision_log, metrics, other),
                                                             source
``gate_violations_total``                         counter    rule, stage
``gate_warnings_total``                           counter    rule, stage
``gate_waived_findings_total``                    counter    vulnerability ("" when the waived
                                                             result is not a vulnerability),
                                                             rule, stage
``gate_evaluation_duration_seconds``              histogram  phase (normalise, evaluate, total)
``gate_input_parse_failures_total``               counter    format ("unknown" when not known)
``gate_waivers_expiring``                         gauge      days: unexpired waivers whose
                                                             expiry lies within that many days
``gate_waiver_expiry_timestamp_seconds``          gauge      waiver: its vulnerability, else
                                                             its rule (the earliest expiry
                                                             when several share it)
``gate_policy_info``                              gauge      digest: 1 for the policy digest in
                                                             use (0 or absent for older ones)
``gate_policy_stale``                             gauge      1 while an old policy is served
                                                             because a reload did not compile
``gate_policy_reload_failures_total``             counter
``gate_decision_log_write_failures_total``        counter
``gate_http_requests_total``                      counter    route (the template, never the
                                                             raw path), method, status
``gate_http_request_duration_seconds``            histogram  route
``gate_build_info``                               gauge      version: always 1
================================================  =========  ================================

Cardinality is bounded whatever the requests say: a label value is cut to
:data:`MAX_LABEL_CHARS` characters with control characters replaced, and once a family
holds :data:`MAX_SERIES_PER_FAMILY` series, new values of its open labels (rule, stage,
vulnerability, route, format, waiver, digest, source) are counted under ``_other``. A server
fed waivers documents naming a million CVEs keeps a bounded ``/metrics``.

With the Pushgateway or a node_exporter textfile (one-shot CLI runs), every series is the
last run's value for its group, not a running total: graph them with ``push_time_seconds``
or the file's modification time, not ``rate()``.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import os
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from gate import __version__, errors
from gate.errors import GateError, InputError, MetricsError, WaiverError

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

    from gate.verdict import Result, Verdict
    from gate.waivers import Waiver

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
GaugeMode = Literal["livemax", "livemostrecent"]
MAX_LABEL_CHARS = 128
MAX_SERIES_PER_FAMILY = 1000
OVERFLOW = "_other"
PHASES = ("normalise", "evaluate", "total")
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Seconds: a cached small check takes ~10 ms, a 10k-finding report seconds, a timeout 60."""
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
PUSH_TIMEOUT_SECONDS = 10.0
MAX_PUSH_RESPONSE_BYTES = 64 * 1024
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""What ``generate_latest`` writes (prometheus_client's CONTENT_TYPE_LATEST now names 1.0.0)."""

EXPORTED_METRICS: frozenset[str] = frozenset(
    {
        "gate_decisions_total",
        "gate_no_verdicts_total",
        "gate_violations_total",
        "gate_warnings_total",
        "gate_waived_findings_total",
        "gate_evaluation_duration_seconds",
        "gate_input_parse_failures_total",
        "gate_waivers_expiring",
        "gate_waiver_expiry_timestamp_seconds",
        "gate_policy_info",
        "gate_policy_stale",
        "gate_policy_reload_failures_total",
        "gate_decision_log_write_failures_total",
        "gate_http_requests_total",
        "gate_http_request_duration_seconds",
        "gate_build_info",
    }
)
"""Every family gate exports, as PromQL names it (histograms add _bucket, _sum, _count)."""

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def label_value(value: object) -> str:
    """``value`` as a label value that keeps the exposition small and readable."""
    text = _UNPRINTABLE.sub("?", str(value))
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


class _Family:
    """One labelled metric whose series count is bounded (see the module docstring)."""

    def __init__(
        self,
        metric: Any,
        labelnames: Sequence[str],
        open_labels: Iterable[str],
        *,
        shared: bool = False,
    ):
        self.metric = metric
        self._shared = shared
        self._labelnames = tuple(labelnames)
        self._open = frozenset(open_labels)
        self._series: set[tuple[str, ...]] = set()
        self._lock = threading.Lock()

    def child(self, **labels: object) -> Any:
        """The series for ``labels`` (folded into ``_other`` when the family is full)."""
        with self._lock:
            key = self._key(labels, self._series)
            self._series.add(key)
        return self.metric.labels(*key)

    def replace(
        self, entries: Iterable[tuple[Mapping[str, object], float]], retired: float
    ) -> None:
        """Make ``entries`` the gauge's whole content; series not among them are retired.

        Entries that land on one series keep the smallest value (the earliest expiry). A
        retired series is set to ``retired``, then removed, except when ``shared`` (in
        multiprocess mode): there prometheus_client cannot remove a series from the
        worker's file, so the value left there must be harmless (0 for an info gauge, NaN
        for an expiry, which no alert comparison matches).
        """
        with self._lock:
            values: dict[tuple[str, ...], float] = {}
            for labels, value in entries:
                key = self._key(labels, values)
                values[key] = min(value, values.get(key, value))
            for key in self._series - set(values):
                self.metric.labels(*key).set(retired)
                if not self._shared:
                    self.metric.remove(*key)
            self._series = set(values)
            for key, value in values.items():
                self.metric.labels(*key).set(value)

    def _key(
        self, labels: Mapping[str, object], present: Collection[tuple[str, ...]]
    ) -> tuple[str, ...]:
        values = tuple(label_value(labels[name]) for name in self._labelnames)
        if values in present or len(present) < MAX_SERIES_PER_FAMILY:
            return values
        return tuple(
            OVERFLOW if name in self._open else value
            for name, value in zip(self._labelnames, values, strict=True)
        )


class GateMetrics:
    """gate's metrics, in a private registry or shared by the workers of one server.

    ``multiprocess_dir=None``: a private ``CollectorRegistry`` (CLI runs, tests); any number
    of instances may coexist.

    ``multiprocess_dir=DIR``: prometheus_client's multiprocess mode, for ``gate serve
    --workers N``. prometheus_client decides where values live (in memory or in per-process
    files under the directory) when it is **first imported**, from the environment variable
    ``PROMETHEUS_MULTIPROC_DIR``. So the server's supervisor must create an empty DIR and
    set ``PROMETHEUS_MULTIPROC_DIR=DIR`` before it starts its workers (and before anything
    in them imports prometheus_client), and call :func:`mark_worker_dead` for a worker that
    exits. This constructor refuses (:class:`MetricsError`) when the variable names another
    directory or prometheus_client was imported before it was set. Make one instance per
    worker process; :meth:`exposition` merges every worker's files, so any worker can
    answer ``/metrics``.

    Gauges in multiprocess mode (each worker writes its own value; exposition merges them):

    * ``gate_policy_info``, ``gate_policy_stale``: ``livemax``. A digest reads 1 while any
      live worker serves it, and the stale flag is 1 while any live worker serves an old
      policy; a dead worker's values are dropped so they cannot keep an alert firing.
    * ``gate_waivers_expiring``, ``gate_waiver_expiry_timestamp_seconds``:
      ``livemostrecent``. They describe the waivers a worker last observed; the most recent
      observation of any live worker wins, rather than a sum over workers that all read
      the same file.
    * ``gate_build_info``: ``livemax`` (every worker runs the same version).
    """

    def __init__(self, *, multiprocess_dir: str | None = None) -> None:
        _check_value_mode(multiprocess_dir)
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
            disable_created_metrics,
        )

        # A `_created` gauge beside every counter and histogram doubles the series for
        # nothing gate's rules or dashboard read (multiprocess mode never writes them).
        disable_created_metrics()  # type: ignore[no-untyped-call]

        self.multiprocess_dir = multiprocess_dir
        # Multiprocess mode: values live in the workers' files, read back by exposition();
        # the metric objects are registered nowhere.
        self._registry = None if multiprocess_dir is not None else CollectorRegistry()

        def counter(name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
            return Counter(name, doc, labels, registry=self._registry)

        def gauge(name: str, doc: str, labels: Sequence[str], mode: GaugeMode) -> Gauge:
            return Gauge(name, doc, labels, registry=self._registry, multiprocess_mode=mode)

        def histogram(name: str, doc: str, labels: Sequence[str]) -> Histogram:
            return Histogram(name, doc, labels, registry=self._registry, buckets=DURATION_BUCKETS)

        def snapshot(name: str, doc: str, label: str, mode: GaugeMode) -> _Family:
            """A gauge whose series are replaced as a whole by each observation."""
            metric = gauge(name, doc, (label,), mode)
            return _Family(metric, (label,), (label,), shared=multiprocess_dir is not None)

        decision_labels = ("stage", "decision", "source", "advisory")
        self._decisions = _Family(
            counter("gate_decisions_total", "Decisions made (error: no verdict).", decision_labels),
            decision_labels,
            ("stage", "source"),
        )
        self._no_verdicts = _Family(
            counter(
                "gate_no_verdicts_total",
                "Runs that ended without a verdict, by kind of error.",
                ("error", "source"),
            ),
            ("error", "source"),
            ("source",),
        )
        self._violations = _rule_family(
            counter("gate_violations_total", "Violations (deny) in verdicts.", ("rule", "stage"))
        )
        self._warnings = _rule_family(
            counter("gate_warnings_total", "Warnings in verdicts.", ("rule", "stage"))
        )
        waived_labels = ("vulnerability", "rule", "stage")
        self._waived = _Family(
            counter(
                "gate_waived_findings_total",
                "Results a waiver suppressed, by vulnerability ('' when not one) and rule.",
                waived_labels,
            ),
            waived_labels,
            waived_labels,
        )
        self._durations = _Family(
            histogram(
                "gate_evaluation_duration_seconds", "Time spent per phase of a run.", ("phase",)
            ),
            ("phase",),
            (),
        )
        self._parse_failures = _Family(
            counter(
                "gate_input_parse_failures_total",
                "Inputs that could not be read or normalised, by format.",
                ("format",),
            ),
            ("format",),
            ("format",),
        )
        self._waivers_expiring = snapshot(
            "gate_waivers_expiring",
            "Unexpired waivers that expire within 'days' days.",
            "days",
            "livemostrecent",
        )
        self._waiver_expiry = snapshot(
            "gate_waiver_expiry_timestamp_seconds",
            "When a waiver expires (Unix time), by its vulnerability, else its rule.",
            "waiver",
            "livemostrecent",
        )
        self._policy = snapshot(
            "gate_policy_info", "1 for the loaded policy digest.", "digest", "livemax"
        )
        self._policy_stale = gauge(
            "gate_policy_stale",
            "1 while an old policy is served because the new one did not compile.",
            (),
            "livemax",
        )
        self._reload_failures = counter(
            "gate_policy_reload_failures_total", "Policy reloads that did not compile."
        )
        self._log_write_failures = counter(
            "gate_decision_log_write_failures_total",
            "Verdicts that could not be recorded in the decision log.",
        )
        request_labels = ("route", "method", "status")
        self._requests = _Family(
            counter("gate_http_requests_total", "HTTP requests answered.", request_labels),
            request_labels,
            ("route",),
        )
        self._request_durations = _Family(
            histogram(
                "gate_http_request_duration_seconds", "HTTP request duration by route.", ("route",)
            ),
            ("route",),
            ("route",),
        )
        build = gauge("gate_build_info", "The gate version, always 1.", ("version",), "livemax")
        build.labels(label_value(__version__)).set(1)
        self._policy_stale.set(0)

    def observe_verdict(
        self, verdict: Verdict, phases: Mapping[str, float], *, source: str
    ) -> None:
        """Count a verdict: its decision, violations, warnings and waived findings."""
        stage = verdict.stage
        self._decisions.child(
            stage=stage,
            decision=verdict.decision,
            source=source,
            advisory=_flag(verdict.advisory),
        ).inc()
        for result in verdict.violations:
            self._violations.child(rule=result.id, stage=stage).inc()
        for result in verdict.warnings:
            self._warnings.child(rule=result.id, stage=stage).inc()
        for waived in verdict.waived:
            vulnerability = _vulnerability(waived) or waived.waiver.vulnerability or ""
            self._waived.child(vulnerability=vulnerability, rule=waived.id, stage=stage).inc()
        self._observe_phases(phases)

    def observe_no_verdict(
        self,
        error: GateError,
        phases: Mapping[str, float],
        *,
        source: str,
        stage: str | None = None,
    ) -> None:
        """Count a run that ended without a verdict (decision "error").

        ``stage`` is the stage asked for, when the failure came after it was known; an
        input that could not be read also counts as a parse failure of its format.
        """
        self._decisions.child(
            stage=stage or "unknown", decision="error", source=source, advisory="false"
        ).inc()
        self._no_verdicts.child(error=error_kind(error), source=source).inc()
        if isinstance(error, InputError) and not isinstance(error, WaiverError):
            input_format = getattr(error, "input_format", None) or "unknown"
            self._parse_failures.child(format=input_format).inc()
        self._observe_phases(phases)

    def observe_waivers(
        self, waivers: Sequence[Waiver], now: dt.datetime, *, within_days: int = 14
    ) -> None:
        """Publish the expiry of ``waivers`` (replacing what an earlier call published)."""
        horizon = now + dt.timedelta(days=within_days)
        expiring = sum(1 for waiver in waivers if now <= waiver.expires_at < horizon)
        self._waivers_expiring.replace([({"days": within_days}, expiring)], math.nan)
        self._waiver_expiry.replace(
            (
                (
                    {"waiver": waiver.ref.vulnerability or waiver.ref.rule or "unnamed"},
                    waiver.expires_at.timestamp(),
                )
                for waiver in waivers
            ),
            math.nan,
        )

    def observe_log_write_failure(self) -> None:
        self._log_write_failures.inc()

    def set_policy(self, digest: str) -> None:
        """Publish ``digest`` as the policy in use (the previous digest reads 0, or goes)."""
        self._policy.replace([({"digest": digest}, 1.0)], 0.0)

    def observe_policy_reload(self, *, ok: bool) -> None:
        """A reload that compiled clears the stale flag; one that did not sets it."""
        if not ok:
            self._reload_failures.inc()
        self._policy_stale.set(0 if ok else 1)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count an answered request; ``route`` must be the route template, not the path."""
        method = method.upper()
        self._requests.child(
            route=route,
            method=method if method in HTTP_METHODS else "other",
            status=status if 100 <= status <= 599 else "other",
        ).inc()
        if _is_duration(seconds):
            self._request_durations.child(route=route).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition of every metric (all workers' in multiprocess mode)."""
        from prometheus_client import generate_latest

        return generate_latest(self._collected()), CONTENT_TYPE

    def write_textfile(self, path: str) -> None:
        """Write the exposition for node_exporter's textfile collector.

        Atomically (a temporary file beside ``path``, renamed over it: the collector never
        reads half a file) and with mode 0644 (node_exporter runs as another user).
        """
        from gate.output import write_output

        body, _ = self.exposition()
        write_output(body.decode("utf-8"), path, mode=0o644)

    def push(
        self,
        gateway_url: str,
        *,
        job: str = "gate",
        grouping: Mapping[str, str] = {},  # noqa: B006 - read only
        timeout: float = PUSH_TIMEOUT_SECONDS,
    ) -> None:
        """PUT the metrics to the Pushgateway at ``gateway_url`` (replacing the group's).

        Only to that URL: proxy environment variables are ignored and redirects are not
        followed. ``user:password@`` in the URL is sent as basic auth and never shown.
        """
        from prometheus_client import push_to_gateway

        target = PushTarget.parse(gateway_url)
        try:
            push_to_gateway(
                target.url,
                job=job,
                registry=self._collected(),
                grouping_key=dict(grouping),
                timeout=timeout,
                handler=target.handler,
            )
        except urllib.error.HTTPError as exc:
            raise MetricsError(
                f"the Pushgateway answered HTTP {exc.code}", where=target.shown
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise MetricsError(f"cannot push metrics: {reason}", where=target.shown) from None

    def _collected(self) -> CollectorRegistry:
        if self._registry is not None:
            return self._registry
        from prometheus_client import CollectorRegistry
        from prometheus_client.multiprocess import MultiProcessCollector

        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return merged

    def _observe_phases(self, phases: Mapping[str, float]) -> None:
        for phase in PHASES:
            seconds = phases.get(phase)
            if seconds is not None and _is_duration(seconds):
                self._durations.child(phase=phase).observe(seconds)


class PushTarget:
    """A Pushgateway URL split into where to send and what credentials to send."""

    def __init__(self, url: str, shown: str, authorization: str | None):
        self.url = url
        self.shown = shown
        self._authorization = authorization

    @classmethod
    def parse(cls, gateway_url: str) -> PushTarget:
        """Raises :class:`UsageError` for anything but ``http(s)://[user:pass@]host[:port][/path]``."""
        try:
            split: urllib.parse.SplitResult | None = urllib.parse.urlsplit(gateway_url)
            assert split is not None
            split.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError:
            split = None
        if (
            split is None
            or split.scheme not in ("http", "https")
            or not split.hostname
            or split.query
            or split.fragment
        ):
            raise errors.UsageError(
                "the Pushgateway URL must be http(s)://HOST[:PORT][/PATH]",
                where=_mask(gateway_url),
            )
        host = split.netloc.rpartition("@")[2]
        url = urllib.parse.urlunsplit((split.scheme, host, split.path, "", ""))
        authorization = None
        if split.username is not None:
            user = urllib.parse.unquote(split.username)
            password = urllib.parse.unquote(split.password or "")
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            authorization = f"Basic {token}"
        return cls(url, _mask(gateway_url), authorization)

    def handler(
        self,
        url: str,
        method: str,
        timeout: float | None,
        headers: list[tuple[str, str]],
        data: bytes,
    ) -> Callable[[], None]:
        """A prometheus_client push handler that goes to ``url`` only."""

        def send() -> None:
            request = urllib.request.Request(url, data=data, method=method)
            for name, value in headers:
                request.add_header(name, value)
            if self._authorization is not None:
                request.add_header("Authorization", self._authorization)
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
            with opener.open(request, timeout=timeout) as response:
                response.read(MAX_PUSH_RESPONSE_BYTES)

        return send


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect could send the metrics, and the basic-auth header, to another host.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def mark_worker_dead(pid: int, multiprocess_dir: str) -> None:
    """Drop a dead worker's live gauges (its counters and histograms stay counted)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, multiprocess_dir)  # type: ignore[no-untyped-call]


def error_kind(error: GateError) -> str:
    """A bounded name for the kind of ``error``: its nearest class in :mod:`gate.errors`."""
    for cls in type(error).__mro__:
        if cls.__module__ == errors.__name__ and cls.__name__.endswith("Error"):
            if cls is GateError:
                break
            words = re.findall(r"[A-Z][a-z]*", cls.__name__[: -len("Error")])
            return "_".join(word.lower() for word in words)
    return "other"


def _check_value_mode(multiprocess_dir: str | None) -> None:
    """Refuse a mode that prometheus_client, as imported, would not honour."""
    from prometheus_client import values

    multiprocess = bool(getattr(values.ValueClass, "_multiprocess", False))
    configured = os.environ.get(MULTIPROC_ENV)
    if multiprocess_dir is None:
        if multiprocess:
            # The values would land in that directory: a CLI run on a server's host would
            # add its counts to the server's /metrics.
            raise MetricsError(
                f"{MULTIPROC_ENV} is set: a gate run outside the server would write its "
                "metrics into the server's directory",
                where=configured,
                hint=f"unset {MULTIPROC_ENV} for this command",
            )
        return
    if not os.path.isdir(multiprocess_dir):
        raise MetricsError("the metrics directory does not exist", where=multiprocess_dir)
    if not multiprocess or configured is None or not _same_dir(configured, multiprocess_dir):
        raise MetricsError(
            "multiprocess metrics need prometheus_client started in multiprocess mode on "
            "this directory",
            where=multiprocess_dir,
            hint=f"set {MULTIPROC_ENV}={multiprocess_dir} (an existing, empty directory) "
            "before the server starts its workers",
        )


def _same_dir(first: str, second: str) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def _rule_family(metric: Any) -> _Family:
    return _Family(metric, ("rule", "stage"), ("rule", "stage"))


def _vulnerability(result: Result) -> str | None:
    finding = result.finding or {}
    found = finding.get("id") if finding.get("kind") == "vulnerability" else None
    return found if isinstance(found, str) else None


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _is_duration(seconds: float) -> bool:
    return isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0


def _mask(url: str) -> str:
    """``url`` with everything before its last ``@`` (user, password, token) as ``***``.

    The last ``@``, not the URL parser's idea of the authority: a password with an
    unescaped ``/`` or ``#`` would otherwise be shown as part of the path.
    """
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not at:
        return url
    return f"{scheme}{sep}***@{host}"
