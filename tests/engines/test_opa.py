"""`--engine opa` against tests/opa_standin.py (a stand-in, NOT OPA) and, opt-in, a real OPA."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from conftest import fixture

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from opa_standin import STANDIN_VERSION, OpaStandIn  # noqa: E402

from gate.engines import make_engine  # noqa: E402
from gate.engines.opa import OpaOptions  # noqa: E402
from gate.errors import EngineError, PolicyError  # noqa: E402
from gate.policy import PolicyModule  # noqa: E402

INSPECT = fixture("image/inspect.json")
HIGH_ONLY = fixture("scenarios/high-only/trivy.json")
SUPPLY_CHAIN = (
    fixture("scenarios/clean/sbom.syft.json"),
    fixture("provenance/slsa-v0.2-statement.json"),
    fixture("signatures/shop-api.cosign.json"),
    "--trust-key",
    fixture("keys/release.pub"),
)
SCAN_DAY = "2024-10-14T12:00:00Z"
SCENARIOS = {
    "pass": (fixture("reports/grype/empty.json"), INSPECT, *SUPPLY_CHAIN),
    "high-only": (HIGH_ONLY, INSPECT, *SUPPLY_CHAIN),
    "many": (fixture("reports/trivy/v2-image.json"), fixture("reports/grype/image.json"), INSPECT),
}
GOOD = PolicyModule(
    "policies/good.rego",
    "package gate.good\n\nimport rego.v1\n\n"
    'deny contains {"id": "big", "msg": sprintf("%d", [input.n])} if input.n > data.limit\n',
)
BROKEN = PolicyModule(
    "policies/broken.rego",
    "package gate.broken\n\nimport rego.v1\n\ndeny contains x if {\n  x := \n}\n",
)


@pytest.fixture
def standin():
    with OpaStandIn() as server:
        yield server


def _decision(result) -> tuple[int, str, list[str], list[str]]:
    verdict = json.loads(result.out)
    return (
        result.code,
        verdict["decision"],
        sorted(v["id"] for v in verdict["violations"]),
        sorted(w["id"] for w in verdict["warnings"]),
    )


@pytest.mark.parametrize("stage", ["dev", "prod"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_push_mode_gives_the_embedded_engines_verdict(gate_cli, standin, scenario, stage):
    common = ("check", *SCENARIOS[scenario], "--at", SCAN_DAY, "--stage", stage, "-f", "json")
    embedded = gate_cli(*common)
    remote = gate_cli(*common, "--engine", "opa", "--opa-url", standin.url)
    assert embedded.code in (0, 1), embedded.err
    assert _decision(remote) == _decision(embedded)
    assert json.loads(remote.out)["engine"] == {"name": "opa", "version": STANDIN_VERSION}
    # Everything uploaded is gone again.
    assert standin.policies == {} and standin.data == {}
    assert any(method == "PUT" for method, _ in standin.requests)


def test_scenarios_fail_and_pass_through_opa(gate_cli, standin):
    common = ("check", *SCENARIOS["high-only"], "--at", SCAN_DAY, "-f", "json")
    opa = ("--engine", "opa", "--opa-url", standin.url)
    assert gate_cli(*common, "--stage", "dev", *opa).code == 0
    assert gate_cli(*common, "--stage", "prod", *opa).code == 1


@pytest.fixture
def pinned_standin(standin):
    from gate.run import Settings, load_policies

    bundle = load_policies(Settings(inputs=[]))
    standin.load_bundle("gate", bundle.digest, bundle.modules, bundle.data)
    return standin


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_pinned_mode_uploads_nothing_and_agrees(gate_cli, pinned_standin, stage):
    common = ("check", *SCENARIOS["high-only"], "--at", SCAN_DAY, "--stage", stage, "-f", "json")
    embedded = gate_cli(*common)
    remote = gate_cli(*common, "--engine", "opa", "--opa-url", pinned_standin.url, "--opa-bundle")
    assert _decision(remote) == _decision(embedded)
    assert not [m for m, _ in pinned_standin.requests if m in ("PUT", "DELETE")]
    named = gate_cli(
        *common, "--engine", "opa", "--opa-url", pinned_standin.url, "--opa-bundle", "gate"
    )
    assert _decision(named) == _decision(embedded)


def test_pinned_mode_refuses_another_revision(gate_cli, standin, tmp_path):
    from gate.run import Settings, load_policies

    bundle = load_policies(Settings(inputs=[]))
    standin.load_bundle("gate", "sha256:" + "0" * 64, bundle.modules, bundle.data)
    result = gate_cli(
        "check", *SCENARIOS["pass"], "--at", SCAN_DAY,
        "--engine", "opa", "--opa-url", standin.url, "--opa-bundle",
    )  # fmt: skip
    assert result.code == 3
    assert "revision 'sha256:000" in result.err and bundle.digest in result.err
    assert not [p for m, p in standin.requests if m == "POST" and p.startswith("/v1/data")]


def test_pinned_mode_without_a_bundle_is_no_verdict(gate_cli, standin):
    result = gate_cli(
        "check", *SCENARIOS["pass"], "--engine", "opa", "--opa-url", standin.url, "--opa-bundle"
    )
    assert result.code == 3
    assert "no bundle loaded" in result.err


def test_compile_error_names_file_and_line_and_cleans_up(standin):
    engine = make_engine("opa", opa=OpaOptions(standin.url))
    with pytest.raises(PolicyError) as raised:
        engine.evaluate([GOOD, BROKEN], {"limit": 1}, "{}", "data.gate")
    assert raised.value.where == "policies/broken.rego:6:5"
    assert "does not compile" in str(raised.value)
    assert standin.policies == {} and standin.data == {}
    deleted = [p for m, p in standin.requests if m == "DELETE"]
    assert any(p.startswith("/v1/policies/gate-") for p in deleted)


def test_push_mode_refuses_a_server_with_other_policies(standin):
    # Another run's (or a shared server's) policies would add their deny rules to data.gate.
    standin.policies["left-over"] = (
        'package gate.other\n\nimport rego.v1\n\ndeny contains "x" if true\n'
    )
    engine = make_engine("opa", opa=OpaOptions(standin.url))
    with pytest.raises(EngineError, match="dedicated OPA"):
        engine.evaluate([GOOD], {"limit": 9}, json.dumps({"n": 5}), "data.gate")
    assert list(standin.policies) == ["left-over"] and standin.data == {}
    assert not [p for m, p in standin.requests if m == "POST"]


def test_leftovers_are_reported_and_refused_next_time(standin, capsys):
    standin.fail_deletes = True
    engine = make_engine("opa", opa=OpaOptions(standin.url))
    engine.evaluate([GOOD], {"limit": 1}, json.dumps({"n": 5}), "data.gate")
    assert "2 uploads could not be removed" in capsys.readouterr().err
    with pytest.raises(EngineError, match="other policies"):
        engine.evaluate([GOOD], {"limit": 1}, json.dumps({"n": 5}), "data.gate")


def test_v0_policies_are_refused_not_rewritten(standin):
    # opa-python-client's default (rego_compat=True) would rewrite this and upload the
    # rewrite; what runs must be what was reviewed.
    v0 = PolicyModule("policies/v0.rego", 'package gate.v0\n\ndeny[msg] {\n  msg := "x"\n}\n')
    engine = make_engine("opa", opa=OpaOptions(standin.url))
    with pytest.raises(PolicyError) as raised:
        engine.evaluate([v0], {}, "{}", "data.gate")
    assert str(raised.value.where).startswith("policies/v0.rego:")
    uploads = [p for m, p in standin.requests if m == "PUT" and p.startswith("/v1/policies/")]
    assert len(uploads) == 1


def test_evaluates_and_requires_deny_or_warn(standin):
    engine = make_engine("opa", opa=OpaOptions(standin.url))
    value = engine.evaluate([GOOD], {"limit": 1}, json.dumps({"n": 5}), "data.gate")
    assert value == {"good": {"deny": [{"id": "big", "msg": "5"}]}}
    helper = PolicyModule("policies/h.rego", "package gate.h\n\nimport rego.v1\n\nallow := true\n")
    with pytest.raises(PolicyError, match="no deny or warn rule"):
        engine.evaluate([helper], {}, "{}", "data.gate", required_rules=("deny", "warn"))


def test_undefined_query_is_no_verdict(standin):
    engine = make_engine("opa", opa=OpaOptions(standin.url))
    with pytest.raises(EngineError, match="undefined"):
        engine.evaluate([GOOD], {"limit": 1}, "{}", "data.nothing.here")


def test_dead_server_is_exit_3(gate_cli):
    with OpaStandIn() as server:
        url = server.url
    result = gate_cli("check", *SCENARIOS["pass"], "--engine", "opa", "--opa-url", url)
    assert result.code == 3
    assert result.err.count("error:") == 1 and "cannot be reached" in result.err
    assert "Traceback" not in result.err


def test_slow_server_hits_the_timeout(gate_cli):
    with OpaStandIn(delay=2.0) as server:
        result = gate_cli(
            "check", *SCENARIOS["pass"], "--engine", "opa", "--opa-url", server.url,
            "--timeout", "0.5",
        )  # fmt: skip
    assert result.code == 3
    assert "did not answer in time" in result.err


def test_token_is_sent_as_bearer_and_never_printed(gate_cli, monkeypatch):
    secret = "tok-" + "x1y2z3" * 4
    with OpaStandIn(token=secret) as server:
        monkeypatch.setenv("GATE_OPA_TOKEN", secret)
        good = gate_cli(
            "check", *SCENARIOS["pass"], "--at", SCAN_DAY, "--engine", "opa",
            "--opa-url", server.url, "-f", "json",
        )  # fmt: skip
        assert good.code == 0, good.err
        assert set(server.authorizations) == {f"Bearer {secret}"}
        monkeypatch.setenv("GATE_OPA_TOKEN", "wrong-" + secret)
        refused = gate_cli(
            "check", *SCENARIOS["pass"], "--engine", "opa", "--opa-url", server.url, "--debug"
        )
    assert refused.code == 3
    assert "refused" in refused.err
    for result in (good, refused):
        assert secret not in result.out + result.err


@pytest.mark.parametrize(
    "url",
    ["ftp://127.0.0.1:1", "http://user:pw@127.0.0.1:8181", "http://127.0.0.1:8181/v1/data"],
)
def test_bad_urls_are_usage_errors(gate_cli, url):
    result = gate_cli("check", *SCENARIOS["pass"], "--engine", "opa", "--opa-url", url)
    assert result.code == 2
    assert "pw" not in result.err


def test_token_over_plain_http_to_another_host_is_refused(gate_cli):
    result = gate_cli(
        "check", *SCENARIOS["pass"], "--engine", "opa", "--opa-url", "http://opa.example:8181",
        "--opa-token", "s3cret-value",
    )  # fmt: skip
    assert result.code == 2
    assert "in clear" in result.err and "s3cret-value" not in result.err


def test_opa_needs_a_url_and_opa_options_need_opa(gate_cli):
    assert gate_cli("check", *SCENARIOS["pass"], "--engine", "opa").code == 2
    assert gate_cli("check", *SCENARIOS["pass"], "--opa-url", "http://127.0.0.1:1").code == 2


REAL_OPA = os.environ.get("GATE_TEST_OPA_URL")


@pytest.mark.skipif(not REAL_OPA, reason="set GATE_TEST_OPA_URL to a dedicated OPA server")
@pytest.mark.parametrize("stage", ["dev", "prod"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_real_opa_agrees_with_the_embedded_engine(gate_cli, scenario, stage):
    common = ("check", *SCENARIOS[scenario], "--at", SCAN_DAY, "--stage", stage, "-f", "json")
    embedded = gate_cli(*common)
    remote = gate_cli(*common, "--engine", "opa", "--opa-url", str(REAL_OPA))
    assert _decision(remote) == _decision(embedded), remote.err
