"""RegistryClient and copy_manifest on a real Distribution registry; hostile cases on a fake."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from gate.errors import RegistryError, UsageError
from gate.registry import client as client_module
from gate.registry.client import (
    MAX_MANIFEST_BYTES,
    OCI_INDEX,
    OCI_MANIFEST,
    RegistryClient,
    RegistryOptions,
    fallback_tag,
    sha256_digest,
)
from gate.registry.copy import copy_manifest
from registry.support import (
    EMPTY_CONFIG,
    TEST_PASSWORD,
    TEST_USERNAME,
    FakeRegistry,
    Reply,
    RunningRegistry,
    SeenRequest,
    artifact_manifest,
    canonical,
    fake_registry,
    free_port,
    push_test_image,
)

VERDICT_TYPE = "application/vnd.gate.verdict.v1+json"
SBOM_TYPE = "application/spdx+json"


@pytest.fixture
def quiet_env(tmp_path: Path) -> dict[str, str]:
    """No credentials anywhere (the developer's own ~/.docker is not read)."""
    return {"HOME": str(tmp_path), "PATH": os.defpath}


def _with_login(env: dict[str, str], username: str, password: str) -> dict[str, str]:
    return env | {"GATE_REGISTRY_USERNAME": username, "GATE_REGISTRY_PASSWORD": password}


def _client(host: str, env: dict[str, str], **options: Any) -> RegistryClient:
    return RegistryClient(host, RegistryOptions(env=env, **options))


def _message(error: pytest.ExceptionInfo[RegistryError]) -> str:
    return f"{error.value} {error.value.hint or ''}"


# --- the real registry ---------------------------------------------------------------------


def test_push_and_read_back_by_tag_and_digest(registry: RunningRegistry) -> None:
    client = RegistryClient(registry.host)
    digest, raw = push_test_image(client, "acme/round-trip", "1.0")
    by_tag = client.get_manifest("acme/round-trip", "1.0")
    by_digest = client.get_manifest("acme/round-trip", digest)
    assert by_tag.raw == by_digest.raw == raw
    assert by_tag.digest == digest == sha256_digest(raw)
    assert by_tag.media_type == OCI_MANIFEST
    config = by_tag.document()["config"]
    config_raw = client.get_blob("acme/round-trip", config["digest"], limit=config["size"])
    assert json.loads(config_raw)["architecture"] == "amd64"
    assert client.has_blob("acme/round-trip", config["digest"])
    assert not client.has_blob("acme/round-trip", sha256_digest(b"never pushed"))


def test_tag_resolves_to_its_digest_and_a_missing_tag_to_none(registry: RunningRegistry) -> None:
    client = RegistryClient(registry.host)
    digest, _ = push_test_image(client, "acme/tags", "1.0")
    assert client.find_manifest("acme/tags", "1.0") == digest
    assert client.find_manifest("acme/tags", "2.0") is None
    assert client.tags("acme/tags") == ["1.0"]
    with pytest.raises(RegistryError) as caught:
        client.get_manifest("acme/tags", "2.0")
    assert str(caught.value).endswith(f"acme/tags:2.0 not found in {registry.host}")
    assert caught.value.where == f"registry://{registry.host}/acme/tags:2.0"


def test_blob_larger_than_the_limit_is_refused(registry: RunningRegistry) -> None:
    client = RegistryClient(registry.host)
    push_test_image(client, "acme/limit", "1")
    config = client.get_manifest("acme/limit", "1").document()["config"]
    with pytest.raises(RegistryError, match="more than 10 bytes"):
        client.get_blob("acme/limit", config["digest"], limit=10)


def test_basic_auth_with_the_right_credential(
    auth_registry: RunningRegistry, quiet_env: dict[str, str]
) -> None:
    client = _client(auth_registry.host, _with_login(quiet_env, TEST_USERNAME, TEST_PASSWORD))
    digest, _ = push_test_image(client, "acme/private", "1")
    assert client.find_manifest("acme/private", "1") == digest


def test_basic_auth_wrong_password_names_the_origin_not_the_password(
    auth_registry: RunningRegistry, quiet_env: dict[str, str]
) -> None:
    client = _client(auth_registry.host, _with_login(quiet_env, TEST_USERNAME, "wrong-pa55"))
    with pytest.raises(RegistryError) as caught:
        client.find_manifest("acme/private", "1")
    assert f"{auth_registry.host} refused the credentials from GATE_REGISTRY_USERNAME" in str(
        caught.value
    )
    assert "wrong-pa55" not in _message(caught)


def test_basic_auth_without_a_credential(
    auth_registry: RunningRegistry, quiet_env: dict[str, str]
) -> None:
    with pytest.raises(RegistryError) as caught:
        _client(auth_registry.host, quiet_env).find_manifest("acme/private", "1")
    assert f"{auth_registry.host} requires authentication" in str(caught.value)
    assert "GATE_REGISTRY_USERNAME" in (caught.value.hint or "")
    assert "docker login" in (caught.value.hint or "")


def test_tls_registry_needs_its_ca(tls_registry: RunningRegistry) -> None:
    with pytest.raises(RegistryError) as caught:
        RegistryClient(tls_registry.host).find_manifest("acme/tls", "1")
    assert "TLS" in str(caught.value) and "not trusted" in str(caught.value)
    assert "--registry-ca FILE" in (caught.value.hint or "")
    assert "--insecure-registry" in (caught.value.hint or "")
    client = RegistryClient(tls_registry.host, RegistryOptions(ca_file=tls_registry.ca_file))
    digest, _ = push_test_image(client, "acme/tls", "1")
    assert client.find_manifest("acme/tls", "1") == digest


def test_insecure_registry_skips_verification(tls_registry: RunningRegistry) -> None:
    options = RegistryOptions(insecure_hosts=frozenset({tls_registry.host}))
    client = RegistryClient(tls_registry.host, options)
    digest, _ = push_test_image(client, "acme/insecure", "1")
    assert client.find_manifest("acme/insecure", "1") == digest


def test_plain_http_only_for_loopback_or_insecure_hosts(
    registry: RunningRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Treat the loopback registry as a remote host: https only, so its plain HTTP is refused.
    monkeypatch.setattr(client_module, "is_loopback_host", lambda host: False)
    with pytest.raises(RegistryError) as caught:
        RegistryClient(registry.host).find_manifest("acme/http", "1")
    assert "TLS" in str(caught.value) and "--insecure-registry" in (caught.value.hint or "")
    options = RegistryOptions(insecure_hosts=frozenset({registry.host}))
    assert RegistryClient(registry.host, options).find_manifest("acme/http", "1") is None


def test_unreachable_registry_is_one_line_naming_the_host() -> None:
    host = f"127.0.0.1:{free_port()}"
    with pytest.raises(RegistryError) as caught:
        RegistryClient(host).find_manifest("acme/api", "1")
    assert str(caught.value) == f"{host}: cannot connect to {host}: Connection refused"


def test_distribution_accepts_an_artifact_with_subject_and_empty_config(
    registry: RunningRegistry,
) -> None:
    """Distribution 2.8 stores such a manifest byte for byte, but has no referrers API."""
    client = RegistryClient(registry.host)
    subject, subject_raw = push_test_image(client, "acme/artifact", "1")
    payload = b'{"decision":"pass"}'
    artifact = artifact_manifest(
        subject, len(subject_raw), VERDICT_TYPE, sha256_digest(payload), len(payload)
    )
    # The config and layer blobs must exist first: Distribution checks every descriptor.
    with pytest.raises(RegistryError, match="HTTP 400"):
        client.put_manifest("acme/artifact", sha256_digest(artifact), artifact, OCI_MANIFEST)
    assert client.push_blob("acme/artifact", b"{}") == sha256_digest(b"{}")
    client.push_blob("acme/artifact", payload)
    result = client.put_manifest("acme/artifact", sha256_digest(artifact), artifact, OCI_MANIFEST)
    assert result.subject_acknowledged is False
    stored = client.get_manifest("acme/artifact", result.digest)
    assert stored.raw == artifact
    assert stored.document()["config"]["mediaType"] == EMPTY_CONFIG
    assert client.referrers("acme/artifact", subject) == []


def _attach(client: RegistryClient, repo: str, subject: str, size: int, kind: str) -> str:
    payload = canonical({"kind": kind})
    client.push_blob(repo, b"{}")
    client.push_blob(repo, payload)
    artifact = artifact_manifest(
        subject, size, kind, sha256_digest(payload), len(payload), {"gate.test/kind": kind}
    )
    return client.attach(repo, artifact, OCI_MANIFEST, subject)


def test_attach_then_referrers_through_the_fallback_tag(registry: RunningRegistry) -> None:
    client = RegistryClient(registry.host)
    subject, subject_raw = push_test_image(client, "acme/referred", "1")
    verdict = _attach(client, "acme/referred", subject, len(subject_raw), VERDICT_TYPE)
    sbom = _attach(client, "acme/referred", subject, len(subject_raw), SBOM_TYPE)
    again = _attach(client, "acme/referred", subject, len(subject_raw), VERDICT_TYPE)
    assert again == verdict
    found = client.referrers("acme/referred", subject)
    assert [d["digest"] for d in found] == [verdict, sbom]  # kept, not duplicated
    assert found[0]["artifactType"] == VERDICT_TYPE
    assert found[0]["annotations"] == {"gate.test/kind": VERDICT_TYPE}
    assert found[0]["mediaType"] == OCI_MANIFEST
    assert found[0]["size"] == len(client.get_manifest("acme/referred", verdict).raw)
    assert [d["digest"] for d in client.referrers("acme/referred", subject, SBOM_TYPE)] == [sbom]
    index = client.get_manifest("acme/referred", fallback_tag(subject))
    assert index.media_type == OCI_INDEX


def test_attach_refuses_a_manifest_about_another_subject(registry: RunningRegistry) -> None:
    client = RegistryClient(registry.host)
    subject, raw = push_test_image(client, "acme/other-subject", "1")
    artifact = artifact_manifest(subject, len(raw), VERDICT_TYPE, sha256_digest(b"x"), 1)
    with pytest.raises(RegistryError, match="subject is not"):
        client.attach("acme/other-subject", artifact, OCI_MANIFEST, "sha256:" + "0" * 64)


# --- copy_manifest -------------------------------------------------------------------------


def _assert_complete(client: RegistryClient, repo: str, tag: str, digest: str) -> None:
    """The tag resolves to digest and every blob (of every child) can be read back."""
    manifest = client.get_manifest(repo, tag)
    assert manifest.digest == digest
    pending = [manifest]
    while pending:
        document = pending.pop().document()
        for child in document.get("manifests", []):
            pending.append(client.get_manifest(repo, child["digest"]))
        for blob in [document.get("config"), *document.get("layers", [])]:
            if blob:
                assert client.get_blob(repo, blob["digest"], limit=blob["size"])


def test_copy_within_one_repository(registry: RunningRegistry) -> None:
    client = RegistryClient(registry.host)
    digest, _ = push_test_image(client, "acme/promote", "1.2.3-staging")
    manifest = client.get_manifest("acme/promote", "1.2.3-staging")
    assert copy_manifest(client, "acme/promote", manifest, client, "acme/promote", "1.2.3-prod")
    assert client.find_manifest("acme/promote", "1.2.3-prod") == digest


def test_copy_to_another_repository_mounts_blobs(
    registry: RunningRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = RegistryClient(registry.host)
    digest, _ = push_test_image(client, "acme/dev", "1", layers=[b"one", b"two"])
    manifest = client.get_manifest("acme/dev", digest)
    mounts: list[tuple[str, ...]] = []
    mount = client.mount_blob

    def spy(repository: str, blob: str, from_repository: str) -> bool:
        mounted = mount(repository, blob, from_repository)
        mounts.append((repository, blob, from_repository, str(mounted)))
        return mounted

    monkeypatch.setattr(client, "mount_blob", spy)
    copy_manifest(client, "acme/dev", manifest, client, "acme/prod", "1")
    assert len(mounts) == 3 and all(m[0] == "acme/prod" and m[3] == "True" for m in mounts)
    _assert_complete(client, "acme/prod", "1", digest)


def test_copy_to_another_registry(
    registry: RunningRegistry, second_registry: RunningRegistry
) -> None:
    source, target = RegistryClient(registry.host), RegistryClient(second_registry.host)
    digest, _ = push_test_image(source, "acme/cross", "1", layers=[b"layer " * 1000])
    manifest = source.get_manifest("acme/cross", "1")
    assert copy_manifest(source, "acme/cross", manifest, target, "prod/api", "1") == digest
    _assert_complete(target, "prod/api", "1", digest)


def test_copy_an_index_with_its_children(
    registry: RunningRegistry, second_registry: RunningRegistry
) -> None:
    source, target = RegistryClient(registry.host), RegistryClient(second_registry.host)
    digest, raw = push_test_image(
        source, "acme/multi", "1", platforms=["linux/amd64", "linux/arm64"]
    )
    manifest = source.get_manifest("acme/multi", "1")
    assert manifest.media_type == OCI_INDEX and manifest.raw == raw
    copy_manifest(source, "acme/multi", manifest, target, "acme/multi", "2")
    _assert_complete(target, "acme/multi", "2", digest)
    assert len(json.loads(raw)["manifests"]) == 2


@pytest.mark.parametrize(
    ("served", "problem"),
    [(b"tampered layer", "does not match"), (b"the real layer, and more", "more than 14 bytes")],
)
def test_copy_across_registries_aborts_on_a_lying_source(
    registry: RunningRegistry, served: bytes, problem: str
) -> None:
    layer = b"the real layer"
    config = b"{}"
    raw = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": EMPTY_CONFIG, "digest": sha256_digest(config), "size": 2},
            "layers": [{"mediaType": "x", "digest": sha256_digest(layer), "size": len(layer)}],
        }
    )
    target = RegistryClient(registry.host)
    with fake_registry() as fake:
        fake.routes[("GET", f"/v2/acme/src/blobs/{sha256_digest(config)}")] = Reply(200, {}, config)
        fake.routes[("GET", f"/v2/acme/src/blobs/{sha256_digest(layer)}")] = Reply(
            200, {"Content-Length": ""}, served
        )
        source = RegistryClient(fake.host)
        manifest = client_module.Manifest(raw, OCI_MANIFEST, sha256_digest(raw))
        with pytest.raises(RegistryError, match=problem):
            copy_manifest(source, "acme/src", manifest, target, "acme/lied-to", "1")
    assert not target.has_blob("acme/lied-to", sha256_digest(layer))
    assert target.find_manifest("acme/lied-to", "1") is None


def test_copy_refuses_when_the_tag_reads_back_as_another_digest() -> None:
    raw = canonical({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": []})
    other = canonical({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": [], "x": 1})
    with fake_registry() as fake:
        fake.routes[("PUT", "/v2/acme/api/manifests/prod")] = Reply(201)
        fake.manifest("acme/api", "prod", other)
        client = RegistryClient(fake.host)
        manifest = client_module.Manifest(raw, OCI_MANIFEST, sha256_digest(raw))
        with pytest.raises(RegistryError) as caught:
            copy_manifest(client, "acme/api", manifest, client, "acme/api", "prod")
    assert f"resolves to {sha256_digest(other)}, not {sha256_digest(raw)}" in str(caught.value)


# --- hostile registries (fake) -------------------------------------------------------------


def test_content_that_does_not_match_the_requested_digest() -> None:
    wanted = sha256_digest(b"the real manifest")
    with fake_registry() as fake:
        fake.manifest("acme/api", wanted, b'{"schemaVersion":2}')
        fake.routes[("GET", f"/v2/acme/api/blobs/{wanted}")] = Reply(200, {}, b"other bytes")
        client = RegistryClient(fake.host)
        with pytest.raises(RegistryError) as caught:
            client.get_manifest("acme/api", wanted)
        assert f"registry returned content that does not match {wanted}" in str(caught.value)
        with pytest.raises(RegistryError, match="does not match"):
            client.get_blob("acme/api", wanted, limit=1000)
        with pytest.raises(RegistryError, match="does not match"):
            client.find_manifest("acme/api", wanted)


def test_a_tag_whose_digest_header_lies() -> None:
    raw = b'{"schemaVersion":2}'
    with fake_registry() as fake:
        fake.manifest("acme/api", "1", raw, **{"Docker-Content-Digest": "sha256:" + "1" * 64})
        with pytest.raises(RegistryError, match="registry says the manifest is sha256:1111"):
            RegistryClient(fake.host).get_manifest("acme/api", "1")


@pytest.mark.parametrize("declared", [True, False])
def test_oversized_manifest_is_refused(declared: bool) -> None:
    headers = {} if declared else {"Content-Length": ""}
    with fake_registry() as fake:
        fake.manifest("acme/api", "1", b" " * (MAX_MANIFEST_BYTES + 1), **headers)
        with pytest.raises(RegistryError, match=f"sent more than {MAX_MANIFEST_BYTES} bytes"):
            RegistryClient(fake.host).get_manifest("acme/api", "1")


def test_registry_error_excerpt_is_short_printable_and_only_the_messages() -> None:
    body = json.dumps({"errors": [{"code": "X", "message": "\x1b[31mbad\x1b[0m " + "y" * 500}]})
    with fake_registry() as fake:
        fake.routes[("GET", "/v2/acme/api/manifests/1")] = Reply(500, {}, body.encode())
        fake.routes[("GET", "/v2/acme/api/manifests/2")] = Reply(
            500, {}, b"<html>SECRET-BODY</html>"
        )
        client = RegistryClient(fake.host)
        with pytest.raises(RegistryError) as caught:
            client.get_manifest("acme/api", "1")
        message = str(caught.value)
        assert "answered HTTP 500: \\x1b[31mbad" in message and "\x1b" not in message
        assert len(message) < 400
        with pytest.raises(RegistryError) as caught:
            client.get_manifest("acme/api", "2")
        assert "SECRET-BODY" not in str(caught.value) and "HTTP 500" in str(caught.value)


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _bearer_fake(fake: FakeRegistry, raw: bytes, realm: str) -> None:
    challenge = f'Bearer realm="{realm}",service="fake-service",scope="repository:acme/api:pull"'

    def manifest(request: SeenRequest) -> Reply:
        if request.headers.get("authorization") == "Bearer tok-123":
            return Reply(200, {"Content-Type": OCI_MANIFEST}, raw)
        return Reply(401, {"WWW-Authenticate": challenge}, b'{"errors":[]}')

    def token(request: SeenRequest) -> Reply:
        if request.headers.get("authorization") == _basic("robot", "pa55word"):
            return Reply(200, {}, b'{"token":"tok-123","expires_in":300}')
        return Reply(401, {}, b"")

    fake.routes[("GET", "/v2/acme/api/manifests/1")] = manifest
    fake.routes[("GET", "/token")] = token


def test_bearer_token_flow(quiet_env: dict[str, str]) -> None:
    raw = b'{"schemaVersion":2}'
    with fake_registry() as fake:
        _bearer_fake(fake, raw, f"{fake.url}/token")
        client = _client(fake.host, _with_login(quiet_env, "robot", "pa55word"))
        assert client.get_manifest("acme/api", "1").raw == raw
        assert client.get_manifest("acme/api", "1").raw == raw
        token_requests = fake.seen("GET", "/token")
    assert len(token_requests) == 1  # cached for the scope
    query = parse_qs(urlsplit(token_requests[0].path).query)
    assert query == {"service": ["fake-service"], "scope": ["repository:acme/api:pull"]}


def test_bearer_token_refused_names_the_origin_only(quiet_env: dict[str, str]) -> None:
    with fake_registry() as fake:
        _bearer_fake(fake, b"{}", f"{fake.url}/token")
        client = _client(fake.host, _with_login(quiet_env, "robot", "not-it-77"))
        with pytest.raises(RegistryError) as caught:
            client.get_manifest("acme/api", "1")
    assert "refused the credentials from GATE_REGISTRY_USERNAME" in str(caught.value)
    assert "not-it-77" not in _message(caught) and "tok-123" not in _message(caught)


def test_bearer_realm_in_clear_text_elsewhere_is_refused(quiet_env: dict[str, str]) -> None:
    with fake_registry() as fake:
        _bearer_fake(fake, b"{}", "http://auth.example.test/token")
        client = _client(fake.host, _with_login(quiet_env, "robot", "pa55word"))
        with pytest.raises(RegistryError) as caught:
            client.get_manifest("acme/api", "1")
    assert "only asks an https token service" in str(caught.value)
    assert "pa55word" not in _message(caught)


def test_blob_redirect_to_another_host_drops_authorization(quiet_env: dict[str, str]) -> None:
    blob = b"layer bytes"
    digest = sha256_digest(blob)
    with fake_registry() as registry_fake, fake_registry() as storage:
        storage.routes[("GET", "/signed/blob")] = Reply(200, {}, blob)

        def redirect(request: SeenRequest) -> Reply:
            if request.headers.get("authorization") != _basic("robot", "pa55word"):
                return Reply(401, {"WWW-Authenticate": 'Basic realm="fake"'})
            return Reply(307, {"Location": f"{storage.url}/signed/blob"})

        registry_fake.routes[("GET", f"/v2/acme/api/blobs/{digest}")] = redirect
        client = _client(registry_fake.host, _with_login(quiet_env, "robot", "pa55word"))
        assert client.get_blob("acme/api", digest, limit=1000) == blob
        assert registry_fake.seen("GET", "/v2/acme/api/blobs/")[-1].headers["authorization"]
        assert "authorization" not in storage.seen("GET", "/signed/blob")[0].headers


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("http://storage.example.test/blob", "non-https address"),
        ("ftp://storage.example.test/blob", "non-https address"),
        (None, "more than 3 redirects"),
    ],
)
def test_blob_redirects_that_are_refused(location: str | None, problem: str) -> None:
    digest = sha256_digest(b"x")
    with fake_registry() as fake:
        path = f"/v2/acme/api/blobs/{digest}"
        fake.routes[("GET", path)] = Reply(307, {"Location": location or path})
        with pytest.raises(RegistryError, match=problem):
            RegistryClient(fake.host).get_blob("acme/api", digest, limit=10)
        if location is None:
            assert len(fake.seen("GET", path)) == 4


def test_referrers_through_the_api_are_filtered_client_side() -> None:
    subject = sha256_digest(b"subject")
    entries = [
        {"mediaType": OCI_MANIFEST, "digest": sha256_digest(b"a"), "size": 1,
         "artifactType": VERDICT_TYPE},
        {"mediaType": OCI_MANIFEST, "digest": sha256_digest(b"b"), "size": 1,
         "artifactType": SBOM_TYPE},
    ]  # fmt: skip
    index = canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
    with fake_registry() as fake:
        path = f"/v2/acme/api/referrers/{subject}"
        fake.routes[("GET", path)] = Reply(200, {"Content-Type": OCI_INDEX}, index)
        client = RegistryClient(fake.host)
        assert client.referrers("acme/api", subject) == entries
        assert client.referrers("acme/api", subject, VERDICT_TYPE) == entries[:1]
        assert "artifactType=" in fake.seen("GET", path)[-1].path
        assert not fake.seen("GET", f"/v2/acme/api/manifests/{fallback_tag(subject)}")


def test_referrers_that_are_not_descriptors_are_an_error() -> None:
    subject = sha256_digest(b"subject")
    index = canonical({"manifests": [{"digest": "sha256:nope", "size": 1, "mediaType": "x"}]})
    with fake_registry() as fake:
        fake.routes[("GET", f"/v2/acme/api/referrers/{subject}")] = Reply(200, {}, index)
        with pytest.raises(RegistryError, match="not a descriptor"):
            RegistryClient(fake.host).referrers("acme/api", subject)


def test_attach_uses_the_api_when_the_registry_acknowledges_the_subject() -> None:
    subject = sha256_digest(b"subject")
    artifact = artifact_manifest(subject, 7, VERDICT_TYPE, sha256_digest(b"p"), 1)
    with fake_registry() as fake:
        fake.routes[("PUT", f"/v2/acme/api/manifests/{sha256_digest(artifact)}")] = Reply(
            201, {"OCI-Subject": subject}
        )
        assert RegistryClient(fake.host).attach(
            "acme/api", artifact, OCI_MANIFEST, subject
        ) == sha256_digest(artifact)
        assert not fake.seen("PUT", f"/v2/acme/api/manifests/{fallback_tag(subject)}")


def test_put_manifest_refuses_a_registry_that_stores_another_digest() -> None:
    raw = b'{"schemaVersion":2}'
    with fake_registry() as fake:
        fake.routes[("PUT", "/v2/acme/api/manifests/1")] = Reply(
            201, {"Docker-Content-Digest": "sha256:" + "2" * 64}
        )
        with pytest.raises(RegistryError, match="stored the manifest as sha256:2222"):
            RegistryClient(fake.host).put_manifest("acme/api", "1", raw, OCI_MANIFEST)
        with pytest.raises(RegistryError, match="the manifest is sha256:"):
            RegistryClient(fake.host).put_manifest(
                "acme/api", "sha256:" + "3" * 64, raw, OCI_MANIFEST
            )


def test_upload_location_on_another_host_is_refused() -> None:
    with fake_registry() as fake:
        fake.routes[("POST", "/v2/acme/api/blobs/uploads/")] = Reply(
            202, {"Location": "http://127.0.0.2:1/v2/acme/api/blobs/uploads/x"}
        )
        with pytest.raises(RegistryError, match=r"pointed to another host \(127.0.0.2:1\)"):
            RegistryClient(fake.host).push_blob("acme/api", b"data")
        assert not fake.seen("PUT", "/")


def test_tags_follow_link_pages_on_the_same_registry_only() -> None:
    with fake_registry() as fake:

        def pages(request: SeenRequest) -> Reply:
            if "last=a" in request.path:
                return Reply(200, {}, b'{"name":"acme/api","tags":["b"]}')
            link = '</v2/acme/api/tags/list?last=a&n=1>; rel="next"'
            return Reply(200, {"Link": link}, b'{"name":"acme/api","tags":["a"]}')

        fake.routes[("GET", "/v2/acme/api/tags/list")] = pages
        assert RegistryClient(fake.host).tags("acme/api") == ["a", "b"]
        fake.routes[("GET", "/v2/acme/api/tags/list")] = Reply(
            200,
            {"Link": '<http://127.0.0.2:1/v2/acme/api/tags/list?last=a>; rel="next"'},
            b'{"tags":["a"]}',
        )
        with pytest.raises(RegistryError, match="another host"):
            RegistryClient(fake.host).tags("acme/api")


def test_endless_tag_pages_stop() -> None:
    with fake_registry() as fake:
        fake.routes[("GET", "/v2/acme/api/tags/list")] = Reply(
            200, {"Link": '</v2/acme/api/tags/list?n=1>; rel="next"'}, b'{"tags":["a"]}'
        )
        with pytest.raises(RegistryError, match="more than 100 pages"):
            RegistryClient(fake.host).tags("acme/api")


def test_unreadable_ca_file_is_a_usage_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing-ca.pem")
    with pytest.raises(UsageError) as caught:
        RegistryClient("127.0.0.1:1", RegistryOptions(ca_file=missing))
    assert caught.value.where == missing


def test_oversized_token_answer_is_refused(quiet_env: dict[str, str]) -> None:
    with fake_registry() as fake:
        _bearer_fake(fake, b"{}", f"{fake.url}/token")
        huge = b'{"token":"' + b"t" * (client_module.MAX_SMALL_RESPONSE_BYTES + 1) + b'"}'
        fake.routes[("GET", "/token")] = Reply(200, {}, huge)
        client = _client(fake.host, _with_login(quiet_env, "robot", "pa55word"))
        with pytest.raises(RegistryError, match="sent more than"):
            client.get_manifest("acme/api", "1")


def test_push_asks_for_a_push_token_and_mount_for_the_source_too(
    quiet_env: dict[str, str],
) -> None:
    digest = sha256_digest(b"blob")
    with fake_registry() as fake:
        realm = f"{fake.url}/token"

        def upload(request: SeenRequest) -> Reply:
            if request.headers.get("authorization") != "Bearer tok-123":
                return Reply(401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="s"'})
            return Reply(201, {"Location": f"/v2/acme/prod/blobs/{digest}"})

        fake.routes[("POST", "/v2/acme/prod/blobs/uploads/")] = upload
        fake.routes[("GET", "/token")] = Reply(200, {}, b'{"access_token":"tok-123"}')
        client = _client(fake.host, _with_login(quiet_env, "robot", "pa55word"))
        assert client.mount_blob("acme/prod", digest, "acme/dev")
        scopes = parse_qs(urlsplit(fake.seen("GET", "/token")[0].path).query)["scope"]
    assert scopes == ["repository:acme/prod:pull,push", "repository:acme/dev:pull"]
