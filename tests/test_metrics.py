"""gate/metrics.py: every observation moves the series it should, the exposition parses,
labels stay bounded whatever they say, and metrics go only where they were asked to."""

from __future__ import annotations

import datetime as dt
import math
import os
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conftest import ROOT, fixture
from prometheus_client.parser import text_string_to_metric_families

from gate import metrics as metrics_module
from gate.errors import (
    ExitCode,
    GateError,
    InputError,
    MetricsError,
    PolicyError,
    SourceError,
    UsageError,
    WaiverError,
)
from gate.metrics import EXPORTED_METRICS, MAX_LABEL_CHARS, OVERFLOW, GateMetrics, error_kind
from gate.verdict import Verdict, WaiverRef
from gate.waivers import Waiver

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
PHASES = {"normalise": 0.02, "evaluate": 0.3, "total": 0.4}
Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def failing_verdict() -> Verdict:
    """prod: 7 violations (vuln-fixable-critical twice), 2 warnings, CVE-2023-38545 waived."""
    return Verdict.model_validate_json(fixture("golden/check-prod.verdict.json").read_text())


def passing_verdict() -> Verdict:
    return Verdict.model_validate_json(fixture("verdicts/shop-api-staging.json").read_text())


def series(metrics: GateMetrics) -> Series:
    """Every sample of the exposition, parsed as Prometheus would."""
    body, _ = metrics.exposition()
    return parse(body.decode("utf-8"))


