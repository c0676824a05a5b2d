"""`gate policy test`: discovery, outcomes, output formats, coverage and exit codes.

The fixture trees live in fixtures/policies/testing/: `passing` (two packages, data.yaml),
`failing` (one pass, two failures, one builtin error), `coverage` (known covered and
uncovered lines, one module no test reaches), `discovery` (what is and is not a test),
`broken`/`unsafe` (do not compile), `notests`, `duplicate`.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import fixture

from gate.errors import PolicyError
from gate.policy import default_policy_dir
from gate.policytest import (
    RegoSuite,
    coverable_lines,
    load_suite,
    select_tests,
)

TESTING = fixture("policies/testing")
PASSING = TESTING / "passing"
FAILING = TESTING / "failing"
COVERAGE = TESTING / "coverage"
CHECK_TEST = FAILING / "check_test.rego"


def test_passing_tree_prints_only_the_summary(gate_cli) -> None:
    result = gate_cli("policy", "test", PASSING)
    assert (result.code, result.out, result.err) == (0, "PASS: 3/3\n", "")


def test_failures_and_errors_are_listed_with_file_line_and_prints(gate_cli) -> None:
    """Golden text: only the failing tests, each at its rule's line, the message, the
    test's print() output; then the counts. Errors are counted apart from failures."""
    result = gate_cli("policy", "test", FAILING)
    assert result.code == 1
    assert result.out == (
        f"FAIL: {CHECK_TEST}:11: testing.check_test.test_bob_allowed\n"
        "  undefined\n"
        f'  {CHECK_TEST}:13: check.allowed with input as {{"user": "bob"}} is false or '
        "undefined\n"
        "    check.allowed = undefined\n"
        "  prints:\n"
        f"    {CHECK_TEST}:12: checking bob\n"
        f"FAIL: {CHECK_TEST}:17: testing.check_test.test_not_true\n"
        '  evaluated to {"user": "carol"}, not true\n'
        f"ERROR: {CHECK_TEST}:20: testing.check_test.test_number_parsing\n"
        f"  could not parse string as number ({CHECK_TEST}:22:16)\n"
        "  prints:\n"
        f"    {CHECK_TEST}:21: parsing\n"
        f"{'-' * 80}\n"
        "PASS: 1/4\n"
        "FAIL: 2/4\n"
        "ERROR: 1/4\n"
    )


def test_library_outcomes() -> None:
    """The same run through the library: outcome, message and prints per test."""
    report = load_suite([FAILING]).run()
    outcomes = {r.test.name: (r.outcome, r.message, r.prints) for r in report.results}
    assert outcomes["test_alice_allowed"] == ("pass", None, ())
    assert outcomes["test_bob_allowed"][0:2] == ("fail", "undefined")
    assert outcomes["test_not_true"][0] == "fail"
    outcome, message, prints = outcomes["test_number_parsing"]
    assert outcome == "error"
    assert message is not None and message.endswith("check_test.rego:22:16)")
    assert prints == (f"{CHECK_TEST}:21: parsing",)
    assert report.counts == {"pass": 1, "fail": 2, "error": 1}
    assert not report.passed


def test_verbose_lists_every_test_with_its_duration(gate_cli) -> None:
    result = gate_cli("policy", "test", PASSING, "-v")
    assert result.code == 0
    lines = result.out.splitlines()
    tests = [line for line in lines if line.startswith("PASS: ") and "(" in line]
    assert [re.sub(r" \(\d+\.\d\d ms\)$", "", line).rsplit(" ", 1)[-1] for line in tests] == [
        "testing.util_test.test_counts_only_critical",
        "testing.limit_test.test_one_critical_allowed",
        "testing.limit_test.test_two_criticals_denied",
    ], "every test, by file (lib/ before rules/) then line"
    assert lines[-2:-1] == ["PASS: 3/3"] and lines[-1].startswith("time: ")


def test_data_option_is_merged_over_the_tree_data(gate_cli) -> None:
    """The tree's data.yaml allows one critical; --data lowers it to none, so the test
    that relies on the allowance fails: data really reaches the tests."""
    result = gate_cli("policy", "test", PASSING, "--data", TESTING / "strict-limits.yaml")
    assert result.code == 1
    assert "FAIL: " in result.out and "test_one_critical_allowed" in result.out


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("alice", ["test_alice_allowed"]),
        ("bob|alice", ["test_alice_allowed", "test_bob_allowed"]),
        (r"^testing\.check_test\.test_n", ["test_not_true", "test_number_parsing"]),
        (
            "check_test",
            ["test_alice_allowed", "test_bob_allowed", "test_not_true", "test_number_parsing"],
        ),
    ],
    ids=["one", "alternation", "anchored-package", "package"],
)
def test_run_filters_by_package_and_name(pattern: str, expected: list[str]) -> None:
    tests = load_suite([FAILING]).tests
    assert [t.name for t in select_tests(tests, pattern)] == expected


