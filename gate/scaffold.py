"""``gate init``: scaffold an organisation's policy repository.

The files are package data under ``gate/templates/init/``, copied as they are except for
two conventions: a path component ``dot-x`` becomes ``.x`` (``dot-github/workflows`` →
``.github/workflows``: packaging tools skip hidden directories), and ``@GATE_VERSION@``
becomes the running gate's version (the CI workflow pins it). The scaffold is a working
pack — two organisation rules, their helpers, tests, ``data.json`` — that passes
``gate policy test`` and ``gate policy lint`` as it is; ``tests/test_scaffold.py`` keeps it so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

import click

from gate import __version__
from gate.cli import debug_option
from gate.errors import GateError, UsageError

TEMPLATE_DIR = "templates/init"
VERSION_MARK = "@GATE_VERSION@"
HIDDEN_PREFIX = "dot-"


@dataclass(frozen=True)
class TemplateFile:
    """One file of the scaffold: where it goes (a relative POSIX path) and its text."""

    target: str
    text: str


def template_files() -> list[TemplateFile]:
    """Return the scaffold's files, rendered for this gate version, sorted by target path."""
    root = resources.files("gate").joinpath(TEMPLATE_DIR)
    files = [
        TemplateFile(
            target=_target(relative),
            text=item.read_text(encoding="utf-8").replace(VERSION_MARK, __version__),
        )
        for relative, item in _walk(root, PurePosixPath())
    ]
    return sorted(files, key=lambda f: f.target)


def _walk(node: Traversable, relative: PurePosixPath) -> list[tuple[PurePosixPath, Traversable]]:
    found: list[tuple[PurePosixPath, Traversable]] = []
    for child in node.iterdir():
        if child.name.startswith(".") or child.name == "__pycache__":
            continue
        path = relative / child.name
        if child.is_dir():
            found.extend(_walk(child, path))
        else:
            found.append((path, child))
    return found


def _target(relative: PurePosixPath) -> str:
    parts = [
        "." + part[len(HIDDEN_PREFIX) :] if part.startswith(HIDDEN_PREFIX) else part
        for part in relative.parts
    ]
    return str(PurePosixPath(*parts))


def scaffold(directory: Path, *, force: bool = False) -> list[Path]:
    """Write the scaffold into ``directory`` (created when missing); return the files written.

    Raises :class:`UsageError` when ``directory`` is a file, or when any scaffold file already
    exists and ``force`` is false (naming every such file: nothing is written then); raises
    :class:`GateError` when a file cannot be written. With ``force``, the scaffold's files are
    overwritten and every other file is left alone.
    """
    if directory.exists() and not directory.is_dir():
        raise UsageError("not a directory", where=str(directory))
    files = template_files()
    existing = [f.target for f in files if (directory / f.target).exists()]
    if existing and not force:
        raise UsageError(
            f"refusing to overwrite {len(existing)} existing file(s): {', '.join(existing)}",
            where=str(directory),
            hint="pass --force to overwrite them (other files are left alone)",
        )
    written: list[Path] = []
    for item in files:
        path = directory / item.target
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(item.text, encoding="utf-8", newline="\n")
        except OSError as exc:
            raise GateError(f"cannot write: {exc.strerror or exc}", where=str(path)) from exc
        written.append(path)
    return written


@click.command("init")
@click.argument("directory", default=".", metavar="[DIR]")
@click.option("--force", is_flag=True, help="Overwrite the scaffold's files when they exist.")
@debug_option
def init_command(directory: str, force: bool) -> None:
    """Scaffold an organisation policy repository in DIR (default: the current directory).

    \b
    Writes example rules with tests under policies/, policies/data.json (stages and
    actions), waivers.yaml, a CI workflow and a README. Existing files are never
    overwritten without --force.
    """
    for path in scaffold(Path(directory), force=force):
        click.echo(f"created {path}")
    policies = Path(directory) / "policies"
    click.echo(f"next: gate policy test {policies} && gate policy lint {policies}")


# ---------------------------------------------------------------------------------------
# gate policy init-rule: one organisation rule, its tests, and its stage actions
# ---------------------------------------------------------------------------------------

