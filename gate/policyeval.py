"""``gate policy eval``: evaluate any Rego query against a document, like ``opa eval``.

The input is a normalised document (``--input FILE``, e.g. ``gate normalize`` output) or
reports (``FILE...``) normalised first exactly as ``gate check`` does; the policies and data
are loaded as ``check`` loads them (``--policy``, ``--data``, the bundled pack by default).
The query's value is printed as JSON; ``print()`` output goes to stderr as
``print: file:line: text``. Evaluation runs in the same forked, time-bounded child as
``check`` (:mod:`gate.engines.isolation`).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from gate.cli import (
    _options,
    data_option,
    evaluation_settings,
    evidence_option_list,
    input_options,
)
from gate.errors import ExitCode, InputError, UsageError
from gate.inputs import MAX_INPUT_BYTES, parse_structured, read_given

UNDEFINED_EXIT = ExitCode.FAILED
"""A query without a value exits 1, as ``opa eval --fail`` does: a script must not read
"nothing printed" as an answer."""


def read_document(given: str) -> str:
    """The JSON text of a document file (``-``: stdin), checked to be one JSON object."""
    shown, raw = read_given(given, MAX_INPUT_BYTES, InputError)
    try:
        document = parse_structured(raw.decode("utf-8-sig"), as_yaml=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"--input: not a JSON document: {exc}", where=shown) from exc
    if not isinstance(document, dict):
        raise InputError("--input: a document is a JSON object", where=shown)
    from gate.document import SCHEMA_VERSION

    # A document of another schema version names fields differently: rules would read
    # nothing where they expect a value and answer as if nothing were there. A hand-made
    # document without a version is taken as written.
    version = document.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise InputError(
            f"--input: document schema_version {json.dumps(version)[:40]} is not "
            f"{SCHEMA_VERSION!r}: its field names differ from what the policies read",
            where=shown,
            hint="re-create it with `gate normalize` (see the README's v1 to v2 migration note)",
        )
    return json.dumps(document)


def query_answer(raw: str) -> tuple[bool, Any]:
    """``(defined, value)`` of regorus' answer: a query without variables gives its value
    (a list when it has several expressions); a query binding variables gives the list
    of their bindings, one object per solution."""
    results = json.loads(raw).get("result") or []
    if not results:
        return False, None
    if any(result.get("bindings") for result in results):
        return True, [result.get("bindings") or {} for result in results]
    values = [e.get("value") for e in results[0].get("expressions") or []]
    return True, values[0] if len(values) == 1 else values


@click.command("eval")
@click.argument("query")
@lambda command: _options(command, [input_options, *evidence_option_list()])
@click.option(
    "-i",
    "--input",
    "document",
    metavar="FILE",
    help="A normalised document (JSON, as `gate normalize` writes it) to use as input.",
)
@click.option(
    "-p",
    "--policy",
    "policies",
    multiple=True,
    metavar="PATH",
    help="Policy file or directory (repeatable); default: the bundled pack ('gate:policies').",
)
@data_option
@click.option(
    "--timeout", type=float, metavar="SECONDS", help="Evaluation time limit (default: 300)."
)
def eval_command(
    query: str,
    inputs: tuple[str, ...],
    document: str | None,
    **options: Any,
) -> None:
    """Evaluate QUERY (e.g. data.gate.image.root_user.findings) and print its value as JSON.

    \b
    The input is --input FILE (a normalised document), or the reports FILE... normalised
    as `gate check` does (same --image/--stage/--at/--type), or none. Policies and data
    load as in `gate check`. print() output goes to stderr with its file:line.
    Exit codes: 0 printed a value, 1 the query is undefined, 2 usage error,
    3 the policies do not load or compile, or evaluation failed.
    """
    from gate.engines.isolation import resolve_timeout
    from gate.engines.regorus import RegorusEngine, show_prints
    from gate.policy import load_policies
    from gate.run import build_document, document_json, resolve_stage

    if document is not None and inputs:
        raise UsageError("give either --input DOCUMENT or report FILEs, not both")
    if document == "-" and "-" in options["data"]:
        raise UsageError("standard input ('-') is given more than once: it can be read once")
    settings = evaluation_settings(inputs, {**options, "output": None})
    bundle = load_policies(settings.policies, settings.data)
    input_json: str | None = None
    if document is not None:
        input_json = read_document(document)
    elif inputs or settings.image:
        stage = resolve_stage(settings.stage, bundle.data)
        input_json = document_json(build_document(settings, stage))[0]
    raw, prints = RegorusEngine().evaluate_all(
        bundle.modules,
        bundle.data,
        input_json,
        query,
        timeout=resolve_timeout(options["timeout"], bundle.data),
    )
    show_prints(prints)
    defined, value = query_answer(raw)
    if not defined:
        click.echo(f"undefined: {query} has no value", err=True)
        sys.exit(int(UNDEFINED_EXIT))
    click.echo(json.dumps(value, indent=2, sort_keys=True))
    sys.exit(int(ExitCode.PASSED))


__all__ = ["eval_command", "query_answer", "read_document"]
