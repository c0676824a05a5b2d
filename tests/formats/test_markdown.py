"""The PR/MR comment: inert text from inputs, every section, under GitHub's comment limit."""

from __future__ import annotations

import re

from ci_support import big_verdict, check_args, fixture_verdict
from conftest import FIXTURES

from gate.formats.markdown import BUDGET, COMMENT_LIMIT, MarkdownFormatter, cell
from gate.verdict import BaselineInfo


def render(verdict) -> str:
    return MarkdownFormatter().render(verdict)


def test_heading_counts_and_tables(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    text = render(verdict)
    assert text.startswith("## gate: **FAIL** — ghcr.io/acme/shop-api:1.4.2 at stage prod\n")
    assert f"**{len(verdict.violations)}** violations" in text
    assert f"### Violations ({len(verdict.violations)})" in text
    assert f"<details><summary>Warnings ({len(verdict.warnings)})</summary>" in text
    assert f"<details><summary>Waived ({len(verdict.waived)})</summary>" in text
    assert verdict.waived[0].waiver.reason in text
    assert "Advisory" not in text and "Baseline" not in text


def test_cells_are_inert():
    hostile = "a | b\nnew row <img src=x onerror=alert(1)> @admin [x](http://evil) ![i](y) `c` *b*"
    shown = cell(hostile)
    assert "\n" not in shown and "<img" not in shown and "@admin" not in shown
    assert re.search(r"(?<!\\)\|", shown) is None  # every | escaped
    assert "\\[x\\](http://evil)" in shown and "\\`c\\`" in shown and "\\*b\\*" in shown
    assert len(cell("x" * 10_000)) <= 600


def test_hostile_message_cannot_break_the_table(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    hostile = verdict.violations[0].model_copy(update={"msg": "x | y\n| forged | row |\x1b[2J"})
    text = render(verdict.model_copy(update={"violations": [hostile]}))
    rows = [line for line in text.splitlines() if line.startswith("| ") and "forged" in line]
    assert len(rows) == 1
    assert "\x1b" not in text


def test_advisory_and_baseline(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    baseline = BaselineInfo(
        file="prod-verdict.json",
        stage="prod",
        evaluated_at="2024-10-01T00:00:00Z",
        block_existing=False,
    )
    marked = [v.model_copy(update={"baseline": "existing"}) for v in verdict.violations]
    counts = verdict.counts.model_copy(update={"new": 0, "existing": len(marked)})
    verdict = verdict.model_copy(
        update={"advisory": True, "baseline": baseline, "violations": marked, "counts": counts}
    )
    text = render(verdict)
    assert "**Advisory run:**" in text
    assert "violations it already had do not block" in text
    assert f"**0** new, **{len(marked)}** existing" in text
    assert "| Rule | Title | Severity | Finding | Reason | Baseline |" in text
    assert text.count(" | existing |") == len(marked)


def test_ten_thousand_findings_stay_under_the_comment_limit(tmp_path):
    verdict = big_verdict(tmp_path, 10_000)
    text = render(verdict)
    assert len(text) <= BUDGET < COMMENT_LIMIT
    more = re.search(r"… (\d+) more \(see the JSON verdict\)", text)
    assert more is not None
    shown = text.split("### Violations")[1].split("\n\n… ")[0].count("\n| ") - 1
    assert shown + int(more.group(1)) == len(verdict.violations)
    assert text.rstrip().endswith("</sub>")  # the footer survives the cut


def test_render_is_deterministic_and_pure(gate_cli, monkeypatch):
    verdict = fixture_verdict(gate_cli, monkeypatch)
    before = verdict.model_dump()
    assert render(verdict) == render(verdict)
    assert verdict.model_dump() == before


def test_output_extension_picks_markdown(gate_cli, monkeypatch, tmp_path):
    monkeypatch.chdir(FIXTURES)
    target = tmp_path / "comment.md"
    written = gate_cli(*check_args("-o", str(target)))
    printed = gate_cli(*check_args("-f", "markdown"))
    assert written.code == printed.code == 1
    assert target.read_text() == printed.out
