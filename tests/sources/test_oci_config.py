"""OCI / Docker image config blobs: detection, mapping, image ID from the bytes."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from conftest import CORPUS, FIXTURES, corpus_params, load_input
from tests_support import parse_corpus, refusal, stand_in

from gate.sources.base import Fragment
from gate.sources.oci_config import ImageConfigSource

SOURCE = ImageConfigSource()


def parse_inline(data: Any) -> Fragment:
    """Parse an in-test config."""
    return SOURCE.parse(data, stand_in("config.json", "c"))


MINIMAL = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(MINIMAL, True, id="rootfs-only"),
        pytest.param({"architecture": "arm64", "os": "linux", "config": {}}, True, id="config"),
        pytest.param({"architecture": "amd64", "os": "linux"}, False, id="platform-only"),
        pytest.param(
            {**MINIMAL, "mediaType": "application/vnd.oci.image.manifest.v1+json"},
            False,
            id="has-media-type",
        ),
        pytest.param({**MINIMAL, "layers": []}, False, id="has-layers"),
        pytest.param({**MINIMAL, "manifests": []}, False, id="has-manifests"),
        pytest.param(
            {"schemaVersion": 1, "architecture": "amd64", "fsLayers": [], "history": []},
            False,
            id="schema1-manifest",
        ),
        pytest.param([{"Id": "sha256:" + "a" * 64, "Config": {}}], False, id="docker-inspect"),
        pytest.param(
            {"Architecture": "amd64", "Os": "linux", "Config": {}}, False, id="inspect-object"
        ),
        pytest.param({"SchemaVersion": 2, "Results": []}, False, id="aqua-report-v2"),
        pytest.param({"matches": [], "source": {}}, False, id="grype"),
        pytest.param(None, False, id="null"),
        pytest.param([], False, id="empty-list"),
        pytest.param({}, False, id="empty-object"),
    ],
)
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


def test_fixture() -> None:
    path = FIXTURES / "image" / "config.json"
    data, source = load_input(path)
    assert SOURCE.matches(data)
    fragment = SOURCE.parse(data, source)
    image_id = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert (fragment.format, fragment.tool, fragment.authority) == ("image-config", "oci", 10)
    assert fragment.kinds == ["metadata"]
    assert fragment.artifact_digests == [image_id]
    assert fragment.subject.image_id == image_id
    assert fragment.subject.digest is None and fragment.subject.reference is None
    image = fragment.image
    assert image is not None
    assert image.created == "2024-10-12T18:03:11.508362Z"
    assert (image.user, image.workdir) == ("app", "/app")
    assert image.env["SPRING_PROFILES_ACTIVE"] == "prod"
    assert image.exposed_ports == ["8080/tcp", "8443/tcp"]
    assert (image.entrypoint, image.cmd) == (
        ["java", "-jar", "/app/app.jar"],
        ["--server.port=8080"],
    )
    assert image.healthcheck is not None
    assert (image.healthcheck.interval, image.healthcheck.timeout) == ("30s", "5s")
    assert (image.os, image.architecture) == ("linux", "amd64")
    assert [layer.digest for layer in image.layers] == data["rootfs"]["diff_ids"]
    assert image.base is not None and image.base.name == "docker.io/library/debian:12.5-slim"


def test_legacy_container_config_is_ignored() -> None:
    data = {
        **MINIMAL,
        "config": {"User": "app", "Cmd": ["serve"]},
        "container_config": {"User": "root", "Cmd": ["/bin/sh", "-c", '#(nop) CMD ["serve"]']},
        "docker_version": "20.10.7",
    }
    image = parse_inline(data).image
    assert image is not None
    assert (image.user, image.cmd) == ("app", ["serve"])


def test_unknown_platform_and_extra_fields_are_kept_as_given() -> None:
    data = {
        "architecture": "unknown",
        "os": "unknown",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "1" * 64]},
        "extra-object": {"foo": "bar"},
    }
    image = parse_inline(data).image
    assert image is not None
    assert (image.architecture, image.os, image.user) == ("unknown", "unknown", "")
    assert len(image.layers) == 1


@pytest.mark.parametrize(
    ("data", "place"),
    [
        pytest.param({**MINIMAL, "config": "x"}, "config", id="config-string"),
        pytest.param({**MINIMAL, "config": {"Env": [1]}}, "config.Env[0]", id="env-item"),
        pytest.param({**MINIMAL, "config": {"Cmd": {"a": 1}}}, "config.Cmd", id="cmd-object"),
        pytest.param(
            {**MINIMAL, "config": {"ExposedPorts": ["80/tcp"]}},
            "config.ExposedPorts",
            id="ports-array",
        ),
        pytest.param({**MINIMAL, "rootfs": {"diff_ids": "x"}}, "rootfs.diff_ids", id="diff-ids"),
        pytest.param({**MINIMAL, "created": 5}, "created", id="created-number"),
        pytest.param({**MINIMAL, "os": ["linux"]}, "os", id="os-array"),
    ],
)
def test_malformed_configs_name_file_and_place(data: dict[str, Any], place: str) -> None:
    message = refusal(SOURCE, data, "blobs/config.json", "c")
    assert message.startswith(f"blobs/config.json: {place}:")


@pytest.mark.parametrize("local_path", corpus_params("oci-config"))
def test_corpus(local_path: str) -> None:
    data, fragment = parse_corpus(SOURCE, local_path)
    own = hashlib.sha256((CORPUS / local_path).read_bytes()).hexdigest()
    assert fragment.subject.image_id == f"sha256:{own}"
    assert fragment.image is not None and fragment.image.architecture
