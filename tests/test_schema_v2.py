"""Document schema_version "2": one name per idea (issue 10 §2), and no trap for a policy or
a document written against version 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, ROOT, fixture

from gate.document import SCHEMA_VERSION, Document, json_schema_text
from gate.lint import lint_paths

V1_NAMES = {
    "Scan": {"input_file", "findings", "packages", "vex_statements", "attestations"},
    "Secret": {"rule_id"},
    "VexAssessment": {"source"},
    "Attestation": {"source"},
    "PreviousVerdict": {"source"},
    "ImageSignature": {"source"},
}


def _definitions() -> dict[str, Any]:
    schema = json.loads((ROOT / "gate" / "schema" / "document.schema.json").read_text())
    definitions: dict[str, Any] = schema["$defs"]
    return definitions


def test_the_committed_schema_is_version_2_and_current() -> None:
    committed = (ROOT / "gate" / "schema" / "document.schema.json").read_text()
    assert committed == json_schema_text()
    schema = json.loads(committed)
    assert SCHEMA_VERSION == "2"
    assert schema["properties"]["schema_version"]["const"] == "2"
    assert schema["$id"].endswith("/document/v2.json")


@pytest.mark.parametrize("model", sorted(V1_NAMES))
def test_the_input_file_is_input_and_no_v1_name_is_left(model: str) -> None:
    fields = _definitions()[model]["properties"]
    assert not V1_NAMES[model] & set(fields)
    assert "input" in fields or model == "Secret"


def test_counts_end_in_count_and_secrets_have_an_id() -> None:
    definitions = _definitions()
    scan = definitions["Scan"]["properties"]
    counts = {"finding_count", "package_count", "vex_statement_count", "attestation_count"}
    assert counts <= set(scan)
    assert all(scan[name]["type"] == "integer" for name in counts)
    assert "id" in definitions["Secret"]["required"]


def test_a_licence_package_is_the_package_object_of_a_vulnerability() -> None:
    definitions = _definitions()
    licence_package = definitions["License"]["properties"]["package"]
    assert {"$ref": "#/$defs/Package"} in licence_package["anyOf"]
    assert {"type": "null"} in licence_package["anyOf"]
    assert definitions["Vulnerability"]["properties"]["package"] == {
        "$ref": "#/$defs/Package",
        "description": "Affected package.",
    }


def test_names_that_mean_something_else_are_kept() -> None:
    definitions = _definitions()
    assert "source" in definitions["BaseImage"]["properties"]  # label / snyk / provenance
    assert "source" in definitions["Cvss"]["properties"]  # who rated it
    assert "packages" in definitions["Attestation"]["properties"]  # its SBOM's size
    assert "input" in definitions["FindingSource"]["properties"]


def test_the_sample_document_is_a_valid_v2_document() -> None:
    sample = json.loads((FIXTURES / "documents" / "sample.json").read_text())
    document = Document.model_validate(sample)
    assert document.schema_version == "2"
    assert all(s.input for s in document.scans)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"schema_version": "1"}, id="version-1"),
        pytest.param(
            {"secrets": [{"rule_id": "k", "severity": "high", "sources": []}]}, id="rule_id"
        ),
        pytest.param(
            {"licenses": [{"name": "MIT", "package": "braces", "sources": []}]},
            id="licence-package-as-a-string",
        ),
    ],
)
def test_a_v1_document_is_not_a_v2_document(change: dict[str, Any]) -> None:
    sample = json.loads((FIXTURES / "documents" / "sample.json").read_text())
    with pytest.raises(ValueError):
        Document.model_validate({**sample, **change})


def test_normalize_writes_the_new_names(gate_cli) -> None:
    result = gate_cli("normalize", fixture("image/inspect-root.json"))
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["schema_version"] == "2"
    [scan] = document["scans"]
    assert scan["input"].endswith("inspect-root.json")
    assert {"finding_count", "package_count", "vex_statement_count", "attestation_count"} <= set(
        scan
    )
    assert not {"input_file", "findings", "vex_statements"} & set(scan)


V1_POLICY = """# METADATA
# title: A rule written for document schema_version 1
# description: Reads the v1 names.
# custom:
#   id: v1-names
#   severity: low
package gate.v1names

