"""Hostile files: no input, waivers, data or policy file can crash gate, exhaust it or be read
two ways (issue 7 §5).

Every case goes through the real entry point and must end in exit 3 with one ``error:``
line naming the file and the place, never a traceback or "internal error". The YAML bombs
run in a child process under a memory limit, so that a regression fails the test instead
of taking the machine down.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import fixture

from gate.inputs import MAX_YAML_ALIAS_NODES, parse_json, parse_structured
from gate.policy import PolicyModule, parse_metadata

IMAGE = ("image/inspect.json",)
MEMORY_LIMIT = 1024 * 1024 * 1024
"""The child's address space: a billion-laughs expansion needs 4-5 GB."""

RULE_TEMPLATE = """\
package gate.hostile

import rego.v1

# METADATA
{block}
deny contains result if {{
\tfalse
\tresult := {{"msg": "never"}}
}}
"""


def metadata_rule(yaml_lines: list[str]) -> str:
    """A rule module whose ``# METADATA`` block (line 5) holds ``yaml_lines`` from line 6."""
    return RULE_TEMPLATE.format(block="\n".join(f"# {line}" for line in yaml_lines))


RULE = metadata_rule(["title: always quiet", "custom:", "  id: hostile-quiet", "  severity: low"])


def billion_laughs(key: str, levels: int = 9) -> str:
    """A few hundred bytes of YAML whose aliases expand to 9**levels strings under ``key``."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return "\n".join(lines) + f"\n{key}: *l{levels}\n"


def policy_dir(tmp_path: Path, rego: str = RULE, data_yaml: str | None = None) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "hostile.rego").write_text(rego)
    if data_yaml is not None:
        (folder / "data.yaml").write_text(data_yaml)
    return folder


def file_kinds(tmp_path: Path, text: str, kind: str) -> tuple[list[str], str]:
    """``gate check`` arguments putting ``text`` where ``kind`` is read, and its path shown."""
    inputs = [str(fixture(relative)) for relative in IMAGE]
    if kind == "waivers":
        path = tmp_path / "waivers.yaml"
        path.write_text(text)
        return [*inputs, "--waivers", str(path)], str(path)
    if kind == "data":
        path = tmp_path / "org.yaml"
        path.write_text(text)
        return [*inputs, "--data", str(path)], str(path)
    if kind == "policy-data":
        folder = policy_dir(tmp_path, data_yaml=text)
        return [*inputs, "--policy", str(folder)], str(folder / "data.yaml")
    assert kind == "metadata"
    folder = policy_dir(tmp_path, rego=metadata_rule(text.splitlines()))
    return [*inputs, "--policy", str(folder)], str(folder / "hostile.rego")


FILE_KINDS = ["waivers", "data", "policy-data", "metadata"]


def run_limited(*arguments: str) -> subprocess.CompletedProcess[str]:
    """``gate`` in a child process whose address space is capped at :data:`MEMORY_LIMIT`."""
    program = textwrap.dedent(
        f"""\
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))
        from gate.cli import main
        main(sys.argv[1:])
        """
    )
    return subprocess.run(
        [sys.executable, "-c", program, "check", *arguments, "--stage", "prod"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_refused(code: int, err: str, path: str, *words: str) -> None:
    assert code == 3, err
    assert err.startswith(f"error: {path}"), err
    assert "Traceback" not in err and "internal error" not in err
    for word in words:
        assert word in err


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_a_yaml_bomb_is_refused_quickly_in_bounded_memory(tmp_path: Path, kind: str) -> None:
    key = {"waivers": "waivers", "metadata": "custom"}.get(kind, "org")
    arguments, path = file_kinds(tmp_path, billion_laughs(key), kind)
    done = run_limited(*arguments)
    # the place is the anchor that expands most: l9, the tenth line of the YAML
    place = ".rego:15: METADATA block" if kind == "metadata" else ": line 10 column 5:"
    assert_refused(done.returncode, done.stderr, path, "aliases expand", place)


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_a_self_referring_alias_is_refused(gate_cli, tmp_path: Path, kind: str) -> None:
    # our own case: not a bomb but a cycle, which every walk of the value would loop on
    key = {"waivers": "waivers", "metadata": "custom"}.get(kind, "org")
    arguments, path = file_kinds(tmp_path, f"{key}: &loop [1, *loop]\n", kind)
    result = gate_cli("check", *arguments, "--stage", "prod")
    assert_refused(result.code, result.err, path, "alias refers to the node that holds it")


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_a_duplicate_yaml_key_is_refused_with_its_line(gate_cli, tmp_path: Path, kind: str) -> None:
    text = {
        "waivers": "waivers:\n  - rule: image-root-user\n    rule: vuln-fixable-critical\n",
        "metadata": "title: t\ncustom:\n  id: hostile-quiet\n  id: other-id\n",
    }.get(kind, "gate_config:\n  stage_order: [dev]\ngate_config: {}\n")
    arguments, path = file_kinds(tmp_path, text, kind)
    result = gate_cli("check", *arguments, "--stage", "prod")
    assert_refused(result.code, result.err, path, "duplicate key")
    if kind == "metadata":  # the METADATA block's line counts from the module's first line
        assert f"{path}:9: METADATA block is not valid YAML: duplicate key 'id'" in result.err
    else:
        assert "line 3 column 1" in result.err or "line 3 column 5" in result.err


def test_aliases_that_stay_small_are_still_read() -> None:
    # the happy side of the bound: a shared block reused a few times is ordinary YAML
    text = "base: &base {owner: sec, reason: r}\nwaivers:\n  - *base\n  - <<: *base\n    owner: x\n"
    loaded = parse_structured(text, as_yaml=True)
    assert loaded["waivers"] == [{"owner": "sec", "reason": "r"}, {"owner": "x", "reason": "r"}]


def test_the_alias_bound_counts_expansion_not_file_size() -> None:
    # two levels repeat about 1,600 nodes and pass; four repeat about 130,000 and do not
    assert MAX_YAML_ALIAS_NODES == 10_000
    assert parse_structured(billion_laughs("org", levels=2), as_yaml=True)["org"][8][8][8] == "lol"
    with pytest.raises(ValueError, match="aliases expand"):
        parse_structured(billion_laughs("org", levels=4), as_yaml=True)


def test_yaml_nested_past_the_limit_is_refused() -> None:
    deep = "a: " + "[" * 300 + "]" * 300 + "\n"
    with pytest.raises(ValueError, match="nested more than 200 levels"):
        parse_structured(deep, as_yaml=True)


def test_metadata_duplicate_key_is_a_policy_error_naming_the_line() -> None:
    module = PolicyModule("p.rego", metadata_rule(["custom:", "  id: a", "  id: b"]))
    with pytest.raises(Exception, match=r"p\.rego:8.*duplicate key 'id'"):
        parse_metadata(module)


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("waivers.json", '{"waivers": [], "waivers": [{}]}', ["duplicate key 'waivers'"]),
        ("org.json", '{"gate_config": {"a": 1, "a": 2}}', ["gate_config", "duplicate key 'a'"]),
    ],
)
def test_a_duplicate_json_key_in_waivers_or_data_is_refused(
    gate_cli, tmp_path: Path, name: str, text: str, words: list[str]
) -> None:
    path = tmp_path / name
    path.write_text(text)
    option = "--waivers" if name.startswith("waivers") else "--data"
    result = gate_cli("check", fixture(IMAGE[0]), option, path)
    assert_refused(result.code, result.err, str(path), *words)


TRIVY = {
    "SchemaVersion": 2,
    "ArtifactName": "ghcr.io/acme/shop-api:1.4.2",
    "ArtifactType": "container_image",
    "Results": [],
}


def trivy_text(results: str) -> str:
    return json.dumps(TRIVY).replace('"Results": []', f'"Results": {results}')


HOSTILE_REPORTS = {
    # the shapes the issue names
    "unhashable kind": (
        '{"kind": [], "apiVersion": "aquasecurity.github.io/v1alpha1", "report": {}}',
        ["not a recognised report"],
    ),
    "huge integer": (
        trivy_text(
            '[{"Target": "x", "Class": "os-pkgs", "Vulnerabilities": [' + "9" * 5000 + "]}]"
        ),
        ["Results[0].Vulnerabilities[0]", "number of 5000 digits is too long"],
    ),
    "out-of-range float": (
        trivy_text('[{"Target": "x", "Vulnerabilities": [{"CVSS": {"nvd": {"V3Score": 1e400}}}]}]'),
        ["Results[0].Vulnerabilities[0].CVSS.nvd.V3Score", "1e400 is out of range"],
    ),
    "NaN": (trivy_text('[{"Target": NaN}]'), ["Results[0].Target", "NaN is not a JSON number"]),
    "Infinity": ('{"matches": [], "source": -Infinity}', ["source: invalid JSON", "-Infinity"]),
    "deep nesting": ("[" * 100_000 + "]" * 100_000, ["nested too deeply"]),
    "a top-level string": ('"trivy"', ["not a recognised report"]),
    "a top-level number": ("12", ["not a recognised report"]),
    "a string where a list belongs": (trivy_text('"oops"'), ["Results", "expected an array"]),
    "duplicate key": (
        trivy_text('[{"Target": "a", "Target": "b"}]'),
        ["Results[0]: invalid JSON: duplicate key 'Target'"],
    ),
    # our own
    "lone surrogate": (trivy_text('[{"Target": "\\ud800"}]'), ["Results[0].Target", "surrogate"]),
    "duplicate key at the top": (
        '{"bomFormat": "CycloneDX", "specVersion": "1.5", "bomFormat": "SPDX"}',
        ["invalid JSON: duplicate key 'bomFormat'"],
    ),
    "unhashable list kind": (
        '{"kind": [], "items": [], "apiVersion": "v1"}',
        ["not a recognised report"],
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_REPORTS))
def test_a_hostile_report_is_refused_naming_the_place(gate_cli, tmp_path: Path, case: str) -> None:
    text, words = HOSTILE_REPORTS[case]
    path = tmp_path / "report.json"
    path.write_text(text)
    result = gate_cli("normalize", path)
    assert_refused(result.code, result.err, str(path), *words)


def test_surrogate_pairs_written_as_escapes_are_text() -> None:
    # the happy side of the lone-surrogate guard: Python's json.dumps writes emoji so
    assert parse_json(b'{"title": "\\ud83d\\ude00"}', "x.json") == {"title": "\U0001f600"}


@pytest.mark.parametrize(
    "relative", ["reports/trivy/v2-image.json", "reports/sarif/dockle.sarif.json"]
)
def test_strict_json_reads_valid_reports_as_json_does(relative: str) -> None:
    raw = fixture(relative).read_bytes()
    assert parse_json(raw, relative) == json.loads(raw)


@pytest.mark.parametrize(
    "module",
    [
        "package gate.empty\n",
        "package gate.empty\n\nimport rego.v1\nimport data.lib\n",
        "package gate.empty\n# only a comment\n",
        "package gate.empty\n\nallow := true\n",
    ],
    ids=["package only", "only imports", "only comments", "no deny or warn"],
)
def test_policy_lint_of_a_module_without_rules_does_not_crash(
    gate_cli, tmp_path: Path, module: str
) -> None:
    path = tmp_path / "empty.rego"
    path.write_text(module)
    result = gate_cli("policy", "lint", path)
    assert result.code in (0, 1), result.err
    assert "internal error" not in result.err and "Traceback" not in result.err
    assert "1 file linted" in result.out + result.err


@pytest.mark.parametrize(
    "module", ["", "# METADATA\n# just a comment\n"], ids=["empty", "comments"]
)
def test_policy_lint_of_a_file_without_package_is_a_finding(
    gate_cli, tmp_path: Path, module: str
) -> None:
    path = tmp_path / "empty.rego"
    path.write_text(module)
    result = gate_cli("policy", "lint", path)
    assert result.code == 1, result.err
    assert "Missing package declaration" in result.out + result.err


@pytest.mark.parametrize("kind", FILE_KINDS)
@pytest.mark.parametrize(
    ("value", "words"),
    [("9" * 5000, "number of 5000 digits is too long"), (".nan", ".nan is not a JSON number")],
    ids=["huge integer", "NaN"],
)
def test_a_yaml_number_json_cannot_hold_is_refused_with_its_line(
    gate_cli, tmp_path: Path, kind: str, value: str, words: str
) -> None:
    # our own: YAML reads these as Python numbers that neither the engine's JSON nor
    # Python's int-to-text conversion takes (the METADATA case was an internal error)
    key = {"waivers": "waivers", "metadata": "custom"}.get(kind, "org")
    arguments, path = file_kinds(tmp_path, f"{key}:\n  n: {value}\n", kind)
    result = gate_cli("check", *arguments, "--stage", "prod")
    place = ".rego:7: METADATA block" if kind == "metadata" else ": line 2 column 6:"
    assert_refused(result.code, result.err, path, words, place)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("org: !!set {a, b}\n", "line 1 column 6: YAML set has no JSON form"),
        ("org: !!binary aGVsbG8=\n", "line 1 column 6: YAML binary has no JSON form"),
        ("1: a\n", "line 1 column 1: key '1' is not a string"),
        ("org:\n  true: a\n", "line 2 column 3: key 'true' is not a string"),
    ],
    ids=["set", "binary", "integer key", "boolean key"],
)
def test_yaml_data_without_a_json_form_is_refused(
    gate_cli, tmp_path: Path, text: str, words: str
) -> None:
    # our own: these reached the engine's JSON encoder, an error far from the file
    arguments, path = file_kinds(tmp_path, text, "data")
    result = gate_cli("check", *arguments, "--stage", "prod")
    assert_refused(result.code, result.err, path, words)


def test_an_unquoted_yaml_date_in_data_reads_as_its_text() -> None:
    loaded = parse_structured(
        "org:\n  since: 2026-01-01\n  at: 2026-01-01 10:00:00\n", as_yaml=True
    )
    assert loaded == {"org": {"since": "2026-01-01", "at": "2026-01-01T10:00:00Z"}}
