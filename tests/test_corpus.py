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
    "grype-json": "grype-json",
    "docker-inspect": "docker-inspect",
    "oci-config": "image-config",
    "oci-manifest": "image-manifest",
}
REFUSED = {
    # Trivy Kubernetes cluster reports are not image scans; they are refused with a message.
    "trivy/trivy-k8s-cluster-minikube-resources.json": "Kubernetes cluster report",
    "trivy/trivy-k8s-summary-eks-vulns-misconfigs.json": "Kubernetes cluster report",
}
ROWS = corpus_rows(*SUPPORTED)
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
    assert fragment.format == SUPPORTED[kind]
    document = build_document(Settings(inputs=[path]), "prod")
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(document.model_dump_json()))
    assert document.scans[0].findings == len(document.vulnerabilities) + len(
        document.secrets
    ) + len(document.misconfigurations) + len(document.licenses)


def test_unsupported_corpus_kinds_fail_with_a_clear_message_until_supported():
    """Kinds of a later issue (SARIF, SBOMs, VEX…) must be refused, never silently accepted."""
    from gate.errors import InputError
    from gate.run import read_fragment

    later = [p for p, k in corpus_rows() if k not in SUPPORTED and k != "other"]
    assert later, "the corpus should hold kinds beyond this issue's"
    for local_path in later:
        with pytest.raises(InputError) as caught:
            read_fragment(str(CORPUS / local_path))
        assert "not a recognised report" in caught.value.message
