"""``gate check --explain``: where each rule is, and the input values that made it fire.

A developer whose image is blocked should see why without reading Rego: the rule's file and
line, its description, and the part of the normalised document the result concerns (the
vulnerability as the scanners reported it, the image field, the scan, the attestation…),
found through the result's ``finding``. Environment variable values are never shown: the
rule that reports them exists because they may be secrets.
"""

from __future__ import annotations

import re
from typing import Any

from gate.document import Document
from gate.policy import PolicyBundle, RuleInfo
from gate.verdict import Explanation, Result, RuleLocation


def explain(results: list[Result], document: Document, bundle: PolicyBundle) -> list[Result]:
    """Return ``results`` with an :class:`Explanation` attached to each."""
    rules = bundle.rules()
    lookup = _Evidence(document)
    located: dict[tuple[str, str], RuleLocation | None] = {}
    explained = []
    for result in results:
        key = (result.id, result.level)
        if key not in located:
            located[key] = _locate(rules.get(result.id), result, bundle)
        info = rules.get(result.id)
        explained.append(
            result.model_copy(
                update={
                    "explanation": Explanation(
                        rule=located[key],
                        description=info.description if info else None,
                        evidence=lookup.for_finding(result.finding or {}),
                    )
                }
            )
        )
    return explained


def _locate(info: RuleInfo | None, result: Result, bundle: PolicyBundle) -> RuleLocation | None:
    """The body that produced the result: the rule a ``deny contains f if { some f in
    findings }`` wrapper draws from (``findings``), else the deny/warn definition itself,
    else the rule's METADATA block."""
    if info is None:
        return None
    module = next((m for m in bundle.modules if m.path == info.path), None)
    if module is not None:
        # Staged rules deny in Rego and are reported as warnings: look for what Rego said.
        levels = ("deny", "warn") if result.effective_from else (result.level,)
        for level in levels:
            found = re.search(rf"^{level}\b", module.text, re.MULTILINE)
            if found:
                start = _producing_body(module.text, found.start(), result) or found.start()
                return RuleLocation(file=info.path, line=module.text.count("\n", 0, start) + 1)
    return RuleLocation(file=info.path, line=info.line)


_DRAWN_FROM = re.compile(r"\bsome\s+(\w+)\s+in\s+([A-Za-z_]\w*)\s*$", re.MULTILINE)


def _rule_text(text: str, start: int) -> str:
    """A top-level rule's text: from ``start`` to its closing brace at the line start."""
    end = re.compile(r"^\}", re.MULTILINE).search(text, start)
    return text[start : end.end() if end else len(text)]


def _producing_body(text: str, start: int, result: Result) -> int | None:
    """Where the rule a wrapper draws its results from is defined: the first of its
    definitions that builds a finding of the result's kind, or its first one."""
    drawn = _DRAWN_FROM.search(_rule_text(text, start))
    if drawn is None:
        return None
    bodies = [m.start() for m in re.finditer(rf"^{drawn.group(2)}\b", text, re.MULTILINE)]
    kind = (result.finding or {}).get("kind")
    if isinstance(kind, str):
        literal = re.compile(rf'"kind"\s*:\s*"{re.escape(kind)}"')
        for body in bodies:
            if literal.search(_rule_text(text, body)):
                return body
    return bodies[0] if bodies else None