def parse(text: str) -> Series:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Series, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def named(found: Series, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {
        labels: sample for (sample_name, labels), sample in found.items() if sample_name == name
    }


def waiver(*, vulnerability: str | None = None, rule: str | None = None, days: float) -> Waiver:
    ref = WaiverRef(index=0, vulnerability=vulnerability, rule=rule, expires="as written")
    return Waiver(ref=ref, expires_at=NOW + dt.timedelta(days=days))


@pytest.fixture
def metrics() -> GateMetrics:
    return GateMetrics()


# --- decisions, violations, warnings, waived findings ---------------------------------


def test_a_failing_verdict_counts_its_decision_violations_warnings_and_waived(metrics):
    metrics.observe_verdict(failing_verdict(), PHASES, source="server")
    found = series(metrics)
    decision = {"stage": "prod", "decision": "fail", "source": "server", "advisory": "false"}
    assert value(found, "gate_decisions_total", **decision) == 1
    violations = named(found, "gate_violations_total")
    assert violations[frozenset({"rule": "vuln-fixable-critical", "stage": "prod"}.items())] == 2
    assert violations[frozenset({"rule": "secret-found", "stage": "prod"}.items())] == 1
    assert sum(violations.values()) == 7
    assert sum(named(found, "gate_warnings_total").values()) == 2
    waived = {"vulnerability": "CVE-2023-38545", "rule": "vuln-fixable-high", "stage": "prod"}
    assert value(found, "gate_waived_findings_total", **waived) == 1


def test_a_passing_and_an_advisory_verdict_are_told_apart(metrics):
    metrics.observe_verdict(passing_verdict(), {}, source="cli")
    advisory = failing_verdict().model_copy(update={"advisory": True})
    metrics.observe_verdict(advisory, {}, source="cli")
    found = named(series(metrics), "gate_decisions_total")
    assert found == {
        frozenset(
            {"stage": "staging", "decision": "pass", "source": "cli", "advisory": "false"}.items()
        ): 1,
        frozenset(
            {"stage": "prod", "decision": "fail", "source": "cli", "advisory": "true"}.items()
        ): 1,
    }


def test_a_waived_result_that_is_not_a_vulnerability_has_an_empty_vulnerability(metrics):
    verdict = failing_verdict()
    root = verdict.waived[0].model_copy(update={"id": "root-user", "finding": {"kind": "image"}})
    root = root.model_copy(
        update={"waiver": root.waiver.model_copy(update={"vulnerability": None})}
    )
    metrics.observe_verdict(verdict.model_copy(update={"waived": [root]}), {}, source="cli")
    waived = named(series(metrics), "gate_waived_findings_total")
    assert waived == {
        frozenset({"vulnerability": "", "rule": "root-user", "stage": "prod"}.items()): 1
    }


# --- runs without a verdict -------------------------------------------------------------


def input_error(cls: type[InputError], input_format: str | None) -> InputError:
    error = cls("not a report", where="trivy.json")
    error.input_format = input_format
    return error


@pytest.mark.parametrize(
    ("error", "kind", "parse_format"),
    [
        (input_error(InputError, "trivy"), "input", "trivy"),
        (input_error(SourceError, None), "source", "unknown"),
        (input_error(WaiverError, None), "waiver", None),
        (PolicyError("does not compile"), "policy", None),
        (UsageError("unknown stage"), "usage", None),
        (GateError("anything else"), "other", None),
    ],
)
def test_a_run_without_verdict_counts_an_error_decision_and_its_kind(error, kind, parse_format):
    metrics = GateMetrics()
    metrics.observe_no_verdict(error, {"total": 0.05}, source="server")
    found = series(metrics)
    decision = {"stage": "unknown", "decision": "error", "source": "server", "advisory": "false"}
    assert value(found, "gate_decisions_total", **decision) == 1
    assert named(found, "gate_no_verdicts_total") == {
        frozenset({"error": kind, "source": "server"}.items()): 1
    }
    failures = named(found, "gate_input_parse_failures_total")
    expected = {} if parse_format is None else {frozenset({"format": parse_format}.items()): 1}
    assert failures == expected
    assert value(found, "gate_evaluation_duration_seconds_count", phase="total") == 1


def test_a_no_verdict_names_its_stage_when_the_server_knows_it(metrics):
    metrics.observe_no_verdict(PolicyError("runtime error"), {}, source="harbor", stage="prod")
    decision = {"stage": "prod", "decision": "error", "source": "harbor", "advisory": "false"}
    assert value(series(metrics), "gate_decisions_total", **decision) == 1


def test_an_error_class_outside_gate_errors_is_named_by_its_gate_ancestor():
    class TrivySourceError(SourceError):
        pass

    class DecisionLogError(GateError):  # same name, wrong module: not trusted as a kind
        pass

    assert error_kind(TrivySourceError("x")) == "source"
    assert error_kind(DecisionLogError("x")) == "other"
    assert error_kind(MetricsError("x")) == "metrics"


# --- durations ----------------------------------------------------------------------------


def test_each_phase_lands_in_its_bucket_and_unknown_or_bad_phases_are_ignored(metrics):
    metrics.observe_verdict(passing_verdict(), PHASES, source="cli")
    hostile = {"normalise": -1.0, "evaluate": math.nan, "total": math.inf, "other": 1.0}
    metrics.observe_verdict(passing_verdict(), hostile, source="cli")
    found = series(metrics)
    name = "gate_evaluation_duration_seconds"
    assert value(found, f"{name}_bucket", phase="normalise", le="0.01") == 0
    assert value(found, f"{name}_bucket", phase="normalise", le="0.025") == 1
    assert value(found, f"{name}_bucket", phase="evaluate", le="0.25") == 0
    assert value(found, f"{name}_bucket", phase="evaluate", le="0.5") == 1
    for phase in ("normalise", "evaluate", "total"):
        assert value(found, f"{name}_count", phase=phase) == 1
    assert value(found, f"{name}_sum", phase="total") == pytest.approx(0.4)
    assert {dict(labels)["phase"] for labels in named(found, f"{name}_count")} == {
        "normalise",
        "evaluate",
        "total",
    }


def test_a_missing_phase_is_not_observed(metrics):
    metrics.observe_verdict(passing_verdict(), {"total": 1.0}, source="cli")
    counts = named(series(metrics), "gate_evaluation_duration_seconds_count")
    assert counts == {frozenset({"phase": "total"}.items()): 1}


def test_the_buckets_span_ten_milliseconds_to_a_minute(metrics):
    metrics.observe_verdict(passing_verdict(), {"total": 1.0}, source="cli")
    bounds = {
        dict(labels)["le"]
        for labels in named(series(metrics), "gate_evaluation_duration_seconds_bucket")
    }
    assert {"0.01", "60.0", "+Inf"} <= bounds


# --- waivers ------------------------------------------------------------------------------


def test_waivers_publish_how_many_expire_soon_and_when_each_expires(metrics):
    waivers = [
        waiver(vulnerability="CVE-2024-1", days=3),
        waiver(vulnerability="CVE-2024-1", days=1),  # same CVE, other image: the earliest
        waiver(rule="root-user", days=10),
        waiver(vulnerability="CVE-2024-2", rule="vuln-fixable-high", days=40),
        waiver(vulnerability="CVE-2024-3", days=-2),  # expired: not "expiring"
    ]
    metrics.observe_waivers(waivers, NOW)
    found = series(metrics)
    assert value(found, "gate_waivers_expiring", days="14") == 3
    expiry = named(found, "gate_waiver_expiry_timestamp_seconds")
    assert expiry == {
        frozenset({"waiver": "CVE-2024-1"}.items()): (NOW + dt.timedelta(days=1)).timestamp(),
        frozenset({"waiver": "root-user"}.items()): (NOW + dt.timedelta(days=10)).timestamp(),
        frozenset({"waiver": "CVE-2024-2"}.items()): (NOW + dt.timedelta(days=40)).timestamp(),
        frozenset({"waiver": "CVE-2024-3"}.items()): (NOW - dt.timedelta(days=2)).timestamp(),
    }


def test_a_later_observation_of_waivers_replaces_the_earlier_one(metrics):
    metrics.observe_waivers([waiver(vulnerability="CVE-2024-1", days=3)], NOW)
    metrics.observe_waivers([waiver(vulnerability="CVE-2024-9", days=30)], NOW, within_days=7)
    found = series(metrics)
    assert set(named(found, "gate_waiver_expiry_timestamp_seconds")) == {
        frozenset({"waiver": "CVE-2024-9"}.items())
    }
    assert named(found, "gate_waivers_expiring") == {frozenset({"days": "7"}.items()): 0}


# --- policy, reloads, decision log ----------------------------------------------------------


def test_the_policy_digest_in_use_is_the_only_one_published(metrics):
    metrics.set_policy("sha256:old")
    metrics.set_policy("sha256:new")
    assert named(series(metrics), "gate_policy_info") == {
        frozenset({"digest": "sha256:new"}.items()): 1
    }


def test_a_failed_reload_marks_the_policy_stale_until_one_compiles(metrics):
    found = series(metrics)
    assert value(found, "gate_policy_stale") == 0
    assert value(found, "gate_policy_reload_failures_total") == 0
    metrics.observe_policy_reload(ok=False)
    found = series(metrics)
    assert value(found, "gate_policy_stale") == 1
    assert value(found, "gate_policy_reload_failures_total") == 1
    metrics.observe_policy_reload(ok=True)
    found = series(metrics)
    assert value(found, "gate_policy_stale") == 0
    assert value(found, "gate_policy_reload_failures_total") == 1


def test_decision_log_write_failures_are_counted_from_zero(metrics):
    assert value(series(metrics), "gate_decision_log_write_failures_total") == 0
    metrics.observe_log_write_failure()
    metrics.observe_log_write_failure()
    assert value(series(metrics), "gate_decision_log_write_failures_total") == 2


# --- HTTP requests --------------------------------------------------------------------------


def test_requests_are_counted_by_route_method_and_status(metrics):
    metrics.observe_request("/v1/check", "post", 200, 0.2)
    metrics.observe_request("/v1/check", "POST", 503, 0.02)
    metrics.observe_request("/v1/decisions", "BREW", 999, -5.0)
    found = series(metrics)
    assert value(found, "gate_http_requests_total", route="/v1/check", method="POST", status="200")
    assert value(found, "gate_http_requests_total", route="/v1/check", method="POST", status="503")
    other = {"route": "/v1/decisions", "method": "other", "status": "other"}
    assert value(found, "gate_http_requests_total", **other) == 1
    duration = "gate_http_request_duration_seconds"
    assert value(found, f"{duration}_count", route="/v1/check") == 2
    assert value(found, f"{duration}_bucket", route="/v1/check", le="0.025") == 1
    assert value(found, f"{duration}_count", route="/v1/decisions") is None


# --- exposition, names, hostile labels --------------------------------------------------------


def exercise(metrics: GateMetrics) -> None:
    """Make every family hold at least one series."""
    metrics.observe_verdict(failing_verdict(), PHASES, source="server")
    metrics.observe_no_verdict(input_error(InputError, "grype"), PHASES, source="server")
    metrics.observe_waivers([waiver(vulnerability="CVE-2024-1", days=3)], NOW)
    metrics.observe_log_write_failure()
    metrics.set_policy("sha256:abc")
    metrics.observe_policy_reload(ok=False)
    metrics.observe_request("/v1/check", "POST", 200, 0.1)


def test_exported_metrics_names_exactly_the_families_of_the_exposition(metrics):
    exercise(metrics)
    body, content_type = metrics.exposition()
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    families = {}
    for family in text_string_to_metric_families(body.decode()):
        name = family.name + ("_total" if family.type == "counter" else "")
        families[name] = list(family.samples)
    assert set(families) == EXPORTED_METRICS
    assert all(samples for samples in families.values())
    assert all(name.startswith("gate_") for name in EXPORTED_METRICS)


def test_created_series_are_not_exported(metrics):
    exercise(metrics)
    assert b"_created" not in metrics.exposition()[0]


HOSTILE = 'a"b\\c\nd}\x1b[2J\u202e' + "x" * 10_000


def test_hostile_label_values_do_not_break_the_exposition(metrics):
    verdict = failing_verdict()
    bad = verdict.violations[0].model_copy(update={"id": HOSTILE})
    metrics.observe_verdict(
        verdict.model_copy(update={"stage": HOSTILE, "violations": [bad]}), {}, source=HOSTILE
    )
    metrics.observe_request(HOSTILE, HOSTILE, 200, 0.1)
    metrics.set_policy(HOSTILE)
    metrics.observe_waivers([waiver(vulnerability=HOSTILE, days=1)], NOW)
    body = metrics.exposition()[0]
    assert len(body) < 100_000
    found = series(metrics)  # parses
    labels = [value for (_, pairs) in found for _, value in pairs]
    cut = [value for value in labels if value.startswith('a"b\\c')]
    assert cut  # the hostile values are there, readable, escaped by the exposition
    assert all(len(value) <= MAX_LABEL_CHARS for value in labels)
    assert not any(ch in value for value in cut for ch in "\n\x1b\u202e")
    decisions = named(found, "gate_decisions_total")
    assert list(decisions.values()) == [1]
    assert dict(next(iter(decisions)))["decision"] == "fail"


def test_new_label_values_beyond_the_cap_are_folded_and_still_counted(metrics, monkeypatch):
    monkeypatch.setattr(metrics_module, "MAX_SERIES_PER_FAMILY", 5)
    verdict = failing_verdict()
    template = verdict.violations[0]
    flood = [template.model_copy(update={"id": f"CVE-{n}"}) for n in range(50)]
    metrics.observe_verdict(verdict.model_copy(update={"violations": flood}), {}, source="cli")
    metrics.observe_verdict(verdict.model_copy(update={"violations": flood[:2]}), {}, source="cli")
    violations = named(series(metrics), "gate_violations_total")
    assert len(violations) == 6
    assert violations[frozenset({"rule": OVERFLOW, "stage": OVERFLOW}.items())] == 45
    assert violations[frozenset({"rule": "CVE-0", "stage": "prod"}.items())] == 2
    assert sum(violations.values()) == 52
    for number in range(10):
        metrics.observe_verdict(verdict, {}, source=f"client-{number}")
    decisions = named(series(metrics), "gate_decisions_total")
    folded = {"stage": OVERFLOW, "decision": "fail", "source": OVERFLOW, "advisory": "false"}
    assert decisions[frozenset(folded.items())] == 6  # the decision itself is never folded


def test_a_flood_of_waivers_keeps_the_earliest_expiry_under_the_cap(metrics, monkeypatch):
    monkeypatch.setattr(metrics_module, "MAX_SERIES_PER_FAMILY", 3)
    flood = [waiver(vulnerability=f"CVE-{n}", days=10 + n) for n in range(20)]
    flood.insert(5, waiver(vulnerability="CVE-soonest", days=1))
    metrics.observe_waivers(flood, NOW)
    expiry = named(series(metrics), "gate_waiver_expiry_timestamp_seconds")
    assert len(expiry) == 4
    earliest = (NOW + dt.timedelta(days=1)).timestamp()
    assert expiry[frozenset({"waiver": OVERFLOW}.items())] == earliest


# --- textfile for node_exporter ---------------------------------------------------------------


def test_the_textfile_is_written_atomically_readable_by_node_exporter_and_parses(tmp_path):
    metrics = GateMetrics()
    exercise(metrics)
    replaced = tmp_path / "gate.prom"
    replaced.write_text("old content\n")
    replaced.chmod(0o600)
    fresh = tmp_path / "fresh.prom"
    old_umask = os.umask(0o077)
    try:
        metrics.write_textfile(str(replaced))
        metrics.write_textfile(str(fresh))
    finally:
        os.umask(old_umask)
    for target in (replaced, fresh):
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        assert parse(target.read_text()) == series(metrics)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.prom", "gate.prom"]


def test_a_textfile_that_cannot_be_written_is_no_verdict(tmp_path):
    target = tmp_path / "missing-dir" / "gate.prom"
    with pytest.raises(GateError) as caught:
        GateMetrics().write_textfile(str(target))
    assert caught.value.exit_code == ExitCode.NO_VERDICT
    assert caught.value.where == str(target)


# --- Pushgateway ------------------------------------------------------------------------------


class Recorder(ThreadingHTTPServer):
    """A loopback stand-in for a Pushgateway (or a proxy, or a redirect's target)."""

    def __init__(self, status: int = 200, location: str | None = None) -> None:
        self.status = status
        self.location = location
        self.seen: list[dict[str, Any]] = []
        super().__init__(("127.0.0.1", 0), _RecordingHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _RecordingHandler(BaseHTTPRequestHandler):
    server: Recorder

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers),
                "body": self.rfile.read(length).decode(),
            }
        )
        self.send_response(self.server.status)
        if self.server.location:
            self.send_header("Location", self.server.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_POST = do_GET = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[Any]:
    servers: list[Recorder] = []

    def start(**kwargs: Any) -> Recorder:
        server = Recorder(**kwargs)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_push_puts_the_exposition_at_the_job_and_grouping_path(recorder):
    gateway = recorder()
    metrics = GateMetrics()
    exercise(metrics)
    metrics.push(gateway.url + "/", grouping={"stage": "prod"})
    (request,) = gateway.seen
    assert request["method"] == "PUT"
    assert request["path"] == "/metrics/job/gate/stage/prod"
    assert request["headers"]["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "Authorization" not in request["headers"]
    assert parse(request["body"]) == series(metrics)


def test_push_sends_credentials_of_the_url_as_basic_auth_and_never_shows_them(recorder):
    gateway = recorder(status=500)
    url = gateway.url.replace("http://", "http://ci:pa%2Fss@")
    with pytest.raises(MetricsError) as caught:
        GateMetrics().push(url, job="gate-ci")
    (request,) = gateway.seen
    assert request["path"] == "/metrics/job/gate-ci"
    assert request["headers"]["Authorization"] == "Basic Y2k6cGEvc3M="  # ci:pa/ss
    shown = f"{caught.value} {caught.value.hint}"
    assert "pa%2Fss" not in shown and "pa/ss" not in shown
    assert "HTTP 500" in shown and "***@127.0.0.1" in shown
    assert caught.value.exit_code == ExitCode.NO_VERDICT


def test_push_does_not_follow_a_redirect_to_another_host(recorder):
    elsewhere = recorder()
    gateway = recorder(status=307, location=elsewhere.url + "/metrics/job/gate")
    with pytest.raises(MetricsError, match="HTTP 307"):
        GateMetrics().push(gateway.url.replace("http://", "http://ci:secret@"))
    assert len(gateway.seen) == 1
    assert elsewhere.seen == []


def test_push_ignores_proxy_environment_variables(recorder, monkeypatch):
    proxy = recorder()
    gateway = recorder()
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.setenv(name, proxy.url)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    GateMetrics().push(gateway.url)
    assert len(gateway.seen) == 1
    assert proxy.seen == []


def test_an_unreachable_pushgateway_is_no_verdict_without_its_password(recorder):
    gateway = recorder()
    port = gateway.server_address[1]
    gateway.shutdown()
    gateway.server_close()
    with pytest.raises(MetricsError) as caught:
        GateMetrics().push(f"http://ci:s3cret@127.0.0.1:{port}", timeout=5)
    assert "s3cret" not in f"{caught.value} {caught.value.hint}"
    assert "cannot push metrics" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "localhost:9091",
        "ftp://127.0.0.1/",
        "file:///etc/passwd",
        "http://127.0.0.1:9091/?x=1",
        "http://127.0.0.1:99999999",
        "http://user:pa/ss@127.0.0.1:9091",
        "http:///nohost",
    ],
)
def test_push_refuses_anything_but_an_http_url_and_masks_what_it_shows(url):
    with pytest.raises(UsageError) as caught:
        GateMetrics().push(url)
    assert caught.value.exit_code == ExitCode.USAGE
    assert "pa/ss" not in f"{caught.value}"


