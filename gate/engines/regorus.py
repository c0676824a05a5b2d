"""The embedded default engine: regorus (Microsoft's Rust Rego interpreter)."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from gate.engines.checkcache import cached_rules, policy_set_key, remember_rules
from gate.engines.isolation import DEFAULT_TIMEOUT, run_isolated
from gate.engines.outline import Outline, builtin_arities, builtin_functions, read_outline
from gate.engines.values import explain_builtin_error
from gate.errors import EngineError, PolicyError
from gate.policy import DefinedRule, PolicyModule, require_rules

_LOCATION = re.compile(r"-->\s*(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)")
V1_HINT = (
    "this is Rego v0 syntax; gate reads Rego v1: write `deny contains msg if {` "
    "(not `deny[msg] {`) and `name if {` before every rule body"
)
_ERROR_LINE = re.compile(r"^error:\s*(?P<msg>.+)$", re.MULTILINE)


def import_regorus() -> Any:
    # NOTE: with RUST_BACKTRACE=1 in the environment (common on CI images) every regorus
    # error message carries a native stack trace; RUST_LIB_BACKTRACE=0 turns that off and
    # must be set before the extension module loads.
    os.environ.setdefault("RUST_LIB_BACKTRACE", "0")
    try:
        import regorus
    except ImportError as exc:  # pragma: no cover - a broken install
        raise EngineError(
            "the regorus engine is not installed",
            hint="reinstall gate: pip install image-gate (it depends on gordon-to-regorus)",
        ) from exc
    return regorus


def describe_error(exc: BaseException) -> tuple[str, str | None]:
    """Split a regorus error into (message, ``file:line:col`` or None)."""
    text = str(exc)
    where = None
    location = _LOCATION.search(text)
    if location:
        where = f"{location['file']}:{location['line']}:{location['col']}"
    found = _ERROR_LINE.search(text)
    message = (
        found["msg"].strip()
        if found
        else text.strip().splitlines()[-1]
        if text.strip()
        else repr(exc)
    )
    return message, where


@functools.cache
def installed_version() -> str:
    """The installed gordon-to-regorus version."""
    try:
        return metadata.version("gordon-to-regorus")
    except metadata.PackageNotFoundError:  # pragma: no cover - a broken install
        return "unknown"


@dataclass(frozen=True)
class _HeldPolicies:
    """A policy set compiled in this process, which evaluations of it fork from."""

    modules: tuple[PolicyModule, ...]
    data_json: str
    engine: Any
    rules: tuple[DefinedRule, ...]


class _HeldByThread(threading.local):
    # A regorus engine may only be used, and dropped, on the thread that created it: each
    # thread holds its own (a server's evaluation thread), dropped when that thread ends.
    policies: _HeldPolicies | None = None


_held = _HeldByThread()


def hold_policies(
    modules: Sequence[PolicyModule], data: dict[str, Any], rules: Sequence[DefinedRule]
) -> None:
    """Compile ``modules`` with ``data`` in this process and keep the engine (replacing the
    set held before): evaluations of exactly this set then fork from it, and the child only
    loads the input and evaluates. For long-lived processes (a ``gate serve`` worker), which
    would otherwise compile again for every request. Held for the calling thread only.

    Call only for a set that passed :meth:`RegorusEngine.load_checked` in an isolated child,
    giving the ``rules`` it returned: this repeats that child's compile, so a module that
    crashes or exhausts the compiler never gets here.
    """
    data_json = json.dumps(data)
    engine = _compile(modules, data_json)
    _held.policies = _HeldPolicies(tuple(modules), data_json, engine, tuple(rules))


def _held_for(modules: Sequence[PolicyModule], data: dict[str, Any]) -> _HeldPolicies | None:
    held = _held.policies
    # Compared by content, not identity: data may have been changed in place since.
    if held is not None and tuple(modules) == held.modules and json.dumps(data) == held.data_json:
        return held
    return None


def _compile(modules: Sequence[PolicyModule], data_json: str) -> Any:
    """A regorus Engine with ``modules`` compiled and analysed and ``data_json`` loaded."""
    regorus = import_regorus()
    engine = regorus.Engine()
    for module in modules:
        try:
            engine.add_policy(module.path, module.text)
        except RuntimeError as exc:
            message, where = describe_error(exc)
            raise PolicyError(
                f"policy does not compile: {message}",
                where=where or module.path,
                hint=V1_HINT if "keyword is required" in message else None,
            ) from exc
    try:
        engine.add_data_json(data_json)
    except RuntimeError as exc:
        raise PolicyError(f"data rejected by the engine: {describe_error(exc)[0]}") from exc
    try:
        # regorus analyses modules (unsafe variables, bad rule heads) lazily, on the first
        # query: run a trivial one so those are compile errors, not evaluation failures.
        engine.eval_query("true")
    except RuntimeError as exc:
        message, where = describe_error(exc)
        raise PolicyError(f"policy does not compile: {message}", where=where) from exc
    return engine


def _check_statically(engine: Any, modules: Sequence[PolicyModule]) -> Outline:
    """The outline of ``modules`` compiled in ``engine``, after checking that every call
    resolves, with the right number of arguments, and that no function recurses."""
    outline = read_outline(engine, modules)
    outline.require_known_functions(builtin_functions(engine))
    outline.require_arity(builtin_arities(engine, outline))
    outline.require_no_recursion()
    return outline


class RegorusEngine:
    """Evaluate in a forked child with regorus; each evaluation starts from a freshly
    compiled engine (compiled in the child, or by :func:`hold_policies` before the fork),
    so that runs stay independent."""

    name = "regorus"

    def version(self) -> str:
        """Return the installed gordon-to-regorus version."""
        return installed_version()

    def load(self, modules: Sequence[PolicyModule], data: dict[str, Any]) -> Any:
        """Return a regorus Engine with ``modules`` compiled, verified and ``data`` loaded.

        Raises :class:`PolicyError` when a module does not parse, fails regorus' analysis
        or calls a function that exists nowhere, whether or not that call would be reached.
        """
        return self.load_outlined(modules, data)[0]

    def load_outlined(
        self, modules: Sequence[PolicyModule], data: dict[str, Any]
    ) -> tuple[Any, Outline]:
        """:meth:`load`, also returning the :class:`Outline` the checks were made on."""
        engine = _compile(modules, json.dumps(data))
        return engine, _check_statically(engine, modules)

    def load_checked(
        self, modules: Sequence[PolicyModule], data: dict[str, Any]
    ) -> tuple[Any, list[DefinedRule]]:
        """:meth:`load`, also returning the rules the modules define. The static checks
        are skipped for a set that passed them before (:mod:`gate.engines.checkcache`);
        compiling and regorus' analysis never are."""
        engine = _compile(modules, json.dumps(data))
        key = policy_set_key(modules, self.version())
        rules = cached_rules(key) if key is not None else None
        if rules is None:
            rules = _check_statically(engine, modules).rules
            if key is not None:
                remember_rules(key, rules)
        return engine, rules

    def evaluate(
        self,
        modules: Sequence[PolicyModule],
        data: dict[str, Any],
        input_json: str,
        query: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        required_rules: Sequence[str] = (),
    ) -> Any:
        """Evaluate ``query`` over ``input_json``; see :class:`gate.engines.base.PolicyEngine`.

        Everything regorus does (parsing included) happens in a forked child: see
        :mod:`gate.engines.isolation`; for a set held by :func:`hold_policies`, the child
        starts from the compiled engine. The answer comes back as JSON text, parsed here.
        """
        raw, prints = self.evaluate_all(
            modules, data, input_json, query, timeout=timeout, required_rules=required_rules
        )
        show_prints(prints)
        return first_value(raw)

    def evaluate_all(
        self,
        modules: Sequence[PolicyModule],
        data: dict[str, Any],
        input_json: str | None,
        query: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        required_rules: Sequence[str] = (),
    ) -> tuple[str, list[str]]:
        """:meth:`evaluate`, returning regorus' whole answer (JSON text: every result with
        its bindings) and the ``print()`` output (``file:line: text``) rather than showing
        it. ``input_json`` None evaluates without an input."""
        held = _held_for(modules, data)
        answer: tuple[str, list[str]] = run_isolated(
            lambda: self._evaluate_in_child(modules, data, input_json, query, required_rules, held),
            timeout=timeout,
            what="policy evaluation",
            where=policy_set_name(modules),
        )
        return answer

    def _evaluate_in_child(
        self,
        modules: Sequence[PolicyModule],
        data: dict[str, Any],
        input_json: str | None,
        query: str,
        required_rules: Sequence[str],
        held: _HeldPolicies | None,
    ) -> tuple[str, list[str]]:
        rules: Sequence[DefinedRule]
        if held is not None:
            engine, rules = held.engine, held.rules
        else:
            engine, rules = self.load_checked(modules, data)
        if required_rules:
            require_rules(rules, query, required_rules)
        engine.set_gather_prints(True)
        try:
            if input_json is not None:
                engine.set_input_json(input_json)
            raw: str = engine.eval_query_as_json(query)
        except RuntimeError as exc:
            # Builtin errors (1/0, to_number("x")) abort the whole query in regorus; OPA
            # would make the rule undefined and fail open. Either way: no verdict.
            message, where = describe_error(exc)
            # The outline is read again only now: a run that went well never needs it.
            outline = read_outline(engine, modules)
            found = explain_builtin_error(engine, outline, modules, _env_values(input_json))
            if found is not None:
                call, where = found
                message = f"{message}: {call}"
            raise EngineError(f"policy evaluation failed: {message}", where=where) from exc
        return raw, list(engine.take_prints())


