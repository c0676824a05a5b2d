"""The per-user cache of static policy checks (gate/engines/checkcache.py): what is reused,
and every way an entry or the folder can be wrong, each ignored rather than trusted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import AT, fixture

from gate.engines import checkcache, regorus
from gate.engines.checkcache import (
    MAX_ENTRY_BYTES,
    NO_CACHE_ENV,
    cached_rules,
    policy_set_key,
    remember_rules,
)
from gate.engines.regorus import RegorusEngine
from gate.errors import EngineError, PolicyError
from gate.policy import DefinedRule, PolicyModule

HEADER = "package gate.c\n\nimport rego.v1\n\n"
GOOD = PolicyModule("p/c.rego", HEADER + 'deny contains "big" if input.n > 1\n')
UNKNOWN_CALL = PolicyModule(
    "p/u.rego",
    HEADER.replace("gate.c", "gate.u")
    + "deny contains x if {\n  input.never\n  x := no_such_fn(1)\n}\n",
)


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(NO_CACHE_ENV, raising=False)
    return tmp_path / "xdg" / "gate" / "checks"


@pytest.fixture
def checks_run(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the static checks run in this process (load_checked runs them here)."""
    runs: list[int] = []
    real = regorus._check_statically

    def counted(engine, modules):  # type: ignore[no-untyped-def]
        runs.append(1)
        return real(engine, modules)

    monkeypatch.setattr(regorus, "_check_statically", counted)
    return runs


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.exists() else []


def the_key(*modules: PolicyModule) -> str:
    key = policy_set_key(modules, RegorusEngine().version())
    assert key is not None
    return key


def test_a_set_that_passed_is_not_checked_again(cache_home, checks_run):
    _, first = RegorusEngine().load_checked([GOOD], {})
    _, second = RegorusEngine().load_checked([GOOD], {})
    assert len(checks_run) == 1
    assert second == first and any(rule.path == ("gate", "c", "deny") for rule in second)
    (entry,) = entries(cache_home)
    assert entry.name == f"{the_key(GOOD)}.json"


def test_the_folder_and_entries_are_private(cache_home):
    RegorusEngine().load_checked([GOOD], {})
    assert cache_home.stat().st_mode & 0o777 == 0o700
    assert cache_home.parent.stat().st_mode & 0o777 == 0o700
    (entry,) = entries(cache_home)
    assert entry.stat().st_mode & 0o777 == 0o600
    assert not list(cache_home.glob(".new-*"))  # no temporary file left behind


def test_a_failing_set_is_never_cached_and_fails_every_time(cache_home, checks_run):
    for _ in range(2):
        with pytest.raises(PolicyError, match="Unknown function: 'no_such_fn'"):
            RegorusEngine().load_checked([GOOD, UNKNOWN_CALL], {})
    assert len(checks_run) == 2
    assert entries(cache_home) == []


def test_a_passed_set_says_nothing_about_a_set_with_one_module_more(cache_home):
    RegorusEngine().load_checked([GOOD], {})
    with pytest.raises(PolicyError) as caught:
        RegorusEngine().load_checked([GOOD, UNKNOWN_CALL], {})
    assert caught.value.where == "p/u.rego:7:8"


def test_an_entry_planted_under_another_sets_key_does_not_apply(cache_home, checks_run):
    # The file name is not trusted alone: the entry states its key, which must match.
    RegorusEngine().load_checked([GOOD], {})
    (entry,) = entries(cache_home)
    entry.rename(cache_home / f"{the_key(GOOD, UNKNOWN_CALL)}.json")
    with pytest.raises(PolicyError, match="no_such_fn"):
        RegorusEngine().load_checked([GOOD, UNKNOWN_CALL], {})


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda m: PolicyModule(m.path, m.text + "\n"), id="text"),
        pytest.param(lambda m: PolicyModule("p/other.rego", m.text), id="path"),
    ],
)
def test_the_key_covers_every_modules_path_and_text(change):
    other = PolicyModule("p/o.rego", HEADER.replace("gate.c", "gate.o") + "x := 1\n")
    key = the_key(GOOD, other)
    assert the_key(change(GOOD), other) != key
    assert the_key(GOOD, change(other)) != key
    assert the_key(other, GOOD) != key  # load order names the first failing call
    # Length-prefixed: moving a character from a path to its text is another set.
    assert the_key(PolicyModule("a", "bc")) != the_key(PolicyModule("ab", "c"))


