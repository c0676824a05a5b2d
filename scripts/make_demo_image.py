"""Write the demo image of the README's staging -> prod flow, and the reports about it.

    python scripts/make_demo_image.py [--layout DIR] [--reports DIR]

Writes ``fixtures/oci/hello/``: an OCI image layout (``oci-layout``, ``index.json`` naming
the image ``1.0.0``, ``blobs/sha256/…``) of ``acme/hello:1.0.0``, one small gzip tar layer
and a config that passes every image rule of the default pack (non-root user, the labels
``policies/data.json`` requires, a healthcheck, no secret-looking environment). It is
pushed as is (``skopeo copy oci:fixtures/oci/hello:1.0.0 docker://…``), so its manifest
digest is the digest gate judges in the registry.

And ``fixtures/demo/``: what a pipeline would have produced about that digest, in each
tool's own format (Grype with no matches, a Syft SBOM, SLSA v0.2 provenance from a trusted
builder, and the ``cosign download signature`` output of a signature made with the test key
``fixtures/keys/release.key``). They name the image ``127.0.0.1:5000/acme/hello``; gate
compares digests before names, so they hold for the demo registry on any port.

The image is data for the demo, not a program: it has no interpreter to run its script.
Everything is deterministic (tar and gzip times 0, sorted JSON, Ed25519 signatures), so a
re-run rewrites identical bytes and the digest never changes unless this script does.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

from gate.signing import cosign_payload, load_signing_key, sign_cosign

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = ROOT / "fixtures" / "oci" / "hello"
REPORTS = ROOT / "fixtures" / "demo"
SIGNING_KEY = ROOT / "fixtures" / "keys" / "release.key"

REPOSITORY = "127.0.0.1:5000/acme/hello"
TAG = "1.0.0"
BUILT_AT = "2024-10-14T08:00:00Z"
BUILD_STARTED_AT = "2024-10-14T07:58:41Z"
SCANNED_AT = "2024-10-14T10:00:00Z"
SOURCE_REPOSITORY = "https://github.com/acme/hello"
REVISION = "5b1d6e0c8a4f2e9d7c3b1a0f6e5d4c3b2a190817"
TRUSTED_BUILDER = (
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/"
    "generator_container_slsa3.yml@refs/tags/v2.0.0"
)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

PACKAGES = [
    # (name, version, licence): the Python distributions the layer ships, as Syft lists them
    ("hello-greeting", "1.0.0", "MIT"),
    ("click", "8.1.7", "BSD-3-Clause"),
]
SITE_PACKAGES = "app/site-packages"


def _metadata(name: str, version: str, licence: str) -> bytes:
    return (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense: {licence}\n"
    ).encode()


LAYER_FILES: dict[str, bytes] = {
    "app/hello.py": b'import sys\n\nprint("ok" if "--health" in sys.argv else "hello from acme")\n',
    **{
        f"{SITE_PACKAGES}/{name.replace('-', '_')}-{version}.dist-info/METADATA": _metadata(
            name, version, licence
        )
        for name, version, licence in PACKAGES
    },
}


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(value: Any) -> bytes:
    """The bytes of an image layout's JSON: compact and sorted, so always the same."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def pretty(value: Any) -> bytes:
    """The bytes of a report fixture: indented for people, sorted so always the same."""
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def layer() -> tuple[bytes, str]:
    """The gzip tar layer and its diff_id (the digest of the uncompressed tar)."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path, content in sorted(LAYER_FILES.items()):
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            tar.addfile(info, io.BytesIO(content))
    uncompressed = archive.getvalue()
    return gzip.compress(uncompressed, compresslevel=9, mtime=0), sha256(uncompressed)


def image_config(diff_id: str) -> dict[str, Any]:
    return {
        "created": BUILT_AT,
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "User": "65532:65532",
            "Env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                f"PYTHONPATH=/{SITE_PACKAGES}",
            ],
            "Entrypoint": ["python3", "/app/hello.py"],
            "WorkingDir": "/app",
            "Healthcheck": {
                "Test": ["CMD", "python3", "/app/hello.py", "--health"],
                "Interval": 30_000_000_000,
                "Timeout": 5_000_000_000,
                "Retries": 3,
            },
            "Labels": {
                "org.opencontainers.image.source": SOURCE_REPOSITORY,
                "org.opencontainers.image.revision": REVISION,
                "org.opencontainers.image.version": TAG,
                "org.opencontainers.image.title": "hello",
            },
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": BUILT_AT, "created_by": "COPY app/ /app/ # buildkit"}],
    }


def descriptor(media_type: str, data: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha256(data), "size": len(data)}


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_layout(layout: Path = LAYOUT) -> dict[str, Any]:
    """Write the OCI layout afresh; what the reports need to know about the image."""
    layer_blob, diff_id = layer()
    config = canonical(image_config(diff_id))
    manifest = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config),
            "layers": [descriptor(OCI_LAYER, layer_blob)],
        }
    )
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                **descriptor(OCI_MANIFEST, manifest),
                "annotations": {"org.opencontainers.image.ref.name": TAG},
            }
        ],
    }
    shutil.rmtree(layout, ignore_errors=True)  # no blob of an earlier image stays behind
    for blob in (layer_blob, config, manifest):
        write(layout / "blobs" / "sha256" / sha256(blob).removeprefix("sha256:"), blob)
    write(layout / "oci-layout", canonical({"imageLayoutVersion": "1.0.0"}))
    write(layout / "index.json", canonical(index))
    return {
        "digest": sha256(manifest),
        "image_id": sha256(config),
        "diff_id": diff_id,
        "layer_size": len(layer_blob),
        "size": len(layer_blob) + len(config),
    }


def image_source(image: dict[str, Any]) -> dict[str, Any]:
    """The image as Grype and Syft describe what they scanned (stereoscope's metadata)."""
    return {
        "userInput": f"{REPOSITORY}:{TAG}",
        "imageID": image["image_id"],
        "manifestDigest": image["digest"],
        "mediaType": OCI_MANIFEST,
        "tags": [f"{REPOSITORY}:{TAG}"],
        "imageSize": image["size"],
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": image["diff_id"],
                "size": image["layer_size"],
            }
        ],
        "repoDigests": [f"{REPOSITORY}@{image['digest']}"],
        "architecture": "amd64",
        "os": "linux",
        "labels": image_config(image["diff_id"])["config"]["Labels"],
    }


