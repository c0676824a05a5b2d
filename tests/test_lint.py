"""`gate policy lint`: each check on a small broken policy tree, the clean bundled pack, output
formats and exit codes. Fixtures: fixtures/policies/lint/<check>/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

from gate.lint import Finding, LintReport, lint_paths

LINT = FIXTURES / "policies" / "lint"
POLICIES = ROOT / "policies"

PACK_WARNINGS = 0
"""Warnings the bundled pack is allowed (it has none: a new one must be looked at)."""


def where(finding: Finding) -> tuple[str, int, int, str]:
    """(file name, line, column, code): what most assertions compare."""
    return Path(finding.file).name, finding.line, finding.column, finding.code


def findings_of(tree: str, *data: Path) -> list[Finding]:
    return list(lint_paths([LINT / tree], list(data)).findings)


def only(findings: list[Finding], name: str, line: int) -> Finding:
    matches = [f for f in findings if Path(f.file).name == name and f.line == line]
    assert len(matches) == 1, f"expected one finding at {name}:{line}, got {findings}"
    return matches[0]


# --- the bundled pack ----------------------------------------------------------------


def test_bundled_pack_lints_clean(gate_cli):
    result = gate_cli("policy", "lint")
    assert result.code == 0, result.out + result.err
    rego_files = sorted(POLICIES.rglob("*.rego"))
    assert result.out.splitlines()[-1] == (
        f"{len(rego_files)} files linted: 0 errors, {PACK_WARNINGS} warnings"
    )
    assert result.err == ""


def test_bundled_pack_is_shown_as_gate_policies():
    report = lint_paths([])
    assert (report.errors, report.warnings) == (0, PACK_WARNINGS)
    assert "gate:policies/lib/gate.rego" in report.files
    assert any(f.endswith("_test.rego") for f in report.files), "tests are linted too"


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        pytest.param(
            "lib/gate.rego",
            "image := input.image if is_object(input.image)",
            "image := input.image if is_object(input.imag)",
            ("gate.rego", "input-path", "did you mean input.image?"),
            id="lib-input-typo",
        ),
        pytest.param(
            "gate/image/root_user.rego",
            'object.get(data.lib.gate.image, "user", null)',
            'object.get(data.lib.gate.image, "usr", null)',
            ("root_user.rego", "input-path", 'did you mean "user"?'),
            id="object-get-through-lib-alias",
        ),
        pytest.param(
            "gate/secrets/found.rego",
            "\ts := input.secrets[_]\n",
            "\ts := input.secrets[_]\n\ts.titel == 1\n",
            ("found.rego", "input-path", "did you mean s.title?"),
            id="variable-bound-to-input",
        ),
        pytest.param(
            "gate/image/tag_latest.rego",
            "lib.action(rule_id)",
            "lib.actoin(rule_id)",
            ("tag_latest.rego", "compile", None),
            id="unknown-function",
        ),
    ],
)
def test_a_mistake_in_the_bundled_pack_is_found(tmp_path, file, old, new, expected):
    """The clean result above means something: one typo in a copy of the pack is an error."""
    pack = tmp_path / "policies"
    shutil.copytree(POLICIES, pack)
    text = (pack / file).read_text(encoding="utf-8")
    assert old in text, f"the pack changed: {old!r} is no longer in {file}"
    (pack / file).write_text(text.replace(old, new), encoding="utf-8")
    report = lint_paths([pack])
    assert [(Path(f.file).name, f.code, f.hint) for f in report.findings if f.severity == "error"]
    name, code, hint = expected
    assert {(Path(f.file).name, f.code) for f in report.findings} == {(name, code)}
    if hint:
        assert {f.hint for f in report.findings} == {hint}


def test_a_module_that_does_not_parse_hides_no_other_file_and_causes_no_echoes(tmp_path):
    """Every rule package calls lib functions: a broken lib must not make each of them an
    'Unknown function' error too, and a second broken file is still reported."""
    pack = tmp_path / "policies"
    shutil.copytree(POLICIES, pack)
    lib = pack / "lib" / "gate.rego"
    lines = lib.read_text().splitlines()
    package_line = lines.index("package lib.gate") + 1
    lib.write_text("\n".join([*lines[:package_line], "x := := 1", *lines[package_line:]]))
    stale = pack / "gate" / "scans" / "stale.rego"
    length = len(stale.read_text().splitlines())
    stale.write_text(stale.read_text() + "y := {\n")
    report = lint_paths([pack])
    assert sorted(where(f) for f in report.findings) == [
        ("gate.rego", package_line + 1, 6, "compile"),  # the second `:=`
        ("stale.rego", length + 2, 1, "compile"),  # the end of the file: `}` expected
    ]


# --- compile ---------------------------------------------------------------------------


def test_syntax_errors_of_every_file_with_line_and_column(gate_cli):
    result = gate_cli("policy", "lint", LINT / "syntax")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines == [
        f"{LINT}/syntax/bad_operator_test.rego:6:7: error: expecting `}}` while parsing set "
        "[compile]",
        f"{LINT}/syntax/missing_brace.rego:13:1: error: expecting `}}` while parsing query "
        "[compile]",
        "3 files linted: 2 errors, 0 warnings",
    ]


def test_unknown_functions_and_unsafe_variables_are_compile_errors():
    findings = findings_of("compile")
    assert [where(f) for f in findings] == [
        ("unknown.rego", 12, 28, "compile"),
        ("unknown.rego", 16, 5, "compile"),
    ]
    assert findings[0].message == "Unknown function: 'no_such_function'"
    assert findings[1].message == "use of undefined variable `undefined_variable` is unsafe"
    # print() is fine for the interpreter gate runs, though the bytecode compiler lacks it.


# --- METADATA --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "line", "code", "severity", "message"),
    [
        pytest.param(
            "no_metadata.rego",
            1,
            "metadata-missing",
            "error",
            "package gate.lint.no_metadata defines deny but has no # METADATA block",
            id="missing-block",
        ),
        pytest.param(
            "no_id.rego",
            1,
            "metadata-field",
            "error",
            "METADATA block has no custom.id",
            id="missing-id",
        ),
        pytest.param(
            "bad_yaml.rego",
            3,
            "metadata-yaml",
            "error",
            "METADATA block is not valid YAML",
            id="invalid-yaml",
        ),
    ],
)
def test_metadata_problems(file, line, code, severity, message):
    finding = only(findings_of("metadata"), file, line)
    assert (finding.code, finding.severity) == (code, severity)
    assert finding.message.startswith(message)


def test_missing_title_and_off_scale_severity():
    findings = [f for f in findings_of("metadata") if Path(f.file).name == "incomplete.rego"]
    assert [(f.code, f.severity, f.message) for f in findings] == [
        ("metadata-field", "error", "METADATA block has no title"),
        (
            "metadata-severity",
            "warning",
            "custom.severity 'urgent' is not one of critical, high, medium, low, negligible, "
            "unknown",
        ),
    ]


def test_rule_scoped_metadata_and_packages_without_deny_need_nothing():
    names = {Path(f.file).name for f in findings_of("metadata")}
    assert names == {"no_metadata.rego", "no_id.rego", "bad_yaml.rego", "incomplete.rego"}


def test_duplicate_rule_id_names_both_places(gate_cli):
    result = gate_cli("policy", "lint", LINT / "duplicate")
    assert result.code == 1
    assert result.out.splitlines()[0] == (
        f"{LINT}/duplicate/second.rego:1:1: error: rule id 'lint-twice' is already declared at "
        f"{LINT}/duplicate/first.rego:1 [duplicate-id]"
    )
    assert result.out.splitlines()[-1] == "2 files linted: 1 error, 0 warnings"


# --- input paths -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "column", "message", "hint"),
    [
        pytest.param(
            13,
            17,
            "input.vulnerabilites: the document (input) has no field 'vulnerabilites'",
            "did you mean input.vulnerabilities?",
            id="top-level",
        ),
        pytest.param(
            17,
            17,
            "input.image.usr: input.image has no field 'usr'",
            "did you mean input.image.user?",
            id="image-field",
        ),
        pytest.param(
            22,
            15,
            "v.package.nme: input.vulnerabilities[_].package has no field 'nme'",
            "did you mean v.package.name?",
            id="assigned-array-item",
        ),
        pytest.param(
            27,
            7,
            "v.severty: input.vulnerabilities[_] has no field 'severty'",
            "did you mean v.severity?",
            id="some-in",
        ),
        pytest.param(
            31,
            38,
            "input.vulnerabilities[_].package.nme: input.vulnerabilities[_].package has no "
            "field 'nme'",
            "did you mean input.vulnerabilities[_].package.name?",
            id="nested-array-path",
        ),
        pytest.param(
            35,
            30,
            "object.get(…, \"usr\", …): input.image has no field 'usr'",
            'did you mean "user"?',
            id="object-get",
        ),
        pytest.param(
            39,
            19,
            "helpers.image.helthcheck: input.image has no field 'helthcheck'",
            "did you mean helpers.image.healthcheck?",
            id="rule-of-another-package",
        ),
        pytest.param(
            44,
            7,
            "v.fix_availble: input.vulnerabilities[_] has no field 'fix_availble'",
            "did you mean v.fix_available?",
            id="memoised-list",
        ),
        pytest.param(
            48,
            26,
            "input.image.env.PATH.dir: input.image.env.PATH is a string: it has no fields",
            None,
            id="map-value-is-a-string",
        ),
        pytest.param(
            53,
            11,
            "v.fixed_version: input.vulnerabilities[_] has no field 'fixed_version'",
            "did you mean v.fixed_versions?",
            id="every",
        ),
        pytest.param(
            58,
            55,
            "v.pkg: input.vulnerabilities[_] has no field 'pkg'",
            "did you mean v.package?",
            id="comprehension",
        ),
    ],
)
def test_misspelt_input_paths(line, column, message, hint):
    finding = only(findings_of("input_paths"), "typos.rego", line)
    assert (finding.column, finding.code, finding.severity) == (column, "input-path", "error")
    assert (finding.message, finding.hint) == (message, hint)


def test_valid_input_paths_pass_including_any_key_of_env_and_labels():
    findings = findings_of("input_paths")
    assert {Path(f.file).name for f in findings} == {"typos.rego"}
    assert len(findings) == 11


def test_input_path_error_through_the_cli(gate_cli):
    typos, helpers = LINT / "input_paths" / "typos.rego", LINT / "input_paths" / "helpers.rego"
    result = gate_cli("policy", "lint", typos, helpers)
    assert result.code == 1
    assert (
        f"{LINT}/input_paths/typos.rego:17:17: error: input.image.usr: input.image has no "
        "field 'usr' [input-path]\n  hint: did you mean input.image.user?\n"
    ) in result.out


# --- data ------------------------------------------------------------------------------


def test_undefined_data_warns_and_exits_0(gate_cli):
    result = gate_cli("policy", "lint", LINT / "undefined_data")
    assert result.code == 0
    assert result.out.splitlines() == [
        f"{LINT}/undefined_data/rules.rego:12:22: warning: deny can never fire "
        "(data.gate_config.stagse is undefined: no data document or policy defines it) "
        "[undefined-data]",
        "  hint: did you mean data.gate_config.stages?",
        f"{LINT}/undefined_data/rules.rego:24:26: warning: this `not` always holds "
        "(data.gate_config.extra is undefined: no data document or policy defines it) "
        "[undefined-data]",
        "1 file linted: 0 errors, 2 warnings",
    ]


def test_strict_makes_warnings_fail(gate_cli):
    assert gate_cli("policy", "lint", "--strict", LINT / "undefined_data").code == 1


def test_data_option_defines_data(gate_cli):
    result = gate_cli("policy", "lint", LINT / "undefined_data", "--data", LINT / "extra-data.json")
    assert result.code == 0
    assert "data.gate_config.extra" not in result.out
    assert result.out.splitlines()[-1] == "1 file linted: 0 errors, 1 warning"


# --- other warnings --------------------------------------------------------------------


def test_impure_builtins_and_a_deny_that_is_not_a_set():
    findings = findings_of("warnings")
    assert [(*where(f), f.severity) for f in findings] == [
        ("impure.rego", 11, 1, "not-a-set", "warning"),
        ("impure.rego", 14, 9, "non-reproducible", "warning"),
        ("impure.rego", 18, 9, "network", "warning"),
    ]
    assert findings[1].hint == (
        "use time.parse_rfc3339_ns(input.context.evaluated_at), which `gate check --at` sets"
    )


# --- formats, exit codes, library --------------------------------------------------------


def test_json_format(gate_cli):
    result = gate_cli("policy", "lint", LINT / "duplicate", "--format", "json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report == {
        "files": [f"{LINT}/duplicate/first.rego", f"{LINT}/duplicate/second.rego"],
        "errors": 1,
        "warnings": 0,
        "findings": [
            {
                "severity": "error",
                "code": "duplicate-id",
                "file": f"{LINT}/duplicate/second.rego",
                "line": 1,
                "column": 1,
                "message": f"rule id 'lint-twice' is already declared at "
                f"{LINT}/duplicate/first.rego:1",
                "hint": "give each rule its own custom.id: results, waivers and stage actions "
                "use it",
            }
        ],
    }


@pytest.mark.parametrize(
    ("args", "code", "err"),
    [
        pytest.param(
            ["/no/such/dir"],
            2,
            "error: /no/such/dir: no such policy file or directory",
            id="missing-path",
        ),
        pytest.param(
            ["--data", "/no/such.json"],
            2,
            "error: /no/such.json: no such data file",
            id="missing-data",
        ),
        pytest.param(["--format", "xml"], 2, "error: Invalid value for '-f'", id="bad-format"),
    ],
)
def test_usage_errors(gate_cli, args, code, err):
    result = gate_cli("policy", "lint", *args)
    assert result.code == code
    assert result.err.startswith(err)


def test_nothing_to_lint_is_exit_3(gate_cli, tmp_path):
    result = gate_cli("policy", "lint", tmp_path)
    assert result.code == 3
    assert result.err.startswith(f"error: {tmp_path}: no Rego policies found")


def test_report_sorting_rendering_and_exit_codes():
    warning = Finding("b.rego", 2, 1, "network", "warning", "w")
    error = Finding("a.rego", 9, 4, "compile", "error", "e", "fix it")
    report = LintReport(files=("a.rego", "b.rego"), findings=tuple(sorted([warning, error])))
    assert report.render_text() == (
        "a.rego:9:4: error: e [compile]\n  hint: fix it\n"
        "b.rego:2:1: warning: w [network]\n"
        "2 files linted: 1 error, 1 warning\n"
    )
    assert report.exit_code() == 1
    only_warning = LintReport(files=("b.rego",), findings=(warning,))
    assert (only_warning.exit_code(), only_warning.exit_code(strict=True)) == (0, 1)
