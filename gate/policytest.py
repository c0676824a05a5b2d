"""``gate policy test``: run the Rego unit tests of a policy tree, like ``opa test``, with regorus.

What is a test, and when it passes (the choices made where OPA and regorus differ):

- **Discovery.** A test is a rule whose whole name starts with ``test_`` (``test_x if …``,
  ``test_x := …``, ``test_x contains …``) in *any* loaded module, as ``opa test`` does; by
  convention they live in ``*_test.rego`` packages, which ``gate check`` never loads.
  Functions (``test_x(a) if …``), ``default`` rules and ref heads (``a.test_x``,
  ``test_x[k]``) are not tests. Rules are read from the engine's AST
  (``get_ast_as_json``), so the tests found are the rules regorus parsed, at their line.
- **Verdict.** A test *passes* when its value is ``true``; it *fails* when it is false,
  undefined or any other value; it is an *error* when evaluation raises (a builtin error such
  as ``to_number("x")``, an unknown function, a conflict): errors are counted apart from
  failures. A name defined several times in one package (``test_x if {…}`` twice) is an
  error: Rego ORs the definitions, so one failing body would hide behind a passing one, and
  regorus cannot evaluate them separately as OPA does.
- **Order.** By file (load order: the paths as given, each directory sorted), then line.
- **No tests** (none discovered, or none matching ``--run``) is a failure (exit 1): a test
  step that ran nothing must not look green in CI.
- **Coverage** (``--coverage``): regorus line coverage (a line is covered when an
  expression on it was evaluated by some test), merged over every test, of the modules that
  are not ``*_test.rego``. A module no test reaches is absent from regorus' report; gate
  then computes its coverable lines from the AST the way regorus does
  (:func:`coverable_lines`), so an untested file counts as 0 % rather than disappearing
  from the total.

Speed: the policies are compiled once; the first evaluation does regorus' (lazy) analysis
and is done once on the base engine before it is cloned, so that each test runs on a cheap
``engine.clone()`` that shares the analysed policy. Without that warm-up every clone
analyses the whole policy again (ten times slower on the bundled pack).
"""

from __future__ import annotations

import json
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from gate.cli import debug_option, policy_path_options
from gate.errors import ExitCode, UsageError
from gate.policy import (
    DEFAULT_POLICIES_NAME,
    PolicyModule,
    is_test_module,
    load_bundle,
    load_policies,
)

if TYPE_CHECKING:
    from gate.engines.outline import Outline

Outcome = Literal["pass", "fail", "error"]
TEST_PREFIX = "test_"
UNDEFINED = "<undefined>"
"""What regorus' ``eval_rule_as_json`` gives for an undefined rule (not true either way)."""
FORMATS = ("text", "json", "junit")
_SEPARATOR = "-" * 80


# ---------------------------------------------------------------------------------------
# Discovery
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegoTest:
    """One Rego unit test: a ``test_*`` rule of ``package``, defined at ``file``:``line``."""

    package: str
    name: str
    file: str
    line: int
    duplicates: tuple[str, ...] = ()
    """Other places (``file:line``) that define the same rule: such a test is an error."""

    @property
    def id(self) -> str:
        """``package.name``, what ``--run`` matches and what reports name the test by."""
        return f"{self.package}.{self.name}"

    @property
    def location(self) -> str:
        """``file:line`` of the (first) definition."""
        return f"{self.file}:{self.line}"

    @property
    def query(self) -> str:
        """The rule's path in ``data``."""
        return f"data.{self.package}.{self.name}"


def _ref_parts(node: dict[str, Any]) -> list[str] | None:
    """Flatten an AST reference (``Var`` / ``RefDot`` / ``RefBrack`` with a string) to its
    parts; None for anything else (a computed index)."""
    if "Var" in node:
        return [str(node["Var"]["value"])]
    if "RefDot" in node:
        ref = node["RefDot"]
        base = _ref_parts(ref["refr"])
        return None if base is None else [*base, str(ref["field"][1])]
    if "RefBrack" in node:
        ref = node["RefBrack"]
        base = _ref_parts(ref["refr"])
        index = ref["index"].get("String")
        return None if base is None or index is None else [*base, str(index["value"])]
    return None