# --- multiprocess mode and imports ------------------------------------------------------------


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != metrics_module.MULTIPROC_ENV}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


WORKER = """
    import datetime as dt, os
    from gate.metrics import GateMetrics
    from gate.verdict import Verdict, WaiverRef
    from gate.waivers import Waiver
    metrics = GateMetrics(multiprocess_dir={dir!r})
    verdict = Verdict.model_validate_json(open({verdict!r}).read())
    metrics.observe_verdict(verdict, {{"total": 0.2}}, source="server")
    metrics.observe_request("/v1/check", "POST", 200, 0.1)
    metrics.set_policy({digest!r})
    now = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    waivers = [Waiver(ref=WaiverRef(index=0, vulnerability=v, expires="x"),
                      expires_at=now + dt.timedelta(days=3)) for v in {waivers!r}]
    metrics.observe_waivers(waivers[:1], now)
    metrics.observe_waivers(waivers[1:], now)
    print(os.getpid())
"""


def test_multiprocess_mode_merges_the_workers_of_a_server(tmp_path):
    shared = str(tmp_path)
    golden = str(fixture("golden/check-prod.verdict.json"))
    env = {metrics_module.MULTIPROC_ENV: shared}
    first = run_python(
        WORKER.format(dir=shared, verdict=golden, digest="sha256:old", waivers=["CVE-A", "CVE-B"]),
        env,
    )
    second = run_python(
        WORKER.format(dir=shared, verdict=golden, digest="sha256:new", waivers=["CVE-C", "CVE-D"]),
        env,
    )
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "Removal of labels" not in first.stderr + second.stderr
    exposition = f"""
        import sys
        from gate.metrics import GateMetrics, mark_worker_dead
        metrics = GateMetrics(multiprocess_dir={shared!r})
        for pid in sys.argv[1:]:
            mark_worker_dead(int(pid), {shared!r})
        sys.stdout.write(metrics.exposition()[0].decode())
    """
    merged = run_python(exposition, env)
    assert merged.returncode == 0, merged.stderr
    found = parse(merged.stdout)
    decision = {"stage": "prod", "decision": "fail", "source": "server", "advisory": "false"}
    assert value(found, "gate_decisions_total", **decision) == 2
    assert value(found, "gate_violations_total", rule="vuln-fixable-critical", stage="prod") == 4
    assert value(found, "gate_evaluation_duration_seconds_count", phase="total") == 2
    # livemax: each digest reads 1 while a live worker serves it
    assert named(found, "gate_policy_info") == {
        frozenset({"digest": "sha256:old"}.items()): 1,
        frozenset({"digest": "sha256:new"}.items()): 1,
    }
    expiry = named(found, "gate_waiver_expiry_timestamp_seconds")
    # a waiver a worker no longer observes is left as NaN, which no alert comparison matches
    assert math.isnan(expiry[frozenset({"waiver": "CVE-A"}.items())])
    assert not math.isnan(expiry[frozenset({"waiver": "CVE-B"}.items())])
    assert "pid" not in {name for labels in expiry for name, _ in labels}

    # a dead worker's live gauges go; its counters stay counted
    dead_pid = first.stdout.strip()
    after = run_python(exposition.replace("sys.argv[1:]", f"[{dead_pid}]"), env)
    found = parse(after.stdout)
    assert named(found, "gate_policy_info") == {frozenset({"digest": "sha256:new"}.items()): 1}
    assert value(found, "gate_decisions_total", **decision) == 2


