"""deploy/: the alert rules pass promtool and their unit tests, the scrape config is valid,
and the rules, their tests and the Grafana dashboard name only metrics and labels that
gate/metrics.py exports; the compose file mounts only files that exist."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT
from prometheus_client.parser import text_string_to_metric_families
from services import unavailable
from test_metrics import exercise

from gate.metrics import EXPORTED_METRICS, GateMetrics

DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "rules" / "gate.yml"
RULE_TESTS = DEPLOY / "prometheus" / "tests" / "gate_test.yml"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "gate.json"
DATASOURCES = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = DEPLOY / "grafana" / "provisioning" / "dashboards" / "gate.yml"
COMPOSE = DEPLOY / "docker-compose.yml"

PROMETHEUS_LABELS = frozenset({"job", "instance"})
"""Labels Prometheus adds to every scraped series."""
PROMETHEUS_SERIES = frozenset({"up"})


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- promtool -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        unavailable("promtool", "apt-get install prometheus")
    return found


def run_promtool(promtool: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=ROOT
    )


def test_promtool_accepts_the_rules(promtool):
    result = run_promtool(promtool, "check", "rules", RULES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(recording_rules()) + len(alerts())} rules found" in result.stdout


def test_promtool_rejects_a_broken_rule(promtool, tmp_path):
    # The harness really checks: a rule that does not parse fails it.
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m])\n"
    )
    assert run_promtool(promtool, "check", "rules", broken).returncode != 0


def test_every_alert_fires_and_stays_quiet_in_the_promtool_unit_tests(promtool):
    result = run_promtool(promtool, "test", "rules", RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_unit_tests_cover_every_alert_both_ways():
    fired: set[str] = set()
    quiet: set[str] = set()
    for group in load_yaml(RULE_TESTS)["tests"]:
        for case in group.get("alert_rule_test", []):
            (fired if case.get("exp_alerts") else quiet).add(case["alertname"])
    assert fired == set(alerts())
    assert quiet == set(alerts())


def test_a_failing_unit_test_fails_promtool(promtool, tmp_path):
    # Every case expecting alerts now expects none and the reverse: each one must fail.
    tests = load_yaml(RULE_TESTS)
    tests["rule_files"] = [str(RULES)]
    cases = 0
    for group in tests["tests"]:
        for case in group.get("alert_rule_test", []):
            case["exp_alerts"] = [] if case.get("exp_alerts") else [{"exp_labels": {}}]
            cases += 1
    inverted = tmp_path / "inverted_test.yml"
    inverted.write_text(yaml.safe_dump(tests))
    result = run_promtool(promtool, "test", "rules", inverted)
    assert result.returncode != 0
    assert (result.stdout + result.stderr).count("alertname:") == cases


def test_promtool_accepts_the_scrape_config_and_finds_the_rules(promtool):
    result = run_promtool(promtool, "check", "config", PROMETHEUS_CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in result.stdout


def test_the_scrape_config_scrapes_gate_as_the_rules_expect():
    config = load_yaml(PROMETHEUS_CONFIG)
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "gate"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["gate:8080"]


# --- metric and label names -------------------------------------------------------------------


def rule_entries() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(RULES)["groups"] for rule in group["rules"]]


def recording_rules() -> list[str]:
    return [rule["record"] for rule in rule_entries() if "record" in rule]


def alerts() -> list[str]:
    return [rule["alert"] for rule in rule_entries() if "alert" in rule]


@pytest.fixture(scope="module")
def exported() -> dict[str, frozenset[str]]:
    """Every sample name gate exports with its label names (Prometheus's added)."""
    metrics = GateMetrics()
    exercise(metrics)
    labels: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(metrics.exposition()[0].decode()):
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(sample.labels)
    families = {name.removesuffix(suffix) for name in labels for suffix in ("_bucket",)}
    assert families >= EXPORTED_METRICS  # every exported family was exercised
    return {name: frozenset(found | PROMETHEUS_LABELS) for name, found in labels.items()}


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = frozenset("and or unless bool offset group_left group_right inf nan Inf NaN".split())


def promql_names(expr: str) -> tuple[list[tuple[str | None, set[str]]], set[str], set[str]]:
    """(selectors as (metric, matcher labels), metric names, grouping labels) of ``expr``.

    Enough PromQL for our own files: strings, Grafana variables, ranges and numbers are
    dropped, a name followed by "(" is a function or aggregation, the rest are metrics.
    """
    text = _STRING.sub('""', expr)
    text = re.sub(r"\$\{[^}]*\}|\$\w+", "", text)
    selectors = [
        (match.group(1), set(_MATCHER.findall(match.group(2))))
        for match in _SELECTOR.finditer(text)
    ]
    text = _SELECTOR.sub(lambda match: f" {match.group(1) or ''} ", text)
    grouping = {label for found in _GROUPING.findall(text) for label in _IDENTIFIER.findall(found)}
    text = _GROUPING.sub(" ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\boffset\s+\w+", " ", text)
    text = re.sub(r"(?<![A-Za-z0-9_:])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", " ", text)
    metrics = {
        match.group()
        for match in _IDENTIFIER.finditer(text)
        if match.group() not in _KEYWORDS and not re.match(r"\s*\(", text[match.end() :])
    }
    return selectors, metrics, grouping


def test_the_promql_reader_finds_unknown_names():
    selectors, metrics, grouping = promql_names(
        'sum by (stage) (rate(gate_nope_total{job="gate", bad="a{b}"}[5m] offset 1d)) '
        "/ on(instance) group_left up > 0.5 and histogram_quantile(0.9, x_bucket) "
        '+ topk(10, y{le="+Inf"}) * $__range'
    )
    assert metrics == {"gate_nope_total", "up", "x_bucket", "y"}
    assert grouping == {"stage", "instance"}
    assert ("gate_nope_total", {"job", "bad"}) in selectors
    assert ("y", {"le"}) in selectors


def check_names(expr: str, exported: dict[str, frozenset[str]], where: str) -> list[str]:
    """Problems with the names ``expr`` uses; empty when every one is gate's."""
    known_metrics = set(exported) | set(recording_rules()) | PROMETHEUS_SERIES
    known_labels = set().union(*exported.values())
    selectors, metrics, grouping = promql_names(expr)
    problems = [f"{where}: unknown metric {name}" for name in sorted(metrics - known_metrics)]
    problems += [f"{where}: unknown label {name}" for name in sorted(grouping - known_labels)]
    for metric, labels in selectors:
        allowed = exported.get(metric or "", known_labels)
        if metric in PROMETHEUS_SERIES:
            allowed = PROMETHEUS_LABELS
        problems += [
            f"{where}: {metric} has no label {label}" for label in sorted(labels - allowed)
        ]
    return problems


def test_a_wrong_label_or_metric_is_reported(exported):
    assert check_names('sum(rate(gate_violations_total{vulnerability="x"}[5m]))', exported, "t")
    assert check_names("rate(gate_decisions[5m])", exported, "t")
    assert check_names("sum by (cve) (gate_waived_findings_total)", exported, "t")
    assert not check_names('sum by (rule) (gate_violations_total{stage="prod"})', exported, "t")


def test_the_rules_name_only_what_gate_exports(exported):
    problems = []
    for rule in rule_entries():
        name = rule.get("record") or rule["alert"]
        problems += check_names(rule["expr"], exported, name)
    assert problems == []


def test_the_rule_unit_tests_feed_only_series_gate_exports(exported):
    problems = []
    for group in load_yaml(RULE_TESTS)["tests"]:
        for series in group["input_series"]:
            if series["series"].startswith("up{") and 'job="node"' in series["series"]:
                continue  # another job's target: the "no gate target" case
            problems += check_names(series["series"], exported, group["name"])
    assert problems == []


def dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]
    for variable in dashboard["templating"]["list"]:
        found = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", variable["definition"])
        assert found, variable["definition"]
        queries.append((f"${variable['name']}", f"sum by ({found.group(2)}) ({found.group(1)})"))
    return queries


