"""A policy set compiled once and held by a long-lived process (gate serve's worker): every
evaluation forks from it, stays as independent and as isolated as a freshly compiled one."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from gate.engines import regorus
from gate.engines.regorus import RegorusEngine, hold_policies
from gate.errors import EngineError
from gate.policy import PolicyModule

HEADER = "package gate.h\n\nimport rego.v1\n\n"
LIMIT = PolicyModule(
    "p/h.rego", HEADER + 'deny contains sprintf("%d", [input.n]) if input.n > data.limit\n'
)


@pytest.fixture(autouse=True)
def nothing_held() -> Iterator[None]:
    regorus._held.policies = None
    yield
    regorus._held.policies = None


def refuse_to_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on compiling fails, here and in every child forked after."""

    def refuse(*_: Any) -> Any:
        raise RuntimeError("compiled again")

    monkeypatch.setattr(regorus, "_compile", refuse)


def held(modules: list[PolicyModule], data: dict[str, Any]) -> None:
    _, rules = RegorusEngine().load_checked(modules, data)
    hold_policies(modules, data, rules)


def judge(n: int, data: dict[str, Any], *, timeout: float = 300.0) -> Any:
    return RegorusEngine().evaluate(
        [LIMIT], data, json.dumps({"n": n}), "data.gate", timeout=timeout, required_rules=("deny",)
    )


def test_evaluations_fork_from_the_held_engine(monkeypatch):
    held([LIMIT], {"limit": 1})
    refuse_to_compile(monkeypatch)
    assert judge(5, {"limit": 1}) == {"h": {"deny": ["5"]}}
    assert judge(0, {"limit": 1}) == {"h": {"deny": []}}


def test_without_a_held_set_the_child_compiles(monkeypatch):
    refuse_to_compile(monkeypatch)
    with pytest.raises(EngineError, match="compiled again"):
        judge(5, {"limit": 1})


def test_every_evaluation_starts_from_the_compiled_state():
    # An input set in one child is never seen by the next: without an input, input.n is
    # undefined and nothing is denied.
    held([LIMIT], {"limit": 1})
    assert judge(5, {"limit": 1}) == {"h": {"deny": ["5"]}}
    raw, _ = RegorusEngine().evaluate_all([LIMIT], {"limit": 1}, None, "data.gate")
    assert json.loads(raw)["result"][0]["expressions"][0]["value"] == {"h": {"deny": []}}


def test_another_set_or_other_data_is_compiled_as_given():
    data = {"limit": 1}
    held([LIMIT], data)
    data["limit"] = 9  # changed in place after holding: the held engine has the old data
    assert judge(5, data) == {"h": {"deny": []}}
    other = PolicyModule(LIMIT.path, LIMIT.text.replace("input.n > data.limit", "input.n < 0"))
    value = RegorusEngine().evaluate([other], {"limit": 1}, json.dumps({"n": 5}), "data.gate")
    assert value == {"h": {"deny": []}}


def test_holding_again_replaces_the_set():
    held([LIMIT], {"limit": 1})
    held([LIMIT], {"limit": 7})
    assert regorus._held.policies is not None
    assert json.loads(regorus._held.policies.data_json) == {"limit": 7}
    assert judge(5, {"limit": 7}) == {"h": {"deny": []}}


def test_a_set_is_held_for_its_thread_only():
    # regorus engines must not cross threads: another thread compiles its own.
    held([LIMIT], {"limit": 1})
    seen: list[Any] = []
    thread = threading.Thread(target=lambda: seen.append(regorus._held_for([LIMIT], {"limit": 1})))
    thread.start()
    thread.join()
    assert seen == [None]
    assert regorus._held_for([LIMIT], {"limit": 1}) is not None


def test_required_rules_come_from_the_held_set():
    helpers = PolicyModule("p/x.rego", HEADER.replace("gate.h", "gate.x") + "violation := 1\n")
    held([helpers], {})
    with pytest.raises(Exception, match="no deny or warn rule under data.gate"):
        RegorusEngine().evaluate([helpers], {}, "{}", "data.gate", required_rules=("deny", "warn"))


def test_a_held_set_is_still_bounded_in_time():
    slow = PolicyModule(
        "p/slow.rego",
        HEADER.replace("gate.h", "gate.slow")
        + "deny contains x if {\n\tsome x in numbers.range(1, 100000000)\n\tx < 0\n}\n",
    )
    held([slow], {})
    with pytest.raises(EngineError, match=r"policy evaluation exceeded --timeout 0.5 s"):
        RegorusEngine().evaluate([slow], {}, "{}", "data.gate", timeout=0.5)


def test_a_held_set_is_still_bounded_in_memory():
    huge = PolicyModule(
        "p/huge.rego",
        HEADER.replace("gate.h", "gate.huge")
        + 'deny contains "x" if count(numbers.range(1, 1e10)) > 0\n',
    )
    held([huge], {})
    with pytest.raises(EngineError, match=r"policy evaluation crashed \(SIGABRT\)"):
        RegorusEngine().evaluate([huge], {}, "{}", "data.gate")
    # The process that holds the engine is untouched and evaluates on.
    held([LIMIT], {"limit": 1})
    assert judge(5, {"limit": 1}) == {"h": {"deny": ["5"]}}