def test_multiprocess_mode_needs_the_environment_set_before_prometheus_client(tmp_path):
    code = """
        from gate.errors import MetricsError
        from gate.metrics import GateMetrics
        try:
            GateMetrics(multiprocess_dir={dir!r})
        except MetricsError as exc:
            print("refused:", exc, "|", exc.hint)
    """
    unset = run_python(code.format(dir=str(tmp_path)), {})
    assert "refused:" in unset.stdout and "PROMETHEUS_MULTIPROC_DIR" in unset.stdout
    other = tmp_path / "other"
    other.mkdir()
    elsewhere = run_python(
        code.format(dir=str(tmp_path)), {metrics_module.MULTIPROC_ENV: str(other)}
    )
    assert "refused:" in elsewhere.stdout
    missing = run_python(
        code.format(dir=str(tmp_path / "nope")), {metrics_module.MULTIPROC_ENV: str(tmp_path)}
    )
    assert "refused:" in missing.stdout and "does not exist" in missing.stdout


def test_a_cli_run_refuses_to_write_into_a_servers_multiprocess_directory(tmp_path):
    code = """
        from gate.errors import MetricsError
        from gate.metrics import GateMetrics
        try:
            GateMetrics()
        except MetricsError as exc:
            print("refused:", exc)
    """
    result = run_python(code, {metrics_module.MULTIPROC_ENV: str(tmp_path)})
    assert "refused:" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_importing_gate_cli_and_gate_metrics_does_not_import_prometheus_client():
    result = run_python(
        "import sys, gate.cli, gate.metrics; print('prometheus_client' in sys.modules)", {}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_gate_check_pushes_its_run_under_its_own_job_and_stage(recorder, gate_cli):
    gateway = recorder()
    given = ["fixtures/reports/trivy/v2-image.json", "fixtures/image/inspect.json"]
    result = gate_cli("check", *(ROOT / g for g in given), "--stage", "dev", "-q",
                      "--pushgateway", gateway.url)  # fmt: skip
    assert result.code == 1 and "warning" not in result.err
    (request,) = gateway.seen
    assert request["path"] == "/metrics/job/gate-cli/stage/dev"  # not the servers' job "gate"
    assert (
        'gate_decisions_total{advisory="false",decision="fail",source="cli",stage="dev"} 1.0'
        in (request["body"])
    )
