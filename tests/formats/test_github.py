"""GitHub workflow commands: escaped as the actions toolkit does, within GitHub's limits; the
job summary is appended only when the runner names a file."""

from __future__ import annotations

import pytest
from ci_support import fixture_verdict, many_results

from gate.errors import GateError
from gate.formats.github import (
    ANNOTATIONS_PER_LEVEL,
    GithubFormatter,
    append_job_summary,
    command,
    escape_data,
    escape_property,
    job_summary,
)
from gate.formats.markdown import render_markdown


def unescape_property(text: str) -> str:
    """The runner's unescaping (ActionCommand.UnescapeProperty)."""
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, raw)
    return text


def test_escaping_is_the_toolkits():
    assert escape_data("100% done\r\nnext::x") == "100%25 done%0D%0Anext::x"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    # %0A written literally must not come back as a newline.
    assert unescape_property(escape_property("%0A")) == "%0A"


def test_a_hostile_message_title_and_file_stay_one_command():
    line = command(
        "error",
        "msg %0A with\n::warning::injected, and 50%",
        title="rule: title, with::colons",
        file="dir,x/a:b.json",
    )
    assert "\n" not in line and "\r" not in line
    head, _, message = line.partition("::")[2].partition("::")
    assert head == "error title=rule%3A title%2C with%3A%3Acolons,file=dir%2Cx/a%3Ab.json"
    assert message == "msg %250A with%0A::warning::injected, and 50%25"
    properties = dict(part.split("=", 1) for part in head.split(" ", 1)[1].split(","))
    assert unescape_property(properties["title"]) == "rule: title, with::colons"
    assert unescape_property(properties["file"]) == "dir,x/a:b.json"


def test_control_characters_do_not_reach_the_log():
    line = command("warning", "\x1b[2Jfake PASS\x07", title="\u202etitle")
    assert "\x1b" not in line and "\x07" not in line and "\u202e" not in line


def test_one_annotation_per_result_then_the_summary(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    lines = GithubFormatter().render(verdict).splitlines()
    shown = min(len(verdict.violations), ANNOTATIONS_PER_LEVEL)
    assert [line.split(" ")[0] for line in lines[:-1]] == (
        ["::error"] * shown
        + ["::warning"] * len(verdict.warnings)
        + ["::notice"] * len(verdict.waived)
    )
    first = verdict.violations[0]
    assert lines[0].startswith(f"::error title={first.id}%3A ")
    assert ",file=reports/trivy/v2-image.json::" in lines[0]
    assert lines[-1].startswith("::error title=gate fail::FAIL: ghcr.io/acme/shop-api:1.4.2")


def test_annotations_are_capped_per_level_and_the_rest_counted(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    extra = many_results(verdict, 25)
    verdict = verdict.model_copy(update={"violations": [*verdict.violations, *extra]})
    lines = GithubFormatter().render(verdict).splitlines()
    assert sum(line.startswith("::error title=") for line in lines[:-1]) == ANNOTATIONS_PER_LEVEL
    left_out = len(verdict.violations) - ANNOTATIONS_PER_LEVEL
    assert f"({left_out} error not annotated" in lines[-1]


def test_summary_level_follows_decision_and_advisory(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    advisory = verdict.model_copy(update={"advisory": True})
    assert (
        GithubFormatter()
        .render(advisory)
        .splitlines()[-1]
        .startswith("::warning title=gate fail::")
    )
    passed = verdict.model_copy(update={"violations": [], "decision": "pass"})
    assert (
        GithubFormatter().render(passed).splitlines()[-1].startswith("::notice title=gate pass::")
    )


def test_job_summary_is_appended_only_when_the_runner_names_a_file(gate_cli, monkeypatch, tmp_path):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    assert job_summary(verdict) == render_markdown(verdict)
    assert append_job_summary(verdict, env={}) is False
    assert append_job_summary(verdict, env={"GITHUB_STEP_SUMMARY": ""}) is False
    assert list(tmp_path.iterdir()) == []
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step output\n", encoding="utf-8")
    assert append_job_summary(verdict, env={"GITHUB_STEP_SUMMARY": str(summary)}) is True
    assert (
        summary.read_text(encoding="utf-8") == "earlier step output\n" + job_summary(verdict) + "\n"
    )


def test_a_summary_that_cannot_be_written_is_an_error(gate_cli, monkeypatch, tmp_path):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    with pytest.raises(GateError) as raised:
        append_job_summary(verdict, env={"GITHUB_STEP_SUMMARY": str(tmp_path / "no" / "file")})
    assert raised.value.where == str(tmp_path / "no" / "file")


def test_results_in_no_repository_file_are_annotated_without_a_file(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    image_wide = verdict.violations[0].model_copy(update={"inputs": ["registry://h/r:1", "/abs"]})
    line = GithubFormatter().render(verdict.model_copy(update={"violations": [image_wide]}))
    assert line.startswith(f"::error title={image_wide.id}%3A ")
    assert ",file=" not in line.splitlines()[0]


def test_render_writes_no_file(gate_cli, monkeypatch, tmp_path):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    summary = tmp_path / "step_summary.md"
    summary.write_text("", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    before = verdict.model_dump()
    assert GithubFormatter().render(verdict) == GithubFormatter().render(verdict)
    assert summary.read_text(encoding="utf-8") == ""
    assert verdict.model_dump() == before
