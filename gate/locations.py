"""Which input files hold the finding a result is about: where code scanning points.

A result names its finding by kind and key (the rule contract's ``finding``); the document
says which inputs reported each finding (``sources[].input``) and which defined the image.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gate.document import Document
from gate.verdict import Result

Key = tuple[Any, ...]


def _index(document: Document) -> dict[Key, list[str]]:
    index: dict[Key, list[str]] = {}

    def add(key: Key, inputs: Iterable[str]) -> None:
        index.setdefault(key, [])
        index[key] += [i for i in inputs if i not in index[key]]

    for v in document.vulnerabilities:
        inputs = [s.input for s in v.sources]
        add(("vulnerability", v.id, v.package.name, v.package.version), inputs)
        add(("vulnerability", v.id, v.package.name), inputs)
    for s in document.secrets:
        add(("secret", s.id, s.target, s.start_line), [x.input for x in s.sources])
    for m in document.misconfigurations:
        add(("misconfiguration", m.id, m.target), [x.input for x in m.sources])
    for lic in document.licenses:
        add(
            ("license", lic.name, lic.package_name),
            [x.input for x in lic.sources],
        )
    for a in document.attestations:
        add(("attestation", a.input), [a.input])
    defining = [s.input for s in document.scans if s.evidence.match == "defines"]
    for kind in ("image", "label", "env"):
        add((kind,), defining)
    for scan in document.scans:
        add(("scan", scan.input), [scan.input])
    for verdict in document.promotion.verdicts:
        add(("promotion",), [verdict.input])
    for signature in document.signatures:
        add(("signature",), [signature.input])
    return index


def _key(finding: dict[str, Any]) -> list[Key]:
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


def with_inputs(results: list[Result], document: Document) -> list[Result]:
    """``results`` with ``inputs`` set to the input files that hold each one's finding."""
    index = _index(document)
    located = []
    for result in results:
        finding = result.finding if isinstance(result.finding, dict) else {}
        inputs = next((index[k] for k in _key(finding) if index.get(k)), [])
        located.append(result.model_copy(update={"inputs": list(inputs)}) if inputs else result)
    return located