def _test_name(rule: dict[str, Any]) -> str | None:
    """The name of a rule that is a test (see the module docstring), else None."""
    spec = rule.get("Spec")
    if spec is None:  # default rules
        return None
    ((kind, head),) = spec["head"].items()
    if kind not in ("Compr", "Set"):  # functions are not tests
        return None
    parts = _ref_parts(head["refr"])
    if parts is None or len(parts) != 1 or not parts[0].startswith(TEST_PREFIX):
        return None
    return parts[0]


@dataclass(frozen=True)
class AstModule:
    """What discovery needs of one parsed module: its path, package and rules (AST JSON)."""

    path: str
    package: str
    rules: list[dict[str, Any]]
    ast: dict[str, Any] = field(default_factory=dict, repr=False)
    """The whole module (package and imports too), for :mod:`gate.engines.values`."""


def read_ast(entries: Sequence[dict[str, Any]]) -> list[AstModule]:
    """Return every module of regorus' parsed AST (``get_ast_as_json``: the slow step of
    discovery, read once when the policies are checked, see :func:`compile_outlined`)."""
    return [
        AstModule(
            module["source"]["file"],
            ".".join(_ref_parts(module["ast"]["package"]["refr"]) or []),
            module["ast"]["rules"],
            module["ast"],
        )
        for module in entries
    ]


def discover_tests(ast: Sequence[AstModule], modules: Sequence[PolicyModule]) -> list[RegoTest]:
    """Return the tests of the parsed modules ``ast``, by file (``modules`` order), then line.

    One :class:`RegoTest` per (package, name); other definitions of the same name are
    recorded in ``duplicates`` (and make the test an error when run).
    """
    order = {module.path: index for index, module in enumerate(modules)}
    places: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
    for module in ast:
        for rule in module.rules:
            name = _test_name(rule)
            if name is not None:
                line = int(rule["Spec"]["span"]["line"])
                places.setdefault((module.package, name), []).append(
                    (order.get(module.path, len(order)), line, module.path)
                )
    tests = []
    for (package, name), found in places.items():
        (_, line, path), *others = sorted(found)
        tests.append(RegoTest(package, name, path, line, tuple(f"{p}:{ln}" for _, ln, p in others)))
    return sorted(tests, key=lambda t: (order.get(t.file, len(order)), t.line, t.name))


def select_tests(tests: Sequence[RegoTest], pattern: str | None) -> list[RegoTest]:
    """Keep the tests whose ``package.name`` matches ``pattern`` (``re.search``, as
    ``opa test --run``); all of them when ``pattern`` is None. A bad regex is a usage error."""
    if pattern is None:
        return list(tests)
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"--run: invalid regular expression {pattern!r}: {exc}") from None
    return [test for test in tests if regex.search(test.id)]


# ---------------------------------------------------------------------------------------
# Compiling and running
# ---------------------------------------------------------------------------------------


def compile_policies(modules: Sequence[PolicyModule], data: dict[str, Any]) -> Any:
    """Return a regorus engine with ``modules`` and ``data`` loaded and analysed, ready to clone.

    Raises :class:`PolicyError` naming ``file:line:col`` when a module does not parse or
    fails regorus' analysis (unsafe variables are found here, at the warm-up evaluation).
    """
    return compile_outlined(modules, data)[0]


def compile_outlined(modules: Sequence[PolicyModule], data: dict[str, Any]) -> tuple[Any, Outline]:
    """:func:`compile_policies`, also returning the outline the load checks were made on
    (every call resolves, no function recurses), whose AST discovery reads."""
    from gate.engines.regorus import RegorusEngine

    engine, outline = RegorusEngine().load_outlined(modules, data)
    engine.set_gather_prints(True)
    return engine, outline


