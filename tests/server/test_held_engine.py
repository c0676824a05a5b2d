"""A `gate serve` worker compiles its policy set once and forks every evaluation from it;
a reload swaps the compiled set, a reload that fails keeps the old one."""

from __future__ import annotations

from typing import Any

import pytest

from gate.engines import regorus
from server.support import AT, EMPTY, check_body, policy_copy, policy_module, verdict_of

ADDED = 'package gate.added\n\nimport rego.v1\n\ndeny contains "added by a reload"\n'


def refuse_to_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on compiling fails, in the worker and in every child it forks."""

    def refuse(*_: Any) -> Any:
        raise RuntimeError("compiled again")

    monkeypatch.setattr(regorus, "_compile", refuse)


def decide(client: Any) -> dict[str, Any]:
    response = client.post("/v1/check", json=check_body(EMPTY, stage="dev", at=AT))
    assert response.status_code == 200, response.text
    verdict: dict[str, Any] = verdict_of(response)
    return verdict


def messages(verdict: dict[str, Any]) -> list[str]:
    return [violation["msg"] for violation in verdict["violations"]]


def test_requests_are_evaluated_without_compiling_again(make_client, monkeypatch):
    client = make_client()
    before = decide(client)
    refuse_to_compile(monkeypatch)
    after = decide(client)
    assert after["decision"] == before["decision"] == "pass"
    assert after["policy"] == before["policy"]


def test_a_reload_swaps_the_compiled_set_and_a_failed_one_keeps_it(
    make_client, tmp_path, monkeypatch
):
    policies = policy_copy(tmp_path)
    client = make_client(policies=(str(policies),))
    service = client.app.state.service
    assert decide(client)["decision"] == "pass"

    (policies / "gate" / "added.rego").write_text(ADDED)
    assert service.reload() is True
    swapped = decide(client)
    assert swapped["decision"] == "fail" and messages(swapped) == ["added by a reload"]

    rule = policy_module(policies)
    rule.write_text(rule.read_text() + "\nthis is not rego {\n")
    assert service.reload() is False
    refuse_to_compile(monkeypatch)  # what is served now comes from the held engine
    kept = decide(client)
    assert kept["policy"] == swapped["policy"] and messages(kept) == ["added by a reload"]


def test_without_a_held_set_a_request_would_compile(make_client, monkeypatch):
    # The other side of the tests above: the refusal does reach an evaluation that compiles.
    client = make_client()
    service = client.app.state.service
    # Dropped on the worker's evaluation thread, which holds it.
    service._executor.submit(lambda: setattr(regorus._held, "policies", None)).result()
    refuse_to_compile(monkeypatch)
    response = client.post("/v1/check", json=check_body(EMPTY, stage="dev", at=AT))
    assert response.status_code == 422 and "compiled again" in response.text
