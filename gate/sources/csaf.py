"""CSAF 2.0 / 2.1 documents of the VEX profile (``document.category: csaf_vex``).

Only ``csaf_vex`` documents are read. Other CSAF categories (``csaf_security_advisory``,
``csaf_base``, …) are not recognised: an advisory says which versions a vendor shipped
fixes for, not what a product is affected by, and reading it as VEX could mark findings
``fixed`` or ``not_affected`` that nobody assessed.

Products. Every ``product_id`` is resolved through the product tree: ``branches``
(recursively) and ``full_product_names`` give a product its names, the package URLs
(``product_identification_helper.purl``, CSAF 2.1's ``purls``) and ``cpe`` of its
identification helper, or its ``name`` when it has neither. A ``relationships`` entry
(``default_component_of``, ``installed_on``, … all read alike) makes a new product id for
"component in platform": the platform's names become the statement's products and the
component's names its subcomponents, so the statement covers that package in that image.
``product_groups`` expand wherever ``group_ids`` are allowed. A reference to an unknown
product or group id fails with its JSON path.

Status, per ``vulnerabilities[].product_status`` list:

* ``known_not_affected`` → ``not_affected``;
* ``known_affected``, ``first_affected``, ``last_affected`` → ``affected``;
* ``fixed``, ``first_fixed`` → ``fixed``;
* ``under_investigation`` → ``under_investigation``.

``recommended`` names versions to move to, not a status, and is ignored.

Per statement: id = ``cve``, else the first ``ids[].text``; the other ``ids[].text`` are
aliases (a vulnerability with neither ``cve`` nor ``ids`` cannot be related to a finding
and yields nothing). For ``not_affected``, the justification is the ``label`` of the first
``flags`` entry naming the product (CSAF's labels are OpenVEX's justification names). The
impact statement joins the ``details`` of the ``threats`` of category ``impact`` naming the
product; for ``affected``, the action statement joins the ``details`` of the
``remediations`` naming it. Timestamp: ``document.tracking.current_release_date``, else
``initial_release_date``; document id: ``tracking.id``; author: ``publisher.name``.

Expansion rule: ONE :class:`~gate.vex.VexStatement` per (vulnerability × VEX status ×
distinct product id), with ``order`` = (vulnerability index, position of the product id
among that vulnerability's statements). Lists mapping to one status are read in the table's
order and a product id repeated among them counts once.

Scan facts: tool = the generator engine's name (lower case, e.g. ``secvisogram``) with its
version, else ``csaf``; ``created`` = the timestamp above; kinds ``["vex"]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from gate.document import VexStatus
from gate.inputs import InputFile
from gate.sources.base import Fragment, fail
from gate.sources.shape import array, at, mapping, required_at, string_list, text_at, time_at
from gate.vex import VexStatement

TOOL = "csaf"
CATEGORY = "csaf_vex"
_VERSIONS = ("2.0", "2.1")

_STATUS_LISTS: tuple[tuple[str, VexStatus], ...] = (
    ("known_not_affected", "not_affected"),
    ("known_affected", "affected"),
    ("first_affected", "affected"),
    ("last_affected", "affected"),
    ("fixed", "fixed"),
    ("first_fixed", "fixed"),
    ("under_investigation", "under_investigation"),
)


@dataclass(frozen=True)
class _Product:
    """What a product id stands for: names of the product and of its component, if any."""

    names: tuple[str, ...]
    subcomponents: tuple[str, ...] = ()


class CsafSource:
    """CSAF 2.0 and 2.1 JSON documents of category ``csaf_vex``."""

    format: ClassVar[str] = "csaf-vex"
    expected_shape: ClassVar[str] = (
        'a "document" object with "csaf_version" and category "csaf_vex"'
    )

    def matches(self, data: Any) -> bool:
        """Return True for an object whose ``document`` has ``csaf_version`` and is csaf_vex."""
        if not isinstance(data, dict):
            return False
        document = data.get("document")
        return (
            isinstance(document, dict)
            and "csaf_version" in document
            and document.get("category") == CATEGORY
        )

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Read every (vulnerability, status, product) of a CSAF VEX document as a statement.

        Raises :class:`~gate.errors.SourceError`, naming the file and the JSON path, for an
        unsupported ``csaf_version``, an unknown product or group id, an unreadable date or
        a value of the wrong type.
        """
        root = mapping(data, source, "")
        document = mapping(root.get("document"), source, "document")
        version = document.get("csaf_version")
        if version not in _VERSIONS:
            raise fail(
                source,
                "document.csaf_version",
                f"unsupported CSAF version {version!r} (expected 2.0 or 2.1)",
            )
        tracking = mapping(document.get("tracking"), source, "document.tracking")
        created = time_at(tracking, "current_release_date", source, "document.tracking") or time_at(
            tracking, "initial_release_date", source, "document.tracking"
        )
        generator = mapping(tracking.get("generator"), source, "document.tracking.generator")
        engine_place = "document.tracking.generator.engine"
        engine = mapping(generator.get("engine"), source, engine_place)
        engine_name = text_at(engine, "name", source, engine_place)
        publisher = mapping(document.get("publisher"), source, "document.publisher")
        reader = _Reader(
            source=source,
            tree=_ProductTree.read(root.get("product_tree"), source),
            timestamp=created,
            document_id=text_at(tracking, "id", source, "document.tracking"),
            author=text_at(publisher, "name", source, "document.publisher"),
        )
        statements = [
            statement
            for index, raw in enumerate(
                array(root.get("vulnerabilities"), source, "vulnerabilities")
            )
            for statement in reader.statements(index, raw)
        ]
        return Fragment(
            format=self.format,
            tool=engine_name.strip().lower() if engine_name else TOOL,
            tool_version=text_at(engine, "version", source, engine_place) if engine_name else None,
            created=created,
            kinds=["vex"],
            vex=statements,
        )