@dataclass(frozen=True)
class RegoResult:
    """What running one test gave."""

    test: RegoTest
    outcome: Outcome
    duration_ms: float
    message: str | None = None
    """Why the test did not pass: its value, or the engine's error with its location."""
    prints: tuple[str, ...] = ()
    """Output of ``print()`` calls during the test (``file:line: text``)."""
    details: tuple[str, ...] = ()
    """For a failed test: the first expression of its body that is false or undefined,
    and the values in it (as ``opa test --var-values``)."""

    def describe(self) -> str:
        """One line: ``FAIL: file:line: package.name: message`` (pytest assert messages)."""
        text = f"{self.outcome.upper()}: {self.test.location}: {self.test.id}"
        return f"{text}: {self.message}" if self.message else text


def _show(value: Any) -> str:
    """A short JSON rendering of a test's (non-true) value."""
    if value is None:
        return "undefined"

    def sets_as_lists(item: Any) -> Any:
        if isinstance(item, set | frozenset):
            return sorted(item, key=repr)
        return repr(item)

    text = json.dumps(value, sort_keys=True, default=sets_as_lists)
    return f"evaluated to {text if len(text) <= 200 else text[:197] + '...'}, not true"


def run_test(engine: Any, test: RegoTest) -> tuple[RegoResult, Any]:
    """Run one test on a clone of ``engine``; return its result and the clone (whose
    coverage report the caller may read)."""
    from gate.engines.isolation import note
    from gate.engines.regorus import describe_error

    note(f"test {test.id} ({test.location})")
    started = time.perf_counter()
    clone = engine.clone()
    outcome: Outcome
    message: str | None
    if test.duplicates:
        outcome = "error"
        message = (
            f"{test.name} is also defined at {', '.join(test.duplicates)}: Rego ORs the "
            "definitions, so one could hide a failing one; give each test its own name"
        )
    else:
        try:
            # As JSON: a Python set cannot hold the objects a test rule may evaluate to.
            value = json.loads(clone.eval_rule_as_json(test.query))
            value = None if value == UNDEFINED else value
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # RuntimeError; also pyo3's PanicException (a regorus bug)
            outcome = "error"
            text, where = describe_error(exc)
            message = f"{text} ({where})" if where else text
        else:
            outcome = "pass" if value is True else "fail"
            message = None if value is True else _show(value)
    duration = (time.perf_counter() - started) * 1000
    prints = tuple(clone.take_prints())
    return RegoResult(test, outcome, duration, message, prints), clone


# ---------------------------------------------------------------------------------------
# Coverage
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileCoverage:
    """Line coverage of one module."""

    path: str
    covered: tuple[int, ...]
    not_covered: tuple[int, ...]

    @property
    def total(self) -> int:
        """Lines that regorus counts as coverable."""
        return len(self.covered) + len(self.not_covered)

    @property
    def percent(self) -> float:
        """Covered lines in percent (100 for a file with nothing to cover)."""
        return 100.0 * len(self.covered) / self.total if self.total else 100.0


@dataclass(frozen=True)
class Coverage:
    """Line coverage of the non-test modules, merged over every test run."""

    files: tuple[FileCoverage, ...]

    @property
    def covered(self) -> int:
        """Covered lines over all files."""
        return sum(len(f.covered) for f in self.files)

    @property
    def total(self) -> int:
        """Coverable lines over all files."""
        return sum(f.total for f in self.files)

    @property
    def percent(self) -> float:
        """Total covered lines in percent (100 when nothing is coverable)."""
        return 100.0 * self.covered / self.total if self.total else 100.0


def coverable_lines(rules: Sequence[dict[str, Any]]) -> set[int]:
    """The lines regorus' coverage report considers in a module (AST JSON ``rules``).

    A re-implementation of regorus' report walk (``Interpreter::get_coverage_report``),
    needed for modules no test reached: regorus leaves those out of its report. A rule
    contributes its head value (``:=`` value, set key, default value) and its bodies'
    statements; ``else`` values, function arguments and ``with`` modifiers are not counted;
    a comprehension counts by its body, not its own line. A test checks that this agrees
    with regorus' own report on the bundled pack.
    """
    lines: set[int] = set()
    for rule in rules:
        if "Default" in rule:
            _expr_lines(rule["Default"]["value"], lines)
            continue
        spec = rule["Spec"]
        ((kind, head),) = spec["head"].items()
        value = head.get("key") if kind == "Set" else (head.get("assign") or {}).get("value")
        if value:
            _expr_lines(value, lines)
        for body in spec["bodies"]:
            _query_lines(body["query"], lines)
    return lines


