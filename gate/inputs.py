"""Read what the user gave: bounded, hashed, parsed as data (never evaluated as code)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

from gate.errors import GateError, InputError

MAX_INPUT_BYTES = 1024 * 1024 * 1024
"""A report larger than 1 GiB is refused rather than read: a gate must not be made to swap."""

STDIN = "-"


@dataclass(frozen=True)
class InputFile:
    """An input file as the user gave it: ``path`` as typed, its bytes' SHA-256 and size."""

    path: str
    sha256: str
    size: int


def read_bounded(path: Path, limit: int, shown: str, error: type[GateError] = InputError) -> bytes:
    """Read at most ``limit`` bytes of ``path``; raise ``error`` (naming ``shown``) otherwise."""
    try:
        with path.open("rb") as handle:
            raw = read_at_most(handle, limit + 1)
    except FileNotFoundError as exc:
        raise error("no such file", where=shown) from exc
    except IsADirectoryError as exc:
        raise error("is a directory, not a file", where=shown) from exc
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", where=shown) from exc
    if len(raw) > limit:
        raise error(f"larger than the {limit // (1024 * 1024)} MiB limit", where=shown)
    return raw


READ_CHUNK = 1024 * 1024


def read_at_most(handle: BinaryIO, size: int) -> bytes:
    """Read up to ``size`` bytes in chunks: ``read(size)`` reserves all of ``size`` first
    (1 GiB for an input), which fails outright under a memory limit."""
    # BytesIO grows its one buffer in place and hands it out without a copy; a list of
    # chunks joined at the end held the file twice.
    buffer = io.BytesIO()
    remaining = size
    while remaining > 0:
        chunk = handle.read(min(READ_CHUNK, remaining))
        if not chunk:
            break
        buffer.write(chunk)
        remaining -= len(chunk)
    return buffer.getvalue()


STDIN_SHOWN = "<stdin>"


def read_given(given: str, limit: int, error: type[GateError] = InputError) -> tuple[str, bytes]:
    """Read a file the user named (``-`` is standard input), at most ``limit`` bytes.

    Returns ``(name to show, bytes)``; raises ``error`` naming it when it cannot be read.
    """
    if given != STDIN:
        return given, read_bounded(Path(given), limit, given, error)
    raw = _read_stdin(limit, error)
    if len(raw) > limit:
        raise error(f"larger than the {limit // (1024 * 1024)} MiB limit", where=STDIN_SHOWN)
    return STDIN_SHOWN, raw


def read_input(given: str, limit: int = MAX_INPUT_BYTES) -> tuple[InputFile, bytes]:
    """Read one input file (``-`` is standard input) and describe it."""
    shown, raw = read_given(given, limit)
    return describe(shown, raw), raw


def describe(shown: str, raw: bytes) -> InputFile:
    """The :class:`InputFile` of ``raw`` read as ``shown``: its SHA-256 and size."""
    return InputFile(path=shown, sha256=hashlib.sha256(raw).hexdigest(), size=len(raw))


def read_json_input(given: str, limit: int = MAX_INPUT_BYTES) -> tuple[InputFile, Any]:
    """Read one input file as :func:`read_input` does and parse it as :func:`parse_json`
    does, holding two forms of it at most: the bytes are released once hashed and decoded,
    the text once parsed (a 60 MB report is 60 MB of bytes, as much text and twice that
    parsed)."""
    source_file, text = _read_text(given, limit)
    return source_file, parse_json_text(text, source_file.path)


def _read_text(given: str, limit: int) -> tuple[InputFile, str]:
    shown, raw = read_given(given, limit)
    return describe(shown, raw), decode_text(raw, shown)


def _read_stdin(limit: int, error: type[GateError]) -> bytes:
    stream = sys.stdin  # None when the process started with descriptor 0 closed
    try:
        if stream is None:
            raise OSError(0, "standard input is closed")
        return read_at_most(stream.buffer, limit + 1)
    except (OSError, ValueError, AttributeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise error(f"cannot read: {reason}", where=STDIN_SHOWN) from exc


def decode_text(raw: bytes, where: str) -> str:
    """Decode JSON bytes: UTF-8 (with or without BOM) or UTF-16 with a BOM (PowerShell's ``>``)."""
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16")
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start}): not a JSON report", where=where
        ) from exc


