"""The core seams the server uses (gate/run.py): in-memory inputs, a preloaded bundle,
phases, a waivers document, and the format named on input errors."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from gate.errors import InputError, PolicyError, UsageError, WaiverError
from gate.formats import FORMATS
from gate.run import Phases, Settings, evaluate, load_policies
from server.support import AT, EMPTY, TRIVY


def at() -> object:
    from gate.server.requests import parse_at

    return parse_at(AT)


def in_memory(**contents: bytes) -> Settings:
    return Settings(inputs=list(contents), contents=contents, stage="dev", at=at())  # type: ignore[arg-type]


def test_an_in_memory_input_gives_the_verdict_of_the_same_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(TRIVY, tmp_path / TRIVY.name)
    from_file = evaluate(Settings(inputs=[TRIVY.name], stage="dev", at=at()))  # type: ignore[arg-type]
    (tmp_path / TRIVY.name).unlink()
    from_memory = evaluate(in_memory(**{TRIVY.name: TRIVY.read_bytes()}))
    assert FORMATS["json"].render(from_memory) == FORMATS["json"].render(from_file)


def test_an_in_memory_input_is_never_opened_even_when_a_file_has_its_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(TRIVY, tmp_path / "report.json")
    verdict = evaluate(in_memory(**{"report.json": EMPTY.read_bytes()}))
    (given,) = verdict.input.files
    assert given["sha256"] == hashlib.sha256(EMPTY.read_bytes()).hexdigest()
    assert verdict.decision == "pass"


@pytest.mark.parametrize("name", ["-", "registry://127.0.0.1:1/never/contacted:1", "../../x"])
def test_names_that_would_mean_stdin_a_registry_or_a_path_are_read_from_memory(name):
    verdict = evaluate(in_memory(**{name: EMPTY.read_bytes()}))
    assert [f["path"] for f in verdict.input.files] == [name]


def test_an_in_memory_input_is_bounded_like_a_file(monkeypatch):
    monkeypatch.setattr("gate.run.MAX_INPUT_BYTES", 10)
    with pytest.raises(InputError, match="limit"):
        evaluate(in_memory(**{"big.json": EMPTY.read_bytes()}))


def test_a_preloaded_bundle_is_used_without_loading_policies():
    bundle = load_policies(Settings(inputs=[]))
    settings = in_memory(**{"e.json": EMPTY.read_bytes()})
    settings.policies = ["/nonexistent/policies"]  # would be a usage error if loaded
    assert evaluate(settings, bundle=bundle).policy.digest == bundle.digest
    with pytest.raises(UsageError):
        evaluate(settings)


def test_phases_are_measured_for_verdicts_and_for_failures():
    phases = Phases()
    evaluate(in_memory(**{"t.json": TRIVY.read_bytes()}), phases=phases)
    assert 0 < phases.normalise < phases.total and 0 < phases.evaluate < phases.total
    assert set(phases.as_dict()) == {"normalise", "evaluate", "total"}
    failed = Phases()
    with pytest.raises(InputError):
        evaluate(in_memory(**{"bad.json": b"{"}), phases=failed)
    assert failed.total > 0 and failed.evaluate == 0


@pytest.mark.parametrize(
    ("raw", "forced", "expected"),
    [
        (b"{", None, None),
        (b'{"hello": 1}', None, None),
        (b"{", "trivy-json", "trivy-json"),
        (b'{"Results": "not a list", "SchemaVersion": 2}', None, "trivy-json"),
        (EMPTY.read_bytes(), "trivy-json", "trivy-json"),
    ],
)
def test_input_errors_name_the_forced_or_detected_format(raw, forced, expected):
    settings = in_memory(**{"r.json": raw})
    if forced:
        settings.types = {"r.json": forced}
    with pytest.raises(InputError) as caught:
        evaluate(settings)
    assert caught.value.input_format == expected


def test_a_waivers_document_is_validated_like_a_file_and_named_request():
    settings = in_memory(**{"t.json": TRIVY.read_bytes()})
    settings.waivers_document = {
        "waivers": [
            {"vulnerability": "CVE-2024-5535", "reason": "r", "owner": "o", "expires": "2030-01-01"}
        ]
    }
    assert [r.finding["id"] for r in evaluate(settings).waived] == ["CVE-2024-5535"]  # type: ignore[index]
    settings.waivers_document = {"waivers": [{"vulnerability": "CVE-1", "owner": "o"}]}
    with pytest.raises(WaiverError) as caught:
        evaluate(settings)
    assert caught.value.where == "request: waivers[0]"
    settings.waivers_document = {"waivers": [{"rule": "x", "reason": "r", "owner": "TODO"}]}
    with pytest.raises(WaiverError):
        evaluate(settings)


def test_a_waivers_file_still_wins_and_reads_as_before(tmp_path):
    waivers = tmp_path / "w.yaml"
    waivers.write_text(
        "waivers:\n  - rule: x\n    reason: r\n    owner: o\n    expires: 2030-01-01\n"
    )
    settings = in_memory(**{"t.json": TRIVY.read_bytes()})
    settings.waivers = str(waivers)
    settings.waivers_document = {"waivers": "not even a list"}
    assert evaluate(settings).waiver_problems[0].kind == "unused"
    waivers.write_text("")
    with pytest.raises(WaiverError, match="empty waivers file"):
        evaluate(settings)


def test_a_broken_preloaded_policy_is_still_a_policy_error(tmp_path):
    from gate.policy import PolicyBundle, PolicyModule

    broken = PolicyBundle(
        modules=(PolicyModule("broken.rego", "package gate\nnot rego {"),),
        data={},
        files=(("broken.rego", "0" * 64),),
    )
    with pytest.raises(PolicyError):
        evaluate(in_memory(**{"e.json": EMPTY.read_bytes()}), bundle=broken)
