"""``gate policy lint``: find mistakes in Rego policies before a gate runs them.

Every Rego file under the given paths is loaded, ``*_test.rego`` included, with the data
documents beside them and ``--data`` files. Each problem is a :class:`Finding`:

``compile`` (error)
    A module does not parse, or (with the wheel's bytecode compiler,
    ``regorus.Program.compile_from_modules``) calls an unknown function or uses an unsafe
    variable. Every broken file is reported, not only the first.
``metadata-missing`` / ``metadata-field`` / ``metadata-yaml`` (error), ``metadata-severity``
(warning)
    A package that defines ``deny`` or ``warn`` needs a ``# METADATA`` block (package-scoped,
    or directly above a deny/warn rule) with ``title``, ``description`` and ``custom.id``;
    ``custom.severity`` should be on gate's severity scale.
``duplicate-id`` (error)
    Two METADATA blocks declare the same ``custom.id``.
``not-evaluated`` (error)
    A package outside ``gate.`` defines ``deny``/``warn``: ``gate check`` queries
    ``data.gate`` only, so the rule never runs (libraries without deny/warn may live anywhere).
``rule-id-mismatch`` (error)
    A result id written in the rule (``rule_id := "…"``, ``lib.result("…", …)``, ``"id": "…"``
    in a result object) that no METADATA ``custom.id`` of its package declares: waivers,
    stage actions and ``effective_from`` use the METADATA id.
``data-unknown-rule`` / ``data-action`` / ``data-setting`` / ``data-stage-order`` (error),
``data-action-unset`` (warning)
    ``gate_config`` of the merged policy data (``data.json`` files and ``--data``): stage
    actions naming no loaded rule (nor one of the bundled pack's, when it is not linted),
    actions other than deny/warn/off, settings no rule reads by name (``lib.setting("…")``,
    ``….settings.<name>``, or gate's own ``block_existing``), stages missing from
    ``stage_order`` and back; a stage with actions that leaves a rule unset (it denies).
    Each names the data file that set it and the JSON path, with a "did you mean".
``input-path`` (error)
    A rule reads ``input.<path>`` that the document JSON Schema does not have (a typo makes
    the reference undefined, so the rule silently never fires). Variables bound to parts of
    the input (``some v in input.vulnerabilities``, ``v := input.image``) are followed, and so
    are rules whose value is a part of the input (``data.lib.gate.image``, the lib's
    memoised vulnerability lists), and ``object.get(x, "key", default)``.
``undefined-data`` (warning)
    A rule reads ``data.<path>`` that neither a data document nor a policy defines.
``not-a-set`` / ``non-reproducible`` / ``network`` (warning)
    ``deny``/``warn`` defined as something other than a partial set; ``time.now_ns`` and
    other clock or random builtins (verdicts must be reproducible from
    ``input.context.evaluated_at``); ``http.send``.

The rule checks (everything but ``compile``) apply to policy modules, not to tests.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import click

from gate.catalog import ACTIONS, is_evaluated_package
from gate.cli import debug_option, policy_path_options, text_or_json_option
from gate.engines.outline import module_imports, static_path, string_literal
from gate.engines.regorus import describe_error, import_regorus
from gate.errors import PolicyError
from gate.policy import (
    DEFAULT_POLICIES_NAME,
    MetadataBlock,
    PolicyBundle,
    PolicyModule,
    default_policy_dir,
    is_bundled,
    is_test_module,
    load_policies,
    metadata_blocks,
    module_package,
    parse_metadata,
    stage_configs,
)

ERROR = "error"
WARNING = "warning"


REQUIRED_METADATA = ("title", "description", "custom.id")
VERDICT_RULES = ("deny", "warn")

# Builtins whose result depends on when or where the policy runs: a verdict must be
# reproducible from the document alone (input.context.evaluated_at is "now").
IMPURE_BUILTINS: dict[str, tuple[str, str, str]] = {
    "time.now_ns": (
        "non-reproducible",
        "time.now_ns() makes the verdict depend on when it is evaluated",
        "use time.parse_rfc3339_ns(input.context.evaluated_at), which `gate check --at` sets",
    ),
    "rand.intn": ("non-reproducible", "rand.intn() makes the verdict random", ""),
    "uuid.rfc4122": ("non-reproducible", "uuid.rfc4122() makes the verdict random", ""),
    "opa.runtime": (
        "non-reproducible",
        "opa.runtime() makes the verdict depend on the engine's environment",
        "",
    ),
    "http.send": (
        "network",
        "http.send() makes the verdict depend on the network (and regorus stubs it: the "
        "call is always undefined)",
        "pass what the policy needs as data (--data FILE) or in the input",
    ),
}

# Compiler messages that describe a limit of the bytecode compiler rather than a mistake
# in the policy: the interpreter that `gate check` uses runs these rules fine.
_COMPILER_LIMITS = ("is not supported", "Missing builtin function")
_OPA_ONLY = (
    "crypto.",
    "io.jwt.",
    "net.cidr_intersects",
    "net.cidr_merge",
    "net.cidr_overlap",
    "strings.render_template",
    "rego.metadata.",
)
"""Builtins (or families) OPA has and the embedded engine, regorus, lacks: a policy calling one
runs only with --engine opa (with regorus, `gate check` refuses it: exit 3)."""
_UNKNOWN_FUNCTION = re.compile(r"Unknown function: '(?P<name>[^']+)'")
_COMPILE_BATCH = 100
"""Entry points per bytecode compile: ~500 at once overflow the compiler's registers."""

_LOCATED_DATA_FINDINGS = 200
"""Data findings placed at their line; later ones say line 1 (a search per finding)."""
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.@:/+-]{1,80}")
_LOCATIONS = re.compile(r"-->\s*(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)")
_ERROR_LINES = re.compile(r"^error:\s*(?P<msg>.*?)\s*$", re.MULTILINE)


