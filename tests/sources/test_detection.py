"""Content detection: every fixture and corpus file is claimed by exactly its own source.

For each input file, every source in ``gate.sources.SOURCES`` is asked: the one whose
format the file is written in must say yes, all the others no, and ``detect`` must return
that one. Files that are no input report (documents, policy data, expected output) must be
claimed by none. The expected format comes from tables of this test suite — the file's
folder or name here, the MANIFEST kind (``conftest.expected_format``) for the corpus —
never from the code under test. The per-source modules keep their inline ``matches`` tables
(the edge cases of one shape); this module holds the cross-format sweep.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import CORPUS, FIXTURES, corpus_params, corpus_rows, expected_format, load_input

from gate.sources import SOURCES, detect

FIXTURE_FORMATS: dict[str, str | None] = {
    # a report folder holds one format
    "reports/dockle/": "dockle-json",
    "reports/grype/": "grype-json",
    "reports/hadolint/": "hadolint-json",
    "reports/harbor/": "harbor",
    # tests/test_harbor_integration.py: what Harbor's API serves, and a webhook payload
    "harbor/vulnerabilities.json": "harbor",
    "harbor/webhook-": None,
    "reports/sarif/": "sarif",
    "reports/snyk/": "snyk-json",
    # k8s-cluster.json too: Trivy's own shape, recognised and then refused by the parser
    "reports/trivy/": "trivy-json",
    "reports/trivy-operator/": "trivy-operator",
    "provenance/": "in-toto",
    # mixed folders: the file name says the format
    "hostile/cyclonedx-": "cyclonedx",
    "hostile/trivy-": "trivy-json",
    "image/config.json": "image-config",
    "image/container-inspect.json": "docker-inspect",
    "image/index.json": "image-manifest",
    "image/inspect-root.json": "docker-inspect",
    "image/inspect.json": "docker-inspect",
    "image/manifest.json": "image-manifest",
    "sbom/cyclonedx-": "cyclonedx",
    "sbom/spdx-": "spdx-json",
    "sbom/syft-": "syft-json",
    "vex/csaf-": "csaf-vex",
    "vex/openvex-": "openvex",
    "scenarios/clean/sbom.syft.json": "syft-json",
    "scenarios/high-only/trivy.json": "trivy-json",
    "signatures/": "cosign-signature",
    # the README's registry demo (scripts/make_demo_image.py): the image layout's index
    # and the reports about that image
    "oci/hello/index.json": "image-manifest",
    "demo/hello.cosign.json": "cosign-signature",
    "demo/hello.grype.json": "grype-json",
    "demo/hello.slsa.json": "in-toto",
    "demo/hello.syft.json": "syft-json",
    "verdicts/": "gate-verdict",
    # a saved verdict is an input of the next stage's gate
    "golden/check-prod.verdict.json": "gate-verdict",
    # no input report: no source may claim these
    "documents/": None,
    "golden/": None,
    "policies/": None,
    "inputs/unknown.json": None,
    "scenarios/high-only/relaxed-ages.json": None,
}
"""Expected format by fixture path prefix (under fixtures/); the longest prefix wins."""

NOT_IN_CORPUS = {"gate-verdict", "cosign-signature"}

NOT_JSON = {"inputs/empty-file.json", "inputs/malformed.json"}
"""The deliberately broken inputs: no JSON to show a source."""

FIXTURE_PATHS = sorted(
    str(path.relative_to(FIXTURES))
    for path in FIXTURES.rglob("*.json")
    if str(path.relative_to(FIXTURES)) not in NOT_JSON
)
CORPUS_KINDS = dict(corpus_rows())


def fixture_format(relative: str) -> str | None:
    """The format a fixture is written in, by the longest matching prefix of the table."""
    prefixes = [prefix for prefix in FIXTURE_FORMATS if relative.startswith(prefix)]
    assert prefixes, f"fixtures/{relative}: add its format to FIXTURE_FORMATS"
    return FIXTURE_FORMATS[max(prefixes, key=len)]


def assert_detected_as(data: Any, expected: str | None) -> None:
    """Exactly the source of ``expected`` (none when None) matches ``data``, and wins."""
    assert expected is None or expected in SOURCES, f"unknown format {expected!r}"
    wrong = {
        fmt: verdict
        for fmt, source in SOURCES.items()
        if (verdict := source.matches(data)) is not (fmt == expected)
    }
    assert wrong == {}, f"expected only {expected!r} to match"
    assert detect(data) is (None if expected is None else SOURCES[expected])


@pytest.mark.parametrize("relative", FIXTURE_PATHS)
def test_fixture_is_claimed_by_exactly_its_source(relative: str) -> None:
    data, _ = load_input(FIXTURES / relative)
    assert_detected_as(data, fixture_format(relative))


@pytest.mark.parametrize("local_path", corpus_params())
def test_corpus_file_is_claimed_by_exactly_its_source(local_path: str) -> None:
    data, _ = load_input(CORPUS / local_path)
    assert_detected_as(data, expected_format(local_path, CORPUS_KINDS[local_path]))


def test_the_sweep_covers_every_fixture_and_format() -> None:
    # Neither loop above may pass vacuously or leave a table row unused.
    for relative in NOT_JSON:
        with pytest.raises(ValueError):
            json.loads((FIXTURES / relative).read_bytes())
    used = {
        prefix
        for relative in FIXTURE_PATHS
        for prefix in FIXTURE_FORMATS
        if relative.startswith(prefix)
    }
    assert set(FIXTURE_FORMATS) - used == set()
    claimed = {fixture_format(relative) for relative in FIXTURE_PATHS}
    assert claimed == {*SOURCES, None}


@pytest.mark.skipif(not CORPUS_KINDS, reason="../shared/corpus is not present")
def test_the_corpus_holds_every_format() -> None:
    # The per-source corpus tests select their files by format; none may select nothing.
    formats = [expected_format(path, kind) for path, kind in CORPUS_KINDS.items()]
    # gate's own verdicts, and cosign's `download signature` output (the corpus holds no
    # copy), are covered by fixtures made with the same code paths that check them
    assert set(formats) == set(SOURCES) - NOT_IN_CORPUS
    # the Harbor and trivy-operator corpus tests pin the numbers of their one file
    assert (formats.count("harbor"), formats.count("trivy-operator")) == (1, 1)
