"""Which input files hold the finding a result is about: where code scanning points.

A result names its finding by kind and key (the rule contract's ``finding``); the document
says which inputs reported each finding (``sources[].input``) and which defined the image.
"""

from __future__ import annotations

import marshal
from functools import cached_property
from typing import Any

from gate.document import Document, FindingSource
from gate.verdict import Result

Key = tuple[Any, ...]
Inputs = tuple[str, ...]


def _vulnerabilities(document: Document) -> list[tuple[str, str, str | None, Inputs]]:
    """Every vulnerability's id, package name and version, with the inputs that hold it."""
    return [
        (v.id, v.package.name, v.package.version, tuple([s.input for s in v.sources]))
        for v in document.vulnerabilities
    ]


def _others(document: Document) -> list[tuple[Key, Inputs]]:
    """Every other finding key of the document with the inputs that hold it."""
    entries: list[tuple[Key, Inputs]] = []
    for s in document.secrets:
        entries.append((("secret", s.id, s.target, s.start_line), _inputs(s.sources)))
    for m in document.misconfigurations:
        entries.append((("misconfiguration", m.id, m.target), _inputs(m.sources)))
    for lic in document.licenses:
        entries.append((("license", lic.name, lic.package_name), _inputs(lic.sources)))
    for a in document.attestations:
        entries.append((("attestation", a.input), (a.input,)))
    defining = tuple(s.input for s in document.scans if s.evidence.match == "defines")
    entries += [((kind,), defining) for kind in ("image", "label", "env")]
    entries += [(("scan", scan.input), (scan.input,)) for scan in document.scans]
    entries += [(("promotion",), (verdict.input,)) for verdict in document.promotion.verdicts]
    entries += [(("signature",), (signature.input,)) for signature in document.signatures]
    return entries


def _inputs(sources: list[FindingSource]) -> Inputs:
    return tuple(source.input for source in sources)


class Locations:
    """The inputs of every finding of a document, kept without the document.

    Built before the engine runs, so that the document can be released first: the engine
    evaluates in a forked child, which starts with all the memory this process holds.
    The keys are kept packed in one block (:mod:`marshal`) until a result asks for them:
    as live objects, the document's strings they refer to would pin most of the memory the
    released document leaves behind, and the child would start with it anyway.
    """

    def __init__(self, document: Document) -> None:
        self._packed = marshal.dumps((_vulnerabilities(document), _others(document)))

    @cached_property
    def _index(self) -> dict[Key, Inputs]:
        vulnerabilities, others = marshal.loads(self._packed)
        self._packed = b""  # unpacked once
        index: dict[Key, Inputs] = {}

        def add(key: Key, inputs: Inputs) -> None:
            known = index.get(key)
            # as listed, then only what is not known yet (a report may name one input twice
            # for a finding: kept as given, as it always was)
            index[key] = (
                inputs if known is None else known + tuple(i for i in inputs if i not in known)
            )

        for vid, package, version, inputs in vulnerabilities:
            add(("vulnerability", vid, package, version), inputs)
            add(("vulnerability", vid, package), inputs)
        for key, inputs in others:
            add(key, inputs)
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