# ---------------------------------------------------------------------------------------
# Findings and the report
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Finding:
    """One problem, at ``file:line:column`` (1-based). Fields are in sort order."""

    file: str
    line: int
    column: int
    code: str
    severity: str
    message: str
    hint: str | None = None

    def render(self) -> str:
        """``file:line:col: severity: message [code]``, plus an indented hint line."""
        text = (
            f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.message} [{self.code}]"
        )
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def to_json(self) -> dict[str, Any]:
        """The finding as a JSON object (``hint`` is null when there is none)."""
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass(frozen=True)
class LintReport:
    """The findings of one lint run, sorted, and the files that were linted."""

    files: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> int:
        """Number of error findings."""
        return sum(1 for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> int:
        """Number of warning findings."""
        return sum(1 for f in self.findings if f.severity == WARNING)

    def exit_code(self, *, strict: bool = False) -> int:
        """1 when there is an error (or, with ``strict``, a warning), else 0."""
        return 1 if self.errors or (strict and self.warnings) else 0

    def summary(self) -> str:
        """One line: how many files, errors and warnings."""
        return (
            f"{_plural(len(self.files), 'file')} linted: "
            f"{_plural(self.errors, 'error')}, {_plural(self.warnings, 'warning')}"
        )

    def render_text(self) -> str:
        """Every finding (one per line, hints indented below), then the summary line."""
        lines = [finding.render() for finding in self.findings]
        return "\n".join([*lines, self.summary()]) + "\n"

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON object (``gate policy lint --format json``)."""
        return {
            "files": list(self.files),
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": [finding.to_json() for finding in self.findings],
        }


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# ---------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------


def load_for_lint(paths: Sequence[str | Path], data: Sequence[str | Path] = ()) -> PolicyBundle:
    """Load every module under ``paths`` (tests included), or the bundled pack when empty."""
    return load_policies(paths, data, include_tests=True)


def lint_paths(paths: Sequence[str | Path], data: Sequence[str | Path] = ()) -> LintReport:
    """Lint the policies under ``paths`` (default: the bundled pack) with ``data`` merged in.

    Raises :class:`gate.errors.UsageError` for a missing path and
    :class:`gate.errors.PolicyError` when nothing loads (no Rego files, bad data document).
    """
    return lint_bundle(load_for_lint(paths, data))


def lint_isolated(paths: Sequence[str], data: Sequence[str]) -> LintReport:
    """:func:`lint_paths` in a forked child (:mod:`gate.engines.isolation`): the engine's
    parser and compiler run on the policies, and a hostile module (nesting that crashes the
    parser, brackets it parses in exponential time) must not end ``gate policy lint`` by a
    signal or hang it. Bounded by ``$GATE_TIMEOUT`` (default 300 s)."""
    from gate.engines.isolation import TIMEOUT_ENV, resolve_timeout, run_isolated

    return run_isolated(
        lambda: lint_paths(paths, data),
        timeout=resolve_timeout(None, {}),
        what="policy lint",
        where=", ".join(paths) or DEFAULT_POLICIES_NAME,
        limit_names=(TIMEOUT_ENV,),
    )


def lint_bundle(bundle: PolicyBundle) -> LintReport:
    """Run every check over a loaded bundle (load it with ``include_tests=True``)."""
    findings: set[Finding] = set()
    modules, broken = _parse_modules(bundle.modules, findings)
    policies = [m for m in modules if not m.is_test]
    findings.update(_CompileCheck(modules, broken, bundle.data).run())
    findings.update(_metadata_findings(policies))
    for module in policies:
        findings.update(_rule_kind_findings(module))
    findings.update(_duplicate_id_findings(policies))
    findings.update(_not_evaluated_findings(policies))
    findings.update(_emitted_id_findings(policies))
    findings.update(_DataCheck(bundle, policies).run())
    names: dict[tuple[str, ...], set[str]] = {}
    for module in modules:
        names.setdefault(module.package, set()).update(r.path[0] for r in module.rules if r.path)
    context = _Context(
        schema=_Schema(_document_schema()),
        data_tree=_data_tree(bundle.data, modules),
        aliases={},
        names=names,
    )
    context.aliases = _input_aliases(policies, context)
    for module in policies:
        findings.update(_RefChecker(module, context).run())
    return LintReport(files=tuple(m.path for m in bundle.modules), findings=tuple(sorted(findings)))


# ---------------------------------------------------------------------------------------
# Parsing: one regorus engine, one add_policy per module (so that every broken file is
# reported), then the AST of those that parsed.
# ---------------------------------------------------------------------------------------


@dataclass
class _Rule:
    """One rule definition of a module's AST."""

    kind: str
    """AST head kind: ``Set`` (contains), ``Compr`` (complete / object), ``Func``, ``Default``."""
    node: dict[str, Any]
    path: tuple[str, ...]
    """Static head path below the package (``deny``; ``a.b.c`` for ``a.b.c[x]``)."""
    simple: bool
    """The head is a plain name (``x := …``, ``x contains …``), not ``x[k]`` or ``x.y``."""
    line: int
    column: int
    start: int
    stop: int = 0
    """Byte offset where the next rule (or the file) starts: AST spans end early (a rule's
    span misses the closing quote of a final string), so the rule's text runs up to here."""
    uses: frozenset[tuple[str, ...]] = frozenset()
    """Data paths of the functions it calls and the names it mentions (for the compiler)."""


@dataclass
class _Module:
    """A module that parsed: its package, imports, rules (from the AST) and METADATA."""

    source: PolicyModule
    raw: bytes
    package: tuple[str, ...]
    package_line: int
    package_column: int
    imports: dict[str, tuple[str, ...]]
    """Import alias → imported path (starting with ``data`` or ``input``)."""
    rules: list[_Rule]
    is_test: bool
    blocks: list[MetadataBlock]
    """The module's ``# METADATA`` blocks."""

    @property
    def path(self) -> str:
        """The module's path as shown to the user."""
        return self.source.path

    def text(self, start: int, end: int) -> str:
        """Source text between two AST byte offsets."""
        return self.raw[start:end].decode("utf-8", "replace")


def _parse_modules(
    sources: Sequence[PolicyModule], findings: set[Finding]
) -> tuple[list[_Module], list[PolicyModule]]:
    regorus = import_regorus()
    engine = regorus.Engine()
    broken: list[PolicyModule] = []
    for source in sources:
        try:
            engine.add_policy(source.path, source.text)
        except RuntimeError as exc:
            broken.append(source)
            message, where = describe_error(exc)
            line, column = _line_col(where, source.path)
            findings.add(Finding(source.path, line, column, "compile", ERROR, message))
    by_path = {source.path: source for source in sources}
    modules = []
    for entry in json.loads(engine.get_ast_as_json()):
        source = by_path[entry["source"]["file"]]
        modules.append(_module(source, entry["ast"]))
    findings.update(_arity_findings(engine, [s for s in sources if s not in broken]))
    return modules, broken


def _arity_findings(engine: Any, sources: Sequence[PolicyModule]) -> set[Finding]:
    """Calls with a wrong number of arguments, in every branch: regorus notices only when a
    call is evaluated, so a branch no test takes would pass lint and tests."""
    from gate.engines.outline import builtin_arities, read_outline

    try:
        outline = read_outline(engine, sources)
    except PolicyError:
        return set()  # nested too deeply to outline: the compile check reports what it can
    found = set()
    for call, problem in outline.arity_problems(builtin_arities(engine, outline)):
        path = call.where.rsplit(":", 2)[0]  # "file:line:column"
        line, column = _line_col(call.where, path)
        found.add(Finding(path, line, column, "compile", ERROR, problem))
    return found


def _line_col(where: str | None, path: str) -> tuple[int, int]:
    if where and where.startswith(path + ":"):
        line, _, column = where[len(path) + 1 :].partition(":")
        if line.isdigit() and column.isdigit():
            return int(line), int(column)
    return 1, 1


def _module(source: PolicyModule, ast: dict[str, Any]) -> _Module:
    raw = source.text.encode("utf-8")
    package_ref = ast["package"]["refr"]
    package, _ = static_path(package_ref)
    imports = module_imports(ast, source.text)
    rules = sorted(
        (rule for node in ast.get("rules") or [] if (rule := _rule(node)) is not None),
        key=lambda r: r.start,
    )
    for index, rule in enumerate(rules):  # a module of only imports has no rules at all
        rule.stop = rules[index + 1].start if index + 1 < len(rules) else len(raw)
    span = ast["package"]["span"]
    is_test = is_test_module(Path(source.path))
    module = _Module(
        source=source,
        raw=raw,
        package=package,
        package_line=span["line"],
        package_column=span["col"],
        imports=imports,
        rules=rules,
        is_test=is_test,
        blocks=[] if is_test else metadata_blocks(source.text),
    )
    for rule in rules:
        rule.uses = frozenset(_uses(module, rule.node))
    return module


def _uses(module: _Module, node: Any) -> Iterator[tuple[str, ...]]:
    """Data paths a rule's AST calls or mentions: called functions, and every name as a
    rule of the module's package (over-inclusive, which only costs a skipped check)."""
    if isinstance(node, list):
        for item in node:
            yield from _uses(module, item)
        return
    if not isinstance(node, dict):
        return
    if "Call" in node and isinstance(node["Call"], dict):
        name, complete = static_path(node["Call"]["fcn"])
        if complete:
            yield _expand_name(module, ".".join(name))
        yield from _uses(module, node["Call"]["params"])
        return
    if "Var" in node and isinstance(node["Var"], dict):
        yield (*module.package, str(node["Var"].get("value")))
        return
    for key, value in node.items():
        if key != "span":
            yield from _uses(module, value)


def _rule(node: dict[str, Any]) -> _Rule | None:
    if "Spec" in node:
        spec = node["Spec"]
        ((kind, head),) = spec["head"].items()
        span = spec["span"]
    elif "Default" in node:
        kind, head = "Default", node["Default"]
        span = head["span"]
    else:  # pragma: no cover - a rule kind this regorus version does not produce
        return None
    path, complete = static_path(head["refr"])
    simple = complete and len(path) == 1 and "Var" in head["refr"]
    return _Rule(
        kind=kind,
        node=node,
        path=path,
        simple=simple,
        line=span["line"],
        column=span["col"],
        start=span["start"],
    )


@dataclass(frozen=True)
class _Segment:
    """One step of a reference: ``.key``, ``["key"]`` or ``[expr]`` (``key`` None)."""

    key: str | None
    span: dict[str, Any]
    """Where the field name or the index expression is written."""
    index: dict[str, Any] | None
    """The index expression of a ``[…]`` step; None for ``.key``."""
    end: int
    """Byte offset where the reference up to and including this step ends."""


def _chain(node: dict[str, Any]) -> tuple[dict[str, Any], list[_Segment]]:
    """Split a ``RefDot``/``RefBrack`` chain into its root node and its steps, in order."""
    segments: list[_Segment] = []
    while True:
        if "RefDot" in node:
            ref = node["RefDot"]
            span, name = ref["field"]
            segments.append(_Segment(name, span, None, ref["span"]["end"]))
            node = ref["refr"]
        elif "RefBrack" in node:
            ref = node["RefBrack"]
            index = ref["index"]
            key = string_literal(index)
            segments.append(_Segment(key, _span(index), index, ref["span"]["end"]))
            node = ref["refr"]
        else:
            segments.reverse()
            return node, segments


def _span(node: dict[str, Any]) -> dict[str, Any]:
    span: dict[str, Any] = next(iter(node.values()))["span"]
    return span


# ---------------------------------------------------------------------------------------
# compile: unknown functions and unsafe variables, found by the bytecode compiler
# ---------------------------------------------------------------------------------------


class _CompileCheck:
    """Compile the policies' rules with ``regorus.Program.compile_from_modules``.

    The compiler stops at the first error, so after each one the rule that holds it is
    blanked out (its bytes replaced by spaces: every other line and column stays put) and
    the compile repeated, until the rest compiles. Rules that call a function (or use a
    rule) that was blanked, or that lives in a module that did not parse, are blanked
    beforehand without a report: their errors would only repeat the first one.
    """

    def __init__(
        self, modules: list[_Module], broken: list[PolicyModule], data: dict[str, Any]
    ) -> None:
        self.program: Any = getattr(import_regorus(), "Program", None)
        self.data_json = json.dumps(data)
        self.modules = {m.path: m for m in modules}
        self.texts = {m.path: bytearray(m.raw) for m in modules}
        self.dropped: set[str] = set()
        self.gone: set[tuple[str, ...]] = {
            package for source in broken if (package := module_package(source.text))
        }
        """Data paths (packages, rules) that no longer exist for the compiler."""
        self.live = {(m.path, r.start): (m, r) for m in modules for r in m.rules}
        self.entry_points: dict[str, set[tuple[str, int]]] = {}
        for module in modules:
            if module.is_test:
                continue  # tests use `with`, which the bytecode compiler does not support
            for rule in module.rules:
                if rule.path:
                    name = "data." + ".".join((*module.package, *rule.path))
                    self.entry_points.setdefault(name, set()).add((module.path, rule.start))
        self.findings: list[Finding] = []
        self.budget = 4 * len(modules) + len(self.live)

    def run(self) -> list[Finding]:
        """Compile every entry point (in batches); return the errors found."""
        if self.program is None:
            return []
        self._prune()
        names = sorted(self.entry_points)
        for start in range(0, len(names), _COMPILE_BATCH):
            self._compile(names[start : start + _COMPILE_BATCH])
        return self.findings

    def _compile(self, names: list[str]) -> None:
        names = [n for n in names if n in self.entry_points]
        while names and self.budget > 0:
            self.budget -= 1
            modules = [
                (path, text.decode("utf-8", "replace"))
                for path, text in self.texts.items()
                if path not in self.dropped
            ]
            try:
                self.program.compile_from_modules(self.data_json, modules, names)
                return
            except RuntimeError as exc:
                located = _innermost_error(str(exc))
            except BaseException as exc:  # pyo3's PanicException derives from BaseException
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                located = None
            if located is None or located[0] not in self.modules:
                # No place to blame (a panic, "not a valid rule path"): narrow the batch down
                # until the entry point responsible is alone, and leave that one unchecked.
                if len(names) > 1:
                    half = len(names) // 2
                    self._compile(names[:half])
                    self._compile(names[half:])
                return
            self._handle(*located)
            names = [n for n in names if n in self.entry_points]

    def _handle(self, path: str, line: int, column: int, message: str) -> None:
        module = self.modules[path]
        unknown = _UNKNOWN_FUNCTION.search(message)
        if unknown and unknown.group("name").startswith(_OPA_ONLY):
            name = unknown.group("name")
            self.findings.append(
                Finding(
                    path,
                    line,
                    column,
                    "engine-builtin",
                    WARNING,
                    f"{name} is an OPA builtin the embedded engine (regorus) lacks: the policy "
                    "runs only with --engine opa; with regorus, gate check refuses it (exit 3)",
                )
            )
        elif not any(limit in message for limit in _COMPILER_LIMITS):
            self.findings.append(Finding(path, line, column, "compile", ERROR, message))
        rule = _rule_at(module, line)
        if rule is None:
            # Outside any rule (an import, the package line): give up on the whole module.
            self.dropped.add(path)
            self.gone.add(module.package)
            for other in module.rules:
                self._forget(module, other)
        else:
            self._blank(module, rule)
        self._prune()

    def _blank(self, module: _Module, rule: _Rule) -> None:
        text = self.texts[module.path]
        text[rule.start : rule.stop] = bytes(
            b if b in b"\r\n" else 0x20 for b in text[rule.start : rule.stop]
        )
        self._forget(module, rule)
        path = (*module.package, *rule.path)
        if not any((*m.package, *r.path) == path for m, r in self.live.values()):
            self.gone.add(path)  # the last definition of a multi-body rule or function

    def _forget(self, module: _Module, rule: _Rule) -> None:
        key = (module.path, rule.start)
        self.live.pop(key, None)
        for name in list(self.entry_points):
            self.entry_points[name].discard(key)
            if not self.entry_points[name]:
                del self.entry_points[name]

    def _prune(self) -> None:
        """Blank, without a report, every rule that uses something gone."""
        changed = True
        while changed:
            changed = False
            for module, rule in list(self.live.values()):
                if any(use[:k] in self.gone for use in rule.uses for k in range(1, len(use) + 1)):
                    self._blank(module, rule)
                    changed = True


def _expand_name(module: _Module, name: str) -> tuple[str, ...]:
    """The data path a (function) name written in ``module`` refers to."""
    parts = tuple(name.split("."))
    if parts[0] == "data":
        return parts[1:]
    imported = module.imports.get(parts[0])
    if imported and imported[0] == "data":
        return (*imported[1:], *parts[1:])
    return (*module.package, *parts)


def _innermost_error(text: str) -> tuple[str, int, int, str] | None:
    """(file, line, column, message) of a compiler error: its innermost location.

    The compiler wraps the real error ("Unknown function: 'foo'" at the call) in a
    "Compilation error" at the enclosing statement; the last location and the last
    non-empty ``error:`` line are the real ones.
    """
    locations = list(_LOCATIONS.finditer(text))
    if not locations:
        return None
    last = locations[-1]
    messages = [
        m["msg"] for m in _ERROR_LINES.finditer(text) if m["msg"] not in ("", "Compilation error:")
    ]
    message = messages[-1] if messages else text.strip().splitlines()[-1].strip()
    return last["file"], int(last["line"]), int(last["col"]), message


def _rule_at(module: _Module, line: int) -> _Rule | None:
    """The rule whose text (up to the next rule) holds ``line``."""
    for rule in module.rules:
        last_line = rule.line + module.raw[rule.start : rule.stop].count(b"\n")
        if rule.line <= line <= last_line:
            return rule
    return None


# ---------------------------------------------------------------------------------------
# METADATA
# ---------------------------------------------------------------------------------------


def _annotated_line(lines: list[str], block: MetadataBlock) -> int:
    """The first non-blank line after the block: what it annotates."""
    line = block.end_line + 1
    while line <= len(lines) and not lines[line - 1].strip():
        line += 1
    return line


def _metadata_findings(modules: list[_Module]) -> Iterator[Finding]:
    """METADATA checks of the policy modules, package by package (a package may span files)."""
    packages: dict[tuple[str, ...], list[_Module]] = {}
    for module in modules:
        packages.setdefault(module.package, []).append(module)
        for block in module.blocks:
            if block.error:
                yield Finding(
                    module.path,
                    block.error_line,
                    1,
                    "metadata-yaml",
                    ERROR,
                    f"METADATA block is {block.error}",
                )
    for package, members in packages.items():
        yield from _package_metadata_findings(package, members)


def _package_metadata_findings(
    package: tuple[str, ...], modules: list[_Module]
) -> Iterator[Finding]:
    package_blocks: list[tuple[_Module, MetadataBlock]] = []
    rule_blocks: list[tuple[_Module, MetadataBlock]] = []
    names: set[str] = set()
    for module in modules:
        rule_lines = {r.line for r in module.rules if r.path and r.path[0] in VERDICT_RULES}
        names.update(r.path[0] for r in module.rules if r.path and r.path[0] in VERDICT_RULES)
        lines = module.source.text.splitlines()
        for block in module.blocks:
            target = _annotated_line(lines, block)
            scope = block.get("scope")
            if scope in ("package", "subpackages") or (
                scope is None and target == module.package_line
            ):
                package_blocks.append((module, block))
            elif target in rule_lines:
                rule_blocks.append((module, block))
    if not names:
        return
    if not package_blocks and not rule_blocks:
        if any(block.error for module in modules for block in module.blocks):
            return  # the block is there but broken: reported as metadata-yaml
        first = min(modules, key=lambda m: m.path)
        yield Finding(
            first.path,
            first.package_line,
            first.package_column,
            "metadata-missing",
            ERROR,
            f"package {'.'.join(package)} defines {' and '.join(sorted(names))} "
            "but has no # METADATA block",
            "add a `# METADATA` comment block above the package line with title, "
            "description and custom.id (and custom.severity)",
        )
        return
    # A rule block in a package that has its own block may only refine it (no id of its
    # own); otherwise each block documents a rule and needs every field.
    checked = package_blocks + [
        (m, b) for m, b in rule_blocks if not package_blocks or b.get("custom.id") is not None
    ]
    for module, block in checked:
        yield from _block_field_findings(module, block)


def _block_field_findings(module: _Module, block: MetadataBlock) -> Iterator[Finding]:
    if block.meta is None:
        return
    for key in REQUIRED_METADATA:
        value = block.get(key)
        if not isinstance(value, str | int) or not str(value).strip():
            yield Finding(
                module.path,
                block.line,
                1,
                "metadata-field",
                ERROR,
                f"METADATA block has no {key}",
                _field_hint(key),
            )
    severity = block.get("custom.severity")
    scale = _severities()
    if block.get("custom.id") is not None and severity not in scale:
        yield Finding(
            module.path,
            block.line,
            1,
            "metadata-severity",
            WARNING,
            "METADATA block has no custom.severity"
            if severity is None
            else f"custom.severity {severity!r} is not one of {', '.join(scale)}",
            f"add `severity: <{'|'.join(scale)}>` under custom:" if severity is None else None,
        )


def _field_hint(key: str) -> str:
    if key == "custom.id":
        return "add `custom:` with `id: <rule-id>` (the id results, waivers and stages use)"
    return f"add `{key}: …` to the block"


@cache
def _severities() -> tuple[str, ...]:
    """gate's severity scale, most severe first."""
    from gate.document import SEVERITY_ORDER

    return tuple(reversed(SEVERITY_ORDER))


def _duplicate_id_findings(modules: list[_Module]) -> Iterator[Finding]:
    first: dict[str, tuple[str, int]] = {}
    for module in sorted(modules, key=lambda m: m.path):
        for block in module.blocks:
            rule_id = block.get("custom.id")
            if rule_id is None:
                continue
            key = str(rule_id)
            if key not in first:
                first[key] = (module.path, block.line)
                continue
            path, line = first[key]
            yield Finding(
                module.path,
                block.line,
                1,
                "duplicate-id",
                ERROR,
                f"rule id {key!r} is already declared at {path}:{line}",
                "give each rule its own custom.id: results, waivers and stage actions use it",
            )


# ---------------------------------------------------------------------------------------
# What `gate check` evaluates: packages under gate., and the ids their results carry
# ---------------------------------------------------------------------------------------


def _verdict_rule_names(modules: Iterable[_Module]) -> list[str]:
    return sorted(
        {r.path[0] for m in modules for r in m.rules if r.path and r.path[0] in VERDICT_RULES}
    )


def _not_evaluated_findings(modules: list[_Module]) -> Iterator[Finding]:
    """deny/warn in a package outside ``gate.``: ``gate check`` queries ``data.gate`` only,
    so such a rule passes its tests and never runs (library packages may live anywhere)."""
    for module in modules:
        names = _verdict_rule_names([module])
        if not names or is_evaluated_package(module.package):
            continue
        package = ".".join(module.package)
        yield Finding(
            module.path,
            module.package_line,
            module.package_column,
            "not-evaluated",
            ERROR,
            f"package {package} defines {' and '.join(names)}, but `gate check` evaluates "
            "only packages under gate. (data.gate): this rule never runs",
            f"rename the package to gate.{package}",
        )


def _emitted_id_findings(modules: list[_Module]) -> Iterator[Finding]:
    """A result id that no METADATA block of its package declares: waivers, stage actions
    and ``effective_from`` look a rule up by its METADATA id, so they would miss it."""
    packages: dict[tuple[str, ...], list[_Module]] = {}
    for module in modules:
        packages.setdefault(module.package, []).append(module)
    for members in packages.values():
        if not _verdict_rule_names(members):
            continue
        declared = sorted(
            {str(rule_id) for m in members for b in m.blocks if (rule_id := b.get("custom.id"))}
        )
        if not declared:
            continue  # reported as metadata-missing / metadata-field
        for module in members:
            for literal in _emitted_ids(module):
                value = literal["value"]
                if value in declared:
                    continue
                span = literal["span"]
                expected = " or ".join(json.dumps(d) for d in declared)
                yield Finding(
                    module.path,
                    span["line"],
                    span["col"],
                    "rule-id-mismatch",
                    ERROR,
                    f"the rule emits id {json.dumps(value)} but its METADATA custom.id is "
                    f"{expected}",
                    f"use one id: emit {expected}, or set `id: {value}` under custom: "
                    "(waivers, stage actions and effective_from use the METADATA id)",
                )


def _emitted_ids(module: _Module) -> Iterator[dict[str, Any]]:
    """String literal nodes a module emits as result ids: ``rule_id := "…"``, the first
    argument of ``lib.result("…", …)``, and ``"id": "…"`` in a result object literal."""
    for rule in module.rules:
        if rule.path == ("rule_id",) and rule.kind == "Compr":
            assign = rule.node["Spec"]["head"]["Compr"].get("assign")
            if assign and string_literal(assign["value"]) is not None:
                yield next(iter(assign["value"].values()))
    for node in _nodes(module.rules):
        call = node.get("Call")
        if isinstance(call, dict):
            name, _ = static_path(call["fcn"])
            params = call.get("params") or []
            if name and name[-1] == "result" and params and string_literal(params[0]) is not None:
                yield next(iter(params[0].values()))
        fields = (
            node.get("Object", {}).get("fields") if isinstance(node.get("Object"), dict) else None
        )
        if fields:
            keyed = {string_literal(key): value for _, key, value in fields}
            if "msg" in keyed and "id" in keyed and string_literal(keyed["id"]) is not None:
                yield next(iter(keyed["id"].values()))


def _nodes(rules: Iterable[_Rule]) -> Iterator[dict[str, Any]]:
    """Every AST object node of ``rules``."""
    stack: list[Any] = [rule.node for rule in rules]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(v for k, v in node.items() if k != "span")
        elif isinstance(node, list):
            stack.extend(node)


# ---------------------------------------------------------------------------------------
# The policy data: gate_config's stages, actions and settings
# ---------------------------------------------------------------------------------------


class _DataCheck:
    """Check ``gate_config`` of the merged policy data (what ``gate check`` reads).

    A misspelt rule id or action silently denies (fail closed) and a misspelt setting is
    silently ignored (the rule keeps its default), so each is an error naming the data file
    that set it and the JSON path. Rule ids and settings of the bundled pack count as known
    when it is not among the linted paths: an organisation's data may tune it when layered.
    """

    def __init__(self, bundle: PolicyBundle, modules: list[_Module]) -> None:
        self.data = bundle.data
        self.layers = bundle.stage_layers
        self.data_files = [path for path, _ in bundle.files if not path.endswith(".rego")]
        self.modules = modules
        layered = not any(is_bundled(m.path) for m in modules)
        declared = {
            str(rule_id): (m.package, b)
            for m in modules
            for b in m.blocks
            if (rule_id := b.get("custom.id")) is not None
        }
        self.enforced = sorted(
            rule_id for rule_id, (package, _) in declared.items() if is_evaluated_package(package)
        )
        self.rule_ids = set(declared) | (set(_bundled_rule_ids()) if layered else set())
        self.settings = _settings_read(modules) | set(_core_settings())
        if layered:
            self.settings |= set(_bundled_settings())
        self.findings: list[Finding] = []
        self.texts: dict[str, str] = {}
        """Data files as read again to place findings (their text; "" when unreadable)."""

    def run(self) -> list[Finding]:
        config = self.data.get("gate_config")
        if not isinstance(config, dict):
            return []
        stages = config.get("stages")
        if not isinstance(stages, dict):
            return []
        self._check_order(config.get("stage_order"), stages)
        for stage, stage_config in stages.items():
            if not isinstance(stage_config, dict):
                self._add(("stages", stage), ERROR, "data-stage", "a stage must be an object")
                continue
            self._check_actions(stage, stage_config.get("actions"))
            self._check_settings(stage, stage_config.get("settings"))
        return self.findings

    def _check_order(self, order: Any, stages: dict[str, Any]) -> None:
        if order is None:
            return  # stages_of() orders the stages as written
        if not isinstance(order, list) or not all(isinstance(s, str) for s in order):
            self._add(("stage_order",), ERROR, "data-stage-order", "must be a list of stage names")
            return
        for stage in stages:
            if stage not in order:
                self._add(
                    ("stages", stage),
                    ERROR,
                    "data-stage-order",
                    "this stage is missing from gate_config.stage_order",
                    _close(stage, order, "did you mean {}?")
                    or f"add {json.dumps(stage)} to stage_order",
                )
        for index, stage in enumerate(order):
            if stage not in stages:
                self._add(
                    ("stage_order", str(index)),
                    ERROR,
                    "data-stage-order",
                    f"stage {json.dumps(stage)} has no entry in gate_config.stages "
                    "(every rule denies there)",
                    _close(stage, list(stages), "did you mean {}?")
                    or f"add gate_config.stages.{stage} with its actions",
                )

    def _check_actions(self, stage: str, actions: Any) -> None:
        if actions is None:
            return
        if not isinstance(actions, dict):
            self._add(("stages", stage, "actions"), ERROR, "data-action", "must be an object")
            return
        for rule_id, action in actions.items():
            where = ("stages", stage, "actions", rule_id)
            if rule_id not in self.rule_ids:
                self._add(
                    where,
                    ERROR,
                    "data-unknown-rule",
                    "no rule has this id",
                    _close(rule_id, sorted(self.rule_ids), "did you mean {}?")
                    or "known ids are the custom.id of the rules' METADATA (gate policy doc)",
                )
            if action not in ACTIONS:
                self._add(
                    where,
                    ERROR,
                    "data-action",
                    f"action {_quoted(action)} is not one of {', '.join(ACTIONS)} "
                    "(the rule denies here)",
                    _close(str(action), list(ACTIONS), 'did you mean "{}"?'),
                )
        for rule_id in self.enforced:
            if rule_id not in actions:
                self._add(
                    ("stages", stage, "actions"),
                    WARNING,
                    "data-action-unset",
                    f"no action for rule {rule_id}: it denies in this stage (fail closed)",
                    f'add "{rule_id}": "deny" (or "warn"/"off")',
                )

    def _check_settings(self, stage: str, settings: Any) -> None:
        if settings is None:
            return
        if not isinstance(settings, dict):
            self._add(("stages", stage, "settings"), ERROR, "data-setting", "must be an object")
            return
        for name in settings:
            if name not in self.settings:
                self._add(
                    ("stages", stage, "settings", name),
                    ERROR,
                    "data-setting",
                    "no rule reads this setting",
                    _close(name, sorted(self.settings), "did you mean {}?")
                    or 'rules read settings with lib.setting("<name>")',
                )

    def _add(
        self,
        keys: tuple[str, ...],
        severity: str,
        code: str,
        message: str,
        hint: str | None = None,
    ) -> None:
        path = ("gate_config", *keys)
        shown = self._file_of(keys)
        line, column = 1, 1
        if len(self.findings) < _LOCATED_DATA_FINDINGS:
            if shown not in self.texts:
                self.texts[shown] = _data_text(shown)
            line, column = _json_position(self.texts[shown], path)
        where = ".".join(_shown_key(key) for key in path)
        self.findings.append(
            Finding(shown, line, column, code, severity, f"{where}: {message}", hint)
        )

    def _file_of(self, keys: tuple[str, ...]) -> str:
        """The last data file that sets ``gate_config.<keys>`` (stage keys: from the
        bundle's per-file stages), else the last one with stages (it holds stage_order)."""
        if keys[0] == "stages":
            found = None
            for path, layer in self.layers:
                if _has_path(layer, keys[1:]):
                    found = path
            if found:
                return found
        staged = [path for path, layer in self.layers if layer]
        return (staged or self.data_files or ["data"])[-1]


def _has_path(node: Any, keys: Sequence[str]) -> bool:
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def _close(word: str, choices: Sequence[str], template: str) -> str | None:
    close = difflib.get_close_matches(word, choices, n=1)
    return template.format(close[0]) if close else None


def _shown_key(key: str) -> str:
    """A data key as a message shows it: quoted (and cut) unless plain, so that a key
    holding a newline or a screenful of text cannot forge or flood lint's output."""
    return key if _PLAIN_KEY.fullmatch(key) else _quoted(key)


def _quoted(value: Any) -> str:
    """A JSON value as a message shows it: JSON, cut to 80 characters."""
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:76] + "..."