def test_the_key_covers_gate_and_regorus_versions(monkeypatch):
    key = the_key(GOOD)
    assert policy_set_key([GOOD], "0.0.0-other") != key
    monkeypatch.setattr(checkcache, "__version__", "9.9.9")
    assert the_key(GOOD) != key


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda text: text[: len(text) // 2], id="truncated"),
        pytest.param(lambda text: "", id="empty"),
        pytest.param(lambda text: "\xff\xfe not json", id="garbage"),
        pytest.param(lambda text: "[]", id="not-an-object"),
        pytest.param(lambda text: text.replace('"format":1', '"format":2'), id="other-format"),
        pytest.param(
            lambda text: text.replace('"function":false', '"function":0', 1), id="int-bool"
        ),
        pytest.param(lambda text: text.replace('"path":["gate"', '"path":[1', 1), id="path-type"),
        pytest.param(
            lambda text: text.replace('"where":"p/c.rego', '"where":["p/c.rego', 1).replace(
                '"}', '"]}', 1
            ),
            id="where-type",
        ),
        pytest.param(
            lambda text: json.dumps({**json.loads(text), "rules": {}}), id="rules-not-list"
        ),
        pytest.param(
            lambda text: json.dumps({**json.loads(text), "rules": ["x"]}), id="rule-not-object"
        ),
        pytest.param(lambda text: json.dumps({**json.loads(text), "rules": [{}]}), id="rule-empty"),
        pytest.param(lambda text: text + " " * MAX_ENTRY_BYTES, id="oversized"),
    ],
)
def test_a_corrupt_entry_is_ignored_and_recomputed(cache_home, checks_run, corrupt):
    _, rules = RegorusEngine().load_checked([GOOD], {})
    (entry,) = entries(cache_home)
    good_text = entry.read_text()
    entry.write_text(corrupt(good_text))
    assert cached_rules(the_key(GOOD)) is None
    _, again = RegorusEngine().load_checked([GOOD], {})
    assert again == rules and len(checks_run) == 2
    assert entry.read_text() == good_text  # rewritten whole


def test_an_entry_that_claims_rules_is_only_believed_for_its_exact_set(cache_home):
    # What a planted entry can do: vouch for these exact modules, nothing more. A set
    # lacking deny/warn whose key carries a forged entry is the documented trust limit;
    # the same forged rules under any other key are never read.
    forged = [DefinedRule(("gate", "x", "deny"), ("gate", "x"), False, "p/x.rego:1")]
    remember_rules(the_key(GOOD), forged)
    assert cached_rules(the_key(GOOD)) == forged
    assert cached_rules(the_key(GOOD, UNKNOWN_CALL)) is None


def test_gate_no_cache_reads_and_writes_nothing(cache_home, checks_run, monkeypatch):
    RegorusEngine().load_checked([GOOD], {})
    (entry,) = entries(cache_home)
    monkeypatch.setenv(NO_CACHE_ENV, "1")
    assert policy_set_key([GOOD], "1") is None
    RegorusEngine().load_checked([GOOD], {})
    RegorusEngine().load_checked([GOOD], {"n": 1})
    assert len(checks_run) == 3
    entry.unlink()
    RegorusEngine().load_checked([GOOD], {})
    assert entries(cache_home) == []


@pytest.mark.parametrize(
    ("value", "cached"), [("", 1), ("0", 1), ("false", 1), ("TRUE", 0), (" yes ", 0)]
)
def test_gate_no_cache_reads_like_gate_no_config(cache_home, monkeypatch, value, cached):
    monkeypatch.setenv(NO_CACHE_ENV, value)
    RegorusEngine().load_checked([GOOD], {})
    assert len(entries(cache_home)) == cached


@pytest.mark.parametrize("folder", ["gate", "checks"])
def test_a_folder_others_may_write_is_not_used(cache_home, checks_run, folder):
    RegorusEngine().load_checked([GOOD], {})
    loose = cache_home if folder == "checks" else cache_home.parent
    loose.chmod(0o777)
    RegorusEngine().load_checked([GOOD], {})
    RegorusEngine().load_checked([GOOD, PolicyModule("p/z.rego", "package z\n\nz := 1\n")], {})
    assert len(checks_run) == 3
    assert len(entries(cache_home)) == 1  # nothing written into it either


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_a_folder_or_entry_of_another_user_is_not_used(cache_home, checks_run):
    RegorusEngine().load_checked([GOOD], {})
    (entry,) = entries(cache_home)
    os.chown(entry, 65534, -1)
    RegorusEngine().load_checked([GOOD], {})
    assert len(checks_run) == 2
    os.chown(cache_home, 65534, -1)
    assert cached_rules(the_key(GOOD)) is None


