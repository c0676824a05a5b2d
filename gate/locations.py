"""Which input files hold the finding a result is about: where code scanning points.

A result names its finding by kind and key (the rule contract's ``finding``); the document
says which inputs reported each finding (``sources[].input``) and which defined the image.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterator
from functools import cached_property
from typing import Any

from gate.document import Document
from gate.verdict import Result

Key = tuple[Any, ...]
Inputs = tuple[str, ...]


def _entries(document: Document) -> Iterator[tuple[Key, Inputs]]:
    """Every finding key of the document with the inputs that hold it, in document order."""
    for v in document.vulnerabilities:
        inputs = tuple(s.input for s in v.sources)
        yield ("vulnerability", v.id, v.package.name, v.package.version), inputs
        yield ("vulnerability", v.id, v.package.name), inputs
    for s in document.secrets:
        yield ("secret", s.id, s.target, s.start_line), tuple(x.input for x in s.sources)
    for m in document.misconfigurations:
        yield ("misconfiguration", m.id, m.target), tuple(x.input for x in m.sources)
    for lic in document.licenses:
        yield ("license", lic.name, lic.package_name), tuple(x.input for x in lic.sources)
    for a in document.attestations:
        yield ("attestation", a.input), (a.input,)
    defining = tuple(s.input for s in document.scans if s.evidence.match == "defines")
    for kind in ("image", "label", "env"):
        yield (kind,), defining
    for scan in document.scans:
        yield ("scan", scan.input), (scan.input,)
    for verdict in document.promotion.verdicts:
        yield ("promotion",), (verdict.input,)
    for signature in document.signatures:
        yield ("signature",), (signature.input,)


class Locations:
    """The inputs of every finding of a document, kept without the document.

    Built before the engine runs, so that the document can be released first: the engine
    evaluates in a forked child, which starts with all the memory this process holds.
    The keys are kept packed in one block (:mod:`marshal`) until a result asks for them:
    as live objects, the document's strings they refer to would pin most of the memory the
    released document leaves behind, and the child would start with it anyway.
    """

    def __init__(self, document: Document) -> None:
        self._packed = marshal.dumps(list(_entries(document)))

    @cached_property
    def _index(self) -> dict[Key, Inputs]:
        index: dict[Key, Inputs] = {}
        for key, inputs in marshal.loads(self._packed):
            known = index.get(key)
            # as listed, and then only what is not known yet (a report may name the same
            # input twice for one finding: kept as given, as it always was)
            index[key] = (
                inputs if known is None else known + tuple(i for i in inputs if i not in known)
            )
        self._packed = b""  # unpacked once
        return index

    def of(self, finding: dict[str, Any]) -> list[str]:
        """The inputs that hold ``finding`` (a result's), by the first of its keys known."""
        return list(next((self._index[k] for k in _keys(finding) if self._index.get(k)), ()))


def _keys(finding: dict[str, Any]) -> list[Key]:
    kind = finding.get("kind")
    fid = finding.get("id")
    if kind == "vulnerability":
        return [
            ("vulnerability", fid, finding.get("package"), finding.get("version")),
            ("vulnerability", fid, finding.get("package")),
        ]
    if kind == "secret":
        return [("secret", fid, finding.get("target"), finding.get("line"))]
    if kind == "misconfiguration":
        return [("misconfiguration", fid, finding.get("target"))]
    if kind == "license":
        return [("license", fid, finding.get("package"))]
    if kind == "attestation":
        return [("attestation", finding.get("input"))]
    if kind == "scan":
        return [("scan", fid)]
    return [(kind,)]


def with_inputs(results: list[Result], located: Document | Locations) -> list[Result]:
    """``results`` with ``inputs`` set to the input files that hold each one's finding,
    as ``located`` (a document, or its :class:`Locations`) records them."""
    locations = located if isinstance(located, Locations) else Locations(located)
    placed = []
    for result in results:
        inputs = locations.of(result.finding if isinstance(result.finding, dict) else {})
        placed.append(result.model_copy(update={"inputs": inputs}) if inputs else result)
    return placed
