"""The document schema is committed, current, and what `gate normalize` prints obeys it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import input_fixtures
from tests_support import normalize_fixture

from gate.document import json_schema, json_schema_text

COMMITTED = Path(__file__).resolve().parents[1] / "gate" / "schema" / "document.schema.json"


def test_committed_schema_equals_the_generated_one():
    assert COMMITTED.read_text() == json_schema_text(), (
        "the document models changed: run `gate schema > gate/schema/document.schema.json`"
    )


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(json_schema())


def test_every_field_is_described():
    schema = json_schema()
    missing = [
        f"{name}.{field}"
        for name, definition in schema["$defs"].items()
        for field, spec in definition.get("properties", {}).items()
        if "description" not in spec
    ]
    assert missing == []


@pytest.mark.parametrize(
    "inputs",
    [
        # every input fixture but the one gate refuses by design (a Kubernetes cluster report)
        *([p.values[0]] for p in input_fixtures() if p.id != "reports/trivy/k8s-cluster.json"),
        ["reports/trivy/v2-image.json", "reports/grype/image.json", "image/inspect.json"],
        [
            "reports/sarif/trivy-image.sarif.json",
            "reports/sarif/grype-image.sarif.json",
            "reports/snyk/container.json",
            "sbom/cyclonedx-1.5-image.json",
            "vex/openvex-0.2.0-shop-api.json",
            "provenance/dsse-envelope.json",
            "image/index.json",
        ],
    ],
    ids=lambda v: "+".join(str(p).split("fixtures/")[-1] for p in v),
)
def test_normalized_documents_validate_against_the_committed_schema(inputs):
    document = normalize_fixture(*inputs)
    schema = json.loads(COMMITTED.read_text())
    jsonschema.Draft202012Validator(schema).validate(document)


def test_engine_input_is_the_whole_document_and_its_hash_ignores_the_time():
    from gate.document import Context, Document
    from gate.run import document_json

    document = Document.model_validate(normalize_fixture("reports/trivy/v2-image.json"))
    input_json, digest = document_json(document)
    assert json.loads(input_json) == json.loads(document.model_dump_json())
    later = document.model_copy(
        update={"context": Context(stage="prod", evaluated_at="2030-01-01T00:00:00Z")}
    )
    other_stage = document.model_copy(update={"context": Context(stage="dev", evaluated_at="x")})
    assert document_json(later)[1] == digest
    assert document_json(other_stage)[1] != digest
