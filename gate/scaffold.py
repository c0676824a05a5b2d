"""``gate init``: scaffold an organisation's policy repository.

The files are package data under ``gate/templates/init/``, copied as they are except for
two conventions: a path component ``dot-x`` becomes ``.x`` (``dot-github/workflows`` →
``.github/workflows``: packaging tools skip hidden directories), and ``@GATE_VERSION@``
becomes the running gate's version (the CI workflow pins it). The scaffold is a working
pack — two organisation rules, their helpers, tests, ``data.json`` — that passes
``gate policy test`` and ``gate policy lint`` as it is; ``tests/test_scaffold.py`` keeps it so.
"""

from __future__ import annotations

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
