"""``gate serve``: options, preflight checks, then the supervisor."""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path
from typing import Any

import click

from gate.cli import debug_option, evaluation_options
from gate.errors import UsageError

TOKENS_ENV = "GATE_API_TOKENS"
TOKENS_FILE_ENV = "GATE_API_TOKENS_FILE"
MAX_TOKENS_FILE_BYTES = 64 * 1024
LOG_ENV = "GATE_DECISION_LOG"
REUSED_OPTIONS = (
    "policies",
    "data",
    "engine",
    "opa_url",
    "opa_token",
    "opa_ca",
    "opa_bundle",
    "timeout",
)
"""Options of ``gate check`` that ``gate serve`` takes as they are (same names, same checks)."""


def _check_options() -> list[click.Parameter]:
    def nothing() -> None:  # pragma: no cover - only carries the options
        return None

    carrier: Any = evaluation_options(nothing)
    by_name = {param.name: param for param in carrier.__click_params__}
    by_name["opa_token"].envvar = "GATE_OPA_TOKEN"  # as check has it (from its GATE_* names)
    return [by_name[name] for name in REUSED_OPTIONS]


def load_tokens(environ: dict[str, str] | os._Environ[str]) -> tuple[str, ...]:
    """The API tokens: ``GATE_API_TOKENS`` (comma-separated) or ``GATE_API_TOKENS_FILE`` (one
    per line). A variable that is set but yields no token is refused: an operator who meant
    to protect the API must not get an open one."""
    inline = environ.get(TOKENS_ENV)
    path = environ.get(TOKENS_FILE_ENV)
    if inline is not None and path is not None:
        raise UsageError(f"set {TOKENS_ENV} or {TOKENS_FILE_ENV}, not both")
    if path is not None:
        from gate.inputs import read_bounded

        raw = read_bounded(Path(path), MAX_TOKENS_FILE_BYTES, TOKENS_FILE_ENV, UsageError)
        found = [line.strip() for line in raw.decode("utf-8", "replace").splitlines()]
        source = TOKENS_FILE_ENV
    elif inline is not None:
        found = [part.strip() for part in inline.split(",")]
        source = TOKENS_ENV
    else:
        return ()
    tokens = tuple(token for token in found if token and not token.startswith("#"))
    if not tokens:
        raise UsageError(f"{source} is set but holds no token")
    if any(any(ord(c) < 33 or ord(c) > 126 for c in token) for token in tokens):
        raise UsageError(f"{source}: a token must be printable ASCII without spaces")
    return tokens