def grype_report(image: dict[str, Any]) -> dict[str, Any]:
    return {
        "matches": [],
        "source": {
            "type": "image",
            "target": image_source(image),
        },
        "distro": {"name": "", "version": "", "idLike": None},
        "descriptor": {
            "name": "grype",
            "version": "0.86.1",
            "db": {
                "status": {
                    "schemaVersion": "v6.0.2",
                    "from": "https://grype.anchore.io/databases/v6/vulnerability-db_v6.0.2_2024-10-14T01:31:05Z_1728869465.tar.zst",
                    "built": "2024-10-14T04:12:38Z",
                    "path": "/home/ci/.cache/grype/db/6/vulnerability.db",
                    "valid": True,
                }
            },
            "timestamp": SCANNED_AT,
        },
    }


def syft_sbom(image: dict[str, Any]) -> dict[str, Any]:
    artifacts = []
    for number, (name, version, licence) in enumerate(PACKAGES, start=1):
        metadata = f"/{SITE_PACKAGES}/{name.replace('-', '_')}-{version}.dist-info/METADATA"
        artifacts.append(
            {
                "id": f"{number:016x}",
                "name": name,
                "version": version,
                "type": "python",
                "foundBy": "python-installed-package-cataloger",
                "locations": [
                    {
                        "path": metadata,
                        "layerID": image["diff_id"],
                        "accessPath": metadata,
                        "annotations": {"evidence": "primary"},
                    }
                ],
                "licenses": [
                    {
                        "value": licence,
                        "spdxExpression": licence,
                        "type": "declared",
                        "urls": [],
                        "locations": [],
                    }
                ],
                "language": "python",
                "cpes": [
                    {
                        "cpe": f"cpe:2.3:a:python-{name}:python-{name}:{version}:*:*:*:*:*:*:*",
                        "source": "syft-generated",
                    }
                ],
                "purl": f"pkg:pypi/{name}@{version}",
            }
        )
    return {
        "artifacts": artifacts,
        "artifactRelationships": [],
        "source": {
            "id": image["digest"].removeprefix("sha256:"),
            "name": REPOSITORY,
            "version": TAG,
            "type": "image",
            "metadata": image_source(image),
        },
        "distro": {},
        "descriptor": {
            "name": "syft",
            "version": "1.18.1",
            "configuration": {"catalogers": {"requested": {"default": ["image"]}}},
        },
        "schema": {
            "version": "16.0.18",
            "url": "https://raw.githubusercontent.com/anchore/syft/main/schema/json/schema-16.0.18.json",
        },
    }


def provenance(image: dict[str, Any]) -> dict[str, Any]:
    source = f"git+{SOURCE_REPOSITORY}@refs/tags/v{TAG}"
    return {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [
            {"name": REPOSITORY, "digest": {"sha256": image["digest"].removeprefix("sha256:")}}
        ],
        "predicate": {
            "builder": {"id": TRUSTED_BUILDER},
            "buildType": "https://github.com/slsa-framework/slsa-github-generator/container@v1",
            "invocation": {
                "configSource": {
                    "uri": source,
                    "digest": {"sha1": REVISION},
                    "entryPoint": ".github/workflows/release.yml",
                },
                "parameters": {},
                "environment": {
                    "github_event_name": "push",
                    "github_ref": f"refs/tags/v{TAG}",
                    "github_ref_type": "tag",
                    "github_repository_owner": "acme",
                    "github_sha1": REVISION,
                },
            },
            "metadata": {
                "buildInvocationID": "9012345679-1",
                "buildStartedOn": BUILD_STARTED_AT,
                "buildFinishedOn": BUILT_AT,
                "completeness": {"parameters": True, "environment": False, "materials": False},
                "reproducible": False,
            },
            "materials": [{"uri": source, "digest": {"sha1": REVISION}}],
        },
    }


def cosign_signature(image: dict[str, Any]) -> dict[str, Any]:
    """What ``cosign download signature`` prints for a key-based signature of the digest."""
    payload = cosign_payload(REPOSITORY, image["digest"])
    return {
        "Base64Signature": sign_cosign(payload, load_signing_key(str(SIGNING_KEY))),
        "Payload": base64.b64encode(payload).decode("ascii"),
        "Cert": None,
        "Chain": None,
        "Bundle": None,
        "RFC3161Timestamp": None,
    }


def write_reports(image: dict[str, Any], reports: Path = REPORTS) -> None:
    write(reports / "hello.grype.json", pretty(grype_report(image)))
    write(reports / "hello.syft.json", pretty(syft_sbom(image)))
    write(reports / "hello.slsa.json", pretty(provenance(image)))
    write(reports / "hello.cosign.json", pretty(cosign_signature(image)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layout", type=Path, default=LAYOUT, help="default: %(default)s")
    parser.add_argument("--reports", type=Path, default=REPORTS, help="default: %(default)s")
    options = parser.parse_args(argv)
    image = write_layout(options.layout)
    write_reports(image, options.reports)
    print(f"{REPOSITORY}:{TAG} {image['digest']}")


if __name__ == "__main__":
    main()
