"""registry:// references: what parses, and what is refused without echoing secrets."""

from __future__ import annotations

import pytest

from gate.errors import UsageError
from gate.registry.reference import (
    RegistryRef,
    is_loopback_host,
    is_registry_input,
    parse_registry_ref,
)

DIGEST = "sha256:" + "ab" * 32


def test_full_reference_parses_into_its_parts() -> None:
    ref = parse_registry_ref(f"registry://Registry.Example.COM:5000/acme/api:1.4.2@{DIGEST}")
    assert ref == RegistryRef("registry.example.com:5000", "acme/api", "1.4.2", DIGEST)
    assert ref.image_name() == f"registry.example.com:5000/acme/api:1.4.2@{DIGEST}"
    assert str(ref) == f"registry://registry.example.com:5000/acme/api:1.4.2@{DIGEST}"
    assert ref.reference() == DIGEST


@pytest.mark.parametrize(
    ("text", "tag", "digest", "reference"),
    [
        ("registry://127.0.0.1:5000/api", None, None, "latest"),
        ("registry://ghcr.io/acme/team/api:v1_2.3-rc", "v1_2.3-rc", None, "v1_2.3-rc"),
        (f"registry://ghcr.io/acme/api@{DIGEST}", None, DIGEST, DIGEST),
        ("registry://[::1]:5000/a/b:t", "t", None, "t"),
    ],
)
def test_optional_parts(text: str, tag: str | None, digest: str | None, reference: str) -> None:
    ref = parse_registry_ref(text)
    assert (ref.tag, ref.digest, ref.reference()) == (tag, digest, reference)


def test_no_docker_hub_magic() -> None:
    ref = parse_registry_ref("registry://docker.io/nginx:1")
    assert (ref.host, ref.repository) == ("docker.io", "nginx")


def test_with_digest_and_with_tag_replace_one_part() -> None:
    ref = parse_registry_ref("registry://h:1/a:old")
    assert ref.with_digest(DIGEST).image_name() == f"h:1/a:old@{DIGEST}"
    assert ref.with_tag("new").with_digest(DIGEST).with_tag(None).image_name() == f"h:1/a@{DIGEST}"
    with pytest.raises(UsageError):
        ref.with_tag("bad tag")
    with pytest.raises(UsageError):
        ref.with_digest("sha256:short")


def test_credentials_in_a_reference_are_refused_and_not_echoed() -> None:
    with pytest.raises(UsageError) as caught:
        parse_registry_ref("registry://alice:hunter2@ghcr.io/acme/api:1")
    shown = f"{caught.value} {caught.value.hint}"
    assert "credentials" in shown
    assert "hunter2" not in shown and "alice" not in shown
    assert "ghcr.io/acme/api:1" in shown


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ghcr.io/acme/api:1", "registry://"),
        ("registry://", "host"),
        ("registry:///acme/api", "host"),
        ("registry://ghcr.io", "no repository"),
        ("registry://ghcr.io/", "no repository"),
        ("registry://ghcr.io/Acme/API", "lower-case"),
        ("registry://ghcr.io/acme/../etc", "lower-case"),
        ("registry://ghcr.io/acme//api", "lower-case"),
        ("registry://ghcr.io/acme/api:", "tag"),
        ("registry://ghcr.io/acme/api:-x", "tag"),
        ("registry://ghcr.io/acme/api:" + "t" * 129, "tag"),
        ("registry://ghcr.io/acme/api@sha256:" + "AB" * 32, "digest"),
        ("registry://ghcr.io/acme/api@sha256:abc", "digest"),
        ("registry://ghcr.io/acme/api@md5:" + "ab" * 16, "digest"),
        ("registry://ghcr.io:99999/acme/api", "port"),
        ("registry://gh cr.io/acme/api", "host"),
        ("registry://ghcr.io/acme/api?x=1", "lower-case"),
        ("registry://ghcr.io/acme/api:1\n", "tag"),
    ],
)
def test_malformed_references_are_usage_errors(text: str, problem: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_registry_ref(text)
    assert problem in str(caught.value)
    assert caught.value.where == text


def test_is_registry_input() -> None:
    assert is_registry_input("registry://h/r")
    assert not is_registry_input("trivy.json")
    assert not is_registry_input("ghcr.io/acme/api")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost:5000", True),
        ("127.0.0.1:5000", True),
        ("127.8.9.10", True),
        ("[::1]:5000", True),
        ("128.0.0.1:5000", False),
        ("localhost.example.com", False),
        ("ghcr.io", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
