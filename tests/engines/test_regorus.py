"""Engine contract, run over every registered engine that is available."""

from __future__ import annotations

import json

import pytest

from gate.engines import ENGINES, REMOTE_ENGINES, make_engine
from gate.errors import EngineError, PolicyError, UsageError
from gate.policy import PolicyModule

GOOD = PolicyModule(
    "policies/good.rego",
    "package gate.good\n\nimport rego.v1\n\n"
    'deny contains {"id": "big", "msg": sprintf("%d", [input.n])} if input.n > data.limit\n',
)


@pytest.fixture(params=sorted(ENGINES))
def engine(request):
    if request.param in REMOTE_ENGINES:
        pytest.skip("needs a server: tests/engines/test_opa.py runs it against a stand-in")
    return make_engine(request.param)


def test_evaluates_the_whole_tree(engine):
    value = engine.evaluate([GOOD], {"limit": 1}, json.dumps({"n": 5}), "data.gate")
    assert value == {"good": {"deny": [{"id": "big", "msg": "5"}]}}
    assert engine.evaluate([GOOD], {"limit": 9}, json.dumps({"n": 5}), "data.gate") == {
        "good": {"deny": []}
    }


def test_undefined_query_is_none(engine):
    assert engine.evaluate([GOOD], {}, "{}", "data.nothing.here") is None


def test_syntax_error_names_file_and_line(engine):
    broken = PolicyModule(
        "policies/broken.rego",
        "package gate.broken\n\nimport rego.v1\n\ndeny contains x if {\n  x := \n}\n",
    )
    with pytest.raises(PolicyError) as caught:
        engine.evaluate([GOOD, broken], {}, "{}", "data.gate")
    assert caught.value.where is not None and caught.value.where.startswith("policies/broken.rego:")
    assert "does not compile" in caught.value.message


def test_builtin_error_is_no_verdict_not_a_pass(engine):
    module = PolicyModule(
        "p/div.rego",
        "package gate.div\n\nimport rego.v1\n\n"
        'deny contains {"id": "x", "msg": "m"} if 1 / input.zero > 0\n',
    )
    with pytest.raises(EngineError) as caught:
        engine.evaluate([module], {}, json.dumps({"zero": 0}), "data.gate")
    assert caught.value.where is not None and caught.value.where.startswith("p/div.rego:5:")


def test_unknown_function_is_reported_with_its_place(engine):
    module = PolicyModule(
        "p/f.rego", "package gate.f\n\nimport rego.v1\n\ndeny contains x if x := no_such_fn(1)\n"
    )
    with pytest.raises((EngineError, PolicyError)) as caught:
        engine.evaluate([module], {}, "{}", "data.gate")
    assert caught.value.where.startswith("p/f.rego:5")


def test_version_is_recorded(engine):
    assert engine.version()[0].isdigit()


def test_unknown_engine_is_a_usage_error():
    with pytest.raises(UsageError):
        make_engine("nope")
