"""Command line: parse options, call :mod:`gate.run`, render, exit with the fixed code."""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, NoReturn

import click

from gate import __version__
from gate.errors import ExitCode, GateError, UsageError

# Kept in step with gate.sources.SOURCES / gate.formats.FORMATS / gate.engines.ENGINES by
# tests/test_cli.py::test_choices_match_registries, so that `gate --help` needs none of
# the heavy imports (pydantic models, rich) and stays instant.
FORMAT_NAMES = ("table", "json", "sarif", "junit", "github", "gitlab", "markdown")
ENGINE_NAMES = ("opa", "regorus")


class State:
    """Process-wide CLI state: only whether to show tracebacks."""

    debug = False


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        State.debug = True
    return value


debug_option = click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_set_debug,
    help="Show tracebacks for errors.",
)


EARLIEST_TIME = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
END_OF_TIME = dt.datetime(2262, 4, 11, tzinfo=dt.UTC)
"""Rego's time builtins count nanoseconds since 1970 in a signed 64-bit integer: --at must
fall in [EARLIEST_TIME, END_OF_TIME), or the engine would see a time other than the one given."""


def _parse_time(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = dt.datetime.fromisoformat(text)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        in_range = EARLIEST_TIME <= moment < END_OF_TIME
    except (ValueError, OverflowError):
        raise click.BadParameter(
            f"{value!r} is not an RFC 3339 time or date (e.g. 2026-12-01T00:00:00Z)"
        ) from None
    if not in_range:
        raise click.BadParameter(
            f"{value!r} is outside the times policies can represent "
            "(1970-01-01T00:00:00Z up to 2262-04-11)"
        )
    return moment


def _parse_image(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    # An empty --image would be ignored and a malformed one judged as some other name.
    if value is None:
        return None
    if value.startswith("registry://"):
        from gate.registry.reference import parse_registry_ref

        parse_registry_ref(value)
        return value
    from gate.reference import parse_reference

    if not value.strip() or parse_reference(value).repository is None:
        raise click.BadParameter(f"{value!r} is not an image reference (e.g. registry/repo:tag)")
    return value


def _parse_timeout(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from gate.engines.isolation import parse_timeout

    return parse_timeout(value, "--timeout")


def _parse_types(values: tuple[str, ...], inputs: tuple[str, ...]) -> dict[str, str]:
    """Map ``--type`` values to ``{input as given: format}`` (``*`` for every input).

    Refuses (exit 2) an unknown format, a FILE that names none of the inputs (a typo would
    otherwise leave the file detected as something else) and two formats for one file.
    """
    from gate.sources import SOURCES

    types: dict[str, str] = {}
    for value in values:
        path, sep, kind = value.rpartition("=")
        if kind not in SOURCES:
            raise UsageError(
                f"--type {value}: unknown input type {kind!r}; "
                f"choose from {', '.join(sorted(SOURCES))}"
            )
        key = _given_input(path, value, inputs) if sep else "*"
        if types.get(key, kind) != kind:
            raise UsageError(f"--type {value}: {key} is already forced to {types[key]}")
        types[key] = kind
    return types


def _given_input(path: str, value: str, inputs: tuple[str, ...]) -> str:
    from gate.output import same_file

    if path in inputs:
        return path
    for given in inputs:
        if given != "-" and path != "-" and same_file(path, given):
            return given
    raise UsageError(
        f"--type {value}: {path!r} is not one of the input files",
        hint="write FILE exactly as given on the command line, or --type FORMAT for all",
    )


def _refuse_stdin_misuse(inputs: tuple[str, ...], **file_options: Any) -> None:
    """Standard input can be read once: as a report, a data document or a waivers file.

    A second ``-`` would read nothing; a policy is a directory or a file, never a pipe.
    """
    readers = [("an input", name) for name in inputs]
    for option, values in file_options.items():
        given = values if isinstance(values, tuple) else (values,)
        if option == "policy" and "-" in given:
            raise UsageError("--policy -: policies are read from files or directories")
        readers += [(f"--{option}", name) for name in given]
    users = [who for who, name in readers if name == "-"]
    if len(users) > 1:
        raise UsageError(
            f"standard input ('-') is given more than once ({', '.join(users)}): it can be "
            "read only once"
        )


text_or_json_option = click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
"""--format of the commands that print text for people or JSON for machines (lint, diff)."""


data_option = click.option(
    "-d",
    "--data",
    multiple=True,
    metavar="[NAME=]FILE",
    help="Data document (JSON/YAML) merged over the policies' data, e.g. stage thresholds; "
    "NAME=FILE mounts it at data.NAME (dotted: feeds.kev=FILE) (repeatable).",
)
"""--data, as every command that loads policies takes it."""


def policy_path_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """PATH... (default: the bundled pack) and --data, as every `gate policy` command takes."""
    command = data_option(command)
    return click.argument("paths", nargs=-1, metavar="[PATH]...")(command)


def input_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that reads reports."""
    for option in reversed(
        [
            click.argument("inputs", nargs=-1, metavar="FILE..."),
            click.option(
                "--type",
                "types",
                multiple=True,
                metavar="[FILE=]FORMAT",
                help="Force the format of every input, or of one (FILE=FORMAT); "
                "default: detected from content.",
            ),
            click.option(
                "--image",
                metavar="REF",
                callback=_parse_image,
                help="Reference of the image being gated (overrides what the inputs say); "
                "registry://HOST/REPO:TAG reads it from its registry.",
            ),
            click.option(
                "--stage",
                metavar="STAGE",
                help="Promotion stage (from the policy data, e.g. dev|staging|prod); "
                "default: the strictest.",
            ),
            click.option(
                "--at",
                metavar="TIME",
                callback=_parse_time,
                help="Evaluate as of this RFC 3339 time instead of now (reproducible verdicts).",
            ),
            debug_option,
        ]
    ):
        command = option(command)
    return command


CONFIG_META = "gate.config_file"
"""Where a ConfigCommand leaves the path of the config file it read (ctx.meta)."""

NO_ENV = frozenset({"debug", "timeout", "sign_key", "force", "dry_run", "destinations"})
"""Options without a GATE_* variable: --timeout and --sign-key have theirs (GATE_TIMEOUT,
GATE_SIGNING_KEY); --force and --dry-run are decisions of one run, never of an environment."""


class ConfigCommand(click.Command):
    """A command whose defaults come from `.gate.yaml` and whose options from GATE_* too.

    Precedence, as click resolves it: flags > GATE_* environment > config file > defaults.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, click.Option) and param.envvar is None and param.name:
                if param.name not in NO_ENV:
                    flag = max(param.opts, key=len).lstrip("-")
                    param.envvar = "GATE_" + flag.upper().replace("-", "_")
        self.params += [
            click.Option(
                ["--config"],
                metavar="FILE",
                expose_value=False,
                help="Read defaults from FILE instead of the nearest .gate.yaml "
                "(also GATE_CONFIG).",
            ),
            click.Option(
                ["--no-config"],
                is_flag=True,
                expose_value=False,
                help="Ignore .gate.yaml (also GATE_NO_CONFIG=1).",
            ),
        ]

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        from pathlib import Path

        from gate.config import find_config, load_config, requested_config

        use, explicit = requested_config(args, os.environ)
        path = Path(explicit) if explicit else (find_config() if use else None)
        if path is not None and use:
            if not path.is_file():
                raise UsageError("--config: no such file", where=str(path))
            names = {p.name for p in self.params if p.name}
            extra.setdefault("default_map", load_config(path, names))
        context = super().make_context(info_name, args, parent, **extra)
        if path is not None and use:
            context.meta[CONFIG_META] = str(path)
        return context


class LazyGroup(click.Group):
    """A command group whose commands live in their own modules, imported when invoked.

    ``gate --help`` and ``gate check`` then never import the policy workbench.
    """

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        import importlib

        module_name, _, attribute = self.lazy[cmd_name].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):  # pragma: no cover - a wiring mistake
            raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
        return command


@click.group(
    cls=LazyGroup,
    lazy={
        "diff": "gate.diff:diff_command",
        "init": "gate.scaffold:init_command",
        "log": "gate.decisionlog.commands:log_group",
        "promote": "gate.registry.commands:promote_command",
        "serve": "gate.server.commands:serve_command",
        "verdicts": "gate.registry.commands:verdicts_command",
        "verify-verdict": "gate.registry.commands:verify_verdict_command",
        "waivers": "gate.waivers_cli:waivers_group",
    },
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="gate")
@debug_option
def cli() -> None:
    """Gate container image promotion on scanner reports and image metadata, with Rego policies.

    \b
    Exit codes: 0 pass, 1 gate failed, 2 usage error, 3 no verdict (bad input,
    policy error, engine failure). Anything that prevents a verdict is never a pass.
    """


def _options(command: Callable[..., Any], options: list[Callable[..., Any]]) -> Callable[..., Any]:
    for option in reversed(options):
        command = option(command)
    return command


def evaluation_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Policies, waivers, engine and report options, as `check` and `promote` take them."""
    return _options(
        command,
        [
            click.option(
                "-p",
                "--policy",
                "policies",
                multiple=True,
                metavar="PATH",
                help="Policy file or directory (repeatable); default: the bundled pack, which "
                "'gate:policies' names (to layer your rules on it).",
            ),
            data_option,
            click.option("-w", "--waivers", metavar="FILE", help="Waivers file (YAML or JSON)."),
            click.option(
                "-f",
                "--format",
                "output_format",
                type=click.Choice(FORMAT_NAMES),
                help="Output format; default: the --output extension's (.json: json), else table.",
            ),
            click.option(
                "-o",
                "--output",
                metavar="FILE",
                help="Write the report here ('-': stdout) instead of stdout; replaced atomically.",
            ),
            click.option(
                "--engine",
                type=click.Choice(ENGINE_NAMES),
                default="regorus",
                show_default=True,
                help="Rego engine.",
            ),
            click.option(
                "--opa-url",
                metavar="URL",
                help="The OPA server --engine opa asks: http(s)://HOST:PORT.",
            ),
            click.option(
                "--opa-token",
                metavar="TOKEN",
                help="Bearer token for the OPA server (never printed); also $GATE_OPA_TOKEN.",
            ),
            click.option(
                "--opa-ca",
                metavar="FILE",
                help="CA certificates (PEM) the OPA server's TLS is checked against.",
            ),
            click.option(
                "--opa-bundle",
                metavar="[NAME]",
                is_flag=False,
                flag_value="",
                help="Pinned mode: upload nothing and evaluate only if the server's bundle (NAME, "
                "or its only one) has this policy set's digest as revision. Without it, push "
                "mode uploads the policies (a dedicated OPA only).",
            ),
            click.option("-q", "--quiet", is_flag=True, help="No summary line on stderr."),
            click.option(
                "--explain",
                is_flag=True,
                help="Show, for each result, the rule's file and line and the input values that "
                "made it fire.",
            ),
            click.option(
                "--timeout",
                metavar="SECONDS",
                callback=_parse_timeout,
                help="Stop policy evaluation after SECONDS and exit 3; default: $GATE_TIMEOUT, "
                "else the data's gate_config.timeout_seconds, else 300.",
            ),
            click.option(
                "--report",
                "report",
                multiple=True,
                metavar="FORMAT=PATH",
                help="Also write the verdict as FORMAT to PATH (repeatable; the same bytes as a "
                "run with that one format), e.g. --report sarif=gate.sarif.",
            ),
            click.option(
                "--advisory/--no-advisory",
                default=False,
                help="Report the decision but exit 0 on a failing verdict (still 3 with no "
                "verdict, 2 on usage errors); recorded in the verdict.",
            ),
            click.option(
                "--baseline",
                metavar="VERDICT",
                help="Mark violations new or existing against this earlier verdict (JSON, or "
                "its signed envelope); the stage's block_existing decides whether existing "
                "ones block.",
            ),
            click.option(
                "--dockerfile",
                metavar="FILE",
                help="The image's Dockerfile: where code-scanning formats place results.",
            ),
            *evidence_option_list(),
            click.option(
                "--log",
                "log_url",
                metavar="URL",
                envvar="GATE_DECISION_LOG",
                help="Record the verdict in this decision log (sqlite:///PATH, "
                "postgresql://USER@HOST/DB; also $GATE_DECISION_LOG). A verdict it cannot "
                "record is exit 3.",
            ),
            click.option(
                "--metrics-file",
                metavar="PATH",
                help="Write this run's Prometheus metrics to PATH (node_exporter textfile "
                "collector).",
            ),
            click.option(
                "--pushgateway",
                metavar="URL",
                help="Push this run's Prometheus metrics to the Pushgateway at URL.",
            ),
            click.option(
                "--sign-key",
                metavar="FILE",
                envvar="GATE_SIGNING_KEY",
                help="Private key (PEM, ECDSA P-256 or Ed25519) that signs the verdict attached "
                "to the image; default: $GATE_SIGNING_KEY.",
            ),
        ],
    )


def evidence_option_list() -> list[Callable[..., Any]]:
    """Where evidence comes from beyond files: registries, attached artifacts, trusted keys."""
    return [
        *registry_option_list(),
        click.option(
            "--trust-key",
            "trust_keys",
            multiple=True,
            metavar="FILE",
            help="Public key (PEM) whose signatures count: previous-stage verdicts and "
            "cosign image signatures (repeatable).",
        ),
        click.option(
            "--verify-key",
            metavar="FILE",
            help="Public key (PEM, RSA or EC P-256) every --policy bundle.tar.gz must be "
            "signed with (exit 3 otherwise); default: $GATE_BUNDLE_VERIFY_KEY.",
        ),
        click.option(
            "--attached",
            is_flag=True,
            help="Also read SBOMs, provenance and VEX attached to a registry:// image "
            "(verdicts and cosign signatures are always read).",
        ),
    ]


def registry_option_list() -> list[Callable[..., Any]]:
    """How to reach registries: platform, TLS trust, plain-HTTP hosts."""
    return [
        click.option(
            "--platform",
            metavar="OS/ARCH[/VARIANT]",
            help="Platform to pick from a registry image index; default: linux/amd64.",
        ),
        click.option(
            "--registry-ca",
            metavar="FILE",
            help="CA bundle (PEM) that registry TLS certificates must chain to.",
        ),
        click.option(
            "--insecure-registry",
            "insecure_registries",
            multiple=True,
            metavar="HOST[:PORT]",
            help="Registry reached without TLS verification or over plain HTTP (repeatable); "
            "loopback registries may use plain HTTP without it.",
        ),
    ]


def evaluation_settings(inputs: tuple[str, ...], options: dict[str, Any]) -> Any:
    """Check the evaluation options together and build :class:`gate.run.Settings`."""
    from gate.output import check_output_path, same_file
    from gate.policy import DEFAULT_POLICIES_NAME, default_policy_dir
    from gate.registry.options import RegistryOptions
    from gate.run import Settings

    data, waivers = options.get("data", ()), options.get("waivers")
    policies = options.get("policies", ())
    _refuse_stdin_misuse(inputs, data=data, waivers=waivers, policy=policies)
    forced = _parse_types(options["types"], inputs)
    output = options["output"]
    # Files the run reads, and policy paths: no output may replace one.
    keys = [
        options.get("sign_key"),
        options.get("registry_ca"),
        options.get("verify_key"),
        *options["trust_keys"],
    ]
    reads = [*inputs, *data, *(f for f in [waivers, options.get("baseline"), *keys] if f)]
    policy_paths = [
        default_policy_dir() if path == DEFAULT_POLICIES_NAME else path
        for path in policies or [DEFAULT_POLICIES_NAME]
    ]
    if output is not None:
        check_output_path(output, reads=reads, policy_paths=policy_paths)
    metrics_file = options.get("metrics_file")
    if metrics_file:
        check_output_path(
            metrics_file, reads=reads, policy_paths=policy_paths, option="--metrics-file"
        )
        if output is not None and same_file(metrics_file, output):
            raise UsageError("--metrics-file: that file is already the --output")
    if "output_format" in options:  # a format the output file cannot hold: before any work
        from gate.formats import output_format_for

        output_format_for(options["output_format"], output)
        _check_reports(report_targets(options), output, reads, policy_paths)
    if options.get("dockerfile") and not os.path.isfile(options["dockerfile"]):
        raise UsageError("--dockerfile: no such file", where=options["dockerfile"])
    image = options["image"]
    registry_image = image is not None and image.startswith("registry://")
    return Settings(
        inputs=[*inputs, image] if registry_image else list(inputs),
        stage=options["stage"],
        image=None if registry_image else image,
        at=options["at"],
        types=forced,
        policies=list(policies),
        data=list(data),
        waivers=waivers,
        engine=options.get("engine", "regorus"),
        opa=_opa_options(options),
        explain=options.get("explain", False),
        timeout=options.get("timeout"),
        trust_keys=list(options["trust_keys"]),
        bundle_verify_key=options.get("verify_key"),
        platform=options["platform"],
        attached=options["attached"],
        registry=RegistryOptions(
            ca_file=options["registry_ca"],
            insecure_hosts=frozenset(h.lower() for h in options["insecure_registries"]),
        ),
        advisory=options.get("advisory", False),
        baseline=options.get("baseline"),
        dockerfile=options.get("dockerfile"),
        config_file=click.get_current_context().meta.get(CONFIG_META),
    )


def _opa_options(options: dict[str, Any]) -> Any:
    """``--opa-*`` as :class:`gate.engines.opa.OpaOptions` (None unless ``--engine opa``)."""
    # Not --opa-token: $GATE_OPA_TOKEN may be set for a whole CI while some jobs use regorus.
    given = [name for name in ("opa_url", "opa_bundle") if options.get(name) is not None]
    if options.get("engine") != "opa":
        if given:
            raise UsageError(f"--{given[0].replace('_', '-')} needs --engine opa")
        return None
    if not options.get("opa_url"):
        raise UsageError(
            "--engine opa needs --opa-url", hint="e.g. --opa-url https://opa.internal:8181"
        )
    if options.get("opa_ca") and not os.path.isfile(options["opa_ca"]):
        raise UsageError("--opa-ca: no such file", where=options["opa_ca"])
    from gate.engines.opa import OpaOptions, parse_server

    opa = OpaOptions(
        url=options["opa_url"],
        token=options.get("opa_token") or None,
        ca_file=options.get("opa_ca"),
        bundle=options.get("opa_bundle"),
    )
    # A bad URL is a usage error, found before any work.
    parse_server(opa.url, with_token=bool(opa.token))
    return opa


def report_targets(options: dict[str, Any]) -> list[tuple[str, str]]:
    """``--report FORMAT=PATH`` values as (format, path); exit 2 on a malformed one."""
    from gate.formats import FORMATS

    targets = []
    for value in options.get("report", ()):
        fmt, sep, path = value.partition("=")
        if not sep or not path:
            raise UsageError(f"--report {value}: expected FORMAT=PATH, e.g. sarif=gate.sarif")
        if fmt not in FORMATS:
            raise UsageError(
                f"--report {value}: unknown format {fmt!r}; choose from {', '.join(FORMATS)}"
            )
        targets.append((fmt, path))
    return targets


def _check_reports(
    targets: list[tuple[str, str]], output: str | None, reads: list[str], policies: list[Any]
) -> None:
    """Every report file is writable, of its format's extension, and written once."""
    from gate.formats import output_format_for
    from gate.output import STDOUT, check_output_path, same_file

    seen: list[str] = [output] if output and output != STDOUT else []
    for fmt, path in targets:
        if path == STDOUT:
            raise UsageError(f"--report {fmt}={path}: reports go to files; stdout is --format's")
        output_format_for(fmt, path)
        check_output_path(path, reads=reads, policy_paths=policies, option="--report")
        if any(same_file(path, p) for p in seen):
            raise UsageError(f"--report {fmt}={path}: that file is already written by this run")
        seen.append(path)


def report_verdict(verdict: Any, options: dict[str, Any], extra: str | None = None) -> None:
    """Render ``verdict`` as ``--format``/``--output`` ask, and the summary on stderr."""
    from gate.formats import FORMATS, output_format_for
    from gate.formats.table import relaxed_line, summary_line
    from gate.output import STDOUT, terminal_style

    output = options["output"]
    chosen = output_format_for(options["output_format"], output)
    to_stdout = output is None or output == STDOUT
    color, width = terminal_style(sys.stdout) if to_stdout else (False, None)
    text = FORMATS[chosen].render(verdict, color=color, width=width)
    emit(text, output)
    written = {chosen}
    for fmt, path in report_targets(options):
        emit(FORMATS[fmt].render(verdict), path)
        written.add(fmt)
    if "github" in written:
        from gate.formats.github import append_job_summary

        append_job_summary(verdict)
    if extra and chosen == "table" and to_stdout:
        click.echo(extra)
    elif extra and not options["quiet"]:
        click.echo(extra, err=True)
    if not options["quiet"] and (not to_stdout or chosen != "table"):
        click.echo(summary_line(verdict), err=True)
        relaxed = relaxed_line(verdict)
        if relaxed:
            click.echo(relaxed, err=True)


def signing_key(path: str | None) -> Any:
    """The ``--sign-key`` key, loaded before anything is evaluated (a typo is exit 2)."""
    if not path:
        return None
    from gate.signing import load_signing_key

    return load_signing_key(path)


@cli.command(cls=ConfigCommand)
@input_options
@evaluation_options
@click.option(
    "--attach",
    is_flag=True,
    help="Attach the verdict to the registry:// image it is about (signed with --sign-key).",
)
def check(inputs: tuple[str, ...], attach: bool, **options: Any) -> None:
    """Evaluate reports (FILE..., '-' for stdin) against policies and decide pass or fail.

    An input written registry://HOST[:PORT]/REPO[:TAG][@DIGEST] is read from the registry
    (the image itself: manifest and config, by digest).

    Every option can also be set as GATE_<OPTION> (GATE_STAGE=prod, GATE_REPORT="sarif=g.sarif")
    or in the nearest .gate.yaml; flags win over the environment, which wins over the file.
    """
    from gate.observe import RunObserver
    from gate.run import evaluate

    settings = evaluation_settings(inputs, options)
    key = signing_key(options["sign_key"])
    if attach and not any(i.startswith("registry://") for i in settings.inputs):
        raise UsageError(
            "--attach needs the image read from its registry",
            hint="give the image as an input or --image: registry://HOST/REPO:TAG",
        )
    observer = RunObserver.from_options(options)
    observer.open()
    with observer.observing(settings) as phases:
        verdict = evaluate(settings, phases=phases)
        observer.record(verdict, phases, settings)
    extra = None
    if attach:
        from gate.registry.verdicts import attach_to_subject

        extra = "verdict attached: " + ", ".join(attach_to_subject(settings, verdict, key))
    report_verdict(verdict, options, extra)
    sys.exit(int(verdict.exit_code))


@cli.command(cls=ConfigCommand)
@input_options
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write the document here ('-': stdout) instead of stdout.",
)
@lambda command: _options(command, evidence_option_list())
def normalize(inputs: tuple[str, ...], **options: Any) -> None:
    """Print the normalised document (JSON) that policies see as `input`."""
    from gate.run import normalize as build

    document = build(evaluation_settings(inputs, options))
    emit(document.model_dump_json(indent=2) + "\n", options["output"])