def _data_text(shown: str) -> str:
    """A data file's text, read again (bounded like the load) to place findings; "" when
    it cannot be (stdin, gone, not UTF-8)."""
    from gate.inputs import read_bounded
    from gate.policy import MAX_DATA_BYTES

    real = _real_path(shown)
    if real is None:
        return ""
    try:
        return read_bounded(real, MAX_DATA_BYTES, shown, PolicyError).decode("utf-8-sig")
    except (PolicyError, UnicodeDecodeError):
        return ""


def _json_position(text: str, path: Sequence[str]) -> tuple[int, int]:
    """Best-effort line and column of a JSON path's last key in a data file's text (1, 1
    when the key is not written as a plain "key")."""
    position = 0
    found = -1
    for key in path:
        if key.isdigit():
            continue  # a list index: the list's key is as close as a text search gets
        at = text.find(json.dumps(key, ensure_ascii=False), position)
        if at < 0:
            break
        found = position = at
    if found < 0:
        return 1, 1
    line = text.count("\n", 0, found) + 1
    return line, found - (text.rfind("\n", 0, found) + 1) + 1


def _real_path(shown: str) -> Path | None:
    if is_bundled(shown):
        return default_policy_dir() / shown.removeprefix(f"{DEFAULT_POLICIES_NAME}/")
    real = Path(shown)
    return real if shown != "-" and real.is_file() else None