_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
MAX_PRINT_LINES = 200
MAX_PRINT_CHARS = 1000


def show_prints(prints: Sequence[str]) -> None:
    """Write the policies' ``print()`` output to stderr, ``print: file:line: text`` as
    ``gate policy test`` shows it, bounded: a print in a loop over 50,000 findings must
    not bury the verdict."""
    for text in prints[:MAX_PRINT_LINES]:
        # Printed values come from scanner reports and image labels: no terminal escapes.
        text = _CONTROL.sub("\ufffd", text)
        clipped = text if len(text) <= MAX_PRINT_CHARS else text[:MAX_PRINT_CHARS] + "…"
        sys.stderr.write(f"print: {clipped}\n")
    if len(prints) > MAX_PRINT_LINES:
        sys.stderr.write(f"print: … {len(prints) - MAX_PRINT_LINES} more lines not shown\n")


def _env_values(input_json: str | None) -> list[str]:
    """The image's environment values in an input document: never shown in a message."""
    try:
        image = json.loads(input_json or "{}").get("image")
    except (ValueError, AttributeError):
        return []
    env = image.get("env") if isinstance(image, dict) else None
    return [str(value) for value in env.values()] if isinstance(env, dict) else []


def policy_set_name(modules: Sequence[PolicyModule]) -> str | None:
    """How messages name a set of modules: the one file, or the directory they share."""
    paths = [module.path for module in modules]
    if len(paths) <= 1:
        return paths[0] if paths else None
    try:
        return os.path.commonpath(paths) or ", ".join(paths[:3])
    except ValueError:  # absolute and relative paths mixed
        return ", ".join(paths[:3])


def first_value(raw: str) -> Any:
    """Return the value of the first expression of a query result, or None when undefined."""
    result = json.loads(raw).get("result") or []
    if not result:
        return None
    expressions = result[0].get("expressions") or []
    return expressions[0].get("value") if expressions else None