@cli.command()
@click.argument("verdict_file", metavar="VERDICT")
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(FORMAT_NAMES),
    help="Output format; default: the --output extension's, else table.",
)
@click.option("-o", "--output", metavar="FILE", help="Write here instead of stdout.")
@click.option("--report", multiple=True, metavar="FORMAT=PATH", help="Also write FORMAT to PATH.")
@debug_option
def render(
    verdict_file: str, output_format: str | None, output: str | None, report: tuple[str, ...]
) -> None:
    """Re-render a saved verdict (gate check -f json, or its signed envelope) as another format,
    without evaluating again. Exit 0 once written, whatever the verdict's decision."""
    from gate.baseline import load_verdict

    options = {"output": output, "output_format": output_format, "report": report, "quiet": True}
    if output is not None:
        from gate.output import check_output_path

        check_output_path(output, reads=[verdict_file], policy_paths=[])
    from gate.formats import output_format_for

    output_format_for(output_format, output)
    _check_reports(report_targets(options), output, [verdict_file], [])
    report_verdict(load_verdict(verdict_file), options)


@cli.command()
@click.argument("which", type=click.Choice(["document", "verdict", "waivers"]), default="document")
@debug_option
def schema(which: str) -> None:
    """Print a JSON Schema: the input document (default), the verdict, or the waivers file."""
    if which == "document":
        from gate.document import json_schema_text

        click.echo(json_schema_text(), nl=False)
    elif which == "verdict":
        from gate.verdict import verdict_schema_text

        click.echo(verdict_schema_text(), nl=False)
    else:
        from importlib import resources

        text = resources.files("gate").joinpath("schema/waivers.schema.json").read_text("utf-8")
        click.echo(text, nl=False)