def _settings_read(modules: list[_Module]) -> set[str]:
    """Setting names the modules read by name: ``lib.setting("name", …)`` (any function
    named ``setting``) and ``….settings.name`` / ``….settings["name"]``."""
    found: set[str] = set()
    for module in modules:
        for node in _nodes(module.rules):
            call = node.get("Call")
            if isinstance(call, dict):
                name, _ = static_path(call["fcn"])
                params = call.get("params") or []
                if name and name[-1] == "setting" and params:
                    literal = string_literal(params[0])
                    if literal is not None:
                        found.add(literal)
            elif "RefDot" in node or "RefBrack" in node:
                _, segments = _chain(node)
                keys = [segment.key for segment in segments]
                found.update(
                    key
                    for before, key in zip(keys, keys[1:], strict=False)
                    if before == "settings" and key is not None
                )
    return found


def _core_settings() -> tuple[str, ...]:
    """Stage settings gate's Python core reads itself (not through a rule)."""
    from gate.baseline import BLOCK_EXISTING

    return (BLOCK_EXISTING,)


@cache
def _bundled_rule_ids() -> tuple[str, ...]:
    root = default_policy_dir()
    found: list[str] = []
    for path in sorted(root.rglob("*.rego")):
        if not is_test_module(path):
            module = PolicyModule(str(path), path.read_text(encoding="utf-8"))
            found.extend(info.id for info in parse_metadata(module))
    return tuple(found)