class _Evidence:
    """Index the document once; answer "what does this finding point at" per result."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.vulnerabilities: dict[tuple[str, str, str], Any] = {}
        for vuln in document.vulnerabilities:
            for name in (vuln.id, *vuln.aliases):
                key = (name.upper(), vuln.package.name, vuln.package.version or "")
                self.vulnerabilities.setdefault(key, vuln)

    def for_finding(self, finding: dict[str, Any]) -> dict[str, Any]:
        kind = finding.get("kind")
        handler = getattr(self, f"_{str(kind).replace('-', '_')}", None)
        evidence = handler(finding) if handler is not None else None
        return evidence if evidence is not None else _without_env_values(finding)

    def _vulnerability(self, finding: dict[str, Any]) -> dict[str, Any] | None:
        key = (
            str(finding.get("id", "")).upper(),
            str(finding.get("package", "")),
            str(finding.get("version") or ""),
        )
        vuln = self.vulnerabilities.get(key)
        if vuln is None:
            return None
        return {
            "vulnerability": vuln.id,
            "package": f"{vuln.package.name} {vuln.package.version or ''}".strip(),
            "severity": vuln.severity,
            "fixed_versions": vuln.fixed_versions,
            "status": vuln.status,
            "published": vuln.published,
            "reported_by": {s.tool: s.severity for s in vuln.sources},
            "vex": vuln.vex.model_dump(mode="json") if vuln.vex else None,
        }

    def _image(self, finding: dict[str, Any]) -> dict[str, Any] | None:
        field = finding.get("field")
        if not isinstance(field, str) or field not in type(self.document.image).model_fields:
            return None
        if field == "env":
            return {"image.env": sorted(self.document.image.env)}
        value = getattr(self.document.image, field)
        if field == "tag":
            value = self.document.subject.tag
        dumped = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
        return {f"image.{field}": dumped, "reference": self.document.subject.reference}

    def _label(self, finding: dict[str, Any]) -> dict[str, Any]:
        name = finding.get("id")
        labels = self.document.image.labels
        return {f"image.labels[{name!r}]": labels.get(str(name)), "labels present": sorted(labels)}

    def _env(self, finding: dict[str, Any]) -> dict[str, Any]:
        name = str(finding.get("id"))
        present = name in self.document.image.env
        return {"image.env": name, "set": present, "value": "(not shown)" if present else None}

    def _scan(self, finding: dict[str, Any]) -> dict[str, Any] | None:
        scan = next((s for s in self.document.scans if s.input == finding.get("id")), None)
        if scan is None:
            return {"scans": [s.input for s in self.document.scans]}
        return {
            "scan": scan.input,
            "tool": f"{scan.tool} {scan.tool_version or ''}".strip(),
            "created": scan.created,
            "kinds": scan.kinds,
            "artifact_digests": scan.artifact_digests,
            "image digests": [
                d for d in (self.document.subject.digest, self.document.subject.image_id) if d
            ],
            "evaluated_at": self.document.context.evaluated_at,
        }

    def _secret(self, finding: dict[str, Any]) -> dict[str, Any] | None:
        for secret in self.document.secrets:
            if secret.id == finding.get("id") and secret.target == finding.get("target"):
                return {
                    "secret": secret.id,
                    "title": secret.title,
                    "file": secret.target,
                    "lines": [secret.start_line, secret.end_line],
                    "match": secret.match,
                    "reported_by": [s.tool for s in secret.sources],
                }
        return None

    def _misconfiguration(self, finding: dict[str, Any]) -> dict[str, Any] | None:
        for item in self.document.misconfigurations:
            if item.id == finding.get("id") and item.target == finding.get("target"):
                return {
                    "check": item.id,
                    "title": item.title,
                    "message": item.message,
                    "target": item.target,
                    "line": item.start_line,
                    "severity": item.severity,
                }
        return None

    def _license(self, finding: dict[str, Any]) -> dict[str, Any]:
        package = finding.get("package")
        listed = [p for p in self.document.packages if p.name == package]
        return {
            "license": finding.get("id"),
            "package": package,
            "listed_by": sorted({s.input for p in listed for s in p.sources}),
        }

    def _attestation(self, finding: dict[str, Any]) -> dict[str, Any]:
        return {
            "attestations": [
                {
                    "kind": a.kind,
                    "matches_subject": a.matches_subject,
                    "builder_id": a.builder_id,
                    "subject_digests": a.subject_digests,
                    "input": a.input,
                }
                for a in self.document.attestations
            ],
            "image digests": [
                d for d in (self.document.subject.digest, self.document.subject.image_id) if d
            ],
        }


def _without_env_values(finding: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in finding.items() if k != "value" or finding.get("kind") != "env"}
