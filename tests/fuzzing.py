"""Shape mutations of real fixtures and the properties every source must keep under them.

Shared by the suite (tests/sources/test_fuzz.py: few examples, derandomised) and the long
run (scripts/fuzz.py: many examples). The oracles come from tables here, never from the
code under test: which fixtures each source reads (tests/sources/test_detection.py's
table), and where each format writes its findings (:data:`FINDING_PATHS`).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import FIXTURES
from hypothesis import strategies as st
from test_detection import FIXTURE_PATHS, fixture_format

from gate.errors import GateError

JsonPath = tuple[str | int, ...]


def _format_of(relative: str) -> str | None:
    try:
        return fixture_format(relative)
    except AssertionError:  # a fixture missing from the table is test_detection's failure
        return None


FIXTURES_BY_FORMAT: dict[str, list[str]] = {}
for _relative in FIXTURE_PATHS:
    if (_format := _format_of(_relative)) is not None:
        FIXTURES_BY_FORMAT.setdefault(_format, []).append(_relative)

ANY = "*"
"""In a finding path: any key or index."""
INDEX = "[]"
"""In a finding path: any array index."""
_TRIVY_KINDS = ("Vulnerabilities", "Secrets", "Misconfigurations", "Licenses")

FINDING_PATHS: dict[str, list[JsonPath]] = {
    "trivy-json": [
        *(("Results", INDEX, kind, INDEX) for kind in _TRIVY_KINDS),
        (INDEX, "Vulnerabilities", INDEX),  # the legacy top-level list
    ],
    "trivy-operator": [
        ("report", "vulnerabilities", INDEX),
        ("items", INDEX, "report", "vulnerabilities", INDEX),
    ],
    "harbor": [(ANY, "vulnerabilities", INDEX), ("vulnerabilities", INDEX)],
    "grype-json": [("matches", INDEX)],
    # a SARIF result is read through its rule and its tool (Snyk's rules list the CVEs one
    # result stands for): a changed tool may change how many findings a result becomes
    "sarif": [("runs", INDEX, "results", INDEX), ("runs", INDEX, "tool")],
    # an affects ref names a component: a changed component may split or merge the
    # findings of one entry (one per package)
    "cyclonedx": [("vulnerabilities", INDEX), ("components",)],
    "snyk-json": [
        *(
            (*project, *application, "vulnerabilities", INDEX)
            for project in [(), (INDEX,)]  # one project, or a list of them
            for application in [(), ("applications", INDEX)]
        )
    ],
    "hadolint-json": [(INDEX,)],
    "dockle-json": [("details", INDEX)],
}
"""Where each format writes one finding. A mutation inside or above one may drop or refuse
findings; one beside them must not change how many there are. Formats absent here hold
no findings, and no mutation may make them produce any."""


def touches_findings(format_name: str, path: JsonPath) -> bool:
    """True when ``path`` lies inside a finding of ``format_name`` or above one."""
    return any(_overlaps(path, pattern) for pattern in FINDING_PATHS.get(format_name, []))


def _overlaps(path: JsonPath, pattern: JsonPath) -> bool:
    for key, wanted in zip(path, pattern, strict=False):
        if wanted == INDEX and not isinstance(key, int):
            return False
        if wanted not in (ANY, INDEX) and wanted != key:
            return False
    return True


class Raw(str):
    """JSON text written as is: what ``json.dumps`` cannot produce (1e400, 5,000 digits)."""


HUGE_INTEGER = Raw("9" * 5000)
HOSTILE_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**64,
    1.5e308,
    HUGE_INTEGER,
    Raw("1e400"),
    Raw("NaN"),
    Raw("-Infinity"),
    "",
    " ",
    "x",
    "\u202e\U0001f600 ünïcödé \x1b[2J",
    "\ud800",  # a lone surrogate: valid JSON escape, not encodable as UTF-8
    "sha256:" + "0" * 64,
    "A" * 5000,
    [],
    {},
    [None],
    [[]],
    {"": None},
    {"kind": []},
    Raw("[" * 900 + "]" * 900),  # deep, but within what the JSON parser takes
    Raw('{"a":' * 900 + "{}" + "}" * 900),
]
"""What a mutation may put where a value was."""


@dataclass(frozen=True)
class Mutation:
    """One change at ``path``: delete, replace, swap, duplicate, truncate or duplicate-key."""

    path: JsonPath
    action: str
    value: Any = None

    def apply(self, data: Any) -> Any:
        """A mutated deep copy of ``data`` (serialise it with :func:`dump`)."""
        copied = copy.deepcopy(data)
        if not self.path:
            return self._changed(copied)
        parent = value_at(copied, self.path[:-1])
        key = self.path[-1]
        if self.action == "delete":
            del parent[key]
        else:
            parent[key] = self._changed(parent[key])
        return copied

    def _changed(self, target: Any) -> Any:
        if self.action in ("replace", "swap"):
            return self.value
        if self.action == "duplicate":
            return [*target[: self.value + 1], target[self.value], *target[self.value + 1 :]]
        if self.action == "truncate":
            return target[: self.value]
        if self.action == "duplicate-key":
            return DuplicateKey(target, self.value)
        raise AssertionError(self.action)

    def __str__(self) -> str:
        shown = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in self.path) or "$"
        value = repr(self.value)
        return f"{self.action} {shown}" + (f" {value[:60]}" if self.value is not None else "")


@dataclass
class DuplicateKey:
    """An object written with its key ``repeated`` twice (what a Python dict cannot hold)."""

    obj: dict[str, Any]
    repeated: str


def dump(value: Any) -> str:
    """Serialise mutated data, writing :class:`Raw` and :class:`DuplicateKey` as they say."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, DuplicateKey):
        pairs = [*value.obj.items(), (value.repeated, value.obj[value.repeated])]
        return "{" + ",".join(f"{json.dumps(k)}:{dump(v)}" for k, v in pairs) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(item) for item in value) + "]"
    return json.dumps(value)


