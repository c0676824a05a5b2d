"""gate: a policy-as-code quality gate for container images."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

__version__ = "0.1.0"

_Item = TypeVar("_Item")


class LazyRegistry(Mapping[str, _Item]):
    """Implementations by name, in a fixed order, each imported and built on first use.

    ``entries`` maps a name to ``"module:Class"``. A plain check needs one input source and
    one output format of the many gate has: importing the others would be most of its
    import time. ``name_of`` reads the name an instance declares; a registry key that is
    not it (a wiring mistake) fails on first use instead of answering under a wrong name.
    """

    def __init__(self, entries: dict[str, str], name_of: Callable[[_Item], str]) -> None:
        self._entries = entries
        self._name_of = name_of
        self._built: dict[str, _Item] = {}

    def __getitem__(self, name: str) -> _Item:
        item = self._built.get(name)
        if item is None:
            module, _, attribute = self._entries[name].partition(":")
            item = getattr(importlib.import_module(module), attribute)()
            if self._name_of(item) != name:
                raise TypeError(f"{self._entries[name]} is {self._name_of(item)}, not {name}")
            self._built[name] = item
        return item

    def __contains__(self, name: object) -> bool:
        return name in self._entries  # asking about a name imports nothing

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