def test_run_through_the_cli(gate_cli) -> None:
    result = gate_cli("policy", "test", FAILING, "--run", "alice")
    assert (result.code, result.out) == (0, "PASS: 1/1\n")
    result = gate_cli("policy", "test", FAILING, "--run", "nothing-matches")
    assert result.code == 1
    assert result.out == "no tests found\n" and "--run 'nothing-matches'" in result.err
    result = gate_cli("policy", "test", FAILING, "--run", "(")
    assert result.code == 2 and "invalid regular expression" in result.err


def test_json_output(gate_cli) -> None:
    result = gate_cli("policy", "test", FAILING, "--format", "json")
    assert result.code == 1
    document = json.loads(result.out)
    assert set(document) == {"tests", "summary"}
    assert [(t["name"], t["line"], t["result"]) for t in document["tests"]] == [
        ("test_alice_allowed", 6, "pass"),
        ("test_bob_allowed", 11, "fail"),
        ("test_not_true", 17, "fail"),
        ("test_number_parsing", 20, "error"),
    ]
    bob = document["tests"][1]
    assert bob["file"] == str(CHECK_TEST) and bob["package"] == "testing.check_test"
    assert bob["message"] == "undefined" and bob["prints"] == [f"{CHECK_TEST}:12: checking bob"]
    assert isinstance(bob["duration_ms"], float)
    assert {k: v for k, v in document["summary"].items() if k != "duration_ms"} == {
        "total": 4,
        "passed": 1,
        "failed": 2,
        "errors": 1,
        "ok": False,
    }


def test_junit_output(gate_cli) -> None:
    """JUnit XML (our own output, parsed back to check it): a suite per file, a case per
    test with classname = package, failure/error elements naming file:line."""
    result = gate_cli("policy", "test", FAILING, "--format", "junit")
    assert result.code == 1
    root = ET.fromstring(result.out)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "2", "1")
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == str(CHECK_TEST)
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert list(cases) == [
        "test_alice_allowed",
        "test_bob_allowed",
        "test_not_true",
        "test_number_parsing",
    ]
    assert all(case.get("classname") == "testing.check_test" for case in cases.values())
    assert list(cases["test_alice_allowed"]) == []
    failure = cases["test_bob_allowed"].find("failure")
    assert failure is not None and failure.get("message") == "undefined"
    assert (failure.text or "").startswith(f"{CHECK_TEST}:11: ")
    assert cases["test_bob_allowed"].findtext("system-out") == f"{CHECK_TEST}:12: checking bob\n"
    error = cases["test_number_parsing"].find("error")
    assert error is not None and (error.text or "").startswith(f"{CHECK_TEST}:20: ")
    assert cases["test_number_parsing"].find("failure") is None


# ---------------------------------------------------------------------------------------
# Coverage
# ---------------------------------------------------------------------------------------


def test_coverage_numbers_on_a_known_tree() -> None:
    """cov.rego: double() (lines 5-6) is called by the test, triple() (9-10) is not;
    untested.rego is reached by no test at all and still counts (0 of 2), rather than
    vanishing from the total; the test file itself is not measured."""
    report = load_suite([COVERAGE]).run(coverage=True)
    assert report.coverage is not None
    files = {Path(f.path).name: (f.covered, f.not_covered) for f in report.coverage.files}
    assert files == {"cov.rego": ((5, 6), (9, 10)), "untested.rego": ((), (5, 6))}
    assert (report.coverage.covered, report.coverage.total) == (2, 6)
    assert report.coverage.percent == pytest.approx(100 * 2 / 6)


def test_coverage_table_and_json(gate_cli) -> None:
    result = gate_cli("policy", "test", COVERAGE, "--coverage")
    assert result.code == 0
    table = result.out.splitlines()
    assert table[0] == "PASS: 1/1"
    assert re.search(r"cov\.rego +2/4 +50\.00% +not covered: 9-10$", result.out, re.M)
    assert re.search(r"untested\.rego +0/2 +0\.00% +not covered: 5-6$", result.out, re.M)
    assert re.search(r"^  total +2/6 +33\.33%$", result.out, re.M)
    document = json.loads(gate_cli("policy", "test", COVERAGE, "--coverage", "-f", "json").out)
    coverage = document["coverage"]
    assert (coverage["covered"], coverage["total"], coverage["percent"]) == (2, 6, 33.33)
    assert coverage["files"][0]["not_covered_lines"] == [9, 10]
    assert (coverage["min_coverage"], coverage["ok"]) == (None, True)


@pytest.mark.parametrize(
    ("minimum", "code"),
    [("0", 0), ("33.3", 0), ("33.34", 1), ("90", 1)],
    ids=["zero", "just-below-actual", "just-above-actual", "ninety"],
)
def test_min_coverage(gate_cli, minimum: str, code: int) -> None:
    """--min-coverage implies --coverage and fails the run (exit 1) below the threshold,
    saying so on stderr; the tests themselves all pass."""
    result = gate_cli("policy", "test", COVERAGE, "--min-coverage", minimum)
    assert result.code == code
    assert "total" in result.out
    below = f"coverage 33.33% is below --min-coverage {float(minimum):.2f}%"
    assert (below in result.err) == (code == 1)