def _query_lines(query: dict[str, Any], lines: set[int]) -> None:
    for statement in query["stmts"]:
        ((kind, literal),) = statement["literal"].items()
        if kind == "SomeIn":
            _expr_lines(literal["value"], lines)
            _expr_lines(literal["collection"], lines)
        elif kind in ("Expr", "NotExpr"):
            _expr_lines(literal["expr"], lines)
        elif kind == "Every":
            _expr_lines(literal["domain"], lines)
            _query_lines(literal["query"], lines)


_COMPREHENSIONS = ("ArrayCompr", "SetCompr", "ObjectCompr")
_SUBEXPRESSIONS = (
    "items",
    "params",
    "expr",
    "refr",
    "index",
    "lhs",
    "rhs",
    "key",
    "value",
    "collection",
)
"""Fields of an expression that regorus' traversal descends into (``Call.fcn`` is not)."""


def _expr_lines(node: dict[str, Any], lines: set[int]) -> None:
    ((kind, body),) = node.items()
    if kind in _COMPREHENSIONS:
        _query_lines(body["query"], lines)
        return
    lines.add(int(body["span"]["line"]))
    children: list[Any] = []
    for name in _SUBEXPRESSIONS:
        child = body.get(name)
        children.extend(child if isinstance(child, list) else [child])
    for _span, key, value in body.get("fields", ()):  # Object
        children += [key, value]
    for child in children:
        if isinstance(child, dict) and len(child) == 1:
            _expr_lines(child, lines)


class _CoverageMerger:
    """Union of the coverage reports of many clones: a line is covered when any test
    covered it, not covered when it is coverable and no test covered it."""

    def __init__(self) -> None:
        self.covered: dict[str, set[int]] = {}
        self.seen: dict[str, set[int]] = {}

    def add(self, clone: Any) -> None:
        for report in json.loads(clone.get_coverage_report_as_json())["files"]:
            path = report["path"]
            self.covered.setdefault(path, set()).update(report["covered"])
            self.seen.setdefault(path, set()).update(report["covered"], report["not_covered"])

    def result(self, modules: Sequence[PolicyModule], ast: Sequence[AstModule]) -> Coverage:
        """Coverage of the non-test ``modules``; ``ast`` gives the lines of unreached ones."""
        rules = {module.path: module.rules for module in ast}
        files = []
        for module in modules:
            if is_test_module(Path(module.path)):
                continue
            covered = self.covered.get(module.path, set())
            seen = self.seen.get(module.path)
            if seen is None:
                seen = coverable_lines(rules.get(module.path, []))
            files.append(
                FileCoverage(module.path, tuple(sorted(covered)), tuple(sorted(seen - covered)))
            )
        return Coverage(tuple(files))


# ---------------------------------------------------------------------------------------
# A whole run
# ---------------------------------------------------------------------------------------