def is_loopback(host: str) -> bool:
    """Whether ``host`` (as given to --host) only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="0: any free."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes; each evaluates one request at a time (one engine per worker).",
)
@click.option(
    "--log",
    "log_url",
    metavar="URL",
    envvar=LOG_ENV,
    help="Decision log every verdict is recorded in: sqlite:///PATH or postgresql://USER@HOST/DB;"
    f" default: ${LOG_ENV}, else sqlite:///gate-decisions.db here.",
)
@click.option("--stage", metavar="STAGE", help="Stage of requests naming none; default: strictest.")
@click.option(
    "--max-body",
    type=click.IntRange(1, 4096),
    default=128,
    show_default=True,
    metavar="MiB",
    help="Largest request body accepted (413 beyond).",
)
@click.option(
    "--reload-interval",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="How often to re-hash the policies and reload them when changed; 0: on SIGHUP only.",
)
@click.option(
    "--allow-request-waivers/--no-allow-request-waivers",
    default=True,
    show_default=True,
    help="Whether a check request may carry its own waivers document.",
)
@click.option("--harbor-url", metavar="URL", help="Enable POST /v1/webhooks/harbor for Harbor.")
@click.option("--harbor-stage", metavar="STAGE", help="Stage Harbor scans are judged for.")
@click.option("--harbor-ca", metavar="FILE", help="CA bundle (PEM) for Harbor's TLS.")
@click.option(
    "--harbor-insecure-no-auth",
    is_flag=True,
    help="Accept Harbor webhooks without GATE_HARBOR_WEBHOOK_SECRET (anyone who can reach the "
    "server can then trigger checks).",
)
@debug_option
def serve_command(
    host: str,
    port: int,
    workers: int,
    log_url: str | None,
    stage: str | None,
    max_body: int,
    reload_interval: float,
    allow_request_waivers: bool,
    harbor_url: str | None,
    harbor_stage: str | None,
    harbor_ca: str | None,
    harbor_insecure_no_auth: bool,
    **options: Any,
) -> None:
    """Serve the gate over HTTP: POST /v1/check answers with the verdict JSON `gate check -f
    json` writes, every verdict recorded in the decision log.

    \b
    Routes: POST /v1/check, GET /v1/decisions[/ID], GET /healthz, GET /readyz,
    GET /metrics, POST /v1/webhooks/harbor (with --harbor-url).
    With GATE_API_TOKENS (comma-separated) or GATE_API_TOKENS_FILE (one per line) set,
    /v1/* and /metrics need `Authorization: Bearer TOKEN`; unset, the API is open to
    whoever reaches it. SIGHUP reloads the policies.
    """
    from gate.cli import _opa_options
    from gate.server.service import DEFAULT_LOG_URL, MIB, ServeConfig
    from gate.server.supervisor import serve

    tokens = load_tokens(os.environ)
    if not tokens and not is_loopback(host):
        click.echo(
            f"warning: gate serve: listening on {host} without {TOKENS_ENV}: anyone who can "
            "reach this address can use the API",
            err=True,
        )
    config = ServeConfig(
        policies=tuple(options["policies"]),
        data=tuple(options["data"]),
        stage=stage,
        engine=options["engine"],
        opa=_opa_options(options),
        timeout=options["timeout"],
        log_url=log_url or DEFAULT_LOG_URL,
        max_body=max_body * MIB,
        reload_interval=reload_interval,
        allow_request_waivers=allow_request_waivers,
        tokens=tokens,
        harbor=_harbor(harbor_url, harbor_stage, harbor_ca, harbor_insecure_no_auth),
        harbor_insecure_no_auth=harbor_insecure_no_auth,
    )
    preflight(config)
    sys.exit(serve(config, host=host, port=port, workers=workers))


def _harbor(url: str | None, stage: str | None, ca_file: str | None, insecure: bool) -> Any:
    if url is None:
        given = (
            ("--harbor-stage", stage),
            ("--harbor-ca", ca_file),
            ("--harbor-insecure-no-auth", insecure),
        )
        stray = [name for name, value in given if value]
        if stray:
            raise UsageError(f"{stray[0]} needs --harbor-url")
        return None
    if ca_file is not None and not os.path.isfile(ca_file):
        raise UsageError("--harbor-ca: no such file", where=ca_file)
    from gate.harbor import WEBHOOK_SECRET_VARIABLE, HarborSettings

    settings = HarborSettings.from_env(url, stage, ca_file)
    if settings.webhook_secret is None and not insecure:
        raise UsageError(
            f"--harbor-url needs {WEBHOOK_SECRET_VARIABLE}: without it anyone who can reach "
            "the server could make it fetch and record reports",
            hint="set the same secret as the webhook's Auth Header in Harbor, or pass "
            "--harbor-insecure-no-auth on a trusted network",
        )
    return settings


def preflight(config: Any) -> None:
    """Fail before listening: policies that do not load or compile, a log that cannot be
    opened (created or migrated here once, not by every worker), an unknown --stage."""
    from gate.decisionlog import open_log
    from gate.run import load_policies, resolve_stage
    from gate.server.service import compile_check

    settings = config.settings_for({})
    bundle = load_policies(settings)
    resolve_stage(config.stage, bundle.data)
    if config.harbor is not None:
        resolve_stage(config.harbor.stage, bundle.data)
    if config.engine == "regorus":
        compile_check(bundle)
    open_log(config.log_url).close()


# --policy, --data, --engine and the OPA options, --timeout: exactly check's options.
serve_command.params[1:1] = _check_options()
