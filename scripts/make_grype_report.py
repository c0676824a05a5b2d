#!/usr/bin/env python3
"""Write a synthetic Grype (``grype -o json``, database v6 era) image report with N matches.

Deterministic for a given N and seed, shaped like real Grype 0.9x output (deb and language
packages, NVD and distribution CVSS ratings, a related CVE for GHSA matches, EPSS, fixed
and unfixed entries), for benchmarks next to scripts/make_trivy_report.py:

    python scripts/make_grype_report.py 10000 > /tmp/grype-10k.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys

SEVERITIES = ["Critical", "High", "Medium", "Low", "Negligible", "Unknown"]
WEIGHTS = [2, 10, 40, 36, 4, 8]
DIGEST = "4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
IMAGE_ID = "9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
REFERENCE = "ghcr.io/acme/shop-api:1.4.2"


def _cvss(source: str, score: float) -> dict:
    return {
        "source": source,
        "type": "Primary",
        "version": "3.1",
        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "metrics": {"baseScore": score, "exploitabilityScore": 3.9, "impactScore": 5.9},
        "vendorMetadata": {},
    }


def match(rng: random.Random, index: int, package: str, version: str, os_package: bool) -> dict:
    cve = f"CVE-{2015 + index % 10}-{10000 + index}"
    fixed = rng.random() < 0.6
    score = round(rng.uniform(1.0, 10.0), 1)
    # Language matches come from GitHub advisories: the GHSA is matched, its CVE related.
    own_id = cve if os_package else f"GHSA-{index % 9000 + 1000:04x}-abcd-wxyz"
    namespace = "debian:distro:debian:12" if os_package else "github:language:python"
    vulnerability = {
        "id": own_id,
        "dataSource": f"https://security-tracker.debian.org/tracker/{own_id}",
        "namespace": namespace,
        "severity": rng.choices(SEVERITIES, WEIGHTS)[0],
        "urls": [f"https://example.org/advisories/{index}", f"https://example.org/fix/{index}"],
        "description": "A synthetic vulnerability used to measure gate on large reports. " * 3,
        "cvss": [_cvss("nvd@nist.gov", score)] if os_package else [],
        "epss": [
            {"cve": cve, "epss": round(rng.random(), 5), "percentile": 0.5, "date": "2026-11-01"}
        ],
        "cwes": [{"cve": cve, "cwe": "CWE-787", "source": "nvd@nist.gov", "type": "Primary"}],
        "fix": {
            "versions": [f"{version}.1"] if fixed else [],
            "state": "fixed" if fixed else "not-fixed",
        },
        "advisories": [],
    }
    related = []
    if not os_package:
        related.append(
            {
                "id": cve,
                "dataSource": f"https://nvd.nist.gov/vuln/detail/{cve}",
                "namespace": "nvd:cpe",
                "severity": "High",
                "urls": [f"https://example.org/nvd/{index}"],
                "description": "The NVD's words for the same synthetic flaw.",
                "cvss": [_cvss("nvd@nist.gov", score)],
            }
        )
    kind = "deb" if os_package else "python"
    purl_type = "deb/debian" if os_package else "pypi"
    return {
        "vulnerability": vulnerability,
        "relatedVulnerabilities": related,
        "matchDetails": [
            {
                "type": "exact-direct-match",
                "matcher": "dpkg-matcher" if os_package else "python-matcher",
                "searchedBy": {"namespace": namespace},
                "found": {"vulnerabilityID": own_id, "versionConstraint": f"< {version}.1"},
            }
        ],
        "artifact": {
            "id": f"{index:016x}",
            "name": package,
            "version": version,
            "type": kind,
            "locations": [
                {
                    "path": "/var/lib/dpkg/status"
                    if os_package
                    else f"/app/lib/{package}-{version}.dist-info/METADATA",
                    "layerID": f"sha256:{index % 7:064x}",
                }
            ],
            "language": "" if os_package else "python",
            "licenses": [],
            "cpes": [f"cpe:2.3:a:{package}:{package}:{version}:*:*:*:*:*:*:*"],
            "purl": f"pkg:{purl_type}/{package}@{version}",
            "upstreams": [],
        },
    }


def report(count: int, seed: int) -> dict:
    rng = random.Random(seed)
    matches = []
    for index in range(count):
        package = f"pkg{index % 1500}"
        version = f"1.{index % 13}.{index % 7}"
        matches.append(match(rng, index, package, version, os_package=bool(index % 3)))
    return {
        "matches": matches,
        "source": {
            "type": "image",
            "target": {
                "userInput": REFERENCE,
                "imageID": f"sha256:{IMAGE_ID}",
                "manifestDigest": f"sha256:{DIGEST}",
                "tags": [REFERENCE],
                "repoDigests": [f"ghcr.io/acme/shop-api@sha256:{DIGEST}"],
                "imageSize": 123456789,
                "layers": [],
                "architecture": "amd64",
                "os": "linux",
            },
        },
        "distro": {"name": "debian", "version": "12", "idLike": ["debian"]},
        "descriptor": {
            "name": "grype",
            "version": "0.94.0",
            "timestamp": "2026-11-27T10:00:00.123456789Z",
            "db": {"status": {"built": "2026-11-26T00:00:00Z", "schemaVersion": "v6.0.2"}},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of matches")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    json.dump(report(args.count, args.seed), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
