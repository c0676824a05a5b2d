"""Typed reads of parsed JSON that fail with the JSON path of anything misshapen.

Sources read untrusted files, so every container they step into is checked here: a wrong
type becomes a :class:`~gate.errors.SourceError` naming the file and the place in it
(``matches[3].artifact``) instead of a ``KeyError`` or ``TypeError`` deep in the mapping.
JSON ``null`` counts as absent everywhere, as producers write it for empty values.

A :data:`Place` is a JSON path, or a (place, key) pair that names the same path and is only
rendered for an error message: the per-finding code of a 10,000-finding report would
otherwise build a path string for every field it reads, and read none of them. The
``*_at`` readers take the containing object, the key and the object's place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, TypeAlias

from gate.inputs import InputFile
from gate.sources.base import fail, rfc3339, text

Place: TypeAlias = "str | tuple[Place, str | int]"
"""A JSON path (``Results[0].CVSS``), or ``(place, key)`` for ``key`` inside ``place``."""


def where(place: Place) -> str:
    """Return the JSON path ``place`` names, rendering a (place, key) pair."""
    if isinstance(place, str):
        return place
    parent, key = place
    return at(parent, key)


def at(place: Place, key: str | int) -> str:
    """Return the JSON path of ``key`` inside ``place`` (``a.b``, ``a[3]``, ``[0]``)."""
    parent = place if isinstance(place, str) else where(place)
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def kind(value: Any) -> str:
    """Name the JSON type of ``value`` for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def mapping(value: Any, source: InputFile, place: Place) -> dict[str, Any]:
    """Return ``value`` as an object; null → ``{}``; anything else fails."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail(source, where(place), f"expected an object, got {kind(value)}")
    return value


def array(value: Any, source: InputFile, place: Place) -> list[Any]:
    """Return ``value`` as an array; null → ``[]``; anything else fails."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail(source, where(place), f"expected an array, got {kind(value)}")
    return value


def mapping_at(obj: dict[str, Any], name: str, source: InputFile, place: Place) -> dict[str, Any]:
    """Return ``obj[name]`` as :func:`mapping` reads it (``place`` is ``obj``'s place)."""
    return mapping(obj.get(name), source, (place, name))


def array_at(obj: dict[str, Any], name: str, source: InputFile, place: Place) -> list[Any]:
    """Return ``obj[name]`` as :func:`array` reads it (``place`` is ``obj``'s place)."""
    return array(obj.get(name), source, (place, name))


def objects_at(
    obj: dict[str, Any], name: str, source: InputFile, place: Place
) -> Iterator[tuple[dict[str, Any], Place]]:
    """Yield each object of the array ``obj[name]`` with its place, checking it on the way
    (so a bad item fails only when the reading gets there, as with a loop of :func:`mapping`).
    """
    list_place = (place, name)
    for index, item in enumerate(array(obj.get(name), source, list_place)):
        here = (list_place, index)
        yield mapping(item, source, here), here


def optional_string(value: Any, source: InputFile, place: Place) -> str | None:
    """Return ``value`` as a string (kept as is, even empty); null → None; else fails."""
    if value is None or isinstance(value, str):
        return value
    raise fail(source, where(place), f"expected a string, got {kind(value)}")


def string_array(value: Any, source: InputFile, place: Place) -> list[str]:
    """Return an array of strings exactly as written; null → ``[]``; else fails."""
    items = array(value, source, place)
    # A comprehension, not all(<generator>): this runs for several arrays of every finding.
    if len([item for item in items if isinstance(item, str)]) == len(items):
        return items
    index, item = next((i, v) for i, v in enumerate(items) if not isinstance(v, str))
    raise fail(source, at(place, index), f"expected a string, got {kind(item)}")


def string_list(value: Any, source: InputFile, place: Place) -> list[str]:
    """Return the non-blank strings of an array of strings; null → ``[]``; else fails."""
    if value is None:  # most optional arrays of a finding are absent
        return []
    return [item for item in string_array(value, source, place) if item.strip()]


