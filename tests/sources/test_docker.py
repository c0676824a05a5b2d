"""docker/podman inspect: detection, image and container mapping, one-image rule, durations."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from conftest import FIXTURES, corpus_params, load_input
from tests_support import parse_corpus, refusal, replaced, stand_in

from gate.sources.base import Fragment
from gate.sources.docker import DockerInspectSource
from gate.sources.image_config import go_duration

REFERENCE = "ghcr.io/acme/shop-api:1.4.2"
MANIFEST_DIGEST = "sha256:4a5f0c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
IMAGE_ID = "sha256:9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
OTHER_ID = "sha256:" + "e" * 64
IMAGE = FIXTURES / "image"
SOURCE = DockerInspectSource()


def fixture_data(name: str) -> Any:
    """Return a fresh parsed copy of a fixture under fixtures/image."""
    return load_input(IMAGE / name)[0]


def parse_fixture(name: str) -> Fragment:
    """Parse a fixture under fixtures/image."""
    data, source = load_input(IMAGE / name)
    return SOURCE.parse(data, source)


def parse_inline(data: Any) -> Fragment:
    """Parse in-test inspect output."""
    return SOURCE.parse(data, stand_in("inspect.json"))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param([{"Id": IMAGE_ID, "Config": {}}], True, id="image"),
        pytest.param([{"Id": "", "Config": None}], True, id="zero-valued"),
        pytest.param([{"Id": "abc", "State": {}, "Image": IMAGE_ID}], True, id="container"),
        pytest.param({"Id": IMAGE_ID, "Config": {}}, False, id="object-not-array"),
        pytest.param([{"Config": {}}], False, id="no-id"),
        pytest.param([1], False, id="array-of-numbers"),
        pytest.param([{"Target": "x", "Vulnerabilities": []}], False, id="aqua-legacy-list"),
        pytest.param([{"code": "DL3008", "file": "Dockerfile"}], False, id="hadolint"),
        pytest.param({"SchemaVersion": 2, "Results": []}, False, id="aqua-report-v2"),
        pytest.param({"matches": [], "source": {}}, False, id="grype"),
        pytest.param({"architecture": "amd64", "os": "linux", "config": {}}, False, id="config"),
        pytest.param(None, False, id="null"),
        pytest.param([], False, id="empty-list"),
        pytest.param({}, False, id="empty-object"),
    ],
)
def test_matches(data: Any, expected: bool) -> None:
    assert SOURCE.matches(data) is expected


def test_image_inspect_scan_facts_and_subject() -> None:
    fragment = parse_fixture("inspect.json")
    assert (fragment.format, fragment.tool, fragment.tool_version) == (
        "docker-inspect",
        "docker",
        None,
    )
    assert fragment.created is None  # inspecting is not scanning
    assert (fragment.artifact_name, fragment.artifact_type) == (REFERENCE, "container_image")
    assert fragment.artifact_digests == [IMAGE_ID, MANIFEST_DIGEST]
    assert (fragment.kinds, fragment.authority) == (["metadata"], 10)
    assert fragment.vulnerabilities == []
    subject = fragment.subject
    assert (subject.reference, subject.registry, subject.repository, subject.tag) == (
        REFERENCE,
        "ghcr.io",
        "acme/shop-api",
        "1.4.2",
    )
    assert (subject.digest, subject.image_id) == (MANIFEST_DIGEST, IMAGE_ID)


def test_image_inspect_configuration() -> None:
    image = parse_fixture("inspect.json").image
    assert image is not None
    assert image.created == "2024-10-12T18:03:11.508362Z"
    assert image.user == "app"
    assert image.env == {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "JAVA_TOOL_OPTIONS": "-XX:MaxRAMPercentage=75 -Dfile.encoding=UTF-8",
        "SPRING_PROFILES_ACTIVE": "prod",
    }
    assert image.labels["org.opencontainers.image.source"] == "https://github.com/acme/shop-api"
    assert image.labels["org.opencontainers.image.revision"] == (
        "4f9c2e1b7d3a8c6e5f0a1b2c3d4e5f6a7b8c9d0e"
    )
    assert image.exposed_ports == ["8080/tcp", "8443/tcp"]  # sorted
    assert image.entrypoint == ["java", "-jar", "/app/app.jar"]
    assert image.cmd == ["--server.port=8080"]
    assert image.workdir == "/app"
    assert image.healthcheck is not None
    assert image.healthcheck.test[0] == "CMD-SHELL"
    assert (image.healthcheck.interval, image.healthcheck.timeout) == ("30s", "5s")
    assert image.healthcheck.retries == 3
    assert (image.os, image.architecture, image.variant) == ("linux", "amd64", None)
    assert image.size == 231456768
    assert [layer.digest for layer in image.layers] == fixture_data("inspect.json")[0]["RootFS"][
        "Layers"
    ]
    assert image.base is not None
    assert (image.base.name, image.base.digest) == (
        "docker.io/library/debian:12.5-slim",
        "sha256:cae662172fd450bb0cd710a769079c05bfc5d8e35efa6576edc7d0377afdd4a2",
    )


def test_root_image_keeps_empty_user() -> None:
    image = parse_fixture("inspect-root.json").image
    assert image is not None
    assert image.user == ""  # empty means root, which is a fact, not "unknown"
    assert image.healthcheck is None


def test_container_inspect() -> None:
    fragment = parse_fixture("container-inspect.json")
    assert (fragment.artifact_type, fragment.artifact_name) == ("container", "shop-api-1")
    assert fragment.subject.reference == REFERENCE
    assert fragment.subject.image_id == IMAGE_ID
    assert fragment.subject.digest is None
    assert fragment.artifact_digests == [IMAGE_ID]
    image = fragment.image
    assert image is not None
    assert image.created is None  # the container's Created is not the image's build time
    assert image.env["SPRING_PROFILES_ACTIVE"] == "staging"  # run-time override
    assert image.labels["com.example.team"] == "payments"
    assert image.os == "linux"
    assert image.user == "app"


def test_containerd_store_container() -> None:
    data = fixture_data("container-inspect.json")
    data[0]["ImageManifestDescriptor"] = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": MANIFEST_DIGEST,
        "size": 1334,
        "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"},
    }
    data[0]["Image"] = OTHER_ID  # the index digest, in the containerd store
    fragment = parse_inline(data)
    assert fragment.subject.digest == MANIFEST_DIGEST
    assert fragment.subject.image_id is None
    assert fragment.artifact_digests == [OTHER_ID, MANIFEST_DIGEST]
    assert fragment.image is not None
    assert (fragment.image.architecture, fragment.image.variant) == ("arm64", "v8")


def test_containerd_store_image_id_is_not_claimed_as_config_digest() -> None:
    data = fixture_data("inspect.json")
    data[0]["Id"] = OTHER_ID
    data[0]["RepoDigests"] = []
    data[0]["Descriptor"] = {
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": OTHER_ID,
        "size": 856,
    }
    fragment = parse_inline(data)
    assert (fragment.subject.digest, fragment.subject.image_id) == (OTHER_ID, None)
    assert fragment.artifact_digests == [OTHER_ID]


def test_podman_image_inspect() -> None:
    data = fixture_data("inspect-root.json")
    data[0]["Id"] = IMAGE_ID.removeprefix("sha256:")  # Podman writes bare hex
    data[0]["Digest"] = MANIFEST_DIGEST
    data[0]["RepoDigests"] = []
    data[0]["NamesHistory"] = [REFERENCE]
    data[0]["Healthcheck"] = {"Test": ["CMD", "true"], "Interval": 90_000_000_000, "Retries": 0}
    fragment = parse_inline(data)
    assert fragment.tool == "podman"
    assert (fragment.subject.image_id, fragment.subject.digest) == (IMAGE_ID, MANIFEST_DIGEST)
    assert fragment.image is not None and fragment.image.healthcheck is not None
    assert fragment.image.healthcheck.interval == "1m30s"


@pytest.mark.parametrize(
    ("nanoseconds", "text"),
    [
        pytest.param(0, "0s", id="zero"),
        pytest.param(1, "1ns", id="ns"),
        pytest.param(1_500, "1.5µs", id="us"),
        pytest.param(500_000_000, "500ms", id="ms"),
        pytest.param(30_000_000_000, "30s", id="30s"),
        pytest.param(90_000_000_000, "1m30s", id="1m30s"),
        pytest.param(3_600_000_000_000, "1h0m0s", id="1h"),
        pytest.param(5_400_500_000_000, "1h30m0.5s", id="fraction"),
        pytest.param(-5_000_000_000, "-5s", id="negative"),
    ],
)
def test_go_durations(nanoseconds: int, text: str) -> None:
    assert go_duration(nanoseconds) == text


@pytest.mark.parametrize(
    ("healthcheck", "expected"),
    [
        pytest.param({"Test": ["NONE"]}, None, id="none-disables"),
        pytest.param(None, None, id="null"),
        pytest.param(
            {"Test": ["CMD", "true"], "Interval": 0, "Timeout": 2_000_000_000},
            (None, "2s"),
            id="zero-means-default",
        ),
        pytest.param(
            {"Test": ["CMD", "true"], "Interval": "45s"}, ("45s", None), id="already-text"
        ),
    ],
)
def test_healthcheck_shapes(
    healthcheck: Any, expected: tuple[str | None, str | None] | None
) -> None:
    data = fixture_data("inspect.json")
    data[0]["Config"]["Healthcheck"] = healthcheck
    image = parse_inline(data).image
    assert image is not None
    check = image.healthcheck
    if expected is None:
        assert check is None
    else:
        assert check is not None and (check.interval, check.timeout) == expected


def test_env_entries() -> None:
    data = fixture_data("inspect.json")
    data[0]["Config"]["Env"] = ["FLAG", "URL=a=b", "X=1", "X=2"]
    image = parse_inline(data).image
    assert image is not None
    assert image.env == {"FLAG": "", "URL": "a=b", "X": "2"}


def test_null_labels_and_ports() -> None:
    data = fixture_data("inspect.json")
    data[0]["Config"].update(Labels=None, ExposedPorts=None, Entrypoint=None, WorkingDir="")
    image = parse_inline(data).image
    assert image is not None
    assert (image.labels, image.exposed_ports, image.entrypoint, image.workdir) == (
        {},
        [],
        None,
        None,
    )
    assert image.base is None


def test_same_image_twice_is_fine() -> None:
    data = fixture_data("inspect.json")
    fragment = parse_inline(data + copy.deepcopy(data))
    assert fragment.subject.image_id == IMAGE_ID


@pytest.mark.parametrize(
    ("ids", "place", "count"),
    [
        pytest.param([IMAGE_ID, OTHER_ID], "[1]", 2, id="two"),
        pytest.param([IMAGE_ID, IMAGE_ID, OTHER_ID], "[2]", 2, id="third-differs"),
        pytest.param([IMAGE_ID, OTHER_ID, "sha256:" + "f" * 64], "[1]", 3, id="three-different"),
    ],
)
def test_several_images_are_refused(ids: list[str], place: str, count: int) -> None:
    [obj] = fixture_data("inspect.json")
    data = [{**copy.deepcopy(obj), "Id": image_id} for image_id in ids]
    message = refusal(SOURCE, data, "images/inspect.json")
    assert message.startswith(f"images/inspect.json: {place}:")
    assert f"holds {count} different images" in message


def test_placeholder_objects_are_skipped() -> None:
    placeholder: dict[str, Any] = {"Id": "", "RepoTags": None, "Config": None, "RootFS": {}}
    real = fixture_data("inspect.json")[0]
    fragment = parse_inline([placeholder, real])
    assert fragment.subject.image_id == IMAGE_ID
    assert fragment.image is not None and fragment.image.user == "app"


def test_all_placeholders_yield_no_facts() -> None:
    placeholder: dict[str, Any] = {"Id": "", "RepoTags": None, "Config": None, "RootFS": {}}
    fragment = parse_inline([placeholder, dict(placeholder)])
    assert fragment.image is None
    assert fragment.subject.reference is None and fragment.subject.image_id is None
    assert fragment.artifact_digests == []


@pytest.mark.parametrize(
    ("path", "value", "place"),
    [
        pytest.param([0], "sha256:abc", "[0]", id="item-string"),
        pytest.param([0, "Config"], [], "[0].Config", id="config-array"),
        pytest.param([0, "Config", "Env"], "PATH=/bin", "[0].Config.Env", id="env-string"),
        pytest.param([0, "Config", "Env", 1], 7, "[0].Config.Env[1]", id="env-item"),
        pytest.param([0, "Config", "Labels", "team"], 1, "[0].Config.Labels.team", id="label"),
        pytest.param([0, "Config", "User"], 0, "[0].Config.User", id="user-number"),
        pytest.param(
            [0, "Config", "Healthcheck", "Retries"],
            "3",
            "[0].Config.Healthcheck.Retries",
            id="retries-string",
        ),
        pytest.param(
            [0, "Config", "Healthcheck", "Interval"],
            1.5,
            "[0].Config.Healthcheck.Interval",
            id="interval-float",
        ),
        pytest.param([0, "RootFS", "Layers"], {}, "[0].RootFS.Layers", id="layers-object"),
        pytest.param([0, "Size"], "big", "[0].Size", id="size-string"),
        pytest.param([0, "RepoTags"], "x:1", "[0].RepoTags", id="tags-string"),
    ],
)
def test_malformed_inspect_names_file_and_place(
    path: list[str | int], value: Any, place: str
) -> None:
    data = replaced(fixture_data("inspect.json"), path, value)
    message = refusal(SOURCE, data, "images/inspect.json")
    assert message.startswith(f"images/inspect.json: {place}:")


@pytest.mark.parametrize("local_path", corpus_params("docker-inspect"))
def test_corpus(local_path: str) -> None:
    data, fragment = parse_corpus(SOURCE, local_path)
    assert fragment.format == "docker-inspect"
    assert fragment.kinds == ["metadata"]
    for digest in fragment.artifact_digests:
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    if fragment.artifact_type == "container":
        assert fragment.image is None or fragment.image.created is None