RULE_TEMPLATE = """\
# METADATA
# scope: package
# title: $title
# description: >-
#   TODO: say what this rule checks and why it matters, for the people whose image it
#   blocks. The example below reports images tagged "latest"; replace it with your check.
# custom:
#   id: $rule_id
#   severity: $severity
#   remediation: >-
#     TODO: say what the image's owner does to fix it.
package $package

import data.lib.org as lib
import rego.v1

# The id results, waivers and stage actions (data.json) use: keep it equal to custom.id.
rule_id := "$rule_id"

remediation := "TODO: say what the image's owner does to fix it."

# findings holds one result per problem. Read only fields of gate's document
# (`gate schema document`); `gate policy lint` reports paths it does not have.
findings contains lib.result(rule_id, msg, "$severity", remediation, finding) if {
	tag := lib.text(input.subject.tag)
	tag == "latest"
	finding := {"kind": "image", "field": "tag", "value": tag}
	msg := sprintf("the image is tagged %q, which names no fixed build", [tag])
}

deny contains r if {
	lib.action(rule_id) == "deny"
	some r in findings
}

warn contains r if {
	lib.action(rule_id) == "warn"
	some r in findings
}
"""

TEST_TEMPLATE = """\
package ${package}_test

import data.$package as rule
import rego.v1

config := {
	"stage_order": ["dev", "prod"],
	"stages": {
		"dev": {"actions": {"$rule_id": "warn"}},
		"prod": {"actions": {"$rule_id": "deny"}},
	},
}

# image(tag, stage) is the part of gate's document the rule reads.
image(tag, stage) := {
	"subject": {"tag": tag},
	"context": {"stage": stage, "evaluated_at": "2026-01-15T12:00:00Z"},
}

test_a_compliant_image_passes if {
	count(rule.findings) == 0 with input as image("1.4.2", "prod") with data.gate_config as config
}

test_a_violating_image_is_denied if {
	found := rule.deny with input as image("latest", "prod") with data.gate_config as config
	[r.id | some r in found] == ["$rule_id"]
}

test_a_warn_stage_only_warns if {
	count(rule.warn) == 1 with input as image("latest", "dev") with data.gate_config as config
	count(rule.deny) == 0 with input as image("latest", "dev") with data.gate_config as config
}
"""

