"""What a policy set defines and which functions it calls, read from regorus' AST.

regorus looks functions up only when a call is evaluated: a call to a function that
exists nowhere, in a branch the test input never takes, passes ``gate policy test`` and
lets ``gate check`` pass until the day an input takes that branch. Gate resolves every
call of every module before evaluating anything (the way ``opa`` compiles), from the AST.
regorus' bytecode compiler (``Program.compile_from_modules``) would also find these
calls, but it does not support ``with`` (every unit test uses it) and panics on large
rules, so it cannot vouch for a whole policy set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gate.errors import PolicyError
from gate.policy import DefinedRule, PolicyModule

Path = tuple[str, ...]

EXTRA_BUILTINS = frozenset({"print"})
"""Builtins regorus has that ``opa.runtime().builtins`` does not list."""


@dataclass(frozen=True)
class Call:
    """One function call: the name as written, and what resolving it needs."""

    name: Path
    where: str
    place: tuple[int, int, int]
    """Module (load order), line, column: calls are checked in this order."""
    caller: Path
    """The rule or function whose definition holds the call."""
    package: Path
    imports: dict[str, Path]
    arguments: int = 0


@dataclass
class Outline:
    """The rules every module defines and the function calls every module makes."""

    rules: list[DefinedRule] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    ast: list[dict[str, Any]] = field(default_factory=list)
    arities: dict[Path, int] = field(default_factory=dict)
    """How many arguments each function a module defines takes."""
    """regorus' AST of every module (``get_ast_as_json``, parsed), for other readers: it
    is the costly part (12 MB for the bundled pack with its tests)."""

    def require_known_functions(self, builtins: frozenset[str]) -> None:
        """Raise :class:`PolicyError` at the first call (in load order) of a function that
        is neither a builtin nor defined by a module."""
        defined = {rule.path for rule in self.rules}
        for call in self.calls:
            if not _resolves(call, defined, builtins):
                raise PolicyError(
                    f"policy does not compile: Unknown function: '{'.'.join(call.name)}'",
                    where=call.where,
                    hint="regorus lacks some OPA builtins (crypto, JWT, x509); "
                    "check the name and the imports",
                )

    def require_arity(self, builtin_arities: dict[str, int]) -> None:
        """Raise :class:`PolicyError` at the first call (in load order) with a wrong number
        of arguments: regorus only notices when the call is evaluated."""
        for call, problem in self.arity_problems(builtin_arities):
            raise PolicyError(f"policy does not compile: {problem}", where=call.where)

    def arity_problems(self, builtin_arities: dict[str, int]) -> list[tuple[Call, str]]:
        """Every call (in load order) with a wrong number of arguments, and what is wrong.
        One argument more than declared is Rego's output form (``count(xs, n)`` is
        ``n := count(xs)``)."""
        defined = {rule.path for rule in self.rules}
        problems = []
        for call in self.calls:
            target = _user_function(call, defined)
            expected = (
                self.arities.get(target)
                if target is not None
                else builtin_arities.get(".".join(call.name))
            )
            if expected is not None and call.arguments not in (expected, expected + 1):
                plural = "" if expected == 1 else "s"
                problems.append(
                    (
                        call,
                        f"{'.'.join(call.name)} expects {expected} argument{plural}, "
                        f"the call gives {call.arguments}",
                    )
                )
        return problems

    def require_no_recursion(self) -> None:
        """Raise :class:`PolicyError` when a function calls itself, directly or through
        other functions, as ``opa`` does (``rego_recursion_error``): regorus recurses
        until its stack overflows and the process dies by SIGSEGV."""
        defined = {rule.path for rule in self.rules}
        functions = {rule.path for rule in self.rules if rule.function}
        edges: dict[Path, list[tuple[Path, Call]]] = {}
        for call in self.calls:
            target = _user_function(call, defined)
            if call.caller in functions and target in functions:
                edges.setdefault(call.caller, []).append((target, call))
        cycle = _first_cycle(edges)
        if cycle is not None:
            chain = " -> ".join(".".join(path) for path, _ in cycle)
            raise PolicyError(
                f"policy does not compile: function {chain.split(' -> ')[0]} is recursive: {chain}",
                where=cycle[-1][1].where if cycle[-1][1] else None,
                hint="Rego functions may not call themselves; iterate with a comprehension, "
                "walk() or graph.reachable() instead",
            )


def _first_cycle(
    edges: dict[Path, list[tuple[Path, Call]]],
) -> list[tuple[Path, Call | None]] | None:
    """The first cycle (in call order) of the call graph ``edges``, as the functions along
    it with the call that reaches each; the first function is repeated at the end."""
    done: set[Path] = set()
    for start in sorted(edges, key=lambda path: edges[path][0][1].place):
        if start in done:
            continue
        trail: list[tuple[Path, Call | None]] = [(start, None)]
        on_trail = {start}
        pending = [iter(edges.get(start, []))]
        while pending:
            step = next(pending[-1], None)
            if step is None:
                pending.pop()
                finished, _ = trail.pop()
                on_trail.discard(finished)
                done.add(finished)
                continue
            target, call = step
            if target in on_trail:
                at = next(i for i, (path, _) in enumerate(trail) if path == target)
                return [*trail[at:], (target, call)]
            if target not in done:
                trail.append((target, call))
                on_trail.add(target)
                pending.append(iter(edges.get(target, [])))
    return None


def _user_function(call: Call, defined: set[Path]) -> Path | None:
    """The path of the rule or function ``call`` names, when a module defines it."""
    head, rest = call.name[0], call.name[1:]
    if head == "data":
        target = rest
    elif head in call.imports:
        imported = call.imports[head]
        target = (*imported[1:], *rest) if imported[0] == "data" else ()
    else:
        target = (*call.package, *call.name)
    return target if target in defined else None


def _resolves(call: Call, defined: set[Path], builtins: frozenset[str]) -> bool:
    if _user_function(call, defined) is not None:
        return True
    head = call.name[0]
    if head == "data":
        return False
    if head in call.imports:
        # Only data imports can name functions; input.x(…) is regorus' concern.
        return call.imports[head][0] != "data"
    return ".".join(call.name) in builtins


def builtin_functions(engine: Any) -> frozenset[str]:
    """The builtins ``engine`` knows, as it reports them (``opa.runtime().builtins``)."""
    raw = json.loads(engine.eval_query_as_json("opa.runtime().builtins"))
    listed = raw["result"][0]["expressions"][0]["value"]
    return frozenset(listed) | EXTRA_BUILTINS


_EXPECTS = re.compile(r"expects (\d+) argument")


def builtin_arities(engine: Any, outline: Outline) -> dict[str, int]:
    """The number of arguments of each builtin ``outline`` calls, as regorus states it
    when one is called with none (a builtin taking none just runs: all of them are
    side-effect free)."""
    defined = {rule.path for rule in outline.rules}
    names = {
        ".".join(call.name)
        for call in outline.calls
        if _user_function(call, defined) is None and call.name[0] not in call.imports
    }
    arities: dict[str, int] = {}
    for name in sorted(names - EXTRA_BUILTINS):
        try:
            engine.eval_query(f"{name}()")
        except RuntimeError as exc:
            found = _EXPECTS.search(str(exc))
            if found:
                arities[name] = int(found.group(1))
        else:
            arities[name] = 0
    return arities


def read_outline(engine: Any, modules: Sequence[PolicyModule]) -> Outline:
    """Read the rules and calls of every module ``engine`` holds (``get_ast_as_json``).

    Calls are listed by module (``modules`` order), line and column.
    """
    order = {module.path: index for index, module in enumerate(modules)}
    texts = {module.path: module.text for module in modules}
    from pydantic_core import from_json  # parses regorus' AST JSON in 2/3 of json's time

    try:
        entries = from_json(engine.get_ast_as_json())
    except ValueError as exc:  # "recursion limit exceeded": the parser nests that deep
        raise PolicyError(
            f"policy does not compile: an expression is nested too deeply to check ({exc})",
            where=", ".join(module.path for module in modules[:3]),
            hint="split long chains of operators into several rules",
        ) from exc
    entries.sort(key=lambda entry: order.get(entry["source"]["file"], len(order)))
    outline = Outline(ast=entries)
    for entry in entries:
        path = entry["source"]["file"]
        ast = entry["ast"]
        package, _ = static_path(ast["package"]["refr"])
        imports = module_imports(ast, texts.get(path, entry["source"].get("contents", "")))
        index = order.get(path, len(order))
        for rule in ast.get("rules") or []:
            if "Spec" in rule:
                ((kind, head),) = rule["Spec"]["head"].items()
                function = kind == "Func"
                line = int(rule["Spec"]["span"]["line"])
            else:
                head = rule["Default"]
                function = False
                line = int(head["span"]["line"])
            rule_path = (*package, *static_path(head["refr"])[0])
            if function:
                outline.arities[rule_path] = len(head.get("args") or ())
            outline.rules.append(DefinedRule(rule_path, package, function, f"{path}:{line}"))
            for node in _calls([rule]):
                name, complete = static_path(node["fcn"])
                if name and complete:
                    line, column = _start(node["fcn"])
                    place = (index, line, column)
                    where = f"{path}:{line}:{column}"
                    arguments = len(node.get("params") or ())
                    outline.calls.append(
                        Call(name, where, place, rule_path, package, imports, arguments)
                    )
    outline.calls.sort(key=lambda call: call.place)
    return outline


def module_imports(ast: dict[str, Any], text: str) -> dict[str, Path]:
    """A module's imports of ``data``/``input`` paths: alias (as written) → path."""
    raw = text.encode("utf-8")
    found: dict[str, Path] = {}
    for item in ast.get("imports") or []:
        target, _ = static_path(item["refr"])
        if not target or target[0] not in ("data", "input"):
            continue  # rego.v1, future.keywords
        alias = item.get("as")
        name = raw[alias["start"] : alias["end"]].decode() if alias else target[-1]
        found[name] = target
    return found


