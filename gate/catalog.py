"""``gate policy doc``: a catalogue of a policy pack's rules, for a wiki page or a CI diff.

Every rule is a ``# METADATA`` block with ``custom.id`` (read by :func:`gate.policy.parse_metadata`,
since regorus has no ``rego.metadata`` builtins). For each, the catalogue gives the block's
title, description, severity and remediation, where it is (file and line, as loaded),
``custom.effective_from`` when the rule is announced before it blocks, and what each stage
does with it: the stage's ``gate_config.stages.<stage>.actions[<id>]`` from the policy data,
and ``deny`` when the stage sets no valid action — what the bundled pack's ``lib.action``
does, so the catalogue shows the gate's real behaviour, a typo in ``data.json`` included.

Only rules ``gate check`` evaluates are catalogued: packages under ``gate.``. A METADATA
block in another package is listed apart, under "Not evaluated" (``not_evaluated`` in JSON).

The output is deterministic (rules sorted by id; no times, versions or digests) so that a
CI job can diff it against a committed copy: ``docs/rules.md`` is the bundled pack's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from gate.cli import debug_option, emit, policy_path_options, refuse_overwriting_inputs
from gate.errors import PolicyError, UsageError
from gate.formats import output_format_for
from gate.policy import (
    DATA_FILE_NAMES,
    DEFAULT_POLICIES_NAME,
    PolicyBundle,
    RuleInfo,
    default_policy_dir,
    load_policies,
)

ACTIONS = ("deny", "warn", "off")
FAIL_CLOSED_ACTION = "deny"
FORMATS = ("markdown", "json")


@dataclass(frozen=True)
class RuleEntry:
    """One rule of the catalogue."""

    info: RuleInfo
    actions: dict[str, str]
    """Stage → ``deny``/``warn``/``off``, in stage order."""
    unset_stages: list[str]
    """Stages whose data gives the rule no valid action: it denies there (fail closed)."""
    effective_from: str | None
    """``custom.effective_from`` as written (a date or an RFC 3339 time), when set."""


@dataclass(frozen=True)
class Catalog:
    """The rules of a bundle, sorted by id, and the stages of its data, laxest first."""

    sources: list[str]
    stages: list[str]
    rules: list[RuleEntry]
    not_evaluated: list[RuleInfo] = field(default_factory=list)
    """Rules declared in packages outside ``gate.``: ``gate check`` never evaluates them."""


def build_catalog(bundle: PolicyBundle, sources: list[str]) -> Catalog:
    """Describe every rule of ``bundle``; ``sources`` names what was loaded, for the title.

    Raises :class:`PolicyError` when no module declares a rule (no ``# METADATA`` block
    with ``custom.id``), when a block is not YAML, or when ``custom.effective_from`` is not
    a date.
    """
    from gate.run import FALLBACK_STAGE, stages_of
    from gate.verdict import effective_from

    declared = bundle.rules()
    rules = {rule_id: info for rule_id, info in declared.items() if _evaluated(info)}
    not_evaluated = [info for rule_id, info in sorted(declared.items()) if rule_id not in rules]
    if not rules:
        raise PolicyError(
            "no rules to document: no # METADATA block with custom.id"
            + (" in a package under gate." if not_evaluated else ""),
            where=", ".join(sources),
            hint="rename the packages to gate.<name>: `gate check` evaluates only data.gate"
            if not_evaluated
            else "start each rule package with a # METADATA block (title, description, "
            "custom.id, custom.severity)",
        )
    # Without stages in the data, `gate check` gates the fallback stage, where every
    # rule denies: show exactly that.
    stages = stages_of(bundle.data) or [FALLBACK_STAGE]
    entries = []
    for rule_id in sorted(rules):
        info = rules[rule_id]
        actions, unset = stage_actions(bundle.data, stages, rule_id)
        start = effective_from(info)
        entries.append(RuleEntry(info, actions, unset, start[1] if start else None))
    return Catalog(sources, stages, entries, not_evaluated)


def is_evaluated_package(package: Sequence[str]) -> bool:
    """True for a package whose deny/warn sets ``gate check`` collects (``data.gate``)."""
    return bool(package) and package[0] == "gate"


def _evaluated(info: RuleInfo) -> bool:
    """Whether ``gate check`` evaluates the rule's package (``data.gate``); a package the
    METADATA reader could not name is listed, as before."""
    return info.package is None or is_evaluated_package(info.package.split("."))


def stage_actions(
    data: dict[str, Any], stages: list[str], rule_id: str
) -> tuple[dict[str, str], list[str]]:
    """Return each stage's action for ``rule_id`` and the stages that leave it unset.

    A stage without a valid action (missing stage, missing rule, a misspelt action) denies.
    """
    config = data.get("gate_config")
    stage_map = config.get("stages") if isinstance(config, dict) else None
    actions: dict[str, str] = {}
    unset: list[str] = []
    for stage in stages:
        stage_config = stage_map.get(stage) if isinstance(stage_map, dict) else None
        listed = stage_config.get("actions") if isinstance(stage_config, dict) else None
        action = listed.get(rule_id) if isinstance(listed, dict) else None
        if action in ACTIONS:
            actions[stage] = action
        else:
            actions[stage] = FAIL_CLOSED_ACTION
            unset.append(stage)
    return actions, unset


def render_json(catalog: Catalog) -> str:
    """The catalogue as JSON: ``{"stages": [...], "rules": [...]}``, keys in a fixed order."""
    rules = [
        {
            "id": entry.info.id,
            "title": entry.info.title,
            "description": entry.info.description,
            "severity": entry.info.severity,
            "remediation": entry.info.remediation,
            "package": entry.info.package,
            "file": entry.info.path,
            "line": entry.info.line,
            "effective_from": entry.effective_from,
            "actions": entry.actions,
            "unset_stages": entry.unset_stages,
        }
        for entry in catalog.rules
    ]
    document: dict[str, Any] = {"stages": catalog.stages, "rules": rules}
    if catalog.not_evaluated:
        document["not_evaluated"] = [
            {"id": info.id, "package": info.package, "file": info.path, "line": info.line}
            for info in catalog.not_evaluated
        ]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_markdown(catalog: Catalog) -> str:
    """The catalogue as a Markdown page: a summary table, then one section per rule."""
    sources = ", ".join(f"`{source}`" for source in catalog.sources)
    lines = [
        "# Policy rules",
        "",
        f"Generated by `gate policy doc` from {sources}; do not edit by hand.",
        "",
        f"{len(catalog.rules)} rules. The stage columns are the actions of the policy data "
        "(`gate_config.stages.<stage>.actions`): **deny** blocks promotion, **warn** is "
        "reported, **off** is silent. A rule that a stage does not set denies there "
        '(fail closed), marked "unset". A rule with a start date reports its denials as '
        "warnings until then.",
        "",
        "| id | title | severity | " + " | ".join(catalog.stages) + " |",
        "|---|---|---|" + "---|" * len(catalog.stages),
    ]
    for entry in catalog.rules:
        cells = [
            f"[`{entry.info.id}`](#{entry.info.id})",
            _cell(entry.info.title),
            _cell(entry.info.severity),
            *(_action_text(entry, stage) for stage in catalog.stages),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Rules"]
    for entry in catalog.rules:
        lines += ["", *_section(entry, catalog.stages)]
    if catalog.not_evaluated:
        lines += [
            "",
            "## Not evaluated",
            "",
            "These rules are declared in packages outside `gate.`: `gate check` evaluates "
            "only `data.gate`, so they never run. Rename each package to `gate.<name>`.",
            "",
        ]
        lines += [
            f"- `{info.id}` (package `{info.package}`, `{info.path}:{info.line}`)"
            for info in catalog.not_evaluated
        ]
    return "\n".join(lines) + "\n"


def _section(entry: RuleEntry, stages: list[str]) -> list[str]:
    info = entry.info
    heading = f"### `{info.id}`" + (f": {info.title}" if info.title else "")
    lines = [f'<a id="{info.id}"></a>', "", heading, ""]
    if info.description:
        lines += [info.description, ""]
    lines.append(f"- **Severity:** {info.severity or 'not set'}")
    actions = " · ".join(f"{stage}: {_action_text(entry, stage)}" for stage in stages)
    lines.append(f"- **Stages:** {actions}")
    if entry.effective_from:
        lines.append(
            f"- **Blocking from:** {entry.effective_from} "
            "(until then its denials are reported as warnings)"
        )
    if info.remediation:
        lines.append(f"- **Remediation:** {info.remediation}")
    package = f" (package `{info.package}`)" if info.package else ""
    lines.append(f"- **Defined in:** `{info.path}:{info.line}`{package}")
    return lines


def _action_text(entry: RuleEntry, stage: str) -> str:
    action = entry.actions[stage]
    notes = ["unset"] if stage in entry.unset_stages else []
    if action == "deny" and entry.effective_from:
        notes.append(f"from {entry.effective_from}")
    return f"{action} ({', '.join(notes)})" if notes else action


def _refuse_overwriting_policies(output: str, roots: list[Path]) -> None:
    # A catalogue may live beside the rules (policies/RULES.md), never over one of them.
    target = Path(output).resolve()
    loadable = target.suffix == ".rego" or target.name in DATA_FILE_NAMES
    for root in roots:
        resolved = root.resolve()
        if target == resolved or (loadable and resolved in target.parents):
            raise UsageError("--output would overwrite a policy or data file", where=output)


def _cell(text: str | None) -> str:
    if not text:
        return "—"
    return " ".join(text.split()).replace("|", "\\|")


@click.command("doc")
@policy_path_options
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    help="Output format; default: markdown (json when --output ends in .json).",
)
@click.option("-o", "--output", metavar="FILE", help="Write the catalogue here instead of stdout.")
@debug_option
def doc_command(
    paths: tuple[str, ...], data: tuple[str, ...], output_format: str | None, output: str | None
) -> None:
    """Document the rules of policies (PATH..., default: the bundled pack) for a wiki page.

    \b
    Lists every rule (# METADATA with custom.id): title, severity, what each stage does
    with it, description, remediation, file and line. Sorted by id and free of
    timestamps, so CI can diff it against a committed copy.
    """
    if output is not None:
        refuse_overwriting_inputs(output, list(data))
        _refuse_overwriting_policies(output, [Path(p) for p in paths] or [default_policy_dir()])
    chosen = output_format_for(output_format, output, available=FORMATS, default="markdown")
    bundle = load_policies(paths, data)
    sources = [*(paths or [DEFAULT_POLICIES_NAME]), *data]
    catalog = build_catalog(bundle, sources)
    emit(render_json(catalog) if chosen == "json" else render_markdown(catalog), output)