NEW_RULE_ACTION = "deny"
"""What init-rule writes into each stage of data.json: what an unset action does anyway
(fail closed), now written down for the author to relax."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class NewRule:
    """What ``gate policy init-rule`` writes: the rule, its tests, and the data update."""

    rule_path: Path
    test_path: Path
    rule_text: str
    test_text: str
    data_path: Path | None
    data_text: str | None
    stages: list[str]
    """Stages of ``data_path`` that get an action for the rule."""


def plan_rule(
    name: str,
    directory: Path,
    *,
    package: str | None = None,
    rule_id: str | None = None,
    severity: str = "medium",
) -> NewRule:
    """Render a new rule ``name`` for ``directory`` without writing anything.

    Raises :class:`UsageError` for a name, package, id or severity gate would not
    evaluate or accept, and when a file to create already exists.
    """
    from string import Template

    from gate.document import SEVERITY_ORDER

    if not _IDENTIFIER.fullmatch(name) or name.endswith("_test"):
        raise UsageError(
            f"rule name {name!r} is not a Rego identifier (letters, digits, _) "
            "or ends in _test (a test module, which gate check never loads)",
            where=name,
        )
    package = package or f"gate.org.{name}"
    parts = package.split(".")
    if parts[0] != "gate" or len(parts) < 2 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
        raise UsageError(
            f"package {package!r} is not under gate.: `gate check` evaluates only data.gate",
            where="--package",
            hint=f"e.g. --package gate.org.{name}",
        )
    rule_id = rule_id or "-".join(parts[1:]).replace("_", "-")
    if not _RULE_ID.fullmatch(rule_id):
        raise UsageError(f"rule id {rule_id!r}: use letters, digits, '.', '_' and '-'")
    if severity not in SEVERITY_ORDER:
        raise UsageError(
            f"severity {severity!r} is not one of {', '.join(reversed(SEVERITY_ORDER))}"
        )
    if directory.exists() and not directory.is_dir():
        raise UsageError("not a directory", where=str(directory))
    rule_path, test_path = directory / f"{name}.rego", directory / f"{name}_test.rego"
    existing = [str(p) for p in (rule_path, test_path) if p.is_symlink() or p.exists()]
    if existing:
        raise UsageError(
            f"refusing to overwrite {', '.join(existing)}",
            hint="pick another name, or remove the files first",
        )
    values = {
        "title": name.replace("_", " ").capitalize(),
        "rule_id": rule_id,
        "severity": severity,
        "package": package,
    }
    data_path = _stage_data_file(directory)
    data_text, stages = _data_with_rule(data_path, rule_id) if data_path else (None, [])
    return NewRule(
        rule_path=rule_path,
        test_path=test_path,
        rule_text=Template(RULE_TEMPLATE).substitute(values),
        test_text=Template(TEST_TEMPLATE).substitute(values),
        data_path=data_path if stages else None,
        data_text=data_text,
        stages=stages,
    )


def _stage_data_file(directory: Path) -> Path | None:
    """The policy data beside the rule or one level up (``policies/data.json`` for
    ``policies/org``), as `gate init` lays a pack out."""
    for folder in (directory, directory.parent):
        candidate = folder / "data.json"
        if candidate.is_file():
            return candidate
    return None


def _data_with_rule(path: Path, rule_id: str) -> tuple[str | None, list[str]]:
    """``path``'s JSON with ``rule_id`` given an action in every stage that lacks one,
    and those stages; (None, []) when no stage needs it."""
    import json

    from gate.inputs import read_bounded
    from gate.policy import MAX_DATA_BYTES, stage_configs

    raw = read_bounded(path, MAX_DATA_BYTES, str(path), UsageError)
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError(
            f"cannot add the rule's actions: not JSON ({exc})", where=str(path)
        ) from exc
    if not isinstance(document, dict):
        return None, []
    stages = []
    for stage, config in stage_configs(document).items():
        actions = config.get("actions") if isinstance(config, dict) else None
        if isinstance(actions, dict) and rule_id not in actions:
            actions[rule_id] = NEW_RULE_ACTION
            stages.append(stage)
    if not stages:
        return None, []
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n", stages


def write_rule(plan: NewRule) -> list[Path]:
    """Create the rule and test files (never replacing a file, a symlink included) and
    update the data file in one rename; return the paths written."""
    import os
    import tempfile

    written: list[Path] = []
    try:
        plan.rule_path.parent.mkdir(parents=True, exist_ok=True)
        for path, text in ((plan.rule_path, plan.rule_text), (plan.test_path, plan.test_text)):
            with path.open("x", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            written.append(path)
        if plan.data_path is not None and plan.data_text is not None:
            fd, temporary = tempfile.mkstemp(dir=plan.data_path.parent, prefix=".data.json.")
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(plan.data_text)
            os.replace(temporary, plan.data_path)
            written.append(plan.data_path)
    except FileExistsError as exc:
        raise UsageError("refusing to overwrite an existing file", where=exc.filename) from exc
    except OSError as exc:
        raise GateError(f"cannot write: {exc.strerror or exc}", where=exc.filename) from exc
    return written


@click.command("init-rule")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    default="policies/org",
    show_default=True,
    metavar="DIR",
    help="Where to write NAME.rego and NAME_test.rego.",
)
@click.option("--package", metavar="PKG", help="Rego package; default: gate.org.NAME.")
@click.option(
    "--id", "rule_id", metavar="ID", help="custom.id; default: the package after gate., dashed."
)
@click.option("--severity", default="medium", show_default=True, help="custom.severity.")
@debug_option
def init_rule_command(
    name: str, directory: str, package: str | None, rule_id: str | None, severity: str
) -> None:
    """Write a new rule NAME (METADATA, findings, deny/warn by stage action) and its tests.

    \b
    The rule uses the helpers of `gate init` (data.lib.org) and lints clean; the nearest
    data.json (DIR or its parent) gets a "deny" action for it in every stage, to relax.
    Existing files are never overwritten.
    """
    plan = plan_rule(name, Path(directory), package=package, rule_id=rule_id, severity=severity)
    for path in write_rule(plan):
        click.echo(f"{'updated' if path == plan.data_path else 'created'} {path}")
    if plan.stages:
        click.echo(f"actions: {NEW_RULE_ACTION} in {', '.join(plan.stages)} (relax them there)")
    if not (Path(directory).parent / "lib" / "org.rego").is_file():
        click.echo("note: the rule imports data.lib.org, the helpers `gate init` writes")
    policies = Path(directory).parent
    click.echo(f"next: gate policy test {policies} && gate policy lint --strict {policies}")