@cache
def _bundled_settings() -> tuple[str, ...]:
    data = json.loads((default_policy_dir() / "data.json").read_text(encoding="utf-8"))
    return tuple(
        sorted(
            {name for stage in stage_configs(data).values() for name in stage.get("settings", {})}
        )
    )


# ---------------------------------------------------------------------------------------
# deny / warn shape
# ---------------------------------------------------------------------------------------


def _rule_kind_findings(module: _Module) -> Iterator[Finding]:
    for rule in module.rules:
        if not rule.path or rule.path[0] not in VERDICT_RULES:
            continue
        name = rule.path[0]
        if rule.kind == "Set" and rule.simple:
            continue
        what = {
            "Default": "has a default value",
            "Func": "is a function",
        }.get(rule.kind, "is not a partial set")
        yield Finding(
            module.path,
            rule.line,
            rule.column,
            "not-a-set",
            WARNING,
            f"{name} {what}: gate collects the members of {name} sets",
            f"write `{name} contains result if {{ … }}`",
        )


# ---------------------------------------------------------------------------------------
# The document JSON Schema, navigated one reference step at a time
# ---------------------------------------------------------------------------------------


@cache
def _document_schema() -> dict[str, Any]:
    text = resources.files("gate").joinpath("schema/document.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@dataclass(frozen=True, eq=False)
class _Shape:
    """Where a value sits in the document: its schema alternatives and a readable path."""

    alts: tuple[Mapping[str, Any], ...]
    where: str


@dataclass(frozen=True)
class _Problem:
    """Why a reference step cannot match the schema."""

    message: str
    keys: tuple[str, ...] = ()


class _Schema:
    """Steps through the document JSON Schema: ``$ref`` into ``$defs``, ``properties``,
    ``items``, ``anyOf``/``oneOf``/``allOf`` (nullable fields), ``additionalProperties``
    (maps such as ``image.env`` and ``image.labels``: any key is fine)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = schema.get("$defs", {})
        self.root = self.shape([schema], "input")

    def shape(self, nodes: Iterable[Mapping[str, Any]], where: str) -> _Shape:
        alts: list[Mapping[str, Any]] = []
        pending = list(nodes)
        while pending:
            node = pending.pop(0)
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                pending.append(self.defs.get(ref.removeprefix("#/$defs/"), {}))
                continue
            combined = [x for k in ("anyOf", "oneOf", "allOf") for x in node.get(k) or []]
            if combined:
                pending.extend(combined)
                continue
            if node.get("type") != "null":
                alts.append(node)
        return _Shape(tuple(alts), where)

    def field(self, shape: _Shape, key: str) -> _Shape | _Problem | None:
        """Step ``.key``: the child's shape, a problem, or None when the schema cannot say."""
        found: list[Mapping[str, Any]] = []
        keys: set[str] = set()
        kinds: set[str] = set()
        for alt in shape.alts:
            kind = _kind(alt)
            if kind == "object":
                properties = alt.get("properties") or {}
                extra = alt.get("additionalProperties", True)
                if key in properties:
                    found.append(properties[key])
                elif isinstance(extra, dict):
                    found.append(extra)
                elif extra is not False:
                    return None  # an open object: any key may exist
                else:
                    keys.update(properties)
                    kinds.add("object")
            elif kind is None:
                return None  # unconstrained
            else:
                kinds.add(kind)
        if found:
            return self.shape(found, f"{shape.where}.{key}")
        if "object" in kinds:
            return _Problem(f"{_describe(shape.where)} has no field {key!r}", tuple(sorted(keys)))
        if kinds == {"array"}:
            return _Problem(
                f"{shape.where} is an array, not an object: iterate it ({shape.where}[_].{key})"
            )
        kind = " or ".join(sorted(kinds)) or "null"
        article = "an" if kind[0] in "aeiou" else "a"
        return _Problem(f"{shape.where} is {article} {kind}: it has no fields")

    def element(self, shape: _Shape) -> _Shape | None:
        """Step ``[x]`` with a non-literal index: array items or map values, else None."""
        found: list[Mapping[str, Any]] = []
        suffix = "[_]"
        for alt in shape.alts:
            kind = _kind(alt)
            if kind == "array" and isinstance(alt.get("items"), dict):
                found.append(alt["items"])
            elif kind == "object" and isinstance(alt.get("additionalProperties"), dict):
                found.append(alt["additionalProperties"])
                suffix = "[k]"
            else:
                return None  # a dynamic key into a record, or a scalar: stop checking
        return self.shape(found, shape.where + suffix) if found else None

    def array_of(self, item: _Shape) -> _Shape:
        """The shape of an array (or set) whose items have the shape ``item``."""
        where = item.where.removesuffix("[_]")
        return _Shape(({"type": "array", "items": {"anyOf": list(item.alts)}},), where)


def _kind(node: Mapping[str, Any]) -> str | None:
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    if kind is None and ("properties" in node or "additionalProperties" in node):
        return "object"
    return kind if isinstance(kind, str) else None


def _describe(where: str) -> str:
    return "the document (input)" if where == "input" else where


# ---------------------------------------------------------------------------------------
# What data.* defines: data documents' keys and every package's rules
# ---------------------------------------------------------------------------------------


class _Opaque:
    """A defined value whose inside the lint does not judge (a rule, a list, a scalar)."""


OPAQUE = _Opaque()


def _data_tree(data: dict[str, Any], modules: list[_Module]) -> dict[str, Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        return OPAQUE

    tree: dict[str, Any] = convert(data)
    for module in modules:
        node = tree
        for key in module.package:
            child = node.setdefault(key, {})
            if child is OPAQUE:
                break
            node = child
        else:
            for rule in module.rules:
                _define(node, rule.path)
    return tree


def _define(node: dict[str, Any], path: tuple[str, ...]) -> None:
    for key in path[:-1]:
        child = node.setdefault(key, {})
        if child is OPAQUE:
            return
        node = child
    if path:
        node[path[-1]] = OPAQUE


def _undefined_at(tree: dict[str, Any], path: Sequence[str]) -> tuple[int, list[str]] | None:
    """Index of the first step of ``path`` that nothing defines, and the keys there."""
    node: Any = tree
    for index, key in enumerate(path):
        if node is OPAQUE:
            return None
        if key not in node:
            return index, sorted(node)
        node = node[key]
    return None


# ---------------------------------------------------------------------------------------
# References: input paths against the schema, data paths against what is defined
# ---------------------------------------------------------------------------------------

Env = dict[str, _Shape | None]
"""Variables of a query: bound to a part of the input (a shape) or to something else."""


@dataclass
class _Context:
    schema: _Schema
    data_tree: dict[str, Any]
    aliases: dict[tuple[str, ...], _Shape]
    """Rules whose value is a part of the input, by data path (``lib.gate.image``)."""
    names: dict[tuple[str, ...], set[str]]
    """Rule names of each package (a package may span several files)."""


class _Empty:
    """A rule value that adds no keys of its own (``{}``, ``[]``, null)."""


EMPTY = _Empty()


def _input_aliases(modules: list[_Module], context: _Context) -> dict[tuple[str, ...], _Shape]:
    """Find rules whose every value is one part of the input (or empty).

    ``image := input.image if …`` with ``default image := {}``, and the lib's memoised
    lists (``[v | v := input.vulnerabilities[_]; …]``, filtered again by later rules)
    become aliases, so that ``data.lib.gate.image.usr`` is checked like ``input.image.usr``.
    Chains (a list filtered from a list filtered from the input) resolve one link a round.
    """
    aliases: dict[tuple[str, ...], _Shape] = {}
    for _ in range(8):
        values: dict[tuple[str, ...], list[_Shape | _Empty | None]] = {}
        context.aliases = aliases
        for module in modules:
            checker = _RefChecker(module, context, report=False)
            for rule in module.rules:
                if rule.path and rule.kind != "Func":
                    key = (*module.package, *rule.path) if rule.simple else None
                    if key is not None:
                        values.setdefault(key, []).extend(checker.rule_values(rule))
                    else:
                        values.setdefault((*module.package, rule.path[0]), []).append(None)
        found: dict[tuple[str, ...], _Shape] = {}
        for key, shapes in values.items():
            real = [s for s in shapes if isinstance(s, _Shape)]
            if real and all(s is not None for s in shapes) and len({s.where for s in real}) == 1:
                found[key] = real[0]
        if {k: v.where for k, v in found.items()} == {k: v.where for k, v in aliases.items()}:
            break
        aliases = found
    return aliases


class _RefChecker:
    """Walk one module's AST: check input and data references, and impure builtins."""

    def __init__(self, module: _Module, context: _Context, *, report: bool = True) -> None:
        self.module = module
        self.context = context
        self.schema = context.schema
        self.report = report
        self.names = context.names.get(module.package, set())
        self.findings: list[Finding] = []
        self.rule_name = ""

    # -- driving -------------------------------------------------------------------------

    def run(self) -> list[Finding]:
        for rule in self.module.rules:
            self.rule_name = ".".join(rule.path) or "this rule"
            self._visit_rule(rule)
        return self.findings

    def _visit_rule(self, rule: _Rule) -> None:
        if rule.kind == "Default":
            self._visit(rule.node["Default"]["value"], {})
            return
        spec = rule.node["Spec"]
        head = next(iter(spec["head"].values()))
        env0: Env = dict.fromkeys(self._arg_names(head))
        main_done = False
        for body in spec["bodies"]:
            env = self._visit_query(body["query"], env0)
            if body.get("is_else"):
                if body.get("assign"):
                    self._visit(body["assign"]["value"], env)
            elif not main_done:
                self._visit_head(head, env)
                main_done = True
        if not main_done:
            self._visit_head(head, env0)

    def _visit_head(self, head: dict[str, Any], env: Env) -> None:
        if head.get("assign"):
            self._visit(head["assign"]["value"], env)
        if head.get("key"):
            self._visit(head["key"], env)
        _, segments = _chain(head["refr"])
        for segment in segments:
            if segment.index is not None:
                self._visit(segment.index, env)

    def _arg_names(self, head: dict[str, Any]) -> set[str]:
        names: set[str] = set()
        for arg in head.get("args") or []:
            names.update(_vars_in(arg))
        _, segments = _chain(head["refr"])
        for segment in segments:
            if segment.index is not None:
                names.update(_vars_in(segment.index))
        return names

    def rule_values(self, rule: _Rule) -> list[_Shape | _Empty | None]:
        """The shapes a (non-function) rule's values have: one per definition."""
        if rule.kind == "Default":
            return [self._value_shape(rule.node["Default"]["value"], {})]
        spec = rule.node["Spec"]
        head = next(iter(spec["head"].values()))
        values: list[_Shape | _Empty | None] = []
        bodies = spec["bodies"] or [{"query": {"stmts": []}}]
        main_env: Env | None = None
        for body in bodies:
            env = self._bind(body["query"], {})
            if body.get("is_else"):
                assign = body.get("assign")
                values.append(self._value_shape(assign["value"], env) if assign else None)
            elif main_env is None:
                main_env = env
        env = main_env or {}
        if rule.kind == "Set":
            item = self._shape_of(head["key"], env) if head.get("key") else None
            values.append(self.schema.array_of(item) if item else None)
        elif head.get("assign"):
            values.append(self._value_shape(head["assign"]["value"], env))
        else:
            values.append(None)  # a boolean rule
        return values

    def _value_shape(self, node: dict[str, Any], env: Env) -> _Shape | _Empty | None:
        if "Null" in node or node.get("Object", {}).get("fields") == []:
            return EMPTY
        if node.get("Array", {}).get("items") == []:
            return EMPTY
        return self._shape_of(node, env)

    # -- scopes and bindings ---------------------------------------------------------------

    def _visit_query(self, query: dict[str, Any], env: Env) -> Env:
        scope = self._bind(query, env)
        for stmt in query["stmts"]:
            self._visit(stmt["literal"], scope)
            for mod in stmt.get("with_mods") or []:
                self._visit(mod["as"], scope)  # the target is written to, not read
        return scope

    def _bind(self, query: dict[str, Any], env: Env) -> Env:
        """The variables a query binds, with the input part each one holds when known.

        Two passes, so that a variable used before the statement that binds it (Rego
        reorders statements) still resolves.
        """
        scope = dict(env)
        for _ in range(2):
            for stmt in query["stmts"]:
                ((kind, literal),) = stmt["literal"].items()
                if kind == "SomeIn":
                    collection = self._shape_of(literal["collection"], scope)
                    if literal.get("key"):
                        for name in _vars_in(literal["key"]):
                            scope[name] = None
                    value = literal["value"]
                    item = self.schema.element(collection) if collection else None
                    if "Var" in value:
                        scope[value["Var"]["value"]] = item
                    else:
                        for name in _vars_in(value):
                            scope[name] = None
                elif kind == "SomeVars":
                    for span in literal["vars"]:
                        scope.setdefault(self._span_text(span), None)
                elif kind == "Expr" and "AssignExpr" in literal["expr"]:
                    self._bind_assign(literal["expr"]["AssignExpr"], scope)
        return scope

    def _bind_assign(self, assign: dict[str, Any], scope: Env) -> None:
        lhs, rhs = assign["lhs"], assign["rhs"]
        if assign.get("op") != "ColEq" and "Var" in rhs and "Var" not in lhs:
            lhs, rhs = rhs, lhs  # `input.subject = x` binds x too
        if "Var" in lhs:
            scope[lhs["Var"]["value"]] = self._shape_of(rhs, scope)
        else:
            for name in _vars_in(lhs):
                scope.setdefault(name, None)

    def _span_text(self, span: dict[str, Any]) -> str:
        return self.module.text(span["start"], span["end"])

    # -- the walk --------------------------------------------------------------------------

    def _visit(self, node: Any, env: Env, negated: bool = False) -> None:
        if isinstance(node, list):
            for item in node:
                self._visit(item, env, negated)
            return
        if not isinstance(node, dict):
            return
        if "stmts" in node:
            self._visit_query(node, env)
            return
        if len(node) != 1 or not next(iter(node))[:1].isupper():
            for key, value in node.items():
                if key != "span":
                    self._visit(value, env, negated)
            return
        ((kind, body),) = node.items()
        if kind in ("RefDot", "RefBrack"):
            self._check_ref(node, env, negated)
        elif kind in ("ArrayCompr", "SetCompr"):
            scope = self._visit_query(body["query"], env)
            self._visit(body["term"], scope, negated)
        elif kind == "ObjectCompr":
            scope = self._visit_query(body["query"], env)
            self._visit([body["key"], body["value"]], scope, negated)
        elif kind == "Every":
            self._visit(body["domain"], env, negated)
            domain = self._shape_of(body["domain"], env)
            scope = dict(env)
            if body.get("key"):
                scope[self._span_text(body["key"])] = None
            scope[self._span_text(body["value"])] = self.schema.element(domain) if domain else None
            self._visit_query(body["query"], scope)
        elif kind == "Call":
            self._check_call(body, env, negated)
        elif kind == "NotExpr":
            self._visit(body["expr"], env, True)
        elif kind != "Var":
            for key, value in body.items():
                if key != "span":
                    self._visit(value, env, negated)

    def _check_call(self, call: dict[str, Any], env: Env, negated: bool) -> None:
        name, complete = static_path(call["fcn"])
        function = ".".join(name) if complete else ""
        if function in IMPURE_BUILTINS:
            code, message, hint = IMPURE_BUILTINS[function]
            span = _span(call["fcn"])
            self._add(span, code, WARNING, message, hint or None)
        params = call["params"]
        if function == "object.get" and len(params) == 3:
            self._check_object_get(params, env)
        self._visit(params, env, negated)

    def _check_object_get(self, params: list[dict[str, Any]], env: Env) -> None:
        """``object.get(x, "key", d)`` / ``object.get(x, ["a", "b"], d)`` reads x.key."""
        shape = self._shape_of(params[0], env)
        if shape is None:
            return
        keys = params[1]
        steps = [keys] if string_literal(keys) is not None else keys.get("Array", {}).get("items")
        for step in steps or []:
            key = string_literal(step)
            if key is None or shape is None:
                return
            found = self.schema.field(shape, key)
            if isinstance(found, _Problem):
                hint = _did_you_mean(key, found.keys, '"', '"')
                self._add(
                    _span(step),
                    "input-path",
                    ERROR,
                    f"object.get(…, {json.dumps(key)}, …): {found.message}",
                    hint,
                )
                return
            shape = found

    # -- references ------------------------------------------------------------------------

    def _check_ref(self, node: dict[str, Any], env: Env, negated: bool) -> None:
        root, segments = _chain(node)
        for segment in segments:
            if segment.index is not None:
                self._visit(segment.index, env, negated)
        if "Var" not in root:
            self._visit(root, env, negated)
            return
        name = root["Var"]["value"]
        start = root["Var"]["span"]["start"]
        if name in env:
            shape = env[name]
            if shape is not None:
                self._walk(shape, segments, start)
        elif name == "input":
            self._walk(self.schema.root, segments, start)
        elif name == "data":
            self._data_ref((), segments, start, negated)
        elif name in self.module.imports:
            imported = self.module.imports[name]
            if imported[0] == "input":
                shape = self._walk_quietly(self.schema.root, imported[1:])
                if shape is not None:
                    self._walk(shape, segments, start)
            else:
                self._data_ref(imported[1:], segments, start, negated)
        elif name in self.names:
            self._data_ref((*self.module.package, name), segments, start, negated, local=True)

    def _data_ref(
        self,
        prefix: tuple[str, ...],
        segments: list[_Segment],
        start: int,
        negated: bool,
        *,
        local: bool = False,
    ) -> None:
        """Check ``data.<prefix><segments>``: through an input alias, else that it is defined."""
        aliased = self._through_alias(prefix, segments)
        if aliased is not None:
            self._walk(*aliased, start)
        elif not local:
            keys = [*prefix, *_static_keys(segments)]
            self._check_defined(keys, prefix, segments, negated)

    def _through_alias(
        self, prefix: tuple[str, ...], segments: list[_Segment]
    ) -> tuple[_Shape, list[_Segment]] | None:
        """The input alias a data reference goes through, and the steps after it."""
        keys = prefix
        for count in range(len(segments) + 1):
            alias = self.context.aliases.get(keys)
            if alias is not None:
                return alias, segments[count:]
            if count == len(segments) or segments[count].key is None:
                return None
            keys = (*keys, segments[count].key or "")
        return None  # pragma: no cover - the loop always returns

    def _check_defined(
        self, keys: list[str], prefix: tuple[str, ...], segments: list[_Segment], negated: bool
    ) -> None:
        if not self.report or (keys and keys[0] == "lib"):
            return
        missing = _undefined_at(self.context.data_tree, keys)
        if missing is None:
            return
        index, known = missing
        written_index = index - len(prefix)
        if written_index < 0:
            return  # an import of an undefined path: reported where it is used, once
        segment = segments[written_index]
        path = "data." + ".".join(keys[: index + 1])
        effect = "this `not` always holds" if negated else f"{self.rule_name} can never fire"
        close = difflib.get_close_matches(keys[index], known, n=1)
        hint = f"did you mean {'data.' + '.'.join([*keys[:index], close[0]])}?" if close else None
        self._add(
            segment.span,
            "undefined-data",
            WARNING,
            f"{effect} ({path} is undefined: no data document or policy defines it)",
            hint,
        )

    def _walk(self, shape: _Shape, segments: list[_Segment], start: int) -> None:
        """Follow ``segments`` from ``shape``, reporting the first step the schema lacks."""
        current: _Shape | None = shape
        for segment in segments:
            if current is None:
                return
            if segment.key is None:
                current = self.schema.element(current)
                continue
            found = self.schema.field(current, segment.key)
            if isinstance(found, _Problem):
                written = self.module.text(start, segment.end)
                head = self.module.text(start, segment.span["start"])
                tail = self.module.text(segment.span["end"], segment.end)
                quote = '"' if segment.index is not None else ""
                hint = _did_you_mean(segment.key, found.keys, head + quote, quote + tail)
                self._add(
                    segment.span,
                    "input-path",
                    ERROR,
                    f"{_one_line(written)}: {found.message}",
                    hint,
                )
                return
            current = found

    def _walk_quietly(self, shape: _Shape, keys: Sequence[str]) -> _Shape | None:
        current: _Shape | _Problem | None = shape
        for key in keys:
            if not isinstance(current, _Shape):
                return None
            current = self.schema.field(current, key)
        return current if isinstance(current, _Shape) else None

    def _shape_of(self, node: dict[str, Any], env: Env) -> _Shape | None:
        """The input part an expression denotes, when it is a (followable) reference."""
        if "ArrayCompr" in node or "SetCompr" in node:
            body = node.get("ArrayCompr") or node["SetCompr"]
            item = self._shape_of(body["term"], self._bind(body["query"], env))
            return self.schema.array_of(item) if item else None
        root, segments = _chain(node)
        if "Var" not in root:
            return None
        name = root["Var"]["value"]
        if name in env:
            return self._follow(env[name], segments)
        if name == "input":
            return self._follow(self.schema.root, segments)
        imported = self.module.imports.get(name)
        if imported and imported[0] == "input":
            return self._follow(self._walk_quietly(self.schema.root, imported[1:]), segments)
        if imported:
            prefix = imported[1:]
        elif name == "data":
            prefix = ()
        elif name in self.names:
            prefix = (*self.module.package, name)
        else:
            return None
        aliased = self._through_alias(prefix, segments)
        return self._follow(*aliased) if aliased else None

    def _follow(self, shape: _Shape | None, segments: list[_Segment]) -> _Shape | None:
        for segment in segments:
            if shape is None:
                return None
            if segment.key is None:
                shape = self.schema.element(shape)
            else:
                found = self.schema.field(shape, segment.key)
                shape = found if isinstance(found, _Shape) else None
        return shape

    def _add(
        self, span: dict[str, Any], code: str, severity: str, message: str, hint: str | None
    ) -> None:
        if self.report:
            self.findings.append(
                Finding(self.module.path, span["line"], span["col"], code, severity, message, hint)
            )


def _static_keys(segments: list[_Segment]) -> Iterator[str]:
    for segment in segments:
        if segment.key is None:
            return
        yield segment.key


def _vars_in(node: Any) -> Iterator[str]:
    """Every variable name in an expression (for patterns such as ``[a, b] := …``)."""
    if isinstance(node, list):
        for item in node:
            yield from _vars_in(item)
    elif isinstance(node, dict):
        if "Var" in node and isinstance(node["Var"], dict):
            value = node["Var"].get("value")
            if isinstance(value, str) and value != "_":
                yield value
            return
        for key, value in node.items():
            if key != "span":
                yield from _vars_in(value)


# Document schema v1 names and their v2 names (issue 10): a policy written for v1 gets the
# new name, not a guess. Only where the new name is a field of the object in question, since
# ``source`` (of a CVSS rating, of a base image) and ``packages`` (of an attestation, of the
# document) still exist elsewhere with their own meaning.
_RENAMED_IN_V2 = {
    "input_file": "input",
    "source": "input",
    "rule_id": "id",
    "findings": "finding_count",
    "packages": "package_count",
    "vex_statements": "vex_statement_count",
    "attestations": "attestation_count",
}


def _did_you_mean(key: str, keys: Sequence[str], before: str, after: str) -> str | None:
    """ "did you mean <before><closest key><after>?", or the keys there are."""
    renamed = _RENAMED_IN_V2.get(key)
    if renamed in keys:
        where = _one_line(before + str(renamed) + after)
        return f"did you mean {where}? ({key} was renamed in document schema_version 2)"
    close = difflib.get_close_matches(key, keys, n=1)
    if close:
        return f"did you mean {_one_line(before + close[0] + after)}?"
    if keys:
        return f"known fields: {', '.join(keys)}"
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


@click.command("lint")
@policy_path_options
@text_or_json_option
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@debug_option
def lint_command(
    paths: tuple[str, ...], data: tuple[str, ...], output_format: str, strict: bool
) -> None:
    """Lint Rego policies (PATH..., default: the bundled pack), their tests included.

    \b
    Errors: modules that do not compile, missing METADATA fields, duplicate rule ids,
    deny/warn outside package gate.* (never evaluated), result ids other than the METADATA
    id, input paths the document schema does not have, data.json stage actions naming no
    rule or no valid action, settings no rule reads, stages outside stage_order.
    Warnings: data paths nothing defines, deny/warn that are not sets, clock, random and
    network builtins, rules a stage leaves without an action.
    Exit codes: 0 no errors, 1 errors (or warnings with --strict), 2 usage error,
    3 the policies or data cannot be loaded.
    """
    report = lint_isolated(list(paths), list(data))
    if output_format == "json":
        sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write(report.render_text())
    sys.stdout.flush()
    sys.exit(report.exit_code(strict=strict))
