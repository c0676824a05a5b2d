"""A malformed value in a large-report source is named where it is (lazy places, issue 13).

Trivy, Grype, CycloneDX and SARIF read their findings with (place, key) pairs rendered only
for an error message. For every node of each real-shaped fixture of these formats, replaced
by a value of each JSON type or removed, the file either still reads or is refused with a
SourceError that names the file and the replaced node: the node itself, a place inside it
(a field the replacement lacks), or the object that holds it (an item that is not what its
list holds, e.g. a Grype CWE record). A pair assembled in the wrong order or with the wrong
key names another node and fails here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import FIXTURES, load_input
from fuzzing import FIXTURES_BY_FORMAT

from gate.errors import SourceError
from gate.inputs import InputFile
from gate.sources import SOURCES

FORMATS = ("trivy-json", "grype-json", "cyclonedx", "sarif")
REPLACEMENTS: tuple[Any, ...] = (None, 7, "x", " ", [], {}, True, [1], [{}])
REMOVED = object()
"""A replacement that deletes the key instead."""

JsonPath = tuple[str | int, ...]


def trimmed(value: Any) -> Any:
    """``value`` with every list cut to two items: the others are read by the same code."""
    if isinstance(value, dict):
        return {key: trimmed(child) for key, child in value.items()}
    if isinstance(value, list):
        return [trimmed(child) for child in value[:2]]
    return value


def paths(value: Any, path: JsonPath = ()) -> Iterator[JsonPath]:
    """Yield the path of every node under ``value`` (the root excluded)."""
    if isinstance(value, dict):
        items: list[tuple[str | int, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return
    for key, child in items:
        yield (*path, key)
        yield from paths(child, (*path, key))


def rendered(path: JsonPath) -> str:
    """The JSON path notation of the sources' messages (``a.b``, ``a[3]``, ``[0]``)."""
    text = ""
    for key in path:
        text = f"{text}[{key}]" if isinstance(key, int) else (f"{text}.{key}" if text else key)
    return text


def changed(data: Any, path: JsonPath, replacement: Any) -> Any:
    data = copy.deepcopy(data)
    node = data
    for key in path[:-1]:
        node = node[key]
    if replacement is REMOVED:
        if isinstance(node, dict):
            del node[path[-1]]
    else:
        node[path[-1]] = replacement
    return data


def names_the_node(place: str, path: JsonPath) -> bool:
    node = rendered(path)
    holder = rendered(path[:-1])
    inside = place.startswith(node) and place[len(node) : len(node) + 1] in ("", ".", "[")
    return inside or place == holder


def readable_fixtures() -> list[Any]:
    """The fixtures of each format that it reads (a Kubernetes cluster report is refused as
    a whole: no node to name), with lists trimmed."""
    params = []
    for format_name in FORMATS:
        for relative in FIXTURES_BY_FORMAT[format_name]:
            data, where = load_input(FIXTURES / relative)
            data = trimmed(data)
            try:
                SOURCES[format_name].parse(data, where)
            except SourceError:
                continue
            params.append(pytest.param(format_name, relative, data, id=relative))
    return params


@pytest.mark.parametrize(("format_name", "relative", "data"), readable_fixtures())
def test_a_malformed_value_is_named_where_it_is(format_name: str, relative: str, data: Any) -> None:
    source = SOURCES[format_name]
    where = InputFile(path="in.json", sha256="0" * 64, size=1)
    refused = 0
    for path in paths(data):
        for replacement in (*REPLACEMENTS, REMOVED):
            try:
                source.parse(changed(data, path, replacement), where)
            except SourceError as error:
                refused += 1
                place = (error.where or "").removeprefix("in.json: ")
                assert names_the_node(place, path), (path, replacement, error.where, str(error))
                assert str(error).startswith(f"{error.where}: ")
    assert refused or not data, "no replacement was refused: the property was not exercised"