import rego.v1

deny contains s.input_file if {
\tsome s in input.scans
\ts.findings > 0
}

deny contains x.rule_id if {
\tsome x in input.secrets
}

deny contains a.source if {
\tsome a in input.attestations
\ta.packages == 0
\tinput.image.base.source == "label"
\tinput.vulnerabilities[_].cvss.source == "nvd"
\tcount(input.packages) > 0
}

deny contains v.vex.source if {
\tsome v in input.vulnerabilities
}
"""


def test_lint_names_the_v2_name_of_every_v1_field(tmp_path: Path) -> None:
    rules = tmp_path / "policies" / "gate"
    rules.mkdir(parents=True)
    (rules / "v1names.rego").write_text(V1_POLICY)
    report = lint_paths([tmp_path / "policies"])
    # Exactly these: base.source, cvss.source, an attestation's packages and input.packages
    # (lines 21-24) mean something else and still exist.
    found = {(f.line, f.hint) for f in report.findings if f.code == "input-path"}
    renamed = "was renamed in document schema_version 2"
    assert found == {
        (11, f"did you mean s.input? (input_file {renamed})"),
        (13, f"did you mean s.finding_count? (findings {renamed})"),
        (16, f"did you mean x.id? (rule_id {renamed})"),
        (20, f"did you mean a.input? (source {renamed})"),
        (28, f"did you mean v.vex.input? (source {renamed})"),
    }


@pytest.mark.parametrize("version", ['"1"', "1", "null", '"3"'])
def test_policy_eval_refuses_a_document_of_another_schema_version(
    gate_cli, tmp_path: Path, version: str
) -> None:
    sample = (FIXTURES / "documents" / "sample.json").read_text()
    given = tmp_path / "v1.json"
    given.write_text(sample.replace('"schema_version": "2"', f'"schema_version": {version}', 1))
    result = gate_cli("policy", "eval", "data.gate.secrets.found.deny", "--input", given)
    assert result.code == 3
    assert "schema_version" in result.err and str(given) in result.err
    assert "gate normalize" in result.err


def test_policy_eval_takes_a_v2_document_and_a_hand_made_one_without_version(
    gate_cli, tmp_path: Path
) -> None:
    current = gate_cli(
        "policy", "eval", "input.schema_version", "--input", FIXTURES / "documents" / "sample.json"
    )
    assert (current.code, json.loads(current.out)) == (0, "2")
    hand_made = tmp_path / "doc.json"
    hand_made.write_text('{"image": {"user": "root"}}')
    result = gate_cli("policy", "eval", "input.image.user", "--input", hand_made)
    assert (result.code, json.loads(result.out)) == (0, "root")


@pytest.mark.parametrize(
    ("finding", "inputs"),
    [
        pytest.param(
            {"kind": "license", "id": "AGPL-3.0-only", "package": "ghostscript"},
            ["trivy.json"],
            id="licence-by-package-name",
        ),
        pytest.param(
            {"kind": "secret", "id": "aws-access-key-id", "target": "/app/.env", "line": 3},
            ["trivy.json"],
            id="secret-by-id",
        ),
        pytest.param(
            {"kind": "attestation", "id": "provenance", "input": "reports/provenance.intoto.json"},
            ["reports/provenance.intoto.json"],
            id="attestation-by-input",
        ),
        pytest.param(
            {"kind": "scan", "id": "reports/grype.json"}, ["reports/grype.json"], id="scan"
        ),
        pytest.param(
            {"kind": "license", "id": "AGPL-3.0-only", "package": "braces"}, [], id="other-package"
        ),
    ],
)
def test_results_are_located_in_their_input_by_the_v2_names(
    finding: dict[str, Any], inputs: list[str]
) -> None:
    from gate.locations import with_inputs
    from gate.verdict import Result

    document = Document.model_validate(
        json.loads((FIXTURES / "documents" / "sample.json").read_text())
    )
    result = Result(
        id="r", msg="m", severity="high", level="deny", package="gate.r", finding=finding
    )
    [located] = with_inputs([result], document)
    assert located.inputs == inputs