def value_at(data: Any, path: JsonPath) -> Any:
    for key in path:
        data = data[key]
    return data


def paths_of(data: Any, prefix: JsonPath = ()) -> list[JsonPath]:
    """Every value's path in ``data``, the root ``()`` first."""
    found = [prefix]
    if isinstance(data, dict):
        for key, item in data.items():
            found.extend(paths_of(item, (*prefix, key)))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found.extend(paths_of(item, (*prefix, index)))
    return found


def swapped(value: Any) -> Any:
    """``value`` as another JSON type, keeping what it holds where that is possible."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return {str(index): item for index, item in enumerate(value)}
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool | int | float):
        return str(value)
    return {}


@st.composite
def mutations(draw: st.DrawFn, data: Any) -> Mutation:
    """One random shape mutation of ``data``."""
    path = draw(st.sampled_from(paths_of(data)))
    target = value_at(data, path)
    actions = ["replace", "swap"] + (["delete"] if path else [])
    if isinstance(target, list) and target:
        actions += ["duplicate", "truncate"]
    if isinstance(target, dict) and target:
        actions.append("duplicate-key")
    action = draw(st.sampled_from(actions))
    if action == "replace":
        return Mutation(path, action, draw(st.sampled_from(HOSTILE_VALUES)))
    if action == "swap":
        return Mutation(path, action, swapped(target))
    if action in ("duplicate", "truncate"):
        return Mutation(path, action, draw(st.integers(0, len(target) - 1)))
    if action == "duplicate-key":
        return Mutation(path, action, draw(st.sampled_from(sorted(target))))
    return Mutation(path, action)


def load_fixture(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_bytes())


@dataclass
class Outcome:
    """What gate made of one input file alone: its findings, or why it gave no verdict."""

    findings: int | None = None
    refusal: GateError | None = None
    crash: BaseException | None = None


def normalise(path: Path) -> Outcome:
    """Read ``path`` as ``gate normalize`` does (detect, parse, merge, serialise).

    A crash is any exception that is no :class:`GateError`, and the GateError that
    ``read_fragment`` wraps around a source's unexpected exception (a bug it hides).
    """
    from gate.run import Settings, build_document, document_json

    try:
        document = build_document(Settings(inputs=[str(path)]), "prod")
        json.loads(document_json(document)[0])
    except GateError as exc:
        if "cannot normalise this" in exc.message:
            return Outcome(crash=exc)
        return Outcome(refusal=exc)
    except Exception as exc:  # what the property looks for
        return Outcome(crash=exc)
    return Outcome(findings=document.scans[0].finding_count)


def loses_findings(format_name: str, mutation: Mutation, before: Outcome, after: Outcome) -> bool:
    """Property (b): a mutation beside the findings changed how many were read, unrefused."""
    if before.findings is None or after.findings is None:
        return False
    if touches_findings(format_name, mutation.path):
        return False
    return after.findings != before.findings


def gate_exit(*arguments: str) -> tuple[int, str]:
    """Run ``gate`` in-process with ``arguments``; return its exit code and standard error."""
    from gate.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(arguments))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        else:
            code = 0
    return code, err.getvalue()


PASSING_PROD_SET = {
    "grype-json": "reports/grype/empty.json",
    "docker-inspect": "image/inspect.json",
    "syft-json": "scenarios/clean/sbom.syft.json",
    "in-toto": "provenance/slsa-v0.2-statement.json",
    "cosign-signature": "signatures/shop-api.cosign.json",
    "gate-verdict": "verdicts/shop-api-staging.dsse.json",
}
"""Inputs that pass ``gate check --stage prod --at`` :data:`PASSING_AT` unchanged (with
:data:`PASSING_ARGS`: the key that signed the image and its staging verdict)."""
PASSING_ARGS = ("--trust-key", str(FIXTURES / "keys" / "release.pub"))
PASSING_AT = "2024-10-14T12:00:00Z"

IMAGE_NAMES: dict[str, list[JsonPath]] = {
    # every place the scan or SBOM names the image it is about
    "grype-json": [
        ("source", "target", key)
        for key in ("userInput", "imageID", "manifestDigest", "tags", "repoDigests")
    ],
    "syft-json": [("source", key) for key in ("id", "name", "version")]
    + [
        ("source", "metadata", key)
        for key in ("userInput", "imageID", "manifestDigest", "tags", "repoDigests")
    ],
}
OTHER_IMAGE = {
    "userInput": "docker.io/library/nginx:1.25",
    "imageID": "sha256:" + "e" * 64,
    "manifestDigest": "sha256:" + "f" * 64,
    "tags": ["docker.io/library/nginx:1.25"],
    "repoDigests": ["docker.io/library/nginx@sha256:" + "f" * 64],
    "id": "f" * 64,
    "name": "docker.io/library/nginx",
    "version": "1.25",
}


@st.composite
def unnamings(draw: st.DrawFn, format_name: str, data: Any) -> list[Mutation]:
    """Mutations that leave a scan/SBOM naming no image, or another one, never the subject."""
    names = [path for path in IMAGE_NAMES[format_name] if _has(data, path)]
    how = draw(st.sampled_from(["delete", "null", "other", "mixed"]))
    found: list[Mutation] = []
    for path in names:
        choice = how if how != "mixed" else draw(st.sampled_from(["delete", "null", "other"]))
        if choice == "delete":
            found.append(Mutation(path, "delete"))
        elif choice == "null":
            found.append(Mutation(path, "replace", None))
        else:
            found.append(Mutation(path, "replace", OTHER_IMAGE[str(path[-1])]))
    return found


def _has(data: Any, path: JsonPath) -> bool:
    try:
        value_at(data, path)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def apply_all(data: Any, changes: list[Mutation]) -> Any:
    for change in changes:
        data = change.apply(data)
    return data
