"""Every real report and image metadata file in ../shared/corpus normalises (skips without it).

Counts are checked per source in tests/sources; here the whole path is exercised: content
detection picks the right source, and the merged document validates against the schema.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import CORPUS, corpus_rows, expected_format

REFUSED = {
    # Trivy Kubernetes cluster reports are not image scans; they are refused with a message.
    "trivy/trivy-k8s-cluster-minikube-resources.json": "Kubernetes cluster report",
    "trivy/trivy-k8s-summary-eks-vulns-misconfigs.json": "Kubernetes cluster report",
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
    assert document.scans[0].finding_count == len(document.vulnerabilities) + len(
        document.secrets
    ) + len(document.misconfigurations) + len(document.licenses)


NGINX_SARIFS = (
    "trivy/trivy-0.42-image-nginx.sarif",
    "grype/grype-0.63-image-nginx.sarif",
    "other/snyk-container-image-nginx.sarif",
)
NGINX_DIGEST = "sha256:13d22ec63300e16014d4a42aed735207a8b33c223cff19627dd3042e5a10a3a0"


def test_one_image_three_scanners_and_vex(gate_cli):
    """Trivy, Grype and Snyk Container SARIFs of one nginx digest, plus a VEX document."""
    from conftest import fixture

    inputs = [CORPUS / p for p in NGINX_SARIFS] + [fixture("vex/openvex-nginx.json")]
    result = gate_cli("normalize", *inputs, "--at", "2023-07-02T00:00:00Z")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["subject"]["digest"] == NGINX_DIGEST
    assert [s["tool"] for s in document["scans"]] == ["trivy", "grype", "snyk", "openvex"]
    assert [s["finding_count"] for s in document["scans"]] == [99, 99, 65, 0]
    vulnerabilities = document["vulnerabilities"]
    by_source_count: dict[int, int] = {}
    for vuln in vulnerabilities:
        by_source_count[len(vuln["sources"])] = by_source_count.get(len(vuln["sources"]), 0) + 1
    # 99 + 99 + 65 listings are 100 findings: 64 seen by all three, 35 by two, 1 by one
    assert (len(vulnerabilities), by_source_count) == (100, {3: 64, 2: 35, 1: 1})
    libssl = next(
        v
        for v in vulnerabilities
        if (v["id"], v["package"]["name"]) == ("CVE-2023-2975", "libssl3")
    )
    assert {s["tool"] for s in libssl["sources"]} == {"trivy", "grype", "snyk"}
    assert {s["severity"] for s in libssl["sources"]} == {"medium", "low"}  # each keeps its own
    assessed = {
        (v["id"], v["package"]["name"]): (v["vex"]["status"], v["vex"]["justification"])
        for v in vulnerabilities
        if v["vex"]
    }
    assert assessed == {
        # the later statement wins over 'under_investigation'; the one about another
        # build of nginx (other digest) does not apply
        ("CVE-2023-2975", "libssl3"): ("not_affected", "vulnerable_code_not_in_execute_path"),
        ("CVE-2023-27103", "libde265-0"): ("fixed", None),
        ("CVE-2023-31484", "perl-base"): ("not_affected", None),
        ("CVE-2023-2953", "libldap-2.5-0"): ("affected", None),
    }
    suppressed = [
        v for v in vulnerabilities if v["vex"] and v["vex"]["status"] in ("not_affected", "fixed")
    ]
    assert len(suppressed) == 3
