"""No policy ends gate by a signal or holds it forever (issue 7 §5).

Evaluation runs in a forked child: a recursive function (SIGSEGV in regorus), an
expensive policy past --timeout and Ctrl-C are each exit 3 with a clear message, in
``gate check`` and in ``gate policy test``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import AT, ROOT, fixture

from gate.engines.isolation import (
    DEFAULT_TIMEOUT,
    note,
    parse_timeout,
    resolve_timeout,
    run_isolated,
)
from gate.errors import EngineError, PolicyError, UsageError

TRIVY = fixture("reports/trivy/v2-image.json")
HEADER = "package gate.x\n\nimport rego.v1\n\n"
RECURSIVE = 'f(x) := f(x + 1)\n\ndeny contains "x" if f(1) > 0\n'
MUTUAL = 'f(x) := g(x + 1)\n\ng(x) := f(x + 1)\n\ndeny contains "x" if f(1) > 0\n'
# Ten billion steps and almost no memory: only the time limit stops it.
EXPENSIVE = (
    'deny contains "x" if {\n\tsome i in numbers.range(1, 100000)\n'
    "\tsome j in numbers.range(1, 100000)\n\ti * j == -1\n}\n"
)
CRASHED = "policy evaluation crashed (SIGSEGV); a recursive rule or function is the usual cause"


def policy_dir(root: Path, body: str, tests: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "p.rego").write_text(HEADER + body)
    if tests is not None:
        (root / "p_test.rego").write_text(
            "package gate.x_test\n\nimport rego.v1\n\nimport data.gate.x\n\n" + tests
        )
    return root


def check(gate_cli, *args: str | Path):
    return gate_cli("check", TRIVY, "--at", AT, *args)


@pytest.fixture
def no_timeout_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATE_TIMEOUT", raising=False)


# ---------------------------------------------------------------------------------------
# Crashes
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "where", "chain"),
    [
        (RECURSIVE, "5:9", "gate.x.f -> gate.x.f"),
        (MUTUAL, "7:9", "gate.x.f -> gate.x.g -> gate.x.f"),
    ],
    ids=["self", "mutual"],
)
def test_recursion_is_refused_before_evaluation(gate_cli, tmp_path, body, where, chain) -> None:
    # As opa does (rego_recursion_error): regorus would recurse until SIGSEGV.
    policies = policy_dir(tmp_path / "p", body)
    for command in (["check", TRIVY, "-p", policies], ["policy", "test", policies]):
        result = gate_cli(*command)
        assert result.code == 3
        assert result.err.startswith(
            f"error: {policies / 'p.rego'}:{where}: policy does not compile: "
            f"function gate.x.f is recursive: {chain}\n"
        )


def test_recursion_through_an_imported_package_is_refused(gate_cli, tmp_path: Path) -> None:
    policies = policy_dir(tmp_path / "p", 'import data.lib.a\n\ndeny contains "x" if a.f(1)\n')
    (policies / "lib.rego").write_text(
        "package lib.a\n\nimport rego.v1\n\nimport data.lib.a as me\n\n"
        "f(x) := data.lib.a.g(x)\n\ng(x) := me.f(x)\n"
    )
    result = check(gate_cli, "-p", policies)
    assert result.code == 3
    assert "function lib.a.f is recursive: lib.a.f -> lib.a.g -> lib.a.f" in result.err


def deeply_nested(levels: int) -> str:
    """A rule whose value nests ``levels`` additions: no recursion, yet regorus' parser
    recurses once per level (450 per line keeps within its column and line limits)."""
    line = "+".join(["1"] * 450)
    return "v := 1 + " + " +\n".join([line] * (levels // 450)) + '\n\ndeny contains "x" if v > 5\n'


def test_a_native_crash_is_no_verdict_not_a_signal(gate_cli, tmp_path: Path) -> None:
    policies = policy_dir(tmp_path / "p", deeply_nested(90_000))
    result = check(gate_cli, "-p", policies)
    assert result.code == 3
    assert result.err.startswith(f"error: {policies / 'p.rego'}: {CRASHED}\n")
    result = gate_cli("policy", "test", policies)
    assert result.code == 3
    assert result.err.startswith(f"error: {policies}: {CRASHED.replace('evaluation', 'test')}\n")
    result = gate_cli("policy", "lint", policies)
    assert result.code == 3
    assert result.err.startswith(f"error: {policies}: {CRASHED.replace('evaluation', 'lint')}\n")


def test_memory_is_bounded(gate_cli, tmp_path: Path) -> None:
    policies = policy_dir(
        tmp_path / "p", 'deny contains "x" if count(numbers.range(1, 1e10)) > 0\n'
    )
    result = check(gate_cli, "-p", policies)
    assert result.code == 3
    assert result.err.startswith(
        f"error: {policies / 'p.rego'}: policy evaluation crashed (SIGABRT); "
        "running out of memory is the usual cause\n"
    )


def test_a_crash_in_policy_test_names_the_test(gate_cli, tmp_path: Path) -> None:
    tests = "test_quiet if count(x.deny) == 0\n\ntest_huge if count(numbers.range(1, 1e10)) > 0\n"
    policies = policy_dir(tmp_path / "p", 'deny contains "x" if input.go\n', tests)
    result = gate_cli("policy", "test", policies)
    assert result.code == 3
    assert result.err.startswith(
        f"error: {policies}: policy test crashed (SIGABRT) in test gate.x_test.test_huge "
        f"({policies / 'p_test.rego'}:9); running out of memory is the usual cause\n"
    )


def test_the_same_policies_still_evaluate(gate_cli, tmp_path: Path) -> None:
    # The happy path next to the hostile one: isolation returns the verdict unchanged.
    policies = policy_dir(tmp_path / "p", 'deny contains {"id": "x", "msg": "m"} if true\n')
    result = check(gate_cli, "-p", policies, "-f", "json")
    assert result.code == 1
    assert '"msg": "m"' in result.out


# ---------------------------------------------------------------------------------------
# Time limits
# ---------------------------------------------------------------------------------------


def test_timeout_stops_an_expensive_policy(gate_cli, tmp_path, no_timeout_env) -> None:
    policies = policy_dir(tmp_path / "p", EXPENSIVE)
    started = time.monotonic()
    result = check(gate_cli, "-p", policies, "--timeout", "1")
    assert time.monotonic() - started < 10  # generous: the limit is what is under test
    assert result.code == 3
    assert result.err.startswith(
        f"error: {policies / 'p.rego'}: policy evaluation exceeded --timeout 1 s\n"
    )


def test_timeout_from_the_environment(gate_cli, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GATE_TIMEOUT", "0.5")
    result = check(gate_cli, "-p", policy_dir(tmp_path / "p", EXPENSIVE))
    assert result.code == 3
    assert "policy evaluation exceeded --timeout 0.5 s" in result.err


def test_timeout_from_the_data(gate_cli, tmp_path, no_timeout_env) -> None:
    policies = policy_dir(tmp_path / "p", EXPENSIVE)
    (policies / "data.json").write_text('{"gate_config": {"timeout_seconds": 0.5}}')
    result = check(gate_cli, "-p", policies)
    assert result.code == 3
    assert "policy evaluation exceeded --timeout 0.5 s" in result.err


def test_policy_test_is_bounded_by_the_environment(gate_cli, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GATE_TIMEOUT", "0.5")
    tests = (
        "test_quiet if count(x.deny) == 0\n\ntest_slow if count(x.deny) == 0 with input.go as 1\n"
    )
    body = EXPENSIVE.replace("if {", "if {\n\tinput.go")
    policies = policy_dir(tmp_path / "p", body, tests)
    result = gate_cli("policy", "test", policies)
    assert result.code == 3
    assert result.err.startswith(
        f"error: {policies}: policy test exceeded GATE_TIMEOUT 0.5 s in test "
        f"gate.x_test.test_slow ({policies / 'p_test.rego'}:9)\n"
        "hint: raise it with GATE_TIMEOUT, or make the policy cheaper\n"
    )


def test_a_parser_blow_up_is_bounded_too(gate_cli, tmp_path, no_timeout_env) -> None:
    # regorus parses nested brackets in exponential time: 40 levels, 100 bytes, would
    # hold gate for ever. The policy is parsed in the child, so --timeout bounds it.
    policies = policy_dir(tmp_path / "p", f"v := {'[' * 40}{']' * 40}\n\ndeny contains 1 if v\n")
    result = check(gate_cli, "-p", policies, "--timeout", "1")
    assert result.code == 3
    assert "policy evaluation exceeded --timeout 1 s" in result.err
    monkeypatch = pytest.MonkeyPatch()
    with monkeypatch.context() as patched:
        patched.setenv("GATE_TIMEOUT", "1")
        result = gate_cli("policy", "lint", policies)
    assert result.code == 3
    assert "policy lint exceeded GATE_TIMEOUT 1 s" in result.err


def test_precedence_flag_over_env_over_data_over_default(monkeypatch) -> None:
    data = {"gate_config": {"timeout_seconds": 30}}
    monkeypatch.delenv("GATE_TIMEOUT", raising=False)
    assert resolve_timeout(None, {}) == DEFAULT_TIMEOUT == 300
    assert resolve_timeout(None, data) == 30
    monkeypatch.setenv("GATE_TIMEOUT", "20")
    assert resolve_timeout(None, data) == 20
    assert resolve_timeout(10, data) == 10
    monkeypatch.setenv("GATE_TIMEOUT", "not a number")  # the flag wins: env is not read
    assert resolve_timeout(10, data) == 10


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "inf", "", "1e999"])
def test_invalid_timeout_flag_is_a_usage_error(gate_cli, value: str) -> None:
    result = check(gate_cli, "--timeout", value)
    assert result.code == 2
    assert result.err.startswith(
        f"error: --timeout: {value!r} is not a number of seconds above zero\n"
    )


def test_invalid_timeout_env_is_a_usage_error(gate_cli, monkeypatch) -> None:
    monkeypatch.setenv("GATE_TIMEOUT", "-5")
    result = check(gate_cli)
    assert result.code == 2
    assert result.err.startswith(
        "error: GATE_TIMEOUT: '-5' is not a number of seconds above zero\n"
    )


@pytest.mark.parametrize("value", ["soon", 0, True, None, [1]])
def test_invalid_timeout_data_is_a_usage_error(gate_cli, tmp_path, no_timeout_env, value) -> None:
    data_file = tmp_path / "d.json"
    data_file.write_text(f'{{"gate_config": {{"timeout_seconds": {_json(value)}}}}}')
    result = check(gate_cli, "-d", data_file)
    assert result.code == 2
    assert result.err.startswith(
        f"error: data gate_config.timeout_seconds: {value!r} is not a number of seconds"
    )


def _json(value: object) -> str:
    import json

    return json.dumps(value)


def test_parse_timeout_accepts_numbers_and_numeric_text() -> None:
    assert parse_timeout("2.5", "x") == 2.5
    assert parse_timeout(3, "x") == 3.0
    with pytest.raises(UsageError):
        parse_timeout(False, "x")


# ---------------------------------------------------------------------------------------
# Ctrl-C
# ---------------------------------------------------------------------------------------


def test_ctrl_c_kills_the_child_and_exits_3(tmp_path: Path) -> None:
    policies = policy_dir(tmp_path / "p", EXPENSIVE)
    env = {**os.environ, "GATE_TIMEOUT": "60"}
    command = [sys.executable, "-m", "gate", "check", str(TRIVY), "-p", str(policies)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell's background jobs inherit SIGINT ignored; a terminal's Ctrl-C is not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    child = ""
    deadline = time.monotonic() + 20
    while not child and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
        child = children.read_text().strip() if children.exists() else ""
    assert child, "gate never started its evaluation child"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=10)
    assert process.returncode == 3
    assert err.strip() == "error: interrupted"  # click first ends the ^C line
    assert not Path(f"/proc/{child}").exists() or _is_zombie_of_other(child)


def _is_zombie_of_other(pid: str) -> bool:
    # The pid may already be reused by an unrelated process; our child is gone if the pid
    # now belongs to something that is not a gate evaluation.
    try:
        return "gate" not in Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return True


# ---------------------------------------------------------------------------------------
# The isolation helper itself
# ---------------------------------------------------------------------------------------


def test_errors_raised_in_the_child_arrive_as_they_were() -> None:
    def fails() -> None:
        raise PolicyError("bad rule", where="p.rego:3", hint="fix it")

    with pytest.raises(PolicyError) as caught:
        run_isolated(fails, timeout=10, what="work", where="p")
    assert (caught.value.message, caught.value.where, caught.value.hint) == (
        "bad rule",
        "p.rego:3",
        "fix it",
    )


def test_a_bug_in_the_child_is_no_verdict() -> None:
    def buggy() -> None:
        raise ValueError("oops")

    with pytest.raises(EngineError) as caught:
        run_isolated(buggy, timeout=10, what="work", where="p")
    assert caught.value.message == "work failed: ValueError: oops"


def test_a_child_that_exits_without_answering_is_no_verdict() -> None:
    with pytest.raises(EngineError) as caught:
        run_isolated(lambda: os._exit(7), timeout=10, what="work", where="p")
    assert caught.value.message == "work ended without an answer (exit status 7)"


def test_a_crash_names_the_last_note() -> None:
    def crashes() -> None:
        note("rule gate.x.deny")
        os.kill(os.getpid(), signal.SIGABRT)

    with pytest.raises(EngineError) as caught:
        run_isolated(crashes, timeout=10, what="work", where="p")
    assert caught.value.message.startswith("work crashed (SIGABRT) in rule gate.x.deny;")
    assert caught.value.where == "p"


def test_large_answers_come_back_whole() -> None:
    answer = {"deny": ["x" * 1000] * 5000}
    assert run_isolated(lambda: answer, timeout=30, what="work", where=None) == answer


def test_note_outside_a_child_does_nothing() -> None:
    note("nothing listens")  # must neither fail nor write anywhere
