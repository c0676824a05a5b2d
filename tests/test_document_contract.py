"""The document contract as the schema states it: fields that say one thing one way."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import CORPUS, FIXTURES, corpus_rows
from tests_support import normalize_fixture

from gate.document import FindingSource, Package, Vulnerability, json_schema
from gate.merge import merge_fragments
from gate.sources.base import Fragment

# --- fixability: status, fix_available and fixed_versions agree -------------------------


def _vulnerability(tool: str, *, status: str = "unknown", fixed: list[str] | None = None):
    return Vulnerability(
        id="CVE-2024-1",
        severity="high",
        package=Package(name="openssl", version="3.0.11-1", type="deb"),
        fixed_versions=fixed or [],
        fix_available=bool(fixed),
        status=status,
        sources=[FindingSource(tool=tool, input=f"{tool}.json", severity="high")],
    )


def _merged(*vulnerabilities: Vulnerability) -> Vulnerability:
    fragments = [
        Fragment(format=f"{v.sources[0].tool}-json", tool=v.sources[0].tool, vulnerabilities=[v])
        for v in vulnerabilities
    ]
    [merged] = merge_fragments(fragments)["vulnerabilities"]
    return merged


def _fixability(vuln: Vulnerability) -> tuple[str, bool, list[str]]:
    return (vuln.status, vuln.fix_available, vuln.fixed_versions)


@pytest.mark.parametrize(
    ("reports", "expected"),
    [
        # A scanner that says "fixed" without naming the version: a fix is released.
        ([("trivy", "fixed", [])], ("fixed", True, [])),
        # A fixed version known: no status says otherwise.
        ([("grype", "unknown", ["3.0.13-1"])], ("fixed", True, ["3.0.13-1"])),
        ([("grype", "affected", ["3.0.13-1"])], ("fixed", True, ["3.0.13-1"])),
        ([("grype", "not_fixed", ["3.0.13-1"])], ("fixed", True, ["3.0.13-1"])),
        # One scanner knows no fix yet, the other says there is one.
        ([("trivy", "affected", []), ("grype", "fixed", [])], ("fixed", True, [])),
        (
            [("trivy", "affected", []), ("grype", "unknown", ["3.0.13-1"])],
            ("fixed", True, ["3.0.13-1"]),
        ),
        # The distribution will not fix it; upstream's fix (another scanner) is still a fix.
        (
            [("trivy", "will_not_fix", []), ("grype", "unknown", ["3.0.13-1"])],
            ("will_not_fix", True, ["3.0.13-1"]),
        ),
        # Nothing known: not fixable.
        ([("trivy", "affected", [])], ("affected", False, [])),
        ([("trivy", "unknown", [])], ("unknown", False, [])),
        ([("trivy", "will_not_fix", [])], ("will_not_fix", False, [])),
    ],
)
def test_status_fix_available_and_fixed_versions_agree(reports, expected):
    merged = _merged(*(_vulnerability(t, status=s, fixed=f) for t, s, f in reports))
    assert _fixability(merged) == expected


def test_a_trivy_status_fixed_without_a_version_is_fixable_and_blocks(gate_cli, tmp_path):
    report = {
        "SchemaVersion": 2,
        "ArtifactName": "ghcr.io/acme/api:1.0",
        "ArtifactType": "container_image",
        "Results": [
            {
                "Target": "debian 12",
                "Class": "os-pkgs",
                "Type": "debian",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": "CVE-2024-1",
                        "PkgName": "openssl",
                        "InstalledVersion": "3.0.11-1",
                        "Status": "fixed",
                        "Severity": "CRITICAL",
                    }
                ],
            }
        ],
    }
    path = tmp_path / "trivy.json"
    path.write_text(json.dumps(report))
    normalized = gate_cli("normalize", path)
    [vuln] = json.loads(normalized.out)["vulnerabilities"]
    assert (vuln["status"], vuln["fix_available"], vuln["fixed_versions"]) == ("fixed", True, [])
    result = gate_cli("check", path, "--stage", "dev", "-f", "json")
    assert result.code == 1
    assert "vuln-fixable-critical" in {v["id"] for v in json.loads(result.out)["violations"]}


def _documents() -> list[Path]:
    reports = sorted((FIXTURES / "reports").rglob("*.json"))
    corpus = [CORPUS / path for path, _ in corpus_rows("trivy-json", "grype-json")]
    # Kubernetes cluster reports are refused (not an image scan), on purpose.
    return [p for p in [*reports, *corpus] if "k8s-" not in p.name]


@pytest.mark.parametrize("path", _documents(), ids=lambda p: p.name)
def test_every_normalised_vulnerability_keeps_the_fixability_invariant(path):
    document = normalize_fixture(path)
    for vuln in document["vulnerabilities"]:
        fixed, status = vuln["fixed_versions"], vuln["status"]
        assert vuln["fix_available"] == (bool(fixed) or status == "fixed"), vuln["id"]
        assert not (fixed and status in ("unknown", "affected", "not_fixed")), vuln["id"]
        assert vuln["fix_version"] is None or vuln["fix_version"] in fixed


def test_the_schema_states_the_fixability_rules():
    properties = json_schema()["$defs"]["Vulnerability"]["properties"]
    assert (
        "fixed_versions is not empty or status is 'fixed'"
        in (properties["fix_available"]["description"])
    )
    assert "become 'fixed'" in properties["status"]["description"]
    assert "not below the installed version" in properties["fix_version"]["description"]


# --- image.user: one meaning, stated once ------------------------------------------------

USER_DESCRIPTION = json_schema()["$defs"]["Image"]["properties"]["user"]["description"]


def _root_examples() -> list[str]:
    """The values the schema names as root, quoted after its 'e.g.'."""
    examples = USER_DESCRIPTION.split("e.g.", 1)[1].split(".", 1)[0]
    return re.findall(r"'([^']*)'", examples)


def test_the_schema_states_what_user_means():
    assert USER_DESCRIPTION.startswith("The configured USER, as written. Null means unknown")
    assert _root_examples() == ["", "0", "root", "0:0", "root:wheel"]


def _check_as_user(gate_cli, tmp_path: Path, user: str) -> set[str]:
    [inspect] = json.loads((FIXTURES / "image" / "inspect.json").read_text())
    inspect["Config"]["User"] = user
    path = tmp_path / "inspect.json"
    path.write_text(json.dumps([inspect]))
    result = gate_cli("check", path, "--stage", "dev", "-f", "json")
    assert result.code in (0, 1), result.err
    return {
        v["id"] for v in json.loads(result.out)["violations"] + json.loads(result.out)["warnings"]
    }


@pytest.mark.parametrize("user", _root_examples())
def test_the_pack_reports_every_user_the_schema_calls_root(gate_cli, tmp_path, user):
    assert "image-root-user" in _check_as_user(gate_cli, tmp_path, user)


@pytest.mark.parametrize("user", ["app", "1000:0", "65532:65532", "rootless"])
def test_the_pack_passes_users_the_schema_does_not_call_root(gate_cli, tmp_path, user):
    assert "image-root-user" not in _check_as_user(gate_cli, tmp_path, user)


def test_an_unknown_user_is_null_and_not_root(gate_cli):
    # A scan without image configuration: nothing is known about the user.
    result = gate_cli("normalize", FIXTURES / "reports" / "grype" / "empty.json")
    assert json.loads(result.out)["image"]["user"] is None
    result = gate_cli("check", FIXTURES / "reports" / "grype" / "empty.json", "-f", "json")
    assert result.code == 1
    verdict = json.loads(result.out)
    ids = {v["id"] for v in verdict["violations"] + verdict["warnings"]}
    assert "image-root-user" not in ids and "image-metadata-missing" in ids


# --- subject.tags: every tag the inputs name for the image --------------------------------


def _inspect_tagged(tmp_path: Path, *tags: str) -> Path:
    [inspect] = json.loads((FIXTURES / "image" / "inspect.json").read_text())
    inspect["RepoTags"] = list(tags)
    path = tmp_path / "inspect.json"
    path.write_text(json.dumps([inspect]))
    return path


def _subject(gate_cli, *args: str | Path) -> dict:
    result = gate_cli("normalize", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)["subject"]


TAGGED = ("ghcr.io/acme/shop-api:1.4.2", "ghcr.io/acme/shop-api:latest", "mirror.local/api:rc1")


def test_tags_are_every_tag_image_metadata_names(gate_cli, tmp_path):
    subject = _subject(gate_cli, _inspect_tagged(tmp_path, *TAGGED))
    assert (subject["tag"], subject["tags"]) == ("1.4.2", ["1.4.2", "latest", "rc1"])


def test_the_tag_image_names_comes_first(gate_cli, tmp_path):
    path = _inspect_tagged(tmp_path, *TAGGED)
    subject = _subject(gate_cli, path, "--image", "ghcr.io/acme/shop-api:latest")
    assert (subject["tag"], subject["tags"]) == ("latest", ["latest", "1.4.2", "rc1"])


def _trivy_of(tmp_path: Path, name: str, **metadata: object) -> Path:
    report = {
        "SchemaVersion": 2,
        "ArtifactName": name,
        "ArtifactType": "container_image",
        "Metadata": metadata,
        "Results": [],
    }
    path = tmp_path / "trivy.json"
    path.write_text(json.dumps(report))
    return path


def test_a_scan_proven_by_digest_adds_the_tag_it_names(gate_cli, tmp_path):
    [inspect] = json.loads((FIXTURES / "image" / "inspect.json").read_text())
    scan = _trivy_of(tmp_path, "ghcr.io/acme/shop-api:candidate", ImageID=inspect["Id"])
    subject = _subject(gate_cli, _inspect_tagged(tmp_path, TAGGED[0]), scan)
    assert subject["tags"] == ["1.4.2", "candidate"]


def test_a_scan_by_another_tag_without_digests_adds_nothing(gate_cli, tmp_path):
    # Without a digest, another tag of the same repository may be another image.
    scan = _trivy_of(tmp_path, "ghcr.io/acme/shop-api:evil")
    subject = _subject(gate_cli, _inspect_tagged(tmp_path, TAGGED[0]), scan)
    assert subject["tags"] == ["1.4.2"]


def test_tags_of_an_input_about_another_image_are_not_taken(gate_cli, tmp_path):
    report = {
        "SchemaVersion": 2,
        "ArtifactName": "ghcr.io/acme/other:9.9",
        "ArtifactType": "container_image",
        "Results": [],
    }
    other = tmp_path / "trivy.json"
    other.write_text(json.dumps(report))
    subject = _subject(gate_cli, _inspect_tagged(tmp_path, TAGGED[0]), other)
    assert subject["tags"] == ["1.4.2"]


def test_untagged_metadata_has_no_tags(gate_cli, tmp_path):
    subject = _subject(gate_cli, _inspect_tagged(tmp_path))
    assert (subject["tag"], subject["tags"]) == (None, [])


# --- what scanners already give: EPSS, known exploited, CWEs, one Maven name --------------

GRYPE_REPORT = FIXTURES / "reports" / "grype" / "image.json"


def _grype_with(tmp_path: Path, **fields: object) -> Path:
    report = json.loads(GRYPE_REPORT.read_text())
    report["matches"] = report["matches"][:1]
    report["matches"][0]["vulnerability"].update(fields)
    path = tmp_path / "grype.json"
    path.write_text(json.dumps(report))
    return path


def _only_vulnerability(gate_cli, *args: str | Path) -> dict:
    result = gate_cli("normalize", *args)
    assert result.code == 0, result.err
    [vuln] = json.loads(result.out)["vulnerabilities"]
    return vuln


def test_grype_epss_kev_and_cwes_are_carried(gate_cli, tmp_path):
    vuln_id = json.loads(GRYPE_REPORT.read_text())["matches"][0]["vulnerability"]["id"]
    path = _grype_with(
        tmp_path,
        epss=[
            {"cve": "CVE-1999-0001", "epss": 0.9, "percentile": 0.99, "date": "2025-06-18"},
            {"cve": vuln_id, "epss": 0.0719, "percentile": 0.91123, "date": "2025-06-18"},
        ],
        knownExploited=[{"cve": vuln_id, "dateAdded": "2025-01-01"}],
        cwes=[{"cve": vuln_id, "cwe": "CWE-79"}, {"cve": vuln_id, "cwe": "NVD-CWE-noinfo"}],
    )
    vuln = _only_vulnerability(gate_cli, path)
    assert vuln["epss"] == {"score": 0.0719, "percentile": 0.91123, "date": "2025-06-18"}
    assert vuln["known_exploited"] is True
    assert vuln["cwes"] == ["CWE-79"]


def test_without_exploitation_data_nothing_is_claimed(gate_cli, tmp_path):
    vuln = _only_vulnerability(gate_cli, _grype_with(tmp_path))
    assert (vuln["epss"], vuln["known_exploited"], vuln["cwes"]) == (None, False, [])


@pytest.mark.parametrize(
    "epss",
    [
        [{"cve": "CVE-1", "epss": 5, "percentile": 0.5}],
        [{"cve": "CVE-1", "epss": "high"}],
        [{"cve": "CVE-1", "epss": 0.5, "percentile": -1}],
        {"epss": 0.5},
    ],
)
def test_a_malformed_epss_is_no_verdict(gate_cli, tmp_path, epss):
    result = gate_cli("check", _grype_with(tmp_path, epss=epss))
    assert result.code == 3
    assert "epss" in result.err


def test_the_real_grype_epss_corpus_report_carries_scores():
    path = CORPUS / "grype" / "grype-0.94-image-busybox-epss-dbv6.json"
    if not path.exists():
        pytest.skip("shared corpus not present")
    vulnerabilities = normalize_fixture(path)["vulnerabilities"]
    scored = [v for v in vulnerabilities if v["epss"]]
    assert scored and all(0 <= v["epss"]["score"] <= 1 for v in scored)


def test_trivy_cwe_ids_and_published_are_carried(gate_cli, tmp_path):
    report = json.loads((FIXTURES / "reports" / "trivy" / "v2-image.json").read_text())
    result = next(r for r in report["Results"] if r.get("Vulnerabilities"))
    report["Results"] = [dict(result, Vulnerabilities=result["Vulnerabilities"][:1])]
    report["Results"][0]["Vulnerabilities"][0].update(
        CweIDs=["CWE-787", "NVD-CWE-Other", "cwe-20"], PublishedDate="2024-01-10T00:00:00Z"
    )
    path = tmp_path / "trivy.json"
    path.write_text(json.dumps(report))
    vuln = _only_vulnerability(gate_cli, path)
    assert vuln["cwes"] == ["CWE-787", "CWE-20"]
    assert vuln["published"] == "2024-01-10T00:00:00Z"


def test_a_maven_package_has_one_name_whichever_scanner_reported_it(gate_cli):
    trivy = FIXTURES / "reports" / "trivy" / "v2-image.json"
    names = {
        tuple(
            sorted(
                v["package"]["name"]
                for v in json.loads(gate_cli("normalize", *paths).out)["vulnerabilities"]
                if v["package"]["type"] == "maven" and "tomcat" in v["package"]["name"]
            )
        )
        for paths in ((trivy,), (GRYPE_REPORT,), (GRYPE_REPORT, trivy), (trivy, GRYPE_REPORT))
    }
    assert names == {("org.apache.tomcat.embed:tomcat-embed-core",)}


@pytest.mark.parametrize(
    "fields",
    [{"cwes": [{"cwe": 5.5}]}, {"cwes": "CWE-79"}, {"knownExploited": {"cve": "CVE-1"}}],
)
def test_misshapen_cwes_or_kev_are_no_verdict(gate_cli, tmp_path, fields):
    result = gate_cli("check", _grype_with(tmp_path, **fields))
    assert result.code == 3
    assert next(iter(fields)) in result.err
