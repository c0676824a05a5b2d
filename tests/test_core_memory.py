"""The core holds each form of an input only as long as it needs it (issue 13), and gives
the same answers as before: the same bytes read, the same hash, the same errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gate.document import Document
from gate.errors import InputError
from gate.inputs import parse_json, read_at_most, read_input, read_json_input
from gate.run import Settings, document_json, normalize

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TRIVY = FIXTURES / "reports" / "trivy" / "v2-image.json"
AT = dt.datetime(2024, 10, 14, 12, tzinfo=dt.UTC)


class _Trickle(io.RawIOBase):
    """A stream that hands out a few bytes per read, as a pipe does."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.reads = data, step, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        chunk, self.data = self.data[: min(size, self.step)], self.data[min(size, self.step) :]
        return chunk


def test_read_at_most_reads_everything_in_chunks_and_stops_at_the_bound() -> None:
    data = bytes(range(256)) * 40
    trickle = _Trickle(data, 100)
    assert read_at_most(trickle, len(data) + 1) == data  # type: ignore[arg-type]
    assert trickle.reads > len(data) // 100
    assert read_at_most(_Trickle(data, 100), 1000) == data[:1000]  # type: ignore[arg-type]
    assert read_at_most(_Trickle(b"", 100), 10) == b""  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "content",
    [
        b'{"a": 1}',
        b'\xef\xbb\xbf{"a": [1, 2.5, "\\u00e9"]}\n',
        '{"a": "\u00e9"}'.encode("utf-16"),
    ],
)
def test_read_json_input_reads_hashes_and_parses_as_read_input_and_parse_json(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(content)
    source_file, data = read_json_input(str(path))
    expected_file, raw = read_input(str(path))
    assert source_file == expected_file
    assert source_file.sha256 == hashlib.sha256(content).hexdigest()
    assert data == parse_json(raw, str(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file: expected a JSON report"),
        (b" \n\t\r\n", "empty file: expected a JSON report"),
        (b"\xff\xff{}", "not UTF-8 text (byte 0): not a JSON report"),
        (b'{"a": 1, "a": 2}', "invalid JSON: duplicate key 'a'"),
        (b'{"a": [1, NaN]}', "invalid JSON: NaN is not a JSON number"),
        (b'{"a": 1e999}', "invalid JSON: number 1e999 is out of range"),
        (b'{"a": "\\ud800"}', "invalid JSON: a lone surrogate escape is no character"),
        (b'{"a": ["\\ud83d\\ude00", "\\uDC00"]}', "a[1]: invalid JSON: a lone surrogate"),
        (b'{"\\uD800": 1}', "invalid JSON: a lone surrogate escape is no character"),
        (b'{"a": }', "line 1 column 7: invalid JSON: Expecting value"),
    ],
)
def test_read_json_input_refuses_what_parse_json_refuses_naming_the_file(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(content)
    with pytest.raises(InputError) as raised:
        read_json_input(str(path))
    assert raised.value.where == str(path)
    assert message in raised.value.message
    with pytest.raises(InputError) as direct:
        parse_json(content, str(path))
    assert direct.value.message == raised.value.message


def test_read_json_input_keeps_the_size_bound(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b'{"a": "' + b"x" * 3000 + b'"}')
    with pytest.raises(InputError, match="larger than"):
        read_json_input(str(path), limit=2048)


@pytest.mark.parametrize(
    "inputs",
    [
        [TRIVY],
        [TRIVY, FIXTURES / "reports" / "grype" / "image.json", FIXTURES / "image" / "inspect.json"],
    ],
)
def test_the_engine_input_is_the_document_and_the_hash_covers_all_but_its_context(
    inputs: list[Path],
) -> None:
    document = normalize(Settings(inputs=[str(p) for p in inputs], stage="prod"))
    input_json, digest = document_json(document)
    assert input_json == document.model_dump_json()
    evidence = document.model_dump_json(exclude={"context"})
    stated = hashlib.sha256(f"{evidence}\n{document.context.stage}".encode()).hexdigest()
    assert digest == f"sha256:{stated}"
    assert json.loads(input_json)["context"] == document.context.model_dump()


class _EngineSpy:
    """Wraps the real engine; notes whether the run's document is still alive when the
    engine is asked to evaluate (it forks: its child starts with what the parent holds)."""

    def __init__(self, engine: Any, document: Callable[[], object]) -> None:
        self.engine, self.document, self.document_alive = engine, document, None
        self.name = engine.name

    def version(self) -> str:
        return str(self.engine.version())

    def evaluate(self, *args: Any, **kwargs: Any) -> Any:
        self.document_alive = self.document() is not None
        return self.engine.evaluate(*args, **kwargs)


@pytest.mark.parametrize("explain", [False, True])
def test_the_document_is_released_before_the_engine_forks_unless_explained(
    monkeypatch: pytest.MonkeyPatch, explain: bool
) -> None:
    import gate.run

    built: list[weakref.ref[Document]] = []
    spies: list[_EngineSpy] = []
    real_build, real_engine = gate.run.build_document, gate.run.make_engine

    def build(settings: Settings, stage: str) -> Document:
        document = real_build(settings, stage)
        built.append(weakref.ref(document))
        return document

    def make_engine(*args: Any, **kwargs: Any) -> _EngineSpy:
        spies.append(_EngineSpy(real_engine(*args, **kwargs), built[0]))
        return spies[0]

    monkeypatch.setattr(gate.run, "build_document", build)
    monkeypatch.setattr(gate.run, "make_engine", make_engine)
    settings = Settings(inputs=[str(TRIVY)], stage="prod", at=AT, explain=explain)
    verdict = gate.run.evaluate(settings)
    assert spies[0].document_alive is explain
    # located and counted from what was kept of the document
    vulnerabilities = [
        r for r in verdict.violations if (r.finding or {}).get("kind") == "vulnerability"
    ]
    assert vulnerabilities and all(r.inputs == [str(TRIVY)] for r in vulnerabilities)
    assert sum(verdict.counts.vulnerabilities.values()) > 0
    assert verdict.input.files[0]["path"] == str(TRIVY)
    monkeypatch.undo()
    assert verdict == gate.run.evaluate(settings)


def _sample_with(*vulnerabilities: dict[str, Any]) -> Document:
    sample = json.loads((FIXTURES / "documents" / "sample.json").read_text())
    template = sample["vulnerabilities"][0]
    sample["vulnerabilities"] = [
        {**template, **v, "package": {**template["package"], **v["package"]}}
        for v in vulnerabilities
    ]
    return Document.model_validate(sample)


def _source(tool: str, path: str) -> dict[str, str]:
    return {"tool": tool, "input": path, "severity": "high"}


def test_locations_name_a_version_s_inputs_or_every_version_s_in_first_seen_order() -> None:
    from gate.locations import Locations

    locations = Locations(
        _sample_with(
            {"id": "CVE-1", "package": {"version": "1"}, "sources": [_source("trivy", "a")]},
            {
                "id": "CVE-1",
                "package": {"version": "2"},
                "sources": [_source("grype", "b"), _source("trivy", "a")],
            },
            # two tools in one input: listed twice, as the verdict always listed it
            {
                "id": "CVE-2",
                "package": {"version": "1"},
                "sources": [_source("trivy", "c"), _source("sarif", "c")],
            },
        )
    )
    vulnerability = {"kind": "vulnerability", "id": "CVE-1", "package": "openssl"}
    assert locations.of({**vulnerability, "version": "2"}) == ["b", "a"]
    assert locations.of({**vulnerability, "version": "9"}) == ["a", "b"]
    assert locations.of(vulnerability) == ["a", "b"]
    assert locations.of({**vulnerability, "id": "CVE-2", "version": "1"}) == ["c", "c"]
    assert locations.of({**vulnerability, "id": "CVE-3"}) == []
    assert locations.of({"kind": "scan", "id": "reports/grype.json"}) == ["reports/grype.json"]
    assert locations.of({}) == []