@dataclass
class RegoSuite:
    """Compiled policies (tests included) and the tests found in them."""

    modules: tuple[PolicyModule, ...]
    engine: Any
    tests: list[RegoTest]
    ast: list[AstModule]

    @classmethod
    def compile(cls, modules: Sequence[PolicyModule], data: dict[str, Any]) -> RegoSuite:
        """Compile ``modules`` with ``data`` and discover their tests."""
        engine, outline = compile_outlined(modules, data)
        ast = read_ast(outline.ast)
        return cls(tuple(modules), engine, discover_tests(ast, modules), ast)

    def run(
        self,
        tests: Sequence[RegoTest] | None = None,
        *,
        coverage: bool = False,
        min_coverage: float | None = None,
    ) -> RunReport:
        """Run ``tests`` (default: all), each on its own clone; measure coverage when asked
        (``min_coverage``, a percentage, implies it)."""
        engine = self.engine
        merger: _CoverageMerger | None = None
        explained = 0
        if coverage or min_coverage is not None:
            engine = engine.clone()  # leaves self.engine without coverage bookkeeping
            engine.set_enable_coverage(True)
            merger = _CoverageMerger()
        started = time.perf_counter()
        results = []
        for test in self.tests if tests is None else tests:
            result, clone = run_test(engine, test)
            if result.outcome == "fail" and explained < MAX_EXPLAINED_FAILURES:
                explained += 1
                result = replace(result, details=self.why_false(test))
            results.append(result)
            if merger is not None:
                merger.add(clone)
        duration = (time.perf_counter() - started) * 1000
        report = merger.result(self.modules, self.ast) if merger is not None else None
        return RunReport(results, duration, report, min_coverage)

    def why_false(self, test: RegoTest) -> tuple[str, ...]:
        """The first false or undefined expression of ``test``'s body with its values
        (see :mod:`gate.engines.values`); nothing when it cannot be told."""
        from gate.engines.values import BodyProbe

        module = next((m for m in self.ast if m.path == test.file), None)
        source = next((m.text for m in self.modules if m.path == test.file), None)
        if module is None or source is None:
            return ()
        for rule in module.rules:
            spec = rule.get("Spec")
            if spec is None or int(spec["span"]["line"]) != test.line or not spec["bodies"]:
                continue
            probe = BodyProbe(self.engine, source, module.ast)
            stop = probe.first_stop(probe.statements(spec["bodies"][0]))
            if stop is not None:
                return tuple(stop.describe(f"{test.file}:{stop.statement.line}"))
        return ()


MAX_EXPLAINED_FAILURES = 20
"""Failed tests whose failing expression is looked for (each probe costs a clone)."""


def load_suite(
    policy_paths: Sequence[str | Path],
    data_paths: Sequence[str | Path] = (),
    *,
    shown_as: dict[str, str] | None = None,
) -> RegoSuite:
    """Load every ``*.rego`` (tests included) and data file under ``policy_paths``, merge
    ``data_paths`` over them, compile, and discover the tests."""
    bundle = (
        load_bundle(policy_paths, data_paths, include_tests=True, shown_as=shown_as)
        if shown_as
        else load_policies(policy_paths, data_paths, include_tests=True)
    )
    return RegoSuite.compile(bundle.modules, bundle.data)


def run_isolated_suite(
    policy_paths: Sequence[str],
    data_paths: Sequence[str],
    pattern: str | None,
    *,
    coverage: bool,
    min_coverage: float | None,
) -> RunReport:
    """Load, compile and run the tests in a forked child (:mod:`gate.engines.isolation`):
    a recursive rule or test must not end ``gate policy test`` by a signal, and the run is
    bounded by ``$GATE_TIMEOUT`` (default 300 s). Either is an :class:`EngineError`
    naming the test that was running."""
    from gate.engines.isolation import TIMEOUT_ENV, resolve_timeout, run_isolated

    def work() -> RunReport:
        suite = load_suite(policy_paths, data_paths)
        selected = select_tests(suite.tests, pattern)
        return suite.run(selected, coverage=coverage, min_coverage=min_coverage)

    return run_isolated(
        work,
        timeout=resolve_timeout(None, {}),
        what="policy test",
        where=", ".join(policy_paths) or DEFAULT_POLICIES_NAME,
        limit_names=(TIMEOUT_ENV,),
    )


@dataclass
class RunReport:
    """Results of a run, in test order, and the coverage when it was measured."""

    results: list[RegoResult]
    duration_ms: float
    coverage: Coverage | None = None
    min_coverage: float | None = None
    counts: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.counts = {
            outcome: sum(r.outcome == outcome for r in self.results)
            for outcome in ("pass", "fail", "error")
        }

    @property
    def coverage_ok(self) -> bool:
        """False only when a minimum was asked for and the total is below it."""
        if self.min_coverage is None or self.coverage is None:
            return True
        return self.coverage.percent >= self.min_coverage

    @property
    def passed(self) -> bool:
        """Tests ran, all passed, and coverage (if bounded) is high enough."""
        return bool(self.results) and self.counts["pass"] == len(self.results) and self.coverage_ok


