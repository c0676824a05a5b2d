"""docs/writing-policies.md: its worked examples compile and pass their tests, and stay in the
guide verbatim; every other Rego snippet in the guide compiles (and its tests pass)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import regorus
from conftest import ROOT, fixture
from tests_support import run_rego_tests

from gate.catalog import build_catalog
from gate.document import Document
from gate.engines.regorus import first_value
from gate.policy import load_bundle

DOCS = ROOT / "docs"
GUIDE = DOCS / "writing-policies.md"
EXAMPLES = DOCS / "examples"
TEMPLATE_POLICIES = ROOT / "gate" / "templates" / "init" / "policies"
LIB = TEMPLATE_POLICIES / "lib"
EXAMPLE_NAMES = ["approved-registries", "base-support-window", "critical-fix-sla"]
EXAMPLE_RULES = {
    "approved-registries": "org-registry-unapproved",
    "base-support-window": "org-base-support-window",
    "critical-fix-sla": "org-critical-fix-sla",
}
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>\w+)\n(?P<body>.*?)^(?P=indent)```$", re.M | re.S)


def _guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    """The guide's fenced blocks in ``lang``, with a list item's indentation removed."""
    found = []
    for match in FENCE.finditer(_guide()):
        if match["lang"] == lang:
            indent = len(match["indent"])
            lines = match["body"].splitlines(keepends=True)
            found.append("".join(line[indent:] if line.strip() else line for line in lines))
    return found


def _tested_rego() -> list[str]:
    """Texts of the Rego files the test suite runs: the examples and the scaffold."""
    paths = [*EXAMPLES.rglob("*.rego"), *TEMPLATE_POLICIES.rglob("*.rego")]
    return [path.read_text(encoding="utf-8") for path in paths]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_compiles_and_its_tests_pass(name):
    example = EXAMPLES / name
    run = run_rego_tests(example, LIB)
    ours = {k: v for k, v in run.results.items() if k.startswith("gate.org.")}
    assert len(ours) >= 7, ours
    assert run.failures == {}
    rule_file = next(p for p in example.glob("*.rego") if not p.name.endswith("_test.rego"))
    assert str(rule_file) not in run.not_covered, run.not_covered


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("approved-registries", "not allowed(_location)", "allowed(_location)"),
        ("base-support-window", "age > window.days", "age >= window.days"),
        ("base-support-window", "count(matching) > 0", "count(matching) > 9"),
        ("critical-fix-sla", "not vex_clears(v)", "true"),
        ("critical-fix-sla", 'lib.setting("critical_fix_days", 30)', "30"),
    ],
    ids=["registry-inverted", "window-off-by-one", "table-ignored", "vex-ignored", "no-stages"],
)
def test_example_tests_catch_a_broken_rule(tmp_path, name, old, new):
    copy = tmp_path / name
    copy.mkdir()
    for path in (EXAMPLES / name).iterdir():
        text = path.read_text(encoding="utf-8")
        if not path.name.endswith("_test.rego"):
            text = text.replace(old, new)
        (copy / path.name).write_text(text, encoding="utf-8")
    assert old not in "".join(p.read_text() for p in copy.glob("*.rego") if "_test" not in p.name)
    assert run_rego_tests(copy, LIB).failures != {}


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_files_are_in_the_guide_verbatim(name):
    guide = _guide()
    files = sorted((EXAMPLES / name).iterdir())
    assert [p.suffix for p in files].count(".rego") == 2
    for path in files:
        lang = "json" if path.suffix == ".json" else "rego"
        block = f"```{lang}\n{path.read_text(encoding='utf-8')}```"
        assert block in guide, f"{path.relative_to(ROOT)} is not in the guide as it is"


def test_the_registry_example_is_the_scaffold_rule():
    for name in ("registry_allowed.rego", "registry_allowed_test.rego"):
        example = (EXAMPLES / "approved-registries" / name).read_text(encoding="utf-8")
        assert example == (TEMPLATE_POLICIES / "org" / name).read_text(encoding="utf-8"), name


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_data_sets_the_rule_in_every_stage(name):
    catalog = build_catalog(load_bundle([LIB, EXAMPLES / name]), [name])
    (entry,) = [e for e in catalog.rules if e.info.id == EXAMPLE_RULES[name]]
    assert catalog.stages == ["dev", "staging", "prod"]
    assert entry.unset_stages == []


def test_every_rego_snippet_compiles_and_its_tests_pass(tmp_path):
    tested = _tested_rego()
    standalone = []
    for index, block in enumerate(_blocks("rego")):
        if any(block in text for text in tested):
            continue  # an excerpt of a file the suite compiles and tests
        assert re.match(r"(#.*\n)*package ", block), (
            f"snippet {index} is neither an excerpt of a tested file nor a whole module:\n{block}"
        )
        directory = tmp_path / f"snippet{index}"
        directory.mkdir()
        name = "snippet_test.rego" if "test_" in block else "snippet.rego"
        (directory / name).write_text(block, encoding="utf-8")
        run = run_rego_tests(directory, LIB)
        assert run.failures == {}, (index, run.failures)
        standalone.append(block)
    # The guide's own modules: the smallest rule and the mocking caveat.
    assert len(standalone) == 2
    assert len(_blocks("rego")) >= 12


def test_every_excerpt_is_a_whole_number_of_lines():
    tested = _tested_rego()
    for block in _blocks("rego"):
        for text in tested:
            if block in text:
                assert text.startswith(block) or f"\n{block}" in text
                break


def test_the_smallest_rule_reports_a_missing_label():
    module = next(b for b in _blocks("rego") if "package gate.org.source_label" in b)
    engine = regorus.Engine()
    engine.add_policy("source_label.rego", module)
    cases: list[tuple[dict[str, Any], int]] = [
        ({"image": {"user": "app", "labels": {}}}, 1),
        ({"image": {"user": "app", "labels": {"org.opencontainers.image.source": " "}}}, 1),
        ({"image": {"user": "app", "labels": {"org.opencontainers.image.source": "x"}}}, 0),
        ({"image": {"user": None, "labels": {}}}, 0),
    ]
    for document, expected in cases:
        engine.set_input_json(json.dumps(document))
        found = first_value(engine.eval_query_as_json("count(data.gate.org.source_label.deny)"))
        assert found == expected, document


def test_every_json_snippet_parses():
    blocks = _blocks("json")
    assert len(blocks) >= 12
    for block in blocks:
        text = block.strip()
        json.loads(text if text.startswith(("{", "[")) else "{" + text + "}")


def test_the_guide_shows_every_document_section():
    guide = _guide()
    for name in Document.model_fields:
        if name != "schema_version":
            assert re.search(rf"^### `{name}(\[\])?`", guide, re.M), name


def test_relative_links_resolve():
    links = re.findall(r"\]\(((?!https?:|#)[^)#]+)(?:#[^)]*)?\)", _guide())
    assert links
    for link in links:
        assert (DOCS / link).exists(), link


def _check(gate_cli, name: str, at: str, *inputs: Path) -> dict[str, Any]:
    result = gate_cli(
        "check", *inputs, "--policy", LIB, "--policy", EXAMPLES / name,
        "--at", at, "-f", "json", "-q",
    )  # fmt: skip
    assert result.code in (0, 1), result.err
    verdict: dict[str, Any] = json.loads(result.out)
    return verdict


IMAGE = (fixture("reports/trivy/v2-image.json"), fixture("image/inspect.json"))
VEX = fixture("vex/openvex-0.2.0-shop-api.json")


def test_base_window_example_on_a_real_document(gate_cli):
    verdict = _check(gate_cli, "base-support-window", "2026-08-01T00:00:00Z", *IMAGE)
    assert [v["msg"] for v in verdict["violations"]] == [
        "image was built 657 days ago (2024-10-12T18:03:11.508362Z); images on "
        "docker.io/library/debian:12.5-slim must be rebuilt within 60 days"
    ]


def test_critical_sla_example_on_a_real_document(gate_cli):
    after = _check(gate_cli, "critical-fix-sla", "2026-08-01T00:00:00Z", *IMAGE, VEX)
    before = _check(gate_cli, "critical-fix-sla", "2026-03-01T00:00:00Z", *IMAGE, VEX)
    without_vex = _check(gate_cli, "critical-fix-sla", "2026-08-01T00:00:00Z", *IMAGE)
    blocked = {v["finding"]["id"] for v in after["violations"]}
    assert blocked and "CVE-2023-45853" not in blocked  # VEX: not_affected, with a reason
    assert "CVE-2023-45853" in {v["finding"]["id"] for v in without_vex["violations"]}
    assert before["violations"] == []  # effective_from 2026-07-01: announced, not blocking
    assert {w["finding"]["id"] for w in before["warnings"]} == blocked
    assert all(w["msg"].endswith("(becomes blocking on 2026-07-01)") for w in before["warnings"])