def _identification(product: dict[str, Any], source: InputFile, place: str) -> tuple[str, ...]:
    """The names of a ``full_product_name``: its helper's purls and CPE, else its name."""
    helper_place = at(place, "product_identification_helper")
    helper = mapping(product.get("product_identification_helper"), source, helper_place)
    names = [
        text_at(helper, "purl", source, helper_place),
        *string_list(helper.get("purls"), source, at(helper_place, "purls")),
        text_at(helper, "cpe", source, helper_place),
    ]
    found = tuple(dict.fromkeys(name.strip() for name in names if name))
    if found:
        return found
    name = text_at(product, "name", source, place)
    return (name.strip(),) if name else ()


def _product_id(product: dict[str, Any], source: InputFile, place: str) -> str:
    product_id = text_at(product, "product_id", source, place)
    if product_id is None:
        raise fail(source, at(place, "product_id"), "missing product_id")
    return product_id


@dataclass(frozen=True)
class _Relationship:
    """A relationship product: ``component`` in ``platform``, both product ids."""

    component: str
    platform: str
    place: str


@dataclass(frozen=True)
class _ProductTree:
    """Product ids and group ids of a document, resolved to names."""

    products: dict[str, _Product]
    groups: dict[str, list[str]]

    @classmethod
    def read(cls, value: Any, source: InputFile) -> _ProductTree:
        """Resolve every product id the product tree defines."""
        tree = mapping(value, source, "product_tree")
        products: dict[str, _Product] = {}
        for product, place in _branch_products(tree.get("branches"), source, "product_tree"):
            products[_product_id(product, source, place)] = _Product(
                _identification(product, source, place)
            )
        names_place = "product_tree.full_product_names"
        for index, raw in enumerate(array(tree.get("full_product_names"), source, names_place)):
            place = at(names_place, index)
            product = mapping(raw, source, place)
            products[_product_id(product, source, place)] = _Product(
                _identification(product, source, place)
            )
        _resolve_relationships(products, _relationships(tree, source), source)
        groups_place = "product_tree.product_groups"
        groups = {}
        for index, raw in enumerate(array(tree.get("product_groups"), source, groups_place)):
            place = at(groups_place, index)
            group = mapping(raw, source, place)
            group_id = text_at(group, "group_id", source, place)
            if group_id is None:
                raise fail(source, at(place, "group_id"), "missing group_id")
            groups[group_id] = string_list(
                group.get("product_ids"), source, at(place, "product_ids")
            )
        return cls(products, groups)

    def product(self, product_id: str, source: InputFile, place: str) -> _Product:
        """The product ``product_id`` stands for; an id the tree does not define fails."""
        product = self.products.get(product_id)
        if product is None:
            raise fail(source, place, f"unknown product id {product_id!r}")
        return product

    def covered(self, item: dict[str, Any], source: InputFile, place: str) -> set[str]:
        """The product ids an entry names through ``product_ids`` and ``group_ids``."""
        covered = set(string_list(item.get("product_ids"), source, at(place, "product_ids")))
        groups_place = at(place, "group_ids")
        for index, group_id in enumerate(string_list(item.get("group_ids"), source, groups_place)):
            members = self.groups.get(group_id)
            if members is None:
                raise fail(source, at(groups_place, index), f"unknown group id {group_id!r}")
            covered.update(members)
        return covered


def _branch_products(
    value: Any, source: InputFile, place: str
) -> Iterator[tuple[dict[str, Any], str]]:
    """Every ``product`` in a branch tree with its JSON path, walked without recursion."""
    pending = [(value, at(place, "branches"))]
    while pending:
        branches, branches_place = pending.pop()
        for index, raw in enumerate(array(branches, source, branches_place)):
            here = at(branches_place, index)
            branch = mapping(raw, source, here)
            if branch.get("product") is not None:
                product_place = at(here, "product")
                yield mapping(branch["product"], source, product_place), product_place
            if branch.get("branches") is not None:
                pending.append((branch["branches"], at(here, "branches")))


def _relationships(tree: dict[str, Any], source: InputFile) -> dict[str, _Relationship]:
    """The relationship products by product id, unresolved."""
    result = {}
    relationships_place = "product_tree.relationships"
    for index, raw in enumerate(array(tree.get("relationships"), source, relationships_place)):
        place = at(relationships_place, index)
        relationship = mapping(raw, source, place)
        name_place = at(place, "full_product_name")
        full_name = mapping(relationship.get("full_product_name"), source, name_place)
        component, platform = (
            required_at(relationship, key, source, place)
            for key in ("product_reference", "relates_to_product_reference")
        )
        result[_product_id(full_name, source, name_place)] = _Relationship(
            component, platform, place
        )
    return result