def test_the_dashboard_names_only_what_gate_exports(exported):
    queries = dashboard_queries()
    assert len(queries) >= 15
    problems = [p for title, expr in queries for p in check_names(expr, exported, title)]
    assert problems == []


def test_the_dashboard_has_the_panels_the_issue_asks_for():
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    text = json.dumps(dashboard)
    for metric in (
        "gate_decisions_total",
        "gate:stage_pass_ratio:ratio_rate1h",
        "gate_violations_total",
        "gate_evaluation_duration_seconds_bucket",
        "gate_waived_findings_total",
        "gate_waiver_expiry_timestamp_seconds",
        "gate_decision_log_write_failures_total",
        "gate_policy_info",
    ):
        assert metric in text
    for quantile in (
        "histogram_quantile(0.5,",
        "histogram_quantile(0.95,",
        "histogram_quantile(0.99,",
    ):
        assert quantile in text
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_the_dashboard_uses_the_provisioned_datasource():
    (datasource,) = load_yaml(DATASOURCES)["datasources"]
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    used = {
        target["datasource"]["uid"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    }
    assert used == {datasource["uid"]}
    assert datasource["url"] == "http://prometheus:9090"


# --- compose ------------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(COMPOSE)
    return loaded


def bind_mounts() -> list[tuple[str, Path, str]]:
    """(service, source on this machine, target in the container) of every bind mount."""
    mounts = []
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith("."):
                mounts.append((name, (DEPLOY / source).resolve(), target))
    return mounts


def test_every_file_the_compose_file_mounts_or_builds_from_exists():
    mounts = bind_mounts()
    assert {service for service, _, _ in mounts} == {"prometheus", "grafana"}
    for _, source, _ in mounts:
        assert source.exists(), source
        assert source.is_relative_to(DEPLOY)
    build = compose()["services"]["gate"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == ROOT / "Dockerfile"
    assert set(build["args"]) == {"VERSION", "REVISION", "SOURCE"}  # the Dockerfile's ARGs


def test_the_containers_find_their_configuration_where_it_is_mounted():
    services = compose()["services"]
    targets = {target: source for _, source, target in bind_mounts()}
    config = next(arg for arg in services["prometheus"]["command"] if "--config.file=" in arg)
    in_container = config.split("=", 1)[1]
    mounted_at = "/etc/prometheus"
    assert (targets[mounted_at] / Path(in_container).relative_to(mounted_at)) == PROMETHEUS_CONFIG
    (provider,) = load_yaml(DASHBOARD_PROVIDERS)["providers"]
    assert targets[provider["options"]["path"]] == DASHBOARD.parent
    assert targets["/etc/grafana/provisioning"] == DATASOURCES.parent.parent


def test_compose_publishes_ports_on_loopback_only_and_keeps_secrets_out_of_urls():
    services = compose()["services"]
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)
    command = services["gate"]["command"]
    log = next(arg for arg in command if arg.startswith("--log="))
    assert "@" in log and ":" not in log.split("//", 1)[1].split("@", 1)[0]  # no password
    assert services["gate"]["environment"]["PGPASSWORD"].startswith("${GATE_DB_PASSWORD:?")


def test_compose_runs_gate_serve_with_options_it_has(gate_cli):
    command = compose()["services"]["gate"]["command"]
    assert command[0] == "serve"
    help_text = gate_cli("serve", "--help").out
    for option in command[1:]:
        assert option.split("=", 1)[0] in help_text
    assert "--port=8080" in command and "--host=0.0.0.0" in command