def test_a_symlinked_entry_or_folder_is_not_followed(cache_home, checks_run, tmp_path):
    RegorusEngine().load_checked([GOOD], {})
    (entry,) = entries(cache_home)
    elsewhere = tmp_path / "elsewhere.json"
    entry.rename(elsewhere)
    entry.symlink_to(elsewhere)
    RegorusEngine().load_checked([GOOD], {})
    assert len(checks_run) == 2
    assert not entry.is_symlink()  # replaced by a file of its own
    real = tmp_path / "real-checks"
    cache_home.rename(real)
    cache_home.symlink_to(real)
    assert cached_rules(the_key(GOOD)) is None


def test_an_unusable_cache_location_only_costs_the_checks(tmp_path, monkeypatch, checks_run):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    for _ in range(2):
        _, rules = RegorusEngine().load_checked([GOOD], {})
        assert rules
    assert len(checks_run) == 2


def test_a_relative_xdg_cache_home_is_ignored_for_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    RegorusEngine().load_checked([GOOD], {})
    assert not (tmp_path / "relative").exists()
    assert len(entries(tmp_path / "home" / ".cache" / "gate" / "checks")) == 1


def test_an_entry_too_large_to_read_back_is_not_written(cache_home, monkeypatch, checks_run):
    monkeypatch.setattr(checkcache, "MAX_ENTRY_BYTES", 100)
    for _ in range(2):
        RegorusEngine().load_checked([GOOD], {})
    assert entries(cache_home) == [] and len(checks_run) == 2


def test_old_entries_are_pruned(cache_home, monkeypatch):
    monkeypatch.setattr(checkcache, "MAX_ENTRIES", 2)
    for number in range(4):
        module = PolicyModule(f"p/{number}.rego", f"package gate.n{number}\n\ndeny := []\n")
        RegorusEngine().load_checked([module], {})
    assert len(entries(cache_home)) == 2


def test_a_builtin_error_is_still_explained_when_the_checks_were_cached(cache_home):
    # The outline the explanation reads is no longer read before evaluating.
    module = PolicyModule(
        "p/num.rego",
        HEADER
        + 'deny contains "x" if {\n\tsome value in input.versions\n\tto_number(value) > 1\n}\n',
    )
    for _ in range(2):
        with pytest.raises(EngineError) as caught:
            RegorusEngine().evaluate([module], {}, json.dumps({"versions": ["1.4.2"]}), "data.gate")
        assert caught.value.where == "p/num.rego:7"
        assert caught.value.message == (
            "policy evaluation failed: could not parse string as number: "
            'to_number("1.4.2") in rule data.gate.c.deny'
        )
    assert len(entries(cache_home)) == 1


def test_required_rules_are_enforced_from_a_cached_entry(cache_home):
    helpers = PolicyModule("p/h.rego", HEADER.replace("gate.c", "gate.h") + "violation := 1\n")
    for _ in range(2):
        with pytest.raises(PolicyError, match="no deny or warn rule under data.gate"):
            RegorusEngine().evaluate(
                [helpers], {}, "{}", "data.gate", required_rules=("deny", "warn")
            )
    assert len(entries(cache_home)) == 1  # its static checks passed: cached, still refused


def test_the_test_suite_never_writes_into_the_real_home_cache():
    cache = os.environ.get("XDG_CACHE_HOME", "")
    assert cache and Path(cache).is_absolute()
    assert not Path(cache).resolve().is_relative_to(Path.home().resolve() / ".cache")


def test_gate_check_twice_gives_the_same_verdict_and_writes_one_entry(tmp_path):
    report = fixture("reports/trivy/v2-image.json")
    command = [sys.executable, "-m", "gate", "check", str(report), "--stage", "prod"]
    command += ["--at", AT, "-f", "json", "-q", "--explain", "--no-config"]
    cache = tmp_path / "xdg"
    runs = []
    for no_cache in ("1", "", ""):
        env = {**os.environ, "XDG_CACHE_HOME": str(cache), NO_CACHE_ENV: no_cache}
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 1, done.stderr
        runs.append(done.stdout)
        assert len(entries(cache / "gate" / "checks")) == (0 if no_cache else 1)
    assert runs[0] == runs[1] == runs[2]