def test_min_coverage_out_of_range_is_a_usage_error(gate_cli) -> None:
    assert gate_cli("policy", "test", COVERAGE, "--min-coverage", "101").code == 2


def test_coverable_lines_agree_with_regorus() -> None:
    """gate computes the coverable lines of modules no test reaches (regorus leaves them
    out); on every module regorus does report, the two must agree exactly."""
    suite = load_suite([default_policy_dir(), COVERAGE])
    engine = suite.engine.clone()
    engine.set_enable_coverage(True)
    # One clone per test, as the runner does; regorus reports every module it touched.
    reported: dict[str, set[int]] = {}
    for test in suite.tests:
        clone = engine.clone()
        clone.eval_rule(test.query)
        for entry in json.loads(clone.get_coverage_report_as_json())["files"]:
            reported.setdefault(entry["path"], set()).update(entry["covered"], entry["not_covered"])
    rules = {module.path: module.rules for module in suite.ast}
    assert len(reported) > 40
    for path, lines in reported.items():
        assert coverable_lines(rules[path]) == lines, path


# ---------------------------------------------------------------------------------------
# Discovery, broken trees, exit codes
# ---------------------------------------------------------------------------------------


def test_discovery_rules() -> None:
    """test_* rules in any module (ordered by file, then line; the rule's own line), sets
    included; functions, defaults and ref heads named test_* are not tests."""
    suite = load_suite([TESTING / "discovery"])
    assert [(Path(t.file).name, t.line, t.id) for t in suite.tests] == [
        ("other_test.rego", 5, "testing.discovery_test.test_second"),
        ("other_test.rego", 7, "testing.discovery_test.test_first"),
        ("rules.rego", 6, "testing.discovery.test_inline"),
        ("rules.rego", 18, "testing.discovery.test_set"),
    ]
    outcomes = {r.test.name: (r.outcome, r.message) for r in suite.run().results}
    assert outcomes["test_set"] == ("fail", "evaluated to [1], not true")


def test_a_test_defined_twice_is_an_error(gate_cli) -> None:
    """Rego ORs the two bodies (false OR true is true): run as one, the failing definition
    would hide. gate reports the name as an error instead."""
    result = gate_cli("policy", "test", TESTING / "duplicate")
    assert result.code == 1
    assert "ERROR: " in result.out and "dup_test.rego:5: testing.dup_test.test_twice" in result.out
    assert "also defined at " in result.out and "dup_test.rego:7" in result.out


@pytest.mark.parametrize(
    ("tree", "where", "what"),
    [
        ("broken", "syntax.rego:7:1", "policy does not compile: expecting expression"),
        ("unsafe", "unsafe_test.rego:6:5", "use of undefined variable `x` is unsafe"),
    ],
    ids=["syntax-error", "unsafe-variable"],
)
def test_policies_that_do_not_compile_exit_3(gate_cli, tree: str, where: str, what: str) -> None:
    result = gate_cli("policy", "test", TESTING / tree)
    assert result.code == 3 and result.out == ""
    assert result.err.startswith("error: ") and where in result.err and what in result.err
    with pytest.raises(PolicyError, match="does not compile"):
        load_suite([TESTING / tree])


def test_no_tests_is_a_failure(gate_cli) -> None:
    """A test step that ran nothing must not look green in CI."""
    result = gate_cli("policy", "test", TESTING / "notests")
    assert (result.code, result.out) == (1, "no tests found\n")
    result = gate_cli("policy", "test", TESTING / "notests", "-f", "json")
    assert result.code == 1 and json.loads(result.out)["summary"]["total"] == 0
    assert "no tests found" in result.err


def test_missing_path_is_a_usage_error(gate_cli) -> None:
    result = gate_cli("policy", "test", TESTING / "no-such-dir")
    assert result.code == 2 and "no such policy file or directory" in result.err


# ---------------------------------------------------------------------------------------
# The bundled pack
# ---------------------------------------------------------------------------------------


def test_bundled_pack_passes_with_min_coverage_90(gate_cli) -> None:
    """The issue's acceptance check: `gate policy test --min-coverage 90` on the default pack."""
    result = gate_cli("policy", "test", "--min-coverage", "90")
    assert result.code == 0, result.out + result.err
    summary = re.search(r"^PASS: (\d+)/(\d+)$", result.out, re.M)
    assert summary and summary[1] == summary[2] and int(summary[1]) >= 100
    total = re.search(r"^  total +(\d+)/(\d+) +([\d.]+)%$", result.out, re.M)
    assert total and float(total[3]) >= 90


def test_suite_reuses_one_compiled_engine() -> None:
    """Every test runs on a clone of the suite's engine: a suite compiled once can run its
    tests again (with and without coverage) with the same results."""
    suite = RegoSuite.compile(load_suite([PASSING]).modules, {"limits": {"max_critical": 1}})
    first = [r.outcome for r in suite.run().results]
    again = [r.outcome for r in suite.run(coverage=True).results]
    assert first == again == ["pass", "pass", "pass"]
