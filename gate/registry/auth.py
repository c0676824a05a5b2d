"""Registry credentials, found where the container ecosystem keeps them.

Order: ``GATE_REGISTRY_USERNAME``/``GATE_REGISTRY_PASSWORD``, then ``REGISTRY_AUTH_FILE``
(containers-auth.json, as podman and skopeo read it), then ``$DOCKER_CONFIG/config.json`` or
``~/.docker/config.json`` (credential helpers, then ``auths``). Nothing found means anonymous.

A secret is never put in a message or a repr: errors name where a credential came from
(``origin``), never what it is, and a malformed file is named without quoting its content.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gate.errors import RegistryError, UsageError

USERNAME_VARIABLE = "GATE_REGISTRY_USERNAME"
PASSWORD_VARIABLE = "GATE_REGISTRY_PASSWORD"
MAX_CONFIG_BYTES = 1024 * 1024
MAX_HELPER_OUTPUT_BYTES = 64 * 1024
HELPER_TIMEOUT_SECONDS = 30.0
_HELPER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
# Docker writes Docker Hub credentials under its v1 URL; any of these hosts means Docker Hub.
_DOCKER_HUB = "docker.io"
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_DOCKER_HUB_SERVER = "https://index.docker.io/v1/"
_LOGIN_HINT = f"set {USERNAME_VARIABLE}/{PASSWORD_VARIABLE}, or run docker login HOST"


@dataclass(frozen=True)
class Credential:
    """A username and password (or token used as one) for one registry."""

    username: str
    password: str = field(repr=False)
    origin: str
    """Where it came from, for messages (a variable, a file, a credential helper)."""


def find_credential(
    host: str, repository: str | None = None, env: Mapping[str, str] | None = None
) -> Credential | None:
    """The credential for ``host`` (and ``repository``), or None to go anonymous."""
    environment = os.environ if env is None else env
    from_variables = _from_variables(environment)
    if from_variables is not None:
        return from_variables
    auth_file = environment.get("REGISTRY_AUTH_FILE")
    if auth_file:
        found = _from_config(
            Path(auth_file), f"REGISTRY_AUTH_FILE={auth_file}", host, repository, environment
        )
        if found is not None:
            return found
    docker_config = _docker_config_path(environment)
    if docker_config is None or not docker_config.exists():
        return None
    return _from_config(docker_config, str(docker_config), host, repository, environment)


def _from_variables(environment: Mapping[str, str]) -> Credential | None:
    username = environment.get(USERNAME_VARIABLE) or None
    password = environment.get(PASSWORD_VARIABLE) or None
    if username is None and password is None:
        return None
    if username is None or password is None:
        given, missing = (
            (USERNAME_VARIABLE, PASSWORD_VARIABLE)
            if password is None
            else (PASSWORD_VARIABLE, USERNAME_VARIABLE)
        )
        raise UsageError(
            f"{given} is set but {missing} is not", where=missing, hint="set both, or neither"
        )
    return Credential(username=username, password=password, origin=USERNAME_VARIABLE)


def _docker_config_path(environment: Mapping[str, str]) -> Path | None:
    directory = environment.get("DOCKER_CONFIG")
    if directory:
        return Path(directory) / "config.json"
    home = environment.get("HOME")
    if home:
        return Path(home) / ".docker" / "config.json"
    try:
        return Path.home() / ".docker" / "config.json"
    except RuntimeError:
        return None


def _from_config(
    path: Path,
    origin: str,
    host: str,
    repository: str | None,
    environment: Mapping[str, str],
) -> Credential | None:
    config = _read_config(path, origin)
    server = _canonical_host(host)
    helpers = _object_member(config, "credHelpers", origin)
    helper = next(
        (
            name
            for key, name in helpers.items()
            if _key_host_and_namespace(key)[0] == server and isinstance(name, str)
        ),
        None,
    )
    store = config.get("credsStore")
    for name in (helper, store if isinstance(store, str) and store else None):
        if name is not None:
            found = _from_helper(name, server, environment)
            if found is not None:
                return found
    return _from_auths(_object_member(config, "auths", origin), origin, server, repository)


def _read_config(path: Path, origin: str) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise RegistryError(
            f"cannot read the credentials file: {exc.strerror or type(exc).__name__}",
            where=origin,
        ) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise RegistryError(
            f"the credentials file is larger than {MAX_CONFIG_BYTES} bytes", where=origin
        )
    try:
        config = json.loads(raw)
    except (ValueError, RecursionError):
        # The file holds secrets: say that it is malformed, never quote it.
        config = None
    if not isinstance(config, dict):
        raise RegistryError("the credentials file is not a JSON object", where=origin)
    return config


def _object_member(config: dict[str, Any], key: str, origin: str) -> dict[str, Any]:
    value = config.get(key, {})
    if not isinstance(value, dict):
        raise RegistryError(f"{key} in the credentials file is not an object", where=origin)
    return value


def _canonical_host(host: str) -> str:
    host = host.lower()
    return _DOCKER_HUB if host in _DOCKER_HUB_ALIASES else host


def _key_host_and_namespace(key: str) -> tuple[str, str]:
    """``https://host:5000/v2/`` -> (host:5000, ""); ``host/team/app`` -> (host, team/app).

    A key with a scheme is a URL (docker's form: its path is an API path, not a
    namespace); a key without one may name a namespace (containers-auth.json's form).
    """
    if "://" in key:
        return _canonical_host(urlsplit(key).netloc), ""
    host, _, namespace = key.strip("/").partition("/")
    return _canonical_host(host), namespace


def _from_auths(
    auths: dict[str, Any], origin: str, server: str, repository: str | None
) -> Credential | None:
    # The most specific key wins, as podman decides: host/ns/repo, host/ns, then host.
    by_place = {_key_host_and_namespace(key): entry for key, entry in auths.items()}
    for namespace in _namespaces(repository):
        entry = by_place.get((server, namespace))
        if entry is None:
            continue
        if not isinstance(entry, dict):
            raise RegistryError(f"the auths entry for {server} is not an object", where=origin)
        credential = _entry_credential(entry, origin, server)
        if credential is not None:
            return credential
    return None


def _namespaces(repository: str | None) -> Iterator[str]:
    parts = repository.split("/") if repository else []
    for length in range(len(parts), 0, -1):
        yield "/".join(parts[:length])
    yield ""


def _entry_credential(entry: dict[str, Any], origin: str, server: str) -> Credential | None:
    if entry.get("identitytoken"):
        raise RegistryError(
            f"the credential for {server} is an identity token, which gate does not support",
            where=origin,
            hint=_LOGIN_HINT.replace("HOST", server) + " with a username and password",
        )
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        username, colon, password = decoded.partition(":")
        if not colon or not username:
            raise RegistryError(
                f'the "auth" value for {server} is not base64 of "user:password"', where=origin
            )
        return Credential(username=username, password=password, origin=origin)
    plain_username, plain_password = entry.get("username"), entry.get("password")
    if isinstance(plain_username, str) and plain_username and isinstance(plain_password, str):
        return Credential(username=plain_username, password=plain_password, origin=origin)
    return None


def _from_helper(name: str, server: str, environment: Mapping[str, str]) -> Credential | None:
    program = f"docker-credential-{name}"
    origin = f"credential helper {program}"
    hint = f"install {program} on PATH, or remove it from the docker config"
    if not _HELPER_NAME.match(name):
        raise RegistryError("not a valid credential helper name", where=origin, hint=hint)
    executable = shutil.which(program, path=environment.get("PATH", os.defpath))
    if executable is None:
        raise RegistryError(f"{program} is not on PATH", where=origin, hint=hint)
    helper_server = _DOCKER_HUB_SERVER if server == _DOCKER_HUB else server
    status, output = _run_bounded([executable, "get"], helper_server.encode(), environment, origin)
    if status != 0:
        # The protocol's answer for "no credential for this server": go anonymous, like docker.
        if b"credentials not found" in output.lower():
            return None
        raise RegistryError(f"{program} get exited with status {status}", where=origin)
    try:
        answer = json.loads(output)
    except (ValueError, RecursionError):
        answer = None
    username = answer.get("Username") if isinstance(answer, dict) else None
    secret = answer.get("Secret") if isinstance(answer, dict) else None
    if not isinstance(username, str) or not isinstance(secret, str) or not username:
        raise RegistryError(
            f"{program} did not answer with a JSON object with Username and Secret", where=origin
        )
    if username == "<token>":
        raise RegistryError(
            f"{program} gave an identity token for {server}, which gate does not support",
            where=origin,
            hint=_LOGIN_HINT.replace("HOST", server),
        )
    return Credential(username=username, password=secret, origin=origin)


def _run_bounded(
    argv: list[str], stdin: bytes, environment: Mapping[str, str], origin: str
) -> tuple[int, bytes]:
    """Run a helper with a timeout, reading at most MAX_HELPER_OUTPUT_BYTES of its output."""
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(environment),
        )
    except OSError as exc:
        raise RegistryError(
            f"cannot run the helper: {exc.strerror or type(exc).__name__}", where=origin
        ) from None
    assert process.stdin is not None and process.stdout is not None
    output: list[bytes] = []

    def read_output() -> None:
        assert process.stdout is not None
        output.append(process.stdout.read(MAX_HELPER_OUTPUT_BYTES + 1))

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        process.stdin.write(stdin)
        process.stdin.close()
    except OSError:
        pass  # a helper that does not read its input answers (or fails) all the same
    reader.join(HELPER_TIMEOUT_SECONDS)
    answer = output[0] if output else b""
    problem = None
    if reader.is_alive():
        problem = f"the helper did not answer within {HELPER_TIMEOUT_SECONDS:g}s"
    elif len(answer) > MAX_HELPER_OUTPUT_BYTES:
        problem = f"the helper wrote more than {MAX_HELPER_OUTPUT_BYTES} bytes"
    if problem is not None:
        process.kill()
        process.wait()
        raise RegistryError(problem, where=origin)
    try:
        status = process.wait(timeout=HELPER_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise RegistryError(
            f"the helper did not exit within {HELPER_TIMEOUT_SECONDS:g}s", where=origin
        ) from None
    finally:
        process.stdout.close()
    return status, answer