def parse_json(raw: bytes, where: str) -> Any:
    """Parse ``raw`` as strict JSON; raise :class:`InputError` naming the place when it is not.

    Strict: a duplicate key, ``NaN``/``Infinity``, a number out of range or too long to
    convert, and nesting beyond the parser's depth are refused rather than read one way.
    """
    return parse_json_text(decode_text(raw, where), where)


def parse_json_text(text: str, where: str) -> Any:
    """:func:`parse_json` of text already decoded."""
    # isspace() answers without the copy of the whole text that strip() makes
    if not text or text.isspace():
        raise InputError("empty file: expected a JSON report", where=where)
    try:
        return load_strict_json(text)
    except ParseProblem as exc:
        message = (
            f"{exc.place}: invalid JSON: {exc.problem}" if exc.place else f"invalid JSON: {exc}"
        )
        raise InputError(message, where=where) from exc


MAX_NUMBER_DIGITS = 4300
"""Python's own limit for converting digit strings (``sys.get_int_max_str_digits``)."""


class ParseProblem(ValueError):
    """A file that does not parse: ``place`` (line and column, or key path) and ``problem``."""

    def __init__(self, place: str, problem: str) -> None:
        super().__init__(f"{place}: {problem}" if place else problem)
        self.place = place
        self.problem = problem


class _Refused:
    """Stands in the parsed tree for a value strict JSON refuses, so that its path can be named."""

    def __init__(self, problem: str) -> None:
        self.problem = problem


_SURROGATE_ESCAPE = re.compile(r"\\u[dD]")
"""``\\uD…``: the escapes that may spell a surrogate (a regular expression finds the
first one several times faster than two substring searches do)."""


def load_strict_json(text: str) -> Any:
    """``json.loads`` that refuses what two readers could read differently (see parse_json).

    Raises :class:`ParseProblem` whose place is with the place: ``line L column C`` for syntax,
    the key path (``Results[0].Vulnerabilities[3]``) for a refused value or duplicate key.
    The happy path stays in the C parser; the tree is only walked to name a refused place.
    """
    refused: list[tuple[object, str]] = []

    def object_from_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs) and not refused:
            refused.append((obj, f"duplicate key {_first_repeated(pairs)!r}"))
        return obj

    def refuse(problem: str) -> _Refused:
        marker = _Refused(problem)
        refused.append((marker, problem))
        return marker

    def finite_float(literal: str) -> float | _Refused:
        value = float(literal)
        if math.isinf(value):
            return refuse(f"number {_shorten(literal)} is out of range")
        return value

    def bounded_int(literal: str) -> int | _Refused:
        if len(literal.lstrip("-")) > MAX_NUMBER_DIGITS:
            return refuse(f"number of {len(literal)} digits is too long")
        return int(literal)

    hooks: dict[str, Any] = {
        "object_pairs_hook": object_from_pairs,
        "parse_float": finite_float,
        "parse_constant": lambda name: refuse(f"{name} is not a JSON number"),
    }
    try:
        try:
            data = json.loads(text, **hooks)
        except ValueError as exc:
            if isinstance(exc, json.JSONDecodeError):
                raise
            # Only an over-long integer gets here; checking every integer would cost the
            # common case, so the file is read again to find it.
            data = json.loads(text, parse_int=bounded_int, **hooks)
    except json.JSONDecodeError as exc:
        raise ParseProblem(f"line {exc.lineno} column {exc.colno}", exc.msg) from exc
    except RecursionError as exc:
        raise ParseProblem("", "nested too deeply") from exc
    if refused:
        culprit, problem = refused[0]
        raise ParseProblem(_path_of(data, culprit), problem)
    if _SURROGATE_ESCAPE.search(text):  # only an escape can spell a lone surrogate
        _refuse_lone_surrogates(data)
    return data


