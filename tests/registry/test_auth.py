"""Where credentials come from, in which order, and that secrets never reach a message."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from gate.errors import RegistryError, UsageError
from gate.registry.auth import Credential, find_credential


def _auth(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def _docker_config(tmp_path: Path, config: dict[str, object]) -> dict[str, str]:
    directory = tmp_path / "docker"
    directory.mkdir(exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config))
    return {"DOCKER_CONFIG": str(directory), "PATH": os.defpath}


def _helper(tmp_path: Path, name: str, script: str) -> str:
    """A docker-credential-NAME script on a PATH of its own; returns that PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    program = bin_dir / f"docker-credential-{name}"
    program.write_text("#!/bin/sh\n" + script)
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return f"{bin_dir}:{os.defpath}"


def test_nothing_configured_is_anonymous(tmp_path: Path) -> None:
    assert find_credential("ghcr.io", "acme/api", {"HOME": str(tmp_path)}) is None


def test_environment_variables_come_first(tmp_path: Path) -> None:
    env = _docker_config(tmp_path, {"auths": {"ghcr.io": {"auth": _auth("file", "pw")}}})
    env |= {"GATE_REGISTRY_USERNAME": "ci", "GATE_REGISTRY_PASSWORD": "token-1"}
    assert find_credential("ghcr.io", None, env) == Credential(
        "ci", "token-1", "GATE_REGISTRY_USERNAME"
    )


@pytest.mark.parametrize(
    "given", [{"GATE_REGISTRY_USERNAME": "ci"}, {"GATE_REGISTRY_PASSWORD": "token-1"}]
)
def test_one_variable_alone_is_a_usage_error(given: dict[str, str]) -> None:
    with pytest.raises(UsageError) as caught:
        find_credential("ghcr.io", None, given)
    assert "token-1" not in f"{caught.value} {caught.value.hint}"


def test_password_is_not_in_the_repr() -> None:
    assert "token-1" not in repr(Credential("ci", "token-1", "x"))


def test_docker_config_auths_base64(tmp_path: Path) -> None:
    env = _docker_config(
        tmp_path, {"auths": {"https://Registry.Example:5000/v2/": {"auth": _auth("u", "p:w")}}}
    )
    credential = find_credential("registry.example:5000", "acme/api", env)
    assert credential == Credential("u", "p:w", str(tmp_path / "docker" / "config.json"))
    assert find_credential("registry.example:5001", "acme/api", env) is None


def test_home_docker_config_when_docker_config_is_unset(tmp_path: Path) -> None:
    (tmp_path / ".docker").mkdir()
    config = {"auths": {"ghcr.io": {"username": "u", "password": "p"}}}
    (tmp_path / ".docker" / "config.json").write_text(json.dumps(config))
    credential = find_credential("ghcr.io", None, {"HOME": str(tmp_path)})
    assert credential is not None and credential.password == "p"


def test_docker_hub_key_matches_its_hosts(tmp_path: Path) -> None:
    env = _docker_config(
        tmp_path, {"auths": {"https://index.docker.io/v1/": {"auth": _auth("hub", "pw")}}}
    )
    for host in ("docker.io", "registry-1.docker.io", "index.docker.io"):
        credential = find_credential(host, "library/nginx", env)
        assert credential is not None and credential.username == "hub"


def test_registry_auth_file_most_specific_key_wins(tmp_path: Path) -> None:
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(
        json.dumps(
            {
                "auths": {
                    "ghcr.io": {"auth": _auth("host", "1")},
                    "ghcr.io/acme": {"auth": _auth("namespace", "2")},
                    "ghcr.io/acme/api": {"auth": _auth("repository", "3")},
                }
            }
        )
    )
    env = {"REGISTRY_AUTH_FILE": str(auth_file), "HOME": str(tmp_path)}

    def user(repository: str) -> str | None:
        credential = find_credential("ghcr.io", repository, env)
        return credential.username if credential else None

    assert user("acme/api") == "repository"
    assert user("acme/api-two") == "namespace"
    assert user("acme/team/api") == "namespace"
    assert user("other/api") == "host"
    credential = find_credential("ghcr.io", "acme/api", env)
    assert credential is not None and credential.origin == f"REGISTRY_AUTH_FILE={auth_file}"


