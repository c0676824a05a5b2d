"""Command line: parse options, call :mod:`gate.run`, render, exit with the fixed code."""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from gate import __version__
from gate.errors import ExitCode, GateError, UsageError

# Kept in step with gate.sources.SOURCES / gate.formats.FORMATS / gate.engines.ENGINES by
# tests/test_cli.py::test_choices_match_registries, so that `gate --help` needs none of
# the heavy imports (pydantic models, rich) and stays instant.
FORMAT_NAMES = ("table", "json")
ENGINE_NAMES = ("regorus",)


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


def _parse_time(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an RFC 3339 time or date (e.g. 2026-12-01T00:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _parse_types(values: tuple[str, ...]) -> dict[str, str]:
    types: dict[str, str] = {}
    for value in values:
        path, sep, kind = value.rpartition("=")
        types[path if sep else "*"] = kind
    return types


def policy_path_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """PATH... (default: the bundled pack) and --data, as every `gate policy` command takes."""
    command = click.option(
        "-d",
        "--data",
        multiple=True,
        metavar="FILE",
        help="Data document (JSON/YAML) merged over the policies' data (repeatable).",
    )(command)
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
                help="Reference of the image being gated (overrides what the inputs say).",
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
    lazy={"init": "gate.scaffold:init_command"},
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


@cli.command()
@input_options
@click.option(
    "-p",
    "--policy",
    "policies",
    multiple=True,
    metavar="PATH",
    help="Policy file or directory (repeatable); default: the bundled pack, which "
    "'gate:policies' names (to layer your rules on it).",
)
@click.option(
    "-d",
    "--data",
    multiple=True,
    metavar="FILE",
    help="Data document (JSON/YAML) merged over the policies' data, e.g. stage thresholds.",
)
@click.option("-w", "--waivers", metavar="FILE", help="Waivers file (YAML or JSON).")
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(FORMAT_NAMES),
    help="Output format; default: table (json when --output ends in .json).",
)
@click.option("-o", "--output", metavar="FILE", help="Write the report here instead of stdout.")
@click.option(
    "--engine",
    type=click.Choice(ENGINE_NAMES),
    default="regorus",
    show_default=True,
    help="Rego engine.",
)
@click.option("-q", "--quiet", is_flag=True, help="No summary line on stderr.")
@click.option(
    "--explain",
    is_flag=True,
    help="Show, for each result, the rule's file and line and the input values that made it fire.",
)
def check(
    inputs: tuple[str, ...],
    types: tuple[str, ...],
    image: str | None,
    stage: str | None,
    at: dt.datetime | None,
    policies: tuple[str, ...],
    data: tuple[str, ...],
    waivers: str | None,
    output_format: str | None,
    output: str | None,
    engine: str,
    quiet: bool,
    explain: bool,
) -> None:
    """Evaluate reports (FILE..., '-' for stdin) against policies and decide pass or fail."""
    from gate.formats import EXTENSIONS, FORMATS
    from gate.formats.table import summary_line
    from gate.run import Settings, evaluate

    if output is not None:
        refuse_overwriting_inputs(output, [*inputs, *policies, *data, *(w for w in [waivers] if w)])
    chosen = output_format or (EXTENSIONS.get(Path(output).suffix, "table") if output else "table")
    settings = Settings(
        inputs=list(inputs),
        stage=stage,
        image=image,
        at=at,
        types=_parse_types(types),
        policies=list(policies),
        data=list(data),
        waivers=waivers,
        engine=engine,
        explain=explain,
    )
    verdict = evaluate(settings)
    to_terminal = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    text = FORMATS[chosen].render(
        verdict, color=to_terminal, width=_terminal_width() if to_terminal else None
    )
    emit(text, output)
    if not quiet and (output is not None or chosen != "table"):
        click.echo(summary_line(verdict), err=True)
    sys.exit(int(verdict.exit_code))


@cli.command()
@input_options
@click.option("-o", "--output", metavar="FILE", help="Write the document here instead of stdout.")
def normalize(
    inputs: tuple[str, ...],
    types: tuple[str, ...],
    image: str | None,
    stage: str | None,
    at: dt.datetime | None,
    output: str | None,
) -> None:
    """Print the normalised document (JSON) that policies see as `input`."""
    from gate.run import Settings
    from gate.run import normalize as build

    if output is not None:
        refuse_overwriting_inputs(output, list(inputs))
    document = build(
        Settings(inputs=list(inputs), stage=stage, image=image, at=at, types=_parse_types(types))
    )
    emit(document.model_dump_json(indent=2) + "\n", output)


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
    },
)
def policy() -> None:
    """Work on Rego policies: run their tests, lint them, document them."""


def _terminal_width() -> int | None:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return None


def refuse_overwriting_inputs(output: str, given: list[str]) -> None:
    target = Path(output).resolve()
    for path in given:
        if path != "-" and Path(path).resolve() == target:
            raise UsageError("--output would overwrite an input file", where=output)


def emit(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    # Write beside the target and rename, so that a failed write never leaves half a report.
    target = Path(output)
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise GateError(f"cannot write output: {exc.strerror or exc}", where=output) from exc


def _fail(message: str, hint: str | None, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI; map every failure to one ``error:`` line and a fixed exit code."""
    State.debug = False
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