def _refuse_lone_surrogates(data: Any) -> None:
    # "\ud800" alone is a JSON escape but no character: it cannot be written as UTF-8,
    # so the document (and the engine's input) could not be serialised.
    for value, place in _walk(data):
        texts = (
            [value] if isinstance(value, str) else list(value) if isinstance(value, dict) else []
        )
        for item in texts:
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ParseProblem(place, "a lone surrogate escape is no character") from exc


def _first_repeated(pairs: list[tuple[str, Any]]) -> str:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    return ""


def _shorten(literal: str) -> str:
    return literal if len(literal) <= 20 else f"{literal[:17]}..."


def _path_of(tree: Any, culprit: object) -> str:
    """The JSON path (``a.b[3]``) of the object ``culprit`` inside ``tree`` (by identity)."""
    return next((place for value, place in _walk(tree) if value is culprit), "")


def _walk(tree: Any) -> Iterator[tuple[Any, str]]:
    """Every value of a parsed JSON tree with its path, depth first (iteratively)."""
    from gate.sources.shape import at  # the sources' own path notation

    pending: list[tuple[Any, str]] = [(tree, "")]
    while pending:
        value, place = pending.pop()
        yield value, place
        if isinstance(value, dict):
            pending.extend((item, at(place, key)) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            pending.extend(
                (item, at(place, index)) for index, item in reversed(list(enumerate(value)))
            )


MAX_YAML_ALIAS_NODES = 10_000
"""How many nodes YAML aliases may add to a document by repeating what an anchor holds.

Waivers, data and METADATA blocks are written by hand, where an alias saves a few lines;
a few hundred bytes of nested aliases (a "billion laughs") would otherwise expand to
gigabytes in every walk of the loaded value."""

MAX_NESTING = 200
"""The deepest nesting of a hand-written YAML/JSON file (deeper ones are crafted)."""


def parse_structured(text: str, *, as_yaml: bool) -> Any:
    """Parse strict JSON, or bounded YAML (safe subset, no tags); raise :class:`ParseProblem`.

    Both refuse duplicate keys; YAML also refuses aliases that expand past
    :data:`MAX_YAML_ALIAS_NODES` or refer to themselves.
    """
    if not as_yaml:
        data = load_strict_json(text)
    else:
        import yaml  # lazily: only YAML files pay for it

        try:
            data = yaml.load(text, Loader=bounded_yaml_loader())
        except yaml.YAMLError as exc:
            raise yaml_problem(exc) from exc
        except RecursionError as exc:  # the pure-Python parser, when libyaml is absent
            raise ParseProblem("", "nested too deeply") from exc
    if _depth_exceeds(data, MAX_NESTING):
        raise ParseProblem("", f"nested more than {MAX_NESTING} levels deep")
    return data


def yaml_problem(exc: Exception) -> ParseProblem:
    """The place (``line L column C``) and problem of a YAML error."""
    mark = getattr(exc, "problem_mark", None)
    place = f"line {mark.line + 1} column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return ParseProblem(place, problem)


def _depth_exceeds(value: Any, limit: int) -> bool:
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return False


@cache
def bounded_yaml_loader() -> type[Any]:
    """A safe YAML loader (libyaml's when present) that refuses alias bombs and duplicate keys."""
    import yaml
    from yaml.constructor import ConstructorError
    from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class BoundedLoader(base):  # type: ignore[misc, valid-type]
        def get_single_data(self) -> Any:
            node = self.get_single_node()
            if node is None:
                return None
            self._check_graph(node)
            return self.construct_document(node)

        def _check_graph(self, root: Node) -> None:
            # Aliases make the node graph a DAG: each node's expanded size is computed
            # once (post-order, iteratively), so checking costs the file's size, not the bomb's.
            size: dict[int, int] = {}
            open_nodes: set[int] = set()
            stack: list[tuple[Node, bool]] = [(root, False)]
            while stack:
                node, children_done = stack.pop()
                key = id(node)
                children = _children(node)
                if children_done:
                    open_nodes.discard(key)
                    size[key] = 1 + sum(size[id(child)] for child in children)
                    continue
                if key in size:
                    continue
                if key in open_nodes:
                    raise ConstructorError(
                        None, None, "an alias refers to the node that holds it", node.start_mark
                    )
                open_nodes.add(key)
                if isinstance(node, MappingNode):
                    self._refuse_duplicate_keys(node)
                stack.append((node, True))
                stack.extend((child, False) for child in children if id(child) not in size)
            added = size[id(root)] - len(size)
            if added > MAX_YAML_ALIAS_NODES:
                raise ConstructorError(
                    None,
                    None,
                    f"aliases expand this document by {added:,} nodes, more than the"
                    f" {MAX_YAML_ALIAS_NODES:,} allowed",
                    _largest_anchor(size, root).start_mark,
                )

        def _refuse_duplicate_keys(self, node: MappingNode) -> None:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag.endswith(":merge"):
                    continue  # a list or mapping as key is refused as unhashable
                key = self.construct_object(key_node)
                if not isinstance(key, str):  # JSON, and so the engine, has text keys only
                    raise ConstructorError(
                        None, None, f"key {key_node.value!r} is not a string", key_node.start_mark
                    )
                if key in seen:
                    raise ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key)

    def bounded_int(loader: Any, node: ScalarNode) -> Any:
        digits = len(node.value.lstrip("+-").replace("_", ""))
        if digits > MAX_NUMBER_DIGITS:
            raise ConstructorError(
                None, None, f"number of {digits} digits is too long", node.start_mark
            )
        return yaml.SafeLoader.yaml_constructors[INT_TAG](loader, node)

    def finite_float(loader: Any, node: ScalarNode) -> Any:
        value = yaml.SafeLoader.yaml_constructors[FLOAT_TAG](loader, node)
        if value != value or value in (float("inf"), float("-inf")):  # no JSON number
            raise ConstructorError(
                None, None, f"{node.value} is not a JSON number", node.start_mark
            )
        return value

    def timestamp_as_text(loader: Any, node: ScalarNode) -> str:
        # what the file says, as JSON would hold it (an unquoted date is still a date string)
        moment = yaml.SafeLoader.yaml_constructors[TIMESTAMP_TAG](loader, node)
        if isinstance(moment, dt.datetime) and moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return str(moment.isoformat()).replace("+00:00", "Z")

    def no_json_form(loader: Any, node: Node) -> Any:
        raise ConstructorError(
            None, None, f"YAML {node.tag.rsplit(':', 1)[-1]} has no JSON form", node.start_mark
        )

    YAML_TAG = "tag:yaml.org,2002:"
    INT_TAG, FLOAT_TAG, TIMESTAMP_TAG = f"{YAML_TAG}int", f"{YAML_TAG}float", f"{YAML_TAG}timestamp"
    BoundedLoader.add_constructor(INT_TAG, bounded_int)
    BoundedLoader.add_constructor(FLOAT_TAG, finite_float)
    BoundedLoader.add_constructor(TIMESTAMP_TAG, timestamp_as_text)
    for kind in ("set", "binary", "omap", "pairs"):
        BoundedLoader.add_constructor(f"{YAML_TAG}{kind}", no_json_form)

    def _children(node: Node) -> list[Node]:
        if isinstance(node, MappingNode):
            return [item for pair in node.value for item in pair]
        if isinstance(node, SequenceNode):
            return list(node.value)
        return []

    def _largest_anchor(size: dict[int, int], root: Node) -> Node:
        # the biggest node reached more than once: the anchor that names the bomb
        counts: dict[int, int] = {}
        nodes: dict[int, Node] = {}
        stack = [root]
        while stack:
            node = stack.pop()
            key = id(node)
            counts[key] = counts.get(key, 0) + 1
            if counts[key] == 1:
                nodes[key] = node
                stack.extend(_children(node))
        shared = [key for key, count in counts.items() if count > 1] or [id(root)]
        return nodes[max(shared, key=size.__getitem__)]

    return BoundedLoader