@cli.group(
    cls=LazyGroup,
    lazy={
        "test": "gate.policytest:test_command",
        "lint": "gate.lint:lint_command",
        "doc": "gate.catalog:doc_command",
        "init-rule": "gate.scaffold:init_rule_command",
        "eval": "gate.policyeval:eval_command",
        "build": "gate.opabundle:build_command",
        "push": "gate.opabundle:push_command",
        "pull": "gate.opabundle:pull_command",
    },
)
def policy() -> None:
    """Work on Rego policies: run their tests, lint them, document them."""


def refuse_overwriting_inputs(output: str, given: list[str]) -> None:
    """Refuse (exit 2) an ``--output`` that is unusable or would replace one of ``given``."""
    from gate.output import check_output_path

    check_output_path(output, reads=given, policy_paths=[])


def emit(text: str, output: str | None) -> None:
    """Write ``text`` to stdout (``None`` or ``-``) or to ``output`` (see :mod:`gate.output`)."""
    from gate.output import write_output

    write_output(text, output)


def _fail(message: str, hint: str | None, code: int) -> NoReturn:
    from gate.output import printable

    # Messages quote input text (paths, values, ids): escaped, one line each.
    click.echo(f"error: {printable(message)}", err=True)
    if hint:
        click.echo(f"hint: {printable(hint)}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI; map every failure to one ``error:`` line and a fixed exit code."""
    State.debug = False
    # Pydantic looks for plugins (entry points of every installed distribution, ~4 ms)
    # the first time it builds a model; a plugin is third-party code that sees, and may
    # change, every document and verdict gate validates. The CLI runs none.
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
    if sys.stdout is None:
        from gate.output import ClosedStdout

        sys.stdout = ClosedStdout()
    try:
        cli.main(args=argv, prog_name="gate", standalone_mode=False)
    except GateError as exc:
        if State.debug:
            traceback.print_exc()
        _fail(str(exc), exc.hint, int(exc.exit_code))
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _fail("interrupted", None, int(ExitCode.NO_VERDICT))
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.format_message(), err=True)
        sys.exit(int(ExitCode.USAGE))
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "gate"
        _fail(exc.format_message(), f"see '{command} --help'", int(ExitCode.USAGE))
    except click.ClickException as exc:
        _fail(exc.format_message(), None, int(ExitCode.USAGE))
    except KeyboardInterrupt:
        _fail("interrupted", None, int(ExitCode.NO_VERDICT))
    except Exception as exc:  # fail closed: an unexpected crash is "no verdict", never a pass
        if State.debug:
            traceback.print_exc()
        _fail(
            f"internal error: {type(exc).__name__}: {exc}",
            "run again with --debug and report the traceback",
            int(ExitCode.NO_VERDICT),
        )
    sys.exit(0)
