"""OpenVEX documents (v0.2.0 and the legacy v0.0.1 layout) as VEX statements.

Recognised by ``@context``: ``https://openvex.dev/ns/v0.2.0`` (or any later
``https://openvex.dev/ns/…``) and the legacy ``https://openvex.dev/ns`` of v0.0.1, which
also writes ``format: text/vex+json``, names products and subcomponents as plain strings at
statement level and often carries no timestamps. Both layouts are read by one mapping:
wherever v0.2.0 has an object (``vulnerability``, a product, a subcomponent) a plain string
is accepted too.

Mapping of one statement:

* ``vulnerability.name`` (or the string; ``@id`` when there is no name) is the id,
  ``vulnerability.aliases`` the aliases;
* ``status`` must be one of ``not_affected``, ``affected``, ``fixed``,
  ``under_investigation`` (anything else fails, naming the JSON path);
* ``justification``, ``impact_statement``, ``action_statement`` are kept as written;
* ``timestamp`` is the statement's, else the document's (RFC 3339, normalised to UTC);
  a timestamp that is not RFC 3339 fails, since it decides which statement wins;
* a product's names are its ``@id`` and its ``identifiers`` (``purl``, ``cpe23``, ``cpe22``),
  its subcomponents' names likewise; v0.0.1's statement-level ``subcomponents`` narrow every
  product of the statement;
* the document's ``@id`` and ``author`` are recorded on every statement.

Expansion rule: ONE :class:`~gate.vex.VexStatement` per (statement × product), with
``order`` = (statement index, product index), so that each product keeps its own
subcomponents. A statement with no products names nothing gate could match and yields none.
Nothing is de-duplicated: repeated statements are harmless, the latest wins when applied
(:func:`gate.vex.apply_vex`).

Scan facts: tool ``openvex`` (or the document's ``tooling``, lower case), no version,
``created`` = the document's timestamp, kinds ``["vex"]``; an OpenVEX document has no
findings of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, get_args

from gate.document import VexStatus
from gate.inputs import InputFile
from gate.sources.base import Fragment, fail
from gate.sources.shape import array, at, kind, mapping, string_list, text_at, time_at
from gate.vex import VexStatement

TOOL = "openvex"
CONTEXT = "https://openvex.dev/ns"

_STATUSES: dict[str, VexStatus] = {status: status for status in get_args(VexStatus)}
_IDENTIFIERS = ("purl", "cpe23", "cpe22", "@cpe23", "@cpe22")  # the JSON schema writes '@'


def _is_openvex_context(value: Any) -> bool:
    contexts = value if isinstance(value, list) else [value]  # JSON-LD allows a flat list
    return any(
        isinstance(item, str) and (item == CONTEXT or item.startswith(f"{CONTEXT}/"))
        for item in contexts
    )


class OpenVexSource:
    """OpenVEX JSON documents, v0.0.1 and v0.2.0."""

    format: ClassVar[str] = "openvex"
    expected_shape: ClassVar[str] = 'an OpenVEX "@context"'

    def matches(self, data: Any) -> bool:
        """Return True when ``data`` is an object whose ``@context`` is OpenVEX's."""
        return isinstance(data, dict) and _is_openvex_context(data.get("@context"))

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Read every statement of an OpenVEX document into :class:`VexStatement` values.

        Raises :class:`~gate.errors.SourceError`, naming the file and the JSON path, for a
        missing vulnerability, a missing or unknown status, an unreadable timestamp or a
        value of the wrong type.
        """
        document = mapping(data, source, "")
        tooling = text_at(document, "tooling", source, "")
        created = time_at(document, "timestamp", source, "")
        context = _Document(
            source=source,
            document_id=text_at(document, "@id", source, ""),
            author=text_at(document, "author", source, ""),
            timestamp=created,
        )
        statements: list[VexStatement] = []
        for index, raw in enumerate(array(document.get("statements"), source, "statements")):
            statements.extend(context.statements(index, raw))
        return Fragment(
            format=self.format,
            tool=tooling.strip().lower() if tooling else TOOL,
            created=created,
            kinds=["vex"],
            vex=statements,
        )


@dataclass(frozen=True)
class _Document:
    """Facts of one document that every statement in it inherits."""

    source: InputFile
    document_id: str | None
    author: str | None
    timestamp: str | None

    def statements(self, index: int, raw: Any) -> list[VexStatement]:
        """Expand statement ``index`` into one :class:`VexStatement` per product."""
        source = self.source
        place = at("statements", index)
        statement = mapping(raw, source, place)
        vulnerability, aliases = self._vulnerability(statement, place)
        status = self._status(statement, place)
        shared = _names_of_all(statement.get("subcomponents"), source, at(place, "subcomponents"))
        products_place = at(place, "products")
        result = []
        products = array(statement.get("products"), source, products_place)
        for position, product in enumerate(products):
            names, subcomponents = _product(product, source, at(products_place, position))
            result.append(
                VexStatement(
                    vulnerability=vulnerability,
                    status=status,
                    source=source.path,
                    aliases=aliases,
                    products=names,
                    subcomponents=(*subcomponents, *shared),
                    justification=text_at(statement, "justification", source, place),
                    impact_statement=text_at(statement, "impact_statement", source, place),
                    action_statement=text_at(statement, "action_statement", source, place),
                    timestamp=time_at(statement, "timestamp", source, place) or self.timestamp,
                    document_id=self.document_id,
                    author=self.author,
                    order=(index, position),
                )
            )
        return result

    def _vulnerability(self, statement: dict[str, Any], place: str) -> tuple[str, tuple[str, ...]]:
        here = at(place, "vulnerability")
        value = statement.get("vulnerability")
        if isinstance(value, str) and value.strip():
            return value.strip(), ()
        if not isinstance(value, dict):
            problem = "missing vulnerability" if value is None else f"got {kind(value)}"
            raise fail(self.source, here, f"expected a vulnerability name or object, {problem}")
        name = text_at(value, "name", self.source, here) or text_at(value, "@id", self.source, here)
        if name is None:
            raise fail(self.source, here, "vulnerability has neither 'name' nor '@id'")
        aliases = string_list(value.get("aliases"), self.source, at(here, "aliases"))
        return name.strip(), tuple(alias.strip() for alias in aliases)

    def _status(self, statement: dict[str, Any], place: str) -> VexStatus:
        value = text_at(statement, "status", self.source, place)
        if value is None:
            raise fail(self.source, at(place, "status"), "missing status")
        status = _STATUSES.get(value)
        if status is None:
            expected = ", ".join(sorted(_STATUSES))
            raise fail(
                self.source, at(place, "status"), f"unknown status {value!r} (expected {expected})"
            )
        return status


def _names(component: Any, source: InputFile, place: str) -> tuple[str, ...]:
    """The names of a product or subcomponent: the string, or its ``@id`` and identifiers."""
    if isinstance(component, str):
        return (component.strip(),) if component.strip() else ()
    if not isinstance(component, dict):
        raise fail(source, place, f"expected a string or an object, got {kind(component)}")
    names = [text_at(component, "@id", source, place)]
    identifiers_place = at(place, "identifiers")
    identifiers = mapping(component.get("identifiers"), source, identifiers_place)
    names.extend(text_at(identifiers, key, source, identifiers_place) for key in _IDENTIFIERS)
    return tuple(dict.fromkeys(name.strip() for name in names if name))


def _names_of_all(value: Any, source: InputFile, place: str) -> tuple[str, ...]:
    """The names of every component in an array of components."""
    return tuple(
        name
        for position, component in enumerate(array(value, source, place))
        for name in _names(component, source, at(place, position))
    )


def _product(
    product: Any, source: InputFile, place: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A product's names and its own subcomponents' names."""
    names = _names(product, source, place)
    if not isinstance(product, dict):
        return names, ()
    return names, _names_of_all(product.get("subcomponents"), source, at(place, "subcomponents"))
