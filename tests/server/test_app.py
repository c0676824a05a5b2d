"""The `gate serve` app in-process: verdicts, errors as statuses, auth, limits, waivers,
the decision log, reloads and metrics (the real server over loopback: test_process.py)."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from gate.decisionlog import open_log
from gate.errors import DecisionLogError
from gate.server.app import bearer_authorised
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
)

WAIVERS = {
    "waivers": [
        {
            "vulnerability": "CVE-2024-5535",
            "reason": "not reachable in this image",
            "owner": "team-shop",
            "expires": "2030-01-01",
        }
    ]
}


def post_check(client: Any, body: Any, **headers: str) -> Any:
    return client.post("/v1/check", json=body, headers=headers)


def error_of(response: Any, status: int, exit_code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()
    assert set(error) == {"error", "where", "hint", "exit_code"}
    assert error["exit_code"] == exit_code
    assert "violations" not in response.text  # an error never carries a verdict
    return error


# -- verdicts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("report", "stage", "decision"), [(TRIVY, "dev", "fail"), (EMPTY, "dev", "pass")]
)
def test_the_answer_is_byte_identical_to_gate_check_json(
    make_client, tmp_path, report, stage, decision
):
    client = make_client()
    response = post_check(client, check_body(report, stage=stage, at=AT))
    assert response.status_code == 200  # the status never encodes the decision
    assert response.headers["X-Gate-Decision"] == decision
    assert response.headers["content-type"] == "application/json"
    assert response.text == cli_verdict(tmp_path, report, stage=stage, at=AT)


def test_multipart_gives_the_same_verdict(make_client, tmp_path):
    client = make_client()
    response = client.post(
        "/v1/check",
        files=[("input", (TRIVY.name, TRIVY.read_bytes(), "application/json"))],
        data={"stage": "dev", "at": AT},
    )
    assert response.headers["X-Gate-Decision"] == "fail"
    assert response.text == cli_verdict(tmp_path, TRIVY, stage="dev", at=AT)


def test_a_json_value_content_is_judged_like_the_text(make_client):
    client = make_client()
    as_text = verdict_of(post_check(client, check_body(TRIVY, stage="dev", at=AT)))
    as_value = {"inputs": [{"name": TRIVY.name, "content": json.loads(TRIVY.read_text())}]}
    judged = verdict_of(post_check(client, {**as_value, "stage": "dev", "at": AT}))
    assert judged["decision"] == as_text["decision"] == "fail"
    assert judged["violations"] == as_text["violations"]


def test_without_a_stage_the_strictest_is_used_and_serve_stage_is_the_default(make_client):
    body = check_body(EMPTY, at=AT)
    assert verdict_of(post_check(make_client(), body))["stage"] == "prod"
    assert verdict_of(post_check(make_client(stage="dev"), body))["stage"] == "dev"


# -- errors as statuses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "JSON object"),
        ({"inputs": []}, "non-empty list"),
        ({"inputs": [{"name": "a.json"}]}, "'content' is required"),
        ({"inputs": [{"name": "a.json", "content": "{}", "path": "/etc/passwd"}]}, "unknown key"),
        ({"inputs": [{"name": "a.json", "content": "{}"}], "stgae": "dev"}, "unknown key"),
        ({"inputs": [{"name": 3, "content": "{}"}]}, "expected a string"),
        (
            {"inputs": [{"name": "a.json", "content": "{}"}, {"name": "a.json", "content": "[]"}]},
            "given twice",
        ),
        ({"inputs": [{"name": f"r{i}.json", "content": "{}"} for i in range(65)]}, "more than 64"),
        ({"inputs": [{"name": "a.json", "content": "{}"}], "stage": "qa"}, "unknown stage"),
        ({"inputs": [{"name": "a.json", "content": "{}"}], "at": "yesterday"}, "RFC 3339"),
        ({"inputs": [{"name": "a.json", "content": "{}"}], "at": "3000-01-01"}, "outside"),
        ({"inputs": [{"name": "a.json", "content": "{}"}], "image": "registry://r/x:1"}, "server"),
        ({"inputs": [{"name": "a.json", "content": "{}"}], "image": "UPPER CASE"}, "image"),
        ({"inputs": [{"name": "a.json", "content": "{}", "type": "nope"}]}, "inputs[0].type"),
    ],
)
def test_malformed_requests_are_400_exit_2(make_client, body, problem):
    error = error_of(post_check(make_client(), body), 400, 2)
    assert problem in f"{error['error']} {error['where']}"


def test_a_body_that_is_not_json_or_of_another_type_is_400(make_client):
    client = make_client()
    bad = client.post(
        "/v1/check", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert "not valid JSON" in error_of(bad, 400, 2)["error"]
    dup = b'{"inputs": [], "inputs": [{"name": "a", "content": "{}"}]}'
    duplicate = client.post("/v1/check", content=dup, headers={"content-type": "application/json"})
    assert "duplicate key" in error_of(duplicate, 400, 2)["error"]
    form = client.post("/v1/check", content=b"a=b", headers={"content-type": "text/plain"})
    assert "Content-Type" in error_of(form, 400, 2)["error"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{", "invalid JSON"),
        ('{"hello": "world"}', "not a recognised report"),
        ("", "empty"),
    ],
)
def test_no_verdict_is_422_exit_3(make_client, content, problem):
    client = make_client()
    response = post_check(client, {"inputs": [{"name": "scan.json", "content": content}]})
    error = error_of(response, 422, 3)
    assert problem in error["error"] and error["where"] == "scan.json"
    text = client.get("/metrics").text
    assert metric(text, "gate_no_verdicts_total", source="server") == 1
    assert metric(text, "gate_input_parse_failures_total", format="unknown") == 1


def test_a_report_that_fails_its_forced_format_counts_under_that_format(make_client):
    client = make_client()
    body = {"inputs": [{"name": "g.json", "content": TRIVY.read_text(), "type": "grype-json"}]}
    error_of(post_check(client, body), 422, 3)
    text = client.get("/metrics").text
    assert metric(text, "gate_input_parse_failures_total", format="grype-json") == 1


def test_unknown_routes_and_methods_are_not_answered_with_a_verdict(make_client):
    client = make_client()
    assert client.get("/v1/check").status_code == 405
    assert client.get("/v1/nothing").status_code == 404


# -- input names never touch files -----------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../secret.json", "/etc/passwd", "a/b.json", "..", ".", "c:\\x.json", "a\nb", ""]
)
def test_input_names_that_are_paths_are_refused(make_client, tmp_path, name):
    error = error_of(
        post_check(make_client(), {"inputs": [{"name": name, "content": "{}"}]}), 400, 2
    )
    assert "plain file name" in error["error"]


@pytest.mark.parametrize("filename", ["../trivy.json", "/etc/passwd", "a\\b.json"])
def test_multipart_file_names_that_are_paths_are_refused(make_client, filename):
    files = [("input", (filename, TRIVY.read_bytes(), "application/json"))]
    response = make_client().post("/v1/check", files=files)
    assert "plain file name" in error_of(response, 400, 2)["error"]


def test_an_input_is_read_from_the_request_even_when_a_file_has_its_name(
    make_client, tmp_path, monkeypatch
):
    # A file of the same name in the server's working directory is never opened.
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(TRIVY, tmp_path / "scan.json")
    client = make_client()
    body = {"inputs": [{"name": "scan.json", "content": EMPTY.read_text()}], "stage": "dev"}
    verdict = verdict_of(post_check(client, {**body, "at": AT}))
    assert verdict["decision"] == "pass"
    (given,) = verdict["input"]["files"]
    assert given["format"] == "grype-json"
    assert given["sha256"] == __import__("hashlib").sha256(EMPTY.read_bytes()).hexdigest()


# -- limits ----------------------------------------------------------------------------------


def test_a_declared_body_over_max_body_is_413_before_it_is_read(make_client):
    client = make_client(max_body=1024)
    big = json.dumps(check_body(TRIVY)).encode()
    response = client.post("/v1/check", content=big, headers={"content-type": "application/json"})
    error = error_of(response, 413, 2)
    assert "limit" in error["error"]


def test_an_undeclared_body_over_max_body_is_413_while_streaming(make_client):
    client = make_client(max_body=1024)

    def chunks():
        for _ in range(64):
            yield b" " * 512

    response = client.post(
        "/v1/check", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    error_of(response, 413, 2)


def test_an_evaluation_over_the_timeout_is_no_verdict(make_client):
    client = make_client(timeout=0.001)
    assert client.get("/readyz").status_code == 200  # --timeout bounds requests, not compiling
    response = post_check(client, check_body(TRIVY, stage="dev", at=AT))
    assert "exceeded --timeout" in error_of(response, 422, 3)["error"]


def test_a_full_evaluation_queue_answers_503_with_retry_after(make_client):
    client = make_client(queue_limit=0)
    response = post_check(client, check_body(EMPTY, stage="dev", at=AT))
    error = error_of(response, 503, 3)
    assert "busy" in error["error"] and response.headers["Retry-After"] == "1"


# -- authentication --------------------------------------------------------------------------

TOKEN = "t0ken-for-the-api-3f9a"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": f"Bearer {TOKEN}x"}, 401),
        ({"Authorization": f"Basic {TOKEN}"}, 401),
        ({"Authorization": "Bearer "}, 401),
        ({"Authorization": f"Bearer {TOKEN}"}, 200),
        ({"Authorization": "Bearer other-token"}, 200),
    ],
)
def test_api_routes_need_one_of_the_tokens(make_client, headers, status):
    client = make_client(tokens=(TOKEN, "other-token"))
    response = post_check(client, check_body(EMPTY, stage="dev", at=AT), **headers)
    assert response.status_code == status
    for route in ("/v1/decisions", "/metrics"):
        assert client.get(route, headers=headers).status_code == status
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert TOKEN not in response.text


def test_health_and_readiness_are_never_authenticated(make_client):
    client = make_client(tokens=(TOKEN,))
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_bearer_comparison_accepts_only_exact_tokens():
    assert bearer_authorised(["abc"], "Bearer abc")
    assert bearer_authorised(["abc"], "bearer abc")
    assert not bearer_authorised(["abc"], "Bearer ab")
    assert not bearer_authorised(["abc"], "Bearer abcd")
    assert not bearer_authorised([], "Bearer abc")
    assert not bearer_authorised(["abc"], None)


# -- waivers in requests ---------------------------------------------------------------------


def test_request_waivers_waive_like_a_waivers_file(make_client, tmp_path):
    client = make_client()
    body = check_body(TRIVY, stage="dev", at=AT, waivers=WAIVERS)
    verdict = verdict_of(post_check(client, body))
    assert [w["finding"]["id"] for w in verdict["waived"]] == ["CVE-2024-5535"]
    waivers_file = tmp_path / "cli" / "waivers.json"
    waivers_file.parent.mkdir()
    waivers_file.write_text(json.dumps(WAIVERS))
    expected = json.loads(
        cli_verdict(tmp_path, TRIVY, stage="dev", at=AT, waivers=str(waivers_file))
    )
    assert verdict["waived"] == expected["waived"] and verdict["counts"] == expected["counts"]


def test_multipart_waivers_part_is_read_as_yaml_or_json(make_client):
    client = make_client()
    waivers_yaml = (
        "waivers:\n  - vulnerability: CVE-2024-5535\n    reason: r\n    owner: o\n"
        "    expires: 2030-01-01\n"
    )
    response = client.post(
        "/v1/check",
        files=[
            ("input", (TRIVY.name, TRIVY.read_bytes(), "application/json")),
            ("waivers", ("waivers.yaml", waivers_yaml.encode(), "application/yaml")),
        ],
        data={"stage": "dev", "at": AT},
    )
    assert [w["finding"]["id"] for w in verdict_of(response)["waived"]] == ["CVE-2024-5535"]


def test_an_invalid_request_waiver_is_no_verdict_naming_the_entry(make_client):
    broken = {"waivers": [WAIVERS["waivers"][0], {"vulnerability": "CVE-1", "reason": "r"}]}
    response = post_check(make_client(), check_body(TRIVY, stage="dev", waivers=broken))
    error = error_of(response, 422, 3)
    assert error["where"] == "request: waivers[1]"


def test_a_server_without_request_waivers_refuses_them(make_client):
    client = make_client(allow_request_waivers=False)
    response = post_check(client, check_body(TRIVY, stage="dev", at=AT, waivers=WAIVERS))
    assert "does not accept waivers" in error_of(response, 400, 2)["error"]
    multipart = client.post(
        "/v1/check",
        files=[
            ("input", (TRIVY.name, TRIVY.read_bytes(), "application/json")),
            ("waivers", ("w.json", json.dumps(WAIVERS).encode(), "application/json")),
        ],
    )
    error_of(multipart, 400, 2)


# -- the decision log ------------------------------------------------------------------------


def test_every_verdict_is_recorded_and_served_back(make_client, tmp_path):
    client = make_client()
    failing = post_check(client, check_body(TRIVY, stage="dev", at=AT))
    passing = post_check(client, check_body(EMPTY, stage="dev", at=AT))
    listed = client.get("/v1/decisions").json()
    assert [d["decision"] for d in listed] == ["pass", "fail"]  # newest first
    assert {d["source"] for d in listed} == {"server"}
    assert [d["id"] for d in listed] == [
        int(passing.headers["X-Gate-Decision-Id"]),
        int(failing.headers["X-Gate-Decision-Id"]),
    ]
    only_fail = client.get("/v1/decisions", params={"decision": "fail"}).json()
    assert [d["id"] for d in only_fail] == [int(failing.headers["X-Gate-Decision-Id"])]
    again = client.get(f"/v1/decisions/{failing.headers['X-Gate-Decision-Id']}")
    assert again.text == failing.text and again.headers["X-Gate-Decision"] == "fail"
    log = open_log(f"sqlite:///{tmp_path / 'decisions.db'}")
    try:
        record = log.get(int(failing.headers["X-Gate-Decision-Id"]))
        assert record is not None and record.verdict_json == failing.text
    finally:
        log.close()


def test_decision_queries_are_checked(make_client):
    client = make_client()
    error_of(client.get("/v1/decisions", params={"decison": "fail"}), 400, 2)
    error_of(client.get("/v1/decisions", params={"decision": "maybe"}), 400, 2)
    error_of(client.get("/v1/decisions?stage=dev&stage=prod"), 400, 2)
    error_of(client.get("/v1/decisions/999"), 404, 2)
    assert client.get("/v1/decisions/abc").status_code == 404


class FailingLog:
    """A real log whose writes fail, as a full disk or a dropped database would."""

    def __init__(self, url: str) -> None:
        self.real = open_log(url)
        self.shown_url = self.real.shown_url

    def record(self, *args: Any, **kwargs: Any) -> int:
        raise DecisionLogError("cannot write: database is locked", where=self.shown_url)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_verdict_the_log_cannot_record_is_not_returned(make_client):
    client = make_client(open_log=FailingLog)
    response = post_check(client, check_body(TRIVY, stage="dev", at=AT))
    error = error_of(response, 503, 3)
    assert "could not record" in error["error"]
    assert "X-Gate-Decision" not in response.headers
    metrics = client.get("/metrics").text
    assert metric(metrics, "gate_decision_log_write_failures_total") == 1
    assert metric(metrics, "gate_decisions_total", decision="fail") == 0


def test_an_unreachable_log_is_not_ready_and_gives_no_verdict(make_client):
    # Nothing listens on port 1 of loopback: the database is down.
    client = make_client(log_url="postgresql://gate:s3cret-pw@127.0.0.1:1/gate")
    ready = client.get("/readyz")
    assert ready.status_code == 503
    state = ready.json()
    assert state["log"]["ok"] is False and state["policy"]["digest"]
    response = post_check(client, check_body(EMPTY, stage="dev", at=AT))
    error_of(response, 503, 3)
    for text in (ready.text, response.text):
        assert "s3cret-pw" not in text
    assert metric(client.get("/metrics").text, "gate_decision_log_write_failures_total") == 1


def test_postgresql_log_records_every_verdict(make_client, fresh_postgres_url):
    client = make_client(log_url=fresh_postgres_url)
    ids = [
        int(post_check(client, check_body(r, stage="dev", at=AT)).headers["X-Gate-Decision-Id"])
        for r in (TRIVY, EMPTY, TRIVY)
    ]
    listed = client.get("/v1/decisions").json()
    assert [d["id"] for d in listed] == sorted(ids, reverse=True)
    assert client.get("/readyz").json()["log"]["ok"] is True


# -- readiness, reload, metrics --------------------------------------------------------------


def test_readiness_says_policy_digest_and_log_state(make_client):
    client = make_client()
    state = client.get("/readyz").json()
    assert state["ready"] is True
    assert state["policy"]["digest"].startswith("sha256:") and state["policy"]["stale"] is False
    assert state["log"] == {"ok": True, "error": None, "url": state["log"]["url"]}
    assert client.get("/healthz").json() == {"status": "alive"}


def test_a_changed_policy_is_used_and_a_broken_one_keeps_the_old(make_client, tmp_path):
    policies = policy_copy(tmp_path)
    client = make_client(policies=(str(policies),))
    service = client.app.state.service
    body = check_body(EMPTY, stage="dev", at=AT)
    first = verdict_of(post_check(client, body))["policy"]["digest"]

    rule = policy_module(policies)
    rule.write_text(rule.read_text() + "\n# a reviewed change\n")
    assert service.reload() is True
    second = verdict_of(post_check(client, body))["policy"]["digest"]
    assert second != first

    rule.write_text(rule.read_text() + "\nthis is not rego {\n")
    assert service.reload() is False
    assert verdict_of(post_check(client, body))["policy"]["digest"] == second
    state = client.get("/readyz").json()
    assert state["ready"] is True  # still serving the compiled set, and saying it is stale
    assert state["policy"]["stale"] is True and "does not compile" in state["policy"]["error"]
    metrics = client.get("/metrics").text
    assert metric(metrics, "gate_policy_reload_failures_total") == 1
    assert metric(metrics, "gate_policy_stale") == 1
    assert metric(metrics, "gate_policy_info", digest=second) == 1

    service.reload()  # the same broken set polled again is not counted again
    assert metric(client.get("/metrics").text, "gate_policy_reload_failures_total") == 1


def test_a_server_whose_policies_never_compiled_is_not_ready(make_client, tmp_path):
    policies = policy_copy(tmp_path)
    rule = policy_module(policies)
    rule.write_text(rule.read_text() + "\nthis is not rego {\n")
    client = make_client(policies=(str(policies),))
    assert client.get("/readyz").status_code == 503
    response = post_check(client, check_body(EMPTY, stage="dev", at=AT))
    assert "no policy set is loaded" in error_of(response, 503, 3)["error"]


def test_metrics_count_decisions_requests_and_phases(make_client):
    client = make_client()
    post_check(client, check_body(TRIVY, stage="dev", at=AT))
    post_check(client, check_body(EMPTY, stage="dev", at=AT))
    text = client.get("/metrics").text
    assert metric(text, "gate_decisions_total", stage="dev", decision="fail", source="server") == 1
    assert metric(text, "gate_decisions_total", stage="dev", decision="pass", source="server") == 1
    assert metric(text, "gate_violations_total", rule="secret-found", stage="dev") == 1
    for phase in ("normalise", "evaluate", "total"):
        assert metric(text, "gate_evaluation_duration_seconds_count", phase=phase) == 2
    assert metric(text, "gate_http_requests_total", route="/v1/check", status="200") == 2
    client.get("/v1/decisions/1")
    text = client.get("/metrics").text
    assert metric(text, "gate_http_requests_total", route="/v1/decisions/{decision_id:int}") == 1


def test_request_waivers_are_observed_for_expiry(make_client):
    client = make_client()
    verdict_of(post_check(client, check_body(TRIVY, stage="dev", at=AT, waivers=WAIVERS)))
    text = client.get("/metrics").text
    expires = metric(text, "gate_waiver_expiry_timestamp_seconds", waiver="CVE-2024-5535")
    assert expires == 1893456000  # 2030-01-01T00:00:00Z
    # A request without waivers leaves what the last one published.
    verdict_of(post_check(client, check_body(EMPTY, stage="dev", at=AT)))
    text = client.get("/metrics").text
    assert metric(text, "gate_waiver_expiry_timestamp_seconds", waiver="CVE-2024-5535") == expires


def test_sql_like_filters_are_data(make_client):
    client = make_client()
    verdict_of(post_check(client, check_body(EMPTY, stage="dev", at=AT)))
    assert len(client.get("/v1/decisions").json()) == 1
    for stage in ("dev' OR '1'='1", "dev; DROP TABLE decisions; --"):
        assert client.get("/v1/decisions", params={"stage": stage}).json() == []
    assert len(client.get("/v1/decisions", params={"stage": "dev"}).json()) == 1


def test_the_app_module_is_not_imported_by_the_cli():
    import subprocess
    import sys

    code = (
        "import sys, gate.cli; heavy = [m for m in ('starlette', 'uvicorn', 'gate.server.app')"
        " if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_client_that_never_sends_its_body_is_cut_off_before_any_queueing():
    import asyncio

    from gate.server.requests import read_body
    from gate.server.service import BodyTimeout

    class Stalled:
        headers: dict[str, str] = {"content-length": "10"}

        async def stream(self):
            await asyncio.Event().wait()  # a slow client: the bytes never come
            yield b""

    with pytest.raises(BodyTimeout) as caught:
        asyncio.run(read_body(Stalled(), 1024, 0.05))  # type: ignore[arg-type]
    assert caught.value.status == 408


def test_hints_name_the_request_fields_not_the_command_line_flags(make_client):
    client = make_client()
    response = post_check(client, {"inputs": [{"name": "scan.json", "content": {"a": 1}}]})
    hint = error_of(response, 422, 3)["hint"]
    assert hint.endswith('force one with "type": FORMAT') and "--type" not in hint
    forced = {"inputs": [{"name": "g.json", "content": TRIVY.read_text(), "type": "grype-json"}]}
    assert error_of(post_check(client, forced), 422, 3)["hint"] == (
        'drop "type" to detect the format from the content'
    )


def test_request_hints_leave_other_words_alone():
    from gate.server.app import request_hint

    assert request_hint(None) is None
    assert request_hint("check --at and the clocks") == 'check "at" and the clocks'
    assert request_hint("--attached and --atlas stay") == "--attached and --atlas stay"
    assert request_hint("run with --debug") == "run with --debug"