def test_registry_auth_file_comes_before_docker_config(tmp_path: Path) -> None:
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"auths": {"ghcr.io": {"auth": _auth("podman", "1")}}}))
    env = _docker_config(tmp_path, {"auths": {"ghcr.io": {"auth": _auth("docker", "2")}}})
    env["REGISTRY_AUTH_FILE"] = str(auth_file)
    assert find_credential("ghcr.io", None, env).username == "podman"  # type: ignore[union-attr]
    assert find_credential("quay.io", None, env) is None


def test_credential_helper(tmp_path: Path) -> None:
    path = _helper(
        tmp_path,
        "test",
        'read server\n[ "$1" = get ] || exit 9\n'
        'printf \'{"ServerURL":"%s","Username":"helper-user","Secret":"%s-secret"}\' '
        '"$server" "$server"\n',
    )
    env = _docker_config(tmp_path, {"credHelpers": {"ghcr.io": "test"}, "auths": {}})
    env["PATH"] = path
    credential = find_credential("ghcr.io", "acme/api", env)
    assert credential == Credential(
        "helper-user", "ghcr.io-secret", "credential helper docker-credential-test"
    )


def test_credentials_store_not_found_falls_back_to_auths(tmp_path: Path) -> None:
    path = _helper(tmp_path, "store", "echo 'credentials not found in native keychain'\nexit 1\n")
    env = _docker_config(
        tmp_path, {"credsStore": "store", "auths": {"ghcr.io": {"auth": _auth("a", "b")}}}
    )
    env["PATH"] = path
    assert find_credential("ghcr.io", None, env).username == "a"  # type: ignore[union-attr]


def test_missing_helper_is_an_error_with_a_hint(tmp_path: Path) -> None:
    env = _docker_config(tmp_path, {"credHelpers": {"ghcr.io": "absent-helper"}})
    with pytest.raises(RegistryError) as caught:
        find_credential("ghcr.io", None, env)
    assert "docker-credential-absent-helper" in str(caught.value)
    assert caught.value.hint and "PATH" in caught.value.hint


def test_helper_answers_that_are_not_credentials(tmp_path: Path) -> None:
    env = _docker_config(tmp_path, {"credHelpers": {"ghcr.io": "bad"}})
    env["PATH"] = _helper(tmp_path, "bad", "echo 'not json, secret-xyz'\n")
    with pytest.raises(RegistryError) as caught:
        find_credential("ghcr.io", None, env)
    assert "Username and Secret" in str(caught.value) and "secret-xyz" not in str(caught.value)
    env["PATH"] = _helper(tmp_path, "bad", "head -c 200000 /dev/zero\n")
    with pytest.raises(RegistryError, match="more than"):
        find_credential("ghcr.io", None, env)
    env["PATH"] = _helper(tmp_path, "bad", "echo boom >&2\nexit 3\n")
    with pytest.raises(RegistryError, match="status 3"):
        find_credential("ghcr.io", None, env)


def test_identity_tokens_are_refused_with_a_hint(tmp_path: Path) -> None:
    env = _docker_config(tmp_path, {"auths": {"ghcr.io": {"identitytoken": "tok-SECRET"}}})
    with pytest.raises(RegistryError) as caught:
        find_credential("ghcr.io", None, env)
    assert "identity token" in str(caught.value) and caught.value.hint
    assert "tok-SECRET" not in f"{caught.value} {caught.value.hint}"
    assert caught.value.where == str(tmp_path / "docker" / "config.json")


@pytest.mark.parametrize(
    "content",
    [
        '{"auths": {"ghcr.io": {"auth": "hunter2-in-a-broken-file"',
        '["hunter2-in-a-broken-file"]',
        '{"auths": {"ghcr.io": {"auth": "hunter2-in-a-broken-file"}}}',
        '{"auths": "hunter2-in-a-broken-file"}',
        '{"auths": {"ghcr.io": "hunter2-in-a-broken-file"}}',
    ],
)
def test_malformed_config_is_named_never_quoted(tmp_path: Path, content: str) -> None:
    directory = tmp_path / "docker"
    directory.mkdir()
    (directory / "config.json").write_text(content)
    with pytest.raises(RegistryError) as caught:
        find_credential("ghcr.io", None, {"DOCKER_CONFIG": str(directory)})
    assert caught.value.where == str(directory / "config.json")
    assert "hunter2" not in f"{caught.value} {caught.value.hint}"


def test_unreadable_registry_auth_file_is_an_error(tmp_path: Path) -> None:
    env = {"REGISTRY_AUTH_FILE": str(tmp_path / "missing.json"), "HOME": str(tmp_path)}
    with pytest.raises(RegistryError, match="cannot read"):
        find_credential("ghcr.io", None, env)