def _calls(nodes: list[Any]) -> list[dict[str, Any]]:
    # The hot loop of the outline (every node of every rule): exact type tests and bound
    # methods; spans hold no calls. The order found is not the text's order.
    found = []
    stack: list[Any] = [nodes]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        node = pop()
        if type(node) is dict:
            call = node.get("Call")
            if call is not None:
                found.append(call)
            for key, value in node.items():
                if (type(value) is dict or type(value) is list) and key != "span":
                    push(value)
        elif type(node) is list:
            extend(node)
    return found


def static_path(node: dict[str, Any]) -> tuple[Path, bool]:
    """The leading static names of a reference (``a.b["c"][x]`` → ``a, b, c``), and
    whether that is all of it."""
    parts: list[str] = []
    chain = _ref_chain(node)
    for link in chain:
        if link is None:
            return tuple(parts), False
        parts.append(link)
    return tuple(parts), True


def string_literal(node: dict[str, Any]) -> str | None:
    """The value of a string literal node (quoted or raw), else None."""
    for kind in ("String", "RawString"):
        literal = node.get(kind)
        if literal is not None and isinstance(literal["value"], str):
            value: str = literal["value"]
            return value
    return None


def _ref_chain(node: dict[str, Any]) -> list[str | None]:
    """The parts of a reference, base first; None for an index that is not a string."""
    chain: list[str | None] = []
    while True:
        if "Var" in node:
            chain.append(str(node["Var"]["value"]))
            break
        if "RefDot" in node:
            chain.append(str(node["RefDot"]["field"][1]))
            node = node["RefDot"]["refr"]
        elif "RefBrack" in node:
            chain.append(string_literal(node["RefBrack"]["index"]))
            node = node["RefBrack"]["refr"]
        else:
            chain.append(None)
            break
    chain.reverse()
    return chain


def _start(node: dict[str, Any]) -> tuple[int, int]:
    while "Var" not in node:
        ((_, inner),) = node.items()
        if not isinstance(inner, dict) or "refr" not in inner:
            break
        node = inner["refr"]
    ((_, value),) = node.items()
    span = value["span"]
    return int(span["line"]), int(span["col"])
