#!/usr/bin/env python3
"""Write a synthetic Trivy (SchemaVersion 2) image report with N vulnerability findings.

Deterministic for a given N and seed, shaped like real Trivy 0.5x+ output (OS packages
plus language packages, CVSS maps, fixed and unfixed entries), for benchmarks:

    python scripts/make_trivy_report.py 10000 > /tmp/trivy-10k.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys

SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
WEIGHTS = [2, 10, 40, 40, 8]
DIGEST = "4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
IMAGE_ID = "9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"


def vulnerability(rng: random.Random, index: int, package: str, version: str) -> dict:
    severity = rng.choices(SEVERITIES, WEIGHTS)[0]
    fixed = rng.random() < 0.6
    score = round(rng.uniform(1.0, 10.0), 1)
    return {
        "VulnerabilityID": f"CVE-{2015 + index % 10}-{10000 + index}",
        "PkgID": f"{package}@{version}",
        "PkgName": package,
        "InstalledVersion": version,
        **({"FixedVersion": f"{version}.1"} if fixed else {}),
        "Status": "fixed" if fixed else "affected",
        "Layer": {"DiffID": f"sha256:{index % 7:064x}"},
        "SeveritySource": "nvd",
        "PrimaryURL": f"https://avd.aquasec.com/nvd/cve-{2015 + index % 10}-{10000 + index}",
        "Title": f"{package}: synthetic flaw number {index}",
        "Description": "A synthetic vulnerability used to measure gate on large reports. " * 3,
        "Severity": severity,
        "CweIDs": ["CWE-787"],
        "CVSS": {
            "nvd": {
                "V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "V3Score": score,
            }
        },
        "References": [
            f"https://example.org/advisories/{index}",
            f"https://example.org/fix/{index}",
        ],
        "PublishedDate": f"20{15 + index % 10}-0{1 + index % 9}-1{index % 10}T00:00:00Z",
        "LastModifiedDate": "2025-01-01T00:00:00Z",
    }


def report(count: int, seed: int) -> dict:
    rng = random.Random(seed)
    os_findings = []
    lang_findings = []
    for index in range(count):
        package = f"pkg{index % 1500}"
        version = f"1.{index % 13}.{index % 7}"
        target = os_findings if index % 3 else lang_findings
        target.append(vulnerability(rng, index, package, version))
    return {
        "SchemaVersion": 2,
        "CreatedAt": "2026-11-27T10:00:00.123456789Z",
        "ArtifactName": "ghcr.io/acme/shop-api:1.4.2",
        "ArtifactType": "container_image",
        "Metadata": {
            "OS": {"Family": "debian", "Name": "12.8"},
            "ImageID": f"sha256:{IMAGE_ID}",
            "RepoTags": ["ghcr.io/acme/shop-api:1.4.2"],
            "RepoDigests": [f"ghcr.io/acme/shop-api@sha256:{DIGEST}"],
            "ImageConfig": {
                "architecture": "amd64",
                "os": "linux",
                "created": "2026-11-20T09:00:00Z",
                "config": {"User": "app", "Env": ["PATH=/usr/bin"]},
            },
        },
        "Results": [
            {
                "Target": "ghcr.io/acme/shop-api:1.4.2 (debian 12.8)",
                "Class": "os-pkgs",
                "Type": "debian",
                "Vulnerabilities": os_findings,
            },
            {
                "Target": "app/requirements.txt",
                "Class": "lang-pkgs",
                "Type": "pip",
                "Vulnerabilities": lang_findings,
            },
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of vulnerability findings")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    json.dump(report(args.count, args.seed), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
