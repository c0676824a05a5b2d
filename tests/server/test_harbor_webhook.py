"""POST /v1/webhooks/harbor end to end: Harbor's SCANNING_COMPLETED event in, the report
fetched from a loopback stand-in of Harbor's API, evaluated, recorded with source harbor."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import fixture
from harbor_standin import ROBOT_PASSWORD, WEBHOOK_SECRET, HarborStandIn, harbor_settings

from server.support import metric

WEBHOOK = fixture("harbor/webhook-scanning-completed.json")
REPORT = fixture("harbor/vulnerabilities.json")
DIGEST = "sha256:a949ad6763b211d1f7b717cbdba031d5609843dcf1dbd80eefb6229a105d1440"
SECRET = WEBHOOK_SECRET


@pytest.fixture
def harbor():
    with HarborStandIn() as server:
        server.serve("acme", "shop-api", DIGEST, REPORT.read_bytes())
        yield server


def harbor_client(make_client: Any, harbor: HarborStandIn, **changes: Any) -> Any:
    insecure = changes.pop("insecure", False)
    tokens = changes.pop("tokens", ())
    return make_client(
        harbor=harbor_settings(harbor, **changes), harbor_insecure_no_auth=insecure, tokens=tokens
    )


def post_event(client: Any, payload: Any = None, **headers: str) -> Any:
    body = WEBHOOK.read_bytes() if payload is None else json.dumps(payload).encode()
    return client.post(
        "/v1/webhooks/harbor",
        content=body,
        headers={"content-type": "application/json", **headers},
    )


def test_a_scan_event_is_fetched_judged_for_the_harbor_stage_and_recorded(make_client, harbor):
    client = harbor_client(make_client, harbor)
    response = post_event(client, Authorization=SECRET)
    assert response.status_code == 200, response.text
    (decided,) = response.json()["decisions"]
    reference = f"{harbor.host}/acme/shop-api@{DIGEST}"
    assert decided["image"] == reference
    (seen,) = harbor.requests  # exactly one call, to the configured Harbor
    assert seen.path.endswith(f"/artifacts/{DIGEST}/additions/vulnerabilities")
    (row,) = client.get("/v1/decisions").json()
    assert row["source"] == "harbor" and row["stage"] == "dev"
    assert row["id"] == decided["decision_id"] and row["decision"] == decided["decision"]
    verdict = client.get(f"/v1/decisions/{decided['decision_id']}").json()
    assert verdict["subject"]["digest"] == DIGEST
    assert [f["path"] for f in verdict["input"]["files"]] == [f"harbor:acme/shop-api@{DIGEST}"]
    assert verdict["counts"]["vulnerabilities"]["critical"] == 1
    text = client.get("/metrics").text
    assert metric(text, "gate_decisions_total", source="harbor") == 1


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", SECRET + " ", SECRET.lower()])
def test_a_wrong_secret_is_401_and_harbor_is_never_asked(make_client, harbor, authorization):
    client = harbor_client(make_client, harbor)
    headers = {} if authorization is None else {"Authorization": authorization}
    response = post_event(client, **headers)
    assert response.status_code == 401
    assert harbor.requests == [] and client.get("/v1/decisions").json() == []


def test_api_tokens_do_not_open_the_webhook(make_client, harbor):
    client = harbor_client(make_client, harbor, tokens=("some-api-token",))
    response = post_event(client, Authorization="Bearer some-api-token")
    assert response.status_code == 401 and harbor.requests == []
    # ... and the Harbor secret is all the webhook needs, API tokens or not.
    assert post_event(client, Authorization=SECRET).status_code == 200


def test_a_failed_scan_is_no_verdict_and_fetches_nothing(make_client, harbor):
    client = harbor_client(make_client, harbor)
    payload = json.loads(WEBHOOK.read_text())
    payload["type"] = "SCANNING_FAILED"
    response = post_event(client, payload, Authorization=SECRET)
    assert response.status_code == 422 and response.json()["exit_code"] == 3
    assert harbor.requests == []


def test_an_event_naming_another_host_still_asks_only_the_configured_harbor(make_client, harbor):
    client = harbor_client(make_client, harbor)
    payload = json.loads(WEBHOOK.read_text())
    payload["event_data"]["resources"][0]["resource_url"] = "evil.example/acme/shop-api:1.4.2"
    assert post_event(client, payload, Authorization=SECRET).status_code == 200
    assert len(harbor.requests) == 1  # the stand-in is the configured Harbor; nothing else


def test_a_report_harbor_cannot_serve_is_no_verdict_and_unrecorded(make_client, harbor):
    harbor.mode = "error"
    client = harbor_client(make_client, harbor)
    response = post_event(client, Authorization=SECRET)
    assert response.status_code == 422
    assert ROBOT_PASSWORD not in response.text
    assert client.get("/v1/decisions").json() == []


def test_the_insecure_mode_needs_no_secret(make_client, harbor):
    client = harbor_client(make_client, harbor, webhook_secret=None, insecure=True)
    assert post_event(client).status_code == 200


def test_without_harbor_url_there_is_no_webhook_route(make_client):
    assert post_event(make_client(), Authorization=SECRET).status_code == 404
