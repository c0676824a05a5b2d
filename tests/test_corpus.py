"""Every real report and image metadata file in ../shared/corpus normalises (skips without it).

Counts are checked per source in tests/sources; here the whole path is exercised: content
detection picks the right source, and the merged document validates against the schema.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import CORPUS, corpus_rows

SUPPORTED = {
    "trivy-json": "trivy-json",
    "trivy-sarif": "sarif",
    "grype-json": "grype-json",
    "sarif": "sarif",
    "cyclonedx": "cyclonedx",
    "spdx": "spdx-json",
    "openvex": "openvex",
    "csaf": "csaf-vex",
    "docker-inspect": "docker-inspect",
    "oci-config": "image-config",
    "oci-manifest": "image-manifest",
    "snyk-json": "snyk-json",
    "hadolint-json": "hadolint-json",
    "provenance": "in-toto",
}
REFUSED = {
    # Trivy Kubernetes cluster reports are not image scans; they are refused with a message.
    "trivy/trivy-k8s-cluster-minikube-resources.json": "Kubernetes cluster report",
    "trivy/trivy-k8s-summary-eks-vulns-misconfigs.json": "Kubernetes cluster report",
}
OTHER = {
    # MANIFEST kind "other" covers several formats; the file name says which.
    "syft-json": "syft-json",
    "dockle-json": "dockle-json",
    "harbor": "harbor",
    "trivy-operator": "trivy-operator",
}
ROWS = corpus_rows()
SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "gate" / "schema" / "document.schema.json").read_text()
)

pytestmark = pytest.mark.skipif(not ROWS, reason="../shared/corpus is not present")


@pytest.mark.parametrize(("local_path", "kind"), ROWS, ids=[r[0] for r in ROWS])
def test_corpus_file_is_detected_and_normalises(local_path, kind):
    from gate.errors import SourceError
    from gate.run import Settings, build_document, read_fragment

    path = str(CORPUS / local_path)
    if local_path in REFUSED:
        with pytest.raises(SourceError, match=REFUSED[local_path]) as caught:
            read_fragment(path)
        assert caught.value.where.startswith(path)
        return
    _, fragment = read_fragment(path)
    assert fragment.format == expected_format(local_path, kind)
    document = build_document(Settings(inputs=[path]), "prod")
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(document.model_dump_json()))
    assert document.scans[0].findings == len(document.vulnerabilities) + len(
        document.secrets
    ) + len(document.misconfigurations) + len(document.licenses)


def expected_format(local_path: str, kind: str) -> str:
    """The format gate must detect for a corpus file."""
    if kind in SUPPORTED:
        return SUPPORTED[kind]
    matches = [fmt for marker, fmt in OTHER.items() if marker in local_path]
    assert len(matches) == 1, f"{local_path}: kind {kind!r} is not mapped in this test"
    return matches[0]