def _resolve_relationships(
    products: dict[str, _Product], pending: dict[str, _Relationship], source: InputFile
) -> None:
    """Add relationship products to ``products``, in passes until nothing is left.

    A relationship may refer to another relationship's product, defined anywhere in the
    document, so each pass resolves those whose ends are known; a pass that resolves
    nothing means an unknown id or a cycle.
    """
    while pending:
        resolved = {
            product_id: relationship
            for product_id, relationship in pending.items()
            if relationship.component in products and relationship.platform in products
        }
        if not resolved:
            relationship = next(iter(pending.values()))
            missing = (
                ("product_reference", relationship.component)
                if relationship.component not in products
                else ("relates_to_product_reference", relationship.platform)
            )
            raise fail(
                source,
                at(relationship.place, missing[0]),
                f"unknown product id {missing[1]!r} (undefined, or relationships in a cycle)",
            )
        for product_id, relationship in resolved.items():
            component = products[relationship.component]
            products[product_id] = _Product(
                names=products[relationship.platform].names,
                # a component that is itself "X in Y" is the package X
                subcomponents=component.subcomponents or component.names,
            )
            del pending[product_id]


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None


def _joined(values: list[str] | None) -> str | None:
    return "\n".join(values) if values else None


@dataclass(frozen=True)
class _Reader:
    """Turns the vulnerabilities of one document into statements."""

    source: InputFile
    tree: _ProductTree
    timestamp: str | None
    document_id: str | None
    author: str | None

    def statements(self, index: int, raw: Any) -> list[VexStatement]:
        """One statement per (VEX status, product id) of vulnerability ``index``."""
        source = self.source
        place = at("vulnerabilities", index)
        vulnerability = mapping(raw, source, place)
        ids = self._ids(vulnerability, place)
        if not ids:
            return []
        justifications = self._by_product(vulnerability, place, "flags", "label")
        impacts = self._by_product(vulnerability, place, "threats", "details", category="impact")
        actions = self._by_product(vulnerability, place, "remediations", "details")
        result: list[VexStatement] = []
        for status, product_id, product_place in self._listed(vulnerability, place):
            product = self.tree.product(product_id, source, product_place)
            result.append(
                VexStatement(
                    vulnerability=ids[0],
                    status=status,
                    source=source.path,
                    aliases=ids[1:],
                    products=product.names,
                    subcomponents=product.subcomponents,
                    justification=(
                        _first(justifications.get(product_id)) if status == "not_affected" else None
                    ),
                    impact_statement=_joined(impacts.get(product_id)),
                    action_statement=(
                        _joined(actions.get(product_id)) if status == "affected" else None
                    ),
                    timestamp=self.timestamp,
                    document_id=self.document_id,
                    author=self.author,
                    order=(index, len(result)),
                )
            )
        return result

    def _ids(self, vulnerability: dict[str, Any], place: str) -> tuple[str, ...]:
        """The CVE, then the other ids' texts, without repeats."""
        ids = [text_at(vulnerability, "cve", self.source, place)]
        ids_place = at(place, "ids")
        for position, raw in enumerate(array(vulnerability.get("ids"), self.source, ids_place)):
            here = at(ids_place, position)
            ids.append(text_at(mapping(raw, self.source, here), "text", self.source, here))
        return tuple(dict.fromkeys(i.strip() for i in ids if i))

    def _listed(
        self, vulnerability: dict[str, Any], place: str
    ) -> Iterator[tuple[VexStatus, str, str]]:
        """(status, product id, JSON path) of each distinct product id per status."""
        status_place = at(place, "product_status")
        lists = mapping(vulnerability.get("product_status"), self.source, status_place)
        seen: set[tuple[VexStatus, str]] = set()
        for key, status in _STATUS_LISTS:
            list_place = at(status_place, key)
            for position, product_id in enumerate(
                string_list(lists.get(key), self.source, list_place)
            ):
                if (status, product_id) not in seen:
                    seen.add((status, product_id))
                    yield status, product_id, at(list_place, position)

    def _by_product(
        self,
        vulnerability: dict[str, Any],
        place: str,
        name: str,
        field: str,
        category: str | None = None,
    ) -> dict[str, list[str]]:
        """``field`` of each ``name`` entry (of ``category``), by the product ids it names."""
        result: dict[str, list[str]] = {}
        entries_place = at(place, name)
        for index, raw in enumerate(array(vulnerability.get(name), self.source, entries_place)):
            here = at(entries_place, index)
            entry = mapping(raw, self.source, here)
            if category is not None and entry.get("category") != category:
                continue
            value = text_at(entry, field, self.source, here)
            if value is None:
                continue
            for product_id in self.tree.covered(entry, self.source, here):
                result.setdefault(product_id, []).append(value.strip())
        return result