# ---------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------


def _ranges(lines: Iterable[int]) -> str:
    """``3, 7-9, 12``: lines as compact ranges."""
    spans: list[list[int]] = []
    for line in sorted(lines):
        if spans and line == spans[-1][1] + 1:
            spans[-1][1] = line
        else:
            spans.append([line, line])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def render_text(report: RunReport, *, verbose: bool = False) -> str:
    """OPA-like text: failures and errors in detail (every test with ``verbose``), then
    ``PASS: n/N`` (and ``FAIL:``/``ERROR:`` lines), then the coverage table if measured.

    Without ``verbose`` nothing depends on timing, so the text is golden-testable.
    """
    out: list[str] = []
    total = len(report.results)
    for result in report.results:
        if result.outcome == "pass" and not verbose:
            continue
        line = f"{result.outcome.upper()}: {result.test.location}: {result.test.id}"
        out.append(f"{line} ({result.duration_ms:.2f} ms)" if verbose else line)
        if result.message:
            out.append(f"  {result.message}")
        out.extend(f"  {line}" for line in result.details)
        if result.prints and (verbose or result.outcome != "pass"):
            out.append("  prints:")
            out.extend(f"    {text}" for text in result.prints)
    if not total:
        out.append("no tests found")
    else:
        if out:
            out.append(_SEPARATOR)
        out.append(f"PASS: {report.counts['pass']}/{total}")
        for outcome in ("fail", "error"):
            if report.counts[outcome]:
                out.append(f"{outcome.upper()}: {report.counts[outcome]}/{total}")
        if verbose:
            out.append(f"time: {report.duration_ms:.1f} ms")
    if report.coverage is not None:
        out.extend(_coverage_table(report.coverage))
    return "\n".join(out) + "\n"