def string_list_at(obj: dict[str, Any], name: str, source: InputFile, place: Place) -> list[str]:
    """Return ``obj[name]`` as :func:`string_list` reads it (``place`` is ``obj``'s place)."""
    return string_list(obj.get(name), source, (place, name))


def integer(value: Any, source: InputFile, place: Place) -> int | None:
    """Return ``value`` as an integer; null → None; booleans and fractions fail."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(source, where(place), f"expected an integer, got {kind(value)}")
    return value


def number(value: Any, source: InputFile, place: Place) -> float | None:
    """Return a JSON number as a float; null → None; booleans and anything else fail."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(source, where(place), f"expected a number, got {kind(value)}")
    return float(value)


def number_at(obj: dict[str, Any], name: str, source: InputFile, place: Place) -> float | None:
    """Return ``obj[name]`` as :func:`number` reads it (``place`` is ``obj``'s place)."""
    return number(obj.get(name), source, (place, name))


def text_at(obj: dict[str, Any], name: str, source: InputFile, place: Place) -> str | None:
    """Return the non-blank string at ``obj[name]`` (``place`` is ``obj``'s place), else None.

    Blank strings are how Go tools write "unset", so they read as None; a value that is
    not a string at all fails.
    """
    value = obj.get(name)
    if isinstance(value, str):  # the common case, without a call
        return value if value.strip() else None
    return text(optional_string(value, source, (place, name)))


def required_at(obj: dict[str, Any], name: str, source: InputFile, place: Place) -> str:
    """Return the non-blank string at ``obj[name]`` as :func:`text_at` reads it; absent fails."""
    value = text_at(obj, name, source, place)
    if value is None:
        raise fail(source, at(place, name), f"missing {name}")
    return value


def time_at(obj: dict[str, Any], name: str, source: InputFile, place: Place) -> str | None:
    """Return the timestamp at ``obj[name]`` in RFC 3339 UTC; absent → None; unreadable fails.

    For times that decide something (which VEX statement wins): unlike a scan time, which
    :func:`~gate.sources.base.rfc3339` drops when unreadable, guessing here could let an old
    statement override a newer one.
    """
    value = text_at(obj, name, source, place)
    if value is None:
        return None
    moment = rfc3339(value)
    if moment is None:
        raise fail(source, at(place, name), f"not an RFC 3339 timestamp: {value!r}")
    return moment


_CWE = re.compile(r"(?:CWE-)?([0-9]{1,6})", re.IGNORECASE)


def cwe_ids(value: Any, source: InputFile, place: Place) -> list[str]:
    """CWE ids as ``CWE-79``, from ``"CWE-79"`` (Trivy), ``79`` (CycloneDX) or ``{"cwe":
    "CWE-79"}`` (Grype). Placeholders that name no weakness (NVD's ``NVD-CWE-noinfo``,
    ``NVD-CWE-Other``) are left out; a value of another type fails."""
    found: list[str] = []
    for index, item in enumerate(array(value, source, place)):
        if isinstance(item, dict):
            item = item.get("cwe")
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str):
            raise fail(source, at(place, index), f"expected a CWE id, got {kind(item)}")
        name = _cwe_name(item)
        if name:
            found.append(name)
    return list(dict.fromkeys(found))


def cwe_ids_at(obj: dict[str, Any], name: str, source: InputFile, place: Place) -> list[str]:
    """Return ``obj[name]`` as :func:`cwe_ids` reads it (``place`` is ``obj``'s place)."""
    return cwe_ids(obj.get(name), source, (place, name))


# Reports repeat a handful of CWE ids across thousands of findings.
@lru_cache(maxsize=1024)
def _cwe_name(written: str) -> str | None:
    match = _CWE.fullmatch(written.strip())
    return f"CWE-{int(match.group(1))}" if match else None


def fraction(value: Any, source: InputFile, place: Place) -> float | None:
    """A JSON number from 0 to 1 (a probability, a percentile); null → None."""
    found = number(value, source, place)
    if found is not None and not 0 <= found <= 1:
        raise fail(source, where(place), f"expected a number from 0 to 1, got {found}")
    return found
