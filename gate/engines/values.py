"""Why a rule body did not hold: its first false, undefined or failing expression, with the
values of the variables and references in it (``opa test --var-values``, which regorus
lacks).

regorus evaluates a body as a whole. To find where it stops, gate evaluates growing
prefixes of the body (statements 1..k) as probe rules in the body's own package (so its
imports and rules resolve as they do in the body), each on a clone of the analysed
engine; then the sub-expressions of the first statement that does not hold, after the
statements before it. Only on the way to a failure or an error: a probe costs a clone and
an analysis (about 15 ms on the bundled pack). A probe that does not compile (a prefix
that uses a variable only a later statement binds) is skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from gate.engines.outline import Outline, static_path
from gate.policy import PolicyModule

PROBE_FILE = "<gate-probe>"
MAX_EXPRESSIONS = 8
"""Sub-expressions whose value is shown for one statement."""
MAX_VALUE_CHARS = 200
MAX_SOLUTIONS = 3
"""Values shown per expression when the statements before it have several solutions."""
_PROBE = "__gate_probe"


@dataclass(frozen=True)
class Statement:
    """One statement of a body as written: its text (``with`` modifiers included), line,
    the ``with`` modifiers alone, and its AST literal."""

    text: str
    line: int
    withs: str
    literal: dict[str, Any]


@dataclass(frozen=True)
class Stop:
    """Where a body stops: the statement, how (``false`` for false or undefined,
    ``error`` with the engine's message) and the values of what it refers to."""

    statement: Statement
    error: str | None
    values: tuple[tuple[str, str], ...]

    def describe(self, where: str) -> list[str]:
        """Lines for a report: the statement at ``where`` (``file:line``), then the values."""
        how = f"fails: {self.error}" if self.error else "is false or undefined"
        lines = [f"{where}: {_one_line(self.statement.text)} {how}"]
        lines += [f"  {name} = {value}" for name, value in self.values]
        return lines


class BodyProbe:
    """Probes of the bodies of one module, on clones of an analysed regorus ``engine``
    (with the input already set when there is one)."""

    def __init__(self, engine: Any, source: str, ast: dict[str, Any]) -> None:
        self.engine = engine
        self.source = source.encode("utf-8")
        package = ast["package"]["span"]
        self.package = ".".join(static_path(ast["package"]["refr"])[0])
        imports = [self._text(i["span"]) for i in ast.get("imports") or []]
        if "import rego.v1" not in imports:  # the probes are written in v1
            imports.append("import rego.v1")
        self.header = "\n".join([self._text(package), *imports]) + "\n"
        # An imported package is not a value worth showing (and costs a whole evaluation).
        self.aliases = {
            found.group(2) or re.split(r"[.\[]", found.group(1))[-1]
            for found in map(_IMPORT.match, imports)
            if found
        }

    def _bounds(self, span: dict[str, Any]) -> tuple[int, int]:
        # A string literal's span leaves out its quotes: at either end of a statement,
        # take them back.
        start, end = int(span["start"]), int(span["end"])
        if start > 0 and self.source[start - 1 : start] in _QUOTES:
            start -= 1
        if self.source[end : end + 1] in _QUOTES:
            end += 1
        return start, end

    def _text(self, span: dict[str, Any]) -> str:
        start, end = self._bounds(span)
        return self.source[start:end].decode("utf-8", "replace")

    def statements(self, body: dict[str, Any]) -> list[Statement]:
        """The statements of one AST body (``{"query": {"stmts": …}}``)."""
        found = []
        for statement in body["query"]["stmts"]:
            span = statement["span"]
            ((_, literal),) = statement["literal"].items()
            _, literal_end = self._bounds(literal["span"])
            _, end = self._bounds(span)
            withs = self.source[literal_end:end].decode("utf-8", "replace")
            found.append(
                Statement(self._text(span), int(span["line"]), withs, statement["literal"])
            )
        return found

    def _evaluate(self, rule: str) -> tuple[bool, Any, str | None]:
        """``(compiled, value, error)`` of one probe rule named ``__gate_probe``."""
        from gate.engines.regorus import describe_error

        clone = self.engine.clone()
        try:
            clone.add_policy(PROBE_FILE, self.header + rule)
            clone.eval_query("true")  # regorus analyses (unsafe variables…) on a first query
        except RuntimeError:
            return False, None, None
        try:
            # As JSON: Python has no set of objects. A probe's value is true or an array,
            # so the engine's "<undefined>" string cannot be a value.
            value = json.loads(clone.eval_rule_as_json(f"data.{self.package}.{_PROBE}"))
        except RuntimeError as exc:
            return True, None, describe_error(exc)[0]
        return True, None if value == _UNDEFINED else value, None

    def first_stop(self, statements: Sequence[Statement]) -> Stop | None:
        """The first statement at which the body no longer holds, with its values; None
        when every prefix holds (or none can be probed)."""
        for index, statement in enumerate(statements):
            body = "".join(f"\t{s.text}\n" for s in statements[: index + 1])
            compiled, value, error = self._evaluate(f"{_PROBE} if {{\n{body}}}\n")
            if not compiled or value is True:
                continue
            return Stop(statement, error, tuple(self.values(statements[:index], statement)))
        return None

    def solutions(
        self, before: Sequence[Statement], statement: Statement, text: str
    ) -> list[Any] | None:
        """The values expression ``text`` takes after ``before`` (one per solution);
        None when that cannot be evaluated."""
        prefix = "".join(f"\t{s.text}\n" for s in before)
        rule = f"{_PROBE} := [__v |\n{prefix}\t__v := {text}{statement.withs}\n]\n"
        compiled, value, error = self._evaluate(rule)
        return value if compiled and error is None and isinstance(value, list) else None

    def builtin_calls(
        self, statement: Statement, builtins: frozenset[str]
    ) -> list[tuple[str, list[str]]]:
        """The ``builtins`` a statement calls: ``(name, argument texts)``, last first."""
        found: list[tuple[int, str, list[str]]] = []
        stack: list[Any] = [statement.literal]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                call = node.get("Call")
                if isinstance(call, dict):
                    name, complete = static_path(call["fcn"])
                    if complete and ".".join(name) in builtins:
                        params = [self._text(_span_of(p)) for p in call.get("params") or []]
                        found.append((-int(call["span"]["start"]), ".".join(name), params))
                stack.extend(v for k, v in node.items() if k != "span" and k not in _LOCAL_SCOPES)
        return [(name, params) for _, name, params in sorted(found)]

    def values(
        self, before: Sequence[Statement], statement: Statement
    ) -> Iterator[tuple[str, str]]:
        """``(expression, value)`` for the variables, references and calls of
        ``statement``, evaluated after ``before`` with the statement's ``with`` modifiers."""
        prefix = "".join(f"\t{s.text}\n" for s in before)
        for text in self.expressions(statement):
            rule = f"{_PROBE} := [__v |\n{prefix}\t__v := {text}{statement.withs}\n]\n"
            compiled, value, error = self._evaluate(rule)
            if compiled:
                yield text, f"error: {error}" if error else show_solutions(value)

    def expressions(self, statement: Statement) -> list[str]:
        """The texts of the statement's outermost references and calls and its variables,
        in order, without repeats: what ``--var-values`` would show."""
        found: list[tuple[int, str]] = []
        self._collect(statement.literal, found)
        texts: list[str] = []
        for _, text in sorted(found):
            if text not in texts:
                texts.append(text)
        return texts[:MAX_EXPRESSIONS]

    def _collect(self, node: Any, found: list[tuple[int, str]]) -> None:
        if isinstance(node, list):
            for item in node:
                self._collect(item, found)
            return
        if not isinstance(node, dict) or len(node) != 1:
            return
        ((kind, body),) = node.items()
        if not isinstance(body, dict) or kind in _LOCAL_SCOPES:
            return
        span = body.get("span")
        children: list[Any]
        if kind == "Var":
            name = str(body.get("value"))
            shown = name not in _SKIPPED_VARS and name not in self.aliases
            if shown and not name.startswith("__") and span:
                found.append((span["start"], name))
            return
        if kind in ("RefDot", "RefBrack", "Call") and span:
            found.append((span["start"], self._text(span)))
            children = [body.get("index"), *(body.get("params") or [])]
            base = body.get("refr")
            while isinstance(base, dict) and ("RefDot" in base or "RefBrack" in base):
                ((_, inner),) = base.items()
                children.append(inner.get("index"))
                base = inner.get("refr")
            if kind != "Call":  # a call's name is not a value
                children.append(base)
        elif kind == "SomeIn":
            children = [body.get("collection")]
        elif kind == "Every":
            children = [body.get("domain")]
        else:
            children = [value for key, value in body.items() if key != "span"]
        for child in children:
            self._collect(child, found)


_QUOTES = (b'"', b"`")
_UNDEFINED = "<undefined>"
_IMPORT = re.compile(r"import\s+([\w.]+)(?:\s+as\s+(\w+))?")
_LOCAL_SCOPES = frozenset({"ArrayCompr", "SetCompr", "ObjectCompr", "SomeVars"})
_SKIPPED_VARS = frozenset({"input", "data", "_"})


def _span_of(node: dict[str, Any]) -> dict[str, Any]:
    ((_, body),) = node.items()
    span: dict[str, Any] = body["span"]
    return span


def show_solutions(value: Any) -> str:
    """The values an expression takes, bounded: ``undefined``, one value, or several."""
    solutions = value if isinstance(value, list) else []
    if not solutions:
        return "undefined"
    shown = [short_json(v) for v in solutions[:MAX_SOLUTIONS]]
    more = len(solutions) - MAX_SOLUTIONS
    return " | ".join(shown) + (f" | … {more} more" if more > 0 else "")


def short_json(value: Any) -> str:
    """JSON of ``value``, cut at :data:`MAX_VALUE_CHARS`."""
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 160 else flat[:157] + "..."


MAX_RULES_TRIED = 500
MAX_CANDIDATES = 1000
"""Argument tuples of one call tried alone to find the one that fails."""


def explain_builtin_error(
    engine: Any, outline: Outline, modules: Sequence[PolicyModule], secrets: Iterable[str] = ()
) -> tuple[str, str] | None:
    """After a query failed on a builtin error: ``(description, file:line)`` of the call
    that failed, naming its rule and the argument values it failed on, e.g.
    ``to_number("x") in rule data.gate.r.findings``. None when it cannot be told.

    ``engine`` is the analysed engine with the input set. Rules are evaluated one by one
    (a rule failing only because a rule it reads fails, such as ``deny`` reading
    ``findings``, is passed over: none of its own calls fails alone). ``secrets`` (the
    image's environment values) are never shown.
    """
    from gate.engines.outline import builtin_functions

    builtins = builtin_functions(engine)
    sources = {module.path: module.text for module in modules}
    asts = {entry["source"]["file"]: entry["ast"] for entry in outline.ast}
    hidden = {secret for secret in secrets if secret}
    tried = 0
    for rule in outline.rules:
        if rule.function or tried >= MAX_RULES_TRIED:
            continue
        tried += 1
        try:
            engine.clone().eval_rule_as_json("data." + ".".join(rule.path))
        except RuntimeError:
            pass
        else:
            continue
        path, _, line = rule.where.rpartition(":")
        if path not in sources or path not in asts:
            continue
        probe = BodyProbe(engine, sources[path], asts[path])
        for body in _bodies_at(asts[path], int(line)):
            statements = probe.statements(body)
            stop = probe.first_stop(statements)
            if stop is None or stop.error is None:
                continue
            before = statements[: statements.index(stop.statement)]
            for name, arguments in probe.builtin_calls(stop.statement, builtins):
                failing = _failing_arguments(probe, before, stop.statement, name, arguments)
                if failing is not None:
                    shown = ", ".join(short_json(_redacted(a, hidden)) for a in failing)
                    rule_name = "data." + ".".join(rule.path)
                    return f"{name}({shown}) in rule {rule_name}", f"{path}:{stop.statement.line}"
    return None


def _bodies_at(ast: dict[str, Any], line: int) -> list[dict[str, Any]]:
    for rule in ast.get("rules") or []:
        spec = rule.get("Spec")
        if spec is not None and int(spec["span"]["line"]) == line:
            bodies: list[dict[str, Any]] = spec["bodies"]
            return bodies
    return []


def _failing_arguments(
    probe: BodyProbe,
    before: Sequence[Statement],
    statement: Statement,
    name: str,
    arguments: list[str],
) -> list[Any] | None:
    """The first argument values (as the statements before give them) with which ``name``
    fails when called alone."""
    from gate.engines.regorus import import_regorus

    if not arguments:
        return None
    candidates = probe.solutions(before, statement, "[" + ", ".join(arguments) + "]")
    alone = import_regorus().Engine()
    for candidate in (candidates or [])[:MAX_CANDIDATES]:
        if not isinstance(candidate, list):
            continue
        try:
            alone.eval_query(f"{name}({', '.join(json.dumps(a) for a in candidate)})")
        except RuntimeError:
            return candidate
    return None


def _redacted(value: Any, hidden: set[str]) -> Any:
    if isinstance(value, str):
        return "(not shown)" if any(secret in value for secret in hidden) else value
    if isinstance(value, list):
        return [_redacted(item, hidden) for item in value]
    if isinstance(value, dict):
        return {key: _redacted(item, hidden) for key, item in value.items()}
    return value