def _coverage_table(coverage: Coverage) -> list[str]:
    rows = [
        (f.path, f"{len(f.covered)}/{f.total}", f"{f.percent:.2f}%", _ranges(f.not_covered))
        for f in coverage.files
    ]
    rows.append(("total", f"{coverage.covered}/{coverage.total}", f"{coverage.percent:.2f}%", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    out = ["", "coverage (lines; *_test.rego excluded):"]
    for path, lines, percent, missing in rows:
        text = f"  {path.ljust(widths[0])}  {lines.rjust(widths[1])}  {percent.rjust(widths[2])}"
        out.append(f"{text}  not covered: {missing}" if missing else text)
    return out


def report_data(report: RunReport) -> dict[str, Any]:
    """The JSON document of ``--format json``."""
    document: dict[str, Any] = {
        "tests": [
            {
                "file": r.test.file,
                "line": r.test.line,
                "package": r.test.package,
                "name": r.test.name,
                "result": r.outcome,
                "duration_ms": round(r.duration_ms, 3),
                "message": r.message,
                "details": list(r.details),
                "prints": list(r.prints),
            }
            for r in report.results
        ],
        "summary": {
            "total": len(report.results),
            "passed": report.counts["pass"],
            "failed": report.counts["fail"],
            "errors": report.counts["error"],
            "duration_ms": round(report.duration_ms, 3),
            "ok": report.passed,
        },
    }
    if report.coverage is not None:
        cov = report.coverage
        document["coverage"] = {
            "files": [
                {
                    "path": f.path,
                    "covered": len(f.covered),
                    "total": f.total,
                    "percent": round(f.percent, 2),
                    "covered_lines": list(f.covered),
                    "not_covered_lines": list(f.not_covered),
                }
                for f in cov.files
            ],
            "covered": cov.covered,
            "total": cov.total,
            "percent": round(cov.percent, 2),
            "min_coverage": report.min_coverage,
            "ok": report.coverage_ok,
        }
    return document


def render_json(report: RunReport) -> str:
    """``--format json``: see :func:`report_data`."""
    return json.dumps(report_data(report), indent=2) + "\n"


def render_junit(report: RunReport) -> str:
    """JUnit XML: one ``testsuite`` per file, one ``testcase`` per test (``classname`` the
    package), ``failure``/``error`` elements naming ``file:line``, prints as ``system-out``."""
    root = ET.Element("testsuites", name="gate policy test")
    _junit_counts(root, report.results, report.duration_ms)
    by_file: dict[str, list[RegoResult]] = {}
    for result in report.results:
        by_file.setdefault(result.test.file, []).append(result)
    for path, results in by_file.items():
        suite = ET.SubElement(root, "testsuite", name=path)
        _junit_counts(suite, results, sum(r.duration_ms for r in results))
        for result in results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=result.test.package,
                name=result.test.name,
                file=result.test.file,
                line=str(result.test.line),
                time=f"{result.duration_ms / 1000:.6f}",
            )
            if result.outcome != "pass":
                tag = "failure" if result.outcome == "fail" else "error"
                message = _xml_text(result.message or "")
                problem = ET.SubElement(case, tag, message=message, type=tag)
                details = "".join(f"\n{line}" for line in result.details)
                problem.text = _xml_text(
                    f"{result.test.location}: {result.test.id}: {message}{details}"
                )
            if result.prints:
                output = _xml_text("\n".join(result.prints) + "\n")
                ET.SubElement(case, "system-out").text = output
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (a print() may write any string)."""
    return _NOT_XML.sub("\ufffd", text)


def _junit_counts(element: ET.Element, results: Sequence[RegoResult], duration: float) -> None:
    element.set("tests", str(len(results)))
    element.set("failures", str(sum(r.outcome == "fail" for r in results)))
    element.set("errors", str(sum(r.outcome == "error" for r in results)))
    element.set("skipped", "0")
    element.set("time", f"{duration / 1000:.6f}")


RENDERERS = {"json": render_json, "junit": render_junit}


# ---------------------------------------------------------------------------------------
# Command
# ---------------------------------------------------------------------------------------


@click.command("test")
@policy_path_options
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-r",
    "--run",
    "pattern",
    metavar="REGEX",
    help="Run only the tests whose package.name matches REGEX (searched, as opa test --run).",
)
@click.option("-v", "--verbose", is_flag=True, help="List every test with its duration.")
@click.option("--coverage", is_flag=True, help="Report line coverage of non-test modules.")
@click.option(
    "--min-coverage",
    type=click.FloatRange(0, 100),
    metavar="PERCENT",
    help="Fail (exit 1) when total line coverage is below PERCENT (implies --coverage).",
)
@debug_option
def test_command(
    paths: tuple[str, ...],
    data: tuple[str, ...],
    output_format: str,
    pattern: str | None,
    verbose: bool,
    coverage: bool,
    min_coverage: float | None,
) -> None:
    """Run the Rego unit tests (test_* rules) of policies; default: the bundled pack.

    \b
    Every *.rego under PATH (tests included) and every data.json/data.yaml are loaded.
    A test passes when it evaluates to true; false or undefined fails it; an engine
    error (e.g. a builtin error) is reported as an error. Exit codes: 0 all passed,
    1 a test failed or errored, no test ran, or coverage is below --min-coverage;
    2 usage error; 3 the policies do not load or compile.
    """
    report = run_isolated_suite(paths, data, pattern, coverage=coverage, min_coverage=min_coverage)
    if output_format == "text":
        click.echo(render_text(report, verbose=verbose), nl=False)
    else:
        click.echo(RENDERERS[output_format](report), nl=False)
        if not report.results:
            click.echo("no tests found", err=True)
    if not report.results and pattern is not None:
        click.echo(f"(no test's package.name matches --run {pattern!r})", err=True)
    if not report.coverage_ok and report.coverage is not None:
        click.echo(
            f"coverage {report.coverage.percent:.2f}% is below --min-coverage {min_coverage:.2f}%",
            err=True,
        )
    sys.exit(int(ExitCode.PASSED if report.passed else ExitCode.FAILED))
