"""Load policy bundles: Rego modules, their ``# METADATA`` blocks, and data documents."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate.errors import PolicyError, UsageError
from gate.inputs import (
    STDIN,
    bounded_yaml_loader,
    parse_structured,
    read_bounded,
    read_given,
    yaml_problem,
)

if TYPE_CHECKING:
    from gate.opabundle import BundleFile

MAX_POLICY_BYTES = 4 * 1024 * 1024
MAX_DATA_BYTES = 64 * 1024 * 1024
DATA_FILE_NAMES = ("data.json", "data.yaml", "data.yml")


@dataclass(frozen=True)
class PolicyModule:
    """One Rego file: ``path`` as shown to the user, and its text."""

    path: str
    text: str


@dataclass(frozen=True)
class RuleInfo:
    """What a rule's ``# METADATA`` block says, plus where the block stands."""

    id: str
    title: str | None
    description: str | None
    severity: str | None
    remediation: str | None
    package: str | None
    path: str
    line: int
    custom: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyBundle:
    """Everything an engine needs besides the input, and its identity (``digest``)."""

    modules: tuple[PolicyModule, ...]
    data: dict[str, Any]
    files: tuple[tuple[str, str], ...]
    """Every file that went in, as ``(path, sha256)``, in load order."""
    stage_layers: tuple[tuple[str, dict[str, Any]], ...] = ()
    """Per data file, in merge order: ``(path, gate_config.stages)`` as that file alone
    gives it, so that a verdict can say which file set a rule's action or a setting."""

    @property
    def digest(self) -> str:
        """SHA-256 over the loaded files' paths and hashes and the merged data."""
        hasher = hashlib.sha256()
        for path, digest in self.files:
            hasher.update(f"{path}\0{digest}\n".encode())
        hasher.update(json.dumps(self.data, sort_keys=True, separators=(",", ":")).encode())
        return f"sha256:{hasher.hexdigest()}"

    def rules(self) -> dict[str, RuleInfo]:
        """Return the rules declared by ``# METADATA`` blocks, by ``custom.id``."""
        found: dict[str, RuleInfo] = {}
        for module in self.modules:
            for info in parse_metadata(module):
                found.setdefault(info.id, info)
        return found


DEFAULT_POLICIES_NAME = "gate:policies"
"""How the bundled pack's files are named in messages and verdicts (not a site-packages path,
so that verdicts agree across machines)."""


def is_bundled(shown: str | None) -> bool:
    """True for a file of the bundled pack (its reviewed defaults), as messages name it."""
    return (shown or "").startswith(f"{DEFAULT_POLICIES_NAME}/")


def load_policies(
    paths: Sequence[str | Path],
    data: Iterable[str | Path] = (),
    *,
    include_tests: bool = False,
    verify_key: str | None = None,
) -> PolicyBundle:
    """Load the policies under ``paths``, or the bundled pack when none are given.

    The name ``gate:policies`` among ``paths`` is the bundled pack, so an organisation can
    layer its own rules on it: ``--policy gate:policies --policy policies``.
    """
    default = default_policy_dir()
    resolved = [default if str(p) == DEFAULT_POLICIES_NAME else p for p in paths] or [default]
    return load_bundle(
        resolved,
        data,
        include_tests=include_tests,
        shown_as={str(default): DEFAULT_POLICIES_NAME},
        verify_key=verify_key,
    )


def default_policy_dir() -> Path:
    """Return the directory of the default policy pack shipped with gate.

    Installed, the pack is package data at ``gate/policies``; in a source checkout run
    without installing, it is the ``policies/`` directory beside ``gate/``.
    """
    package = Path(__file__).resolve().parent
    installed = package / "policies"
    return installed if installed.is_dir() else package.parent / "policies"


def is_test_module(path: Path) -> bool:
    """Rego unit tests (``*_test.rego``) are loaded by the test runner, never by ``check``."""
    return path.name.endswith("_test.rego")


def _walk(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(
            part.startswith(".") for part in path.relative_to(root).parts
        ):
            yield path


def _display(path: Path, root: Path, shown_root: str) -> str:
    if path == root:
        return shown_root
    return str(Path(shown_root) / path.relative_to(root))


def load_bundle(
    policy_paths: Iterable[str | Path],
    data_paths: Iterable[str | Path] = (),
    *,
    include_tests: bool = False,
    shown_as: dict[str, str] | None = None,
    verify_key: str | None = None,
) -> PolicyBundle:
    """Load Rego modules and data from ``policy_paths`` (files or directories) and ``data_paths``.

    In a policy directory every ``*.rego`` is a module (``*_test.rego`` only when
    ``include_tests``) and every ``data.json``/``data.yaml`` is data. ``shown_as`` renames
    roots in messages and verdicts (the default pack shows as ``gate:policies`` rather
    than a site-packages path, so verdicts agree across machines). Data documents are
    deep-merged in order, ``data_paths`` last, so an organisation's ``--data`` file
    overrides the pack's defaults. Raises :class:`UsageError` for a missing path and
    :class:`PolicyError` for unreadable files, bad data or a bundle without modules.
    """
    modules: list[PolicyModule] = []
    files: list[tuple[str, str]] = []
    data: dict[str, Any] = {}
    data_sources: list[DataSource] = []
    layers: list[tuple[str, dict[str, Any]]] = []

    def add_data(shown: str, raw: bytes, mount: tuple[str, ...]) -> None:
        # Read once and kept as bytes: hashed in load order, merged below, and parsed again
        # only to name the file that brought a shadowing or conflicting key.
        data_sources.append(DataSource(shown, raw, mount))
        files.append((shown, hashlib.sha256(raw).hexdigest()))

    revisions: list[str] = []
    bundled_files = 0
    for given in policy_paths:
        root = Path(given)
        if not root.exists():
            raise UsageError("no such policy file or directory", where=str(given))
        root_name = (shown_as or {}).get(str(given), str(given))
        # The bundled pack is a directory that no key signs: a plain `gate check` loads it
        # without importing the bundle code (tarfile, gzip).
        archive = (
            None if root_name == DEFAULT_POLICIES_NAME else _bundle(root, root_name, verify_key)
        )
        if archive is not None:
            revision, in_bundle = archive
            revisions.append(revision)
            bundled_files += len(in_bundle)
            for item in in_bundle:
                if item.name.endswith(".rego"):
                    modules.append(PolicyModule(item.shown, _decode(item.raw, item.shown)))
                    files.append((item.shown, hashlib.sha256(item.raw).hexdigest()))
                else:
                    folder = item.name.rpartition("/")[0]
                    mount = (
                        _mount_of(folder.replace("/", "."), item.shown, PolicyError)
                        if folder
                        else ()
                    )
                    add_data(item.shown, item.raw, mount)
            continue
        for path in _walk(root):
            shown = _display(path, root, root_name)
            if path.suffix == ".rego":
                if is_test_module(path) and not include_tests:
                    continue
                raw = read_bounded(path, MAX_POLICY_BYTES, shown, PolicyError)
                text = _decode(raw, shown)
                modules.append(PolicyModule(shown, text))
                files.append((shown, hashlib.sha256(raw).hexdigest()))
            elif path.name in DATA_FILE_NAMES:
                raw = read_bounded(path, MAX_DATA_BYTES, shown, PolicyError)
                add_data(shown, raw, _folder_mount(path, root, shown))
    for given in data_paths:
        mount, file_name = split_data_option(str(given))
        if file_name != STDIN and not Path(file_name).is_file():
            raise UsageError("no such data file", where=file_name)
        add_data(*read_given(file_name, MAX_DATA_BYTES, PolicyError), mount)
    for source in data_sources:
        loaded = _merge_data_file(source, data, data_sources)
        # gate_config is read from the root only: under a mount it is just data.
        layers.append((source.shown, _stages_of(loaded) if not source.mount else {}))
    if not modules:
        raise PolicyError(
            "no Rego policies found",
            where=", ".join(str(p) for p in policy_paths) or "(none)",
            hint="give a .rego file or a directory of them",
        )
    refuse_shadowing_data(modules, data, data_sources)
    bundle = PolicyBundle(tuple(modules), data, tuple(files), tuple(layers))
    # A bundle alone is the policy set it was built from: its revision names that digest.
    if len(revisions) == 1 and len(files) == bundled_files and bundle.digest != revisions[0]:
        raise PolicyError(
            f"bundle revision {revisions[0]} is not the digest of its files ({bundle.digest})",
            where=", ".join(str(p) for p in policy_paths),
        )
    return bundle


def _bundle(root: Path, shown: str, verify_key: str | None) -> tuple[str, list[BundleFile]] | None:
    """The revision and files of ``root`` when it is an OPA bundle; None for a Rego file or a
    directory. Raises :class:`PolicyError` when a bundle verify key is given (``verify_key``
    or the environment) and ``root`` is not a bundle: it could not be verified."""
    from gate.opabundle import VERIFY_KEY_ENV, bundle_files, is_bundle_file

    if is_bundle_file(root):
        return bundle_files(root, shown, verify_key)
    if verify_key or os.environ.get(VERIFY_KEY_ENV):
        raise PolicyError(
            "a bundle verify key is given but this policy source is not a signed bundle",
            where=shown,
            hint="build and sign it: gate policy build PATH -o B.tar.gz --sign-key KEY",
        )
    return None


def stage_configs(data: dict[str, Any]) -> dict[str, Any]:
    """``gate_config.stages`` of a data document: per stage, its actions and settings."""
    config = data.get("gate_config")
    stages = config.get("stages") if isinstance(config, dict) else None
    return stages if isinstance(stages, dict) else {}


def _stages_of(document: dict[str, Any]) -> dict[str, Any]:
    # A copy: merging later files into the bundle's data may change dicts it shares.
    return copy.deepcopy(stage_configs(document))


def _decode(raw: bytes, shown: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyError(f"not UTF-8 text (byte {exc.start})", where=shown) from exc


@dataclass(frozen=True)
class DataSource:
    """One data file as read: how messages name it, its bytes, and where it is mounted
    under ``data`` (``()`` for the root)."""

    shown: str
    raw: bytes
    mount: tuple[str, ...] = ()


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _mount_of(
    dotted: str, where: str, error: type[UsageError] | type[PolicyError]
) -> tuple[str, ...]:
    parts = tuple(dotted.split("."))
    bad = next((part for part in parts if not _IDENTIFIER.match(part)), None)
    if bad is not None:
        raise error(
            f"data mount point {dotted!r}: {bad!r} is not an identifier",
            where=where,
            hint="mount names are letters, digits and _ (not starting with a digit), "
            "dotted for a deeper path: --data feeds.kev=FILE",
        )
    return parts


def split_data_option(given: str) -> tuple[tuple[str, ...], str]:
    """``--data FILE`` merges at the root; ``--data kev=FILE`` (or ``feeds.kev=FILE``)
    mounts the file at ``data.kev``. A file whose name holds ``=`` is given as ``./a=b.json``.
    Raises :class:`UsageError` for a mount name that is not a dotted identifier."""
    name, equals, file_name = given.partition("=")
    if not equals or not name or "/" in name or "\\" in name:
        return (), given
    return _mount_of(name, f"--data {given}", UsageError), file_name


def _folder_mount(path: Path, root: Path, shown: str) -> tuple[str, ...]:
    """OPA's bundle rule: ``kev/data.json`` under a policy root is mounted at ``data.kev``."""
    if path == root:
        return ()
    folder = path.parent.relative_to(root).parts
    return _mount_of(".".join(folder), shown, PolicyError) if folder else ()


def _parse_data_file(source: DataSource) -> dict[str, Any]:
    """One data document (JSON when its name ends in .json, else YAML), as an object."""
    try:
        loaded = parse_structured(
            _decode(source.raw, source.shown), as_yaml=not source.shown.endswith(".json")
        )
    except ValueError as exc:
        raise PolicyError(f"invalid data document: {exc}", where=source.shown) from exc
    if not isinstance(loaded, dict):
        raise PolicyError("a data document must be a JSON/YAML object", where=source.shown)
    return loaded


def _merge_data_file(
    source: DataSource, data: dict[str, Any], sources: Sequence[DataSource] = ()
) -> dict[str, Any]:
    """Merge one data document into ``data`` at its mount point and return it as read.

    Within the root, later files replace earlier values (``--data`` overrides the pack's
    defaults). A mounted file must meet objects all the way to its mount point, and no
    file may replace a mounted object with a value of another type: either is a
    :class:`PolicyError` naming both files (``sources``, in merge order).
    """
    loaded = _parse_data_file(source)
    node = data
    for depth, part in enumerate(source.mount):
        if part not in node:
            node[part] = {}
        elif not isinstance(node[part], dict):
            _conflict(source.mount[: depth + 1], source, sources)
        node = node[part]
    for other in sources:
        if other.mount and other is not source and other.mount[: len(source.mount)] == source.mount:
            _refuse_replacing(
                loaded, other.mount[len(source.mount) :], other.mount, source, sources
            )
    deep_merge(node, loaded)
    return loaded


def _refuse_replacing(
    loaded: dict[str, Any],
    below: tuple[str, ...],
    mount: tuple[str, ...],
    source: DataSource,
    sources: Sequence[DataSource],
) -> None:
    node: Any = loaded
    for depth, part in enumerate(below):
        if not isinstance(node, dict) or part not in node:
            return
        node = node[part]
        if not isinstance(node, dict):
            _conflict(mount[: len(mount) - len(below) + depth + 1], source, sources)


def _conflict(key: tuple[str, ...], source: DataSource, sources: Sequence[DataSource]) -> None:
    others = [s.shown for s in sources if s is not source and _reaches(s, key)]
    raise PolicyError(
        f"data.{'.'.join(key)} is an object in one data file and another value in another: "
        f"{source.shown} conflicts with {', '.join(others) or 'an earlier data file'}",
        where=source.shown,
        hint="mount third-party data under a name of its own (a folder, or --data NAME=FILE)",
    )


def _reaches(source: DataSource, key: tuple[str, ...]) -> bool:
    return _data_path_along(_alone(source), key) == key


def _alone(source: DataSource) -> dict[str, Any]:
    """The data a file gives on its own, mounted where it is."""
    alone: dict[str, Any] = {}
    node = alone
    for part in source.mount:
        node = node.setdefault(part, {})
    node.update(_parse_data_file(source))
    return alone


def deep_merge(target: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Merge ``extra`` into ``target`` in place: objects merge recursively, the rest replaces."""
    for key, value in extra.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            deep_merge(current, value)
        else:
            target[key] = value
    return target


# ---------------------------------------------------------------------------------------
# Guards on what a bundle defines: data that would replace policies, and rules to evaluate
# ---------------------------------------------------------------------------------------

_PACKAGE_DECLARATION = re.compile(
    r'\A(?:\s|#[^\n]*)*package\s+((?:[A-Za-z_]\w*|\[\s*"(?:[^"\\\n]|\\.)*"\s*\]|\s*\.\s*)+)'
)
_PACKAGE_PART = re.compile(r'([A-Za-z_]\w*)|"((?:[^"\\\n]|\\.)*)"')


def module_package(text: str) -> tuple[str, ...] | None:
    """The package a module declares (its first statement), as parts; None when the text
    does not start with a package declaration (the engine then rejects the module)."""
    found = _PACKAGE_DECLARATION.match(text)
    if found is None:
        return None
    parts = []
    for part in _PACKAGE_PART.finditer(found.group(1)):
        name, quoted = part.groups()
        parts.append(name if name is not None else json.loads(f'"{quoted}"'))
    return tuple(parts)


def refuse_shadowing_data(
    modules: Sequence[PolicyModule], data: dict[str, Any], sources: Sequence[DataSource]
) -> None:
    """Raise :class:`PolicyError` when a data key lies on the path of a policy package.

    ``data.gate`` is where the engine reads the rules' results: a data document with a
    ``gate`` key (or ``lib``, or ``lib.gate``…) would replace or merge into what the
    policies compute, and could empty a ``deny`` set. ``sources`` are the data files in
    merge order: the message names the one that brought the key.
    """
    packages = sorted({p for m in modules if (p := module_package(m.text))})
    for package in packages:
        reached = _data_path_along(data, package)
        if reached:
            key = ".".join(reached)
            raise PolicyError(
                f"data key '{key}' would shadow policy package {'.'.join(package)}",
                where=_introduced_by(reached, sources),
                hint="data and policies share one namespace: rename or nest that key "
                "(e.g. under gate_config)",
            )


def _data_path_along(data: dict[str, Any], package: tuple[str, ...]) -> tuple[str, ...]:
    node: Any = data
    reached: tuple[str, ...] = ()
    for part in package:
        if not isinstance(node, dict) or part not in node:
            break
        node = node[part]
        reached = (*reached, part)
    return reached


def _introduced_by(key: tuple[str, ...], sources: Sequence[DataSource]) -> str | None:
    # Only on the way to an error: parse the files again, one at a time, rather than track
    # the origin of every key of every (possibly large) data document on every run.
    first_with_prefix = None
    for source in sources:
        reached = _data_path_along(_alone(source), key)
        if reached == key:
            return source.shown
        if reached and first_with_prefix is None:
            first_with_prefix = source.shown
    return first_with_prefix


@dataclass(frozen=True)
class DefinedRule:
    """A rule or function a module defines, as an engine's parser saw it."""

    path: tuple[str, ...]
    """Its path under ``data`` (package, then the rule's name or ref head)."""
    package: tuple[str, ...]
    function: bool
    where: str
    """``file:line``."""


RESULT_SETS = ("deny", "warn")
_LOOKALIKES = ("violation", "violations", "deny", "denies", "warn", "warning", "warnings", "fail")


def require_rules(
    rules: Sequence[DefinedRule], query: str, names: Sequence[str] = RESULT_SETS
) -> None:
    """Raise :class:`PolicyError` unless a rule called one of ``names`` (``deny``,
    ``warn``) lies under ``query`` (``data.gate``): a policy set without one would pass
    every image.

    The hint names what was found instead (a conftest-style ``violation``, ``Deny``, a
    ``deny`` outside ``gate``, or only helpers), so that the fix is one rename away.
    """
    root = tuple(query.split(".")[1:])
    for rule in rules:
        below = rule.path[len(root) :]
        if (
            rule.path[: len(root)] == root
            and below
            and not rule.function
            and below[-1] in names
            and not any(part.startswith("test_") for part in below)
        ):
            return
    raise PolicyError(
        f"no rules to evaluate: no {' or '.join(names)} rule under {query}",
        hint=_no_rules_hint(rules, root, names),
    )


def _no_rules_hint(
    rules: Sequence[DefinedRule], root: tuple[str, ...], names: Sequence[str]
) -> str:
    prefix = ".".join(root)
    for rule in rules:
        name = rule.path[-1] if rule.path else ""
        package = ".".join(rule.package) or "(none)"
        inside = rule.path[: len(root)] == root
        if name in names and rule.function:
            return (
                f"{name}(…) in package {package} ({rule.where}) is a function: "
                f"write `{name} contains result if {{ ... }}`"
            )
        if name in names and not inside:
            return (
                f"found {name} in package {package} ({rule.where}): rules must live in "
                f"packages named {prefix}.*"
            )
        lowered = name.lower()
        if lowered in _LOOKALIKES or lowered.startswith(("deny_", "warn_", "violation_")):
            target = "warn" if lowered.startswith("warn") else "deny"
            where = "" if inside else f", and move it to a package named {prefix}.*"
            return f"found {name} in package {package} ({rule.where}): rename it to {target}{where}"
    packages = sorted({".".join(rule.package) for rule in rules})
    shown = ", ".join(packages[:5]) + (", …" if len(packages) > 5 else "")
    return (
        f"the modules define packages {shown or '(none)'} but no {' or '.join(names)} "
        f"rule under {prefix}: write `deny contains result if {{ ... }}` in package {prefix}.NAME"
    )


@dataclass(frozen=True)
class MetadataBlock:
    """One ``# METADATA`` comment block: where it stands and what it says.

    Unlike :func:`gate.policy.parse_metadata` this keeps blocks without ``custom.id`` and
    blocks that are not valid YAML (``error``, at ``error_line``), and records the block's
    last line, so that the lint can tell what the block annotates.
    """

    line: int
    """1-based line of ``# METADATA``."""
    end_line: int
    """Last comment line of the block."""
    meta: dict[str, Any] | None
    """The YAML mapping; None when the block is not one (see ``error``)."""
    error: str | None = None
    error_line: int = 0

    def get(self, dotted: str) -> Any:
        """The value at a dotted key (``custom.id``), or None."""
        value: Any = self.meta
        for key in dotted.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        return value


def metadata_blocks(text: str) -> list[MetadataBlock]:
    """Every ``# METADATA`` block of a module's text, in order (parse_metadata's reading)."""
    if "METADATA" not in text:
        return []
    import yaml

    loader = bounded_yaml_loader()  # the waivers' and data files' safe, bounded subset
    lines = text.splitlines()
    blocks: list[MetadataBlock] = []
    index = 0
    while index < len(lines):
        if lines[index].strip() != "# METADATA":
            index += 1
            continue
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines) and lines[index].lstrip().startswith("#"):
            stripped = lines[index].lstrip()[1:]
            body.append(stripped[1:] if stripped.startswith(" ") else stripped)
            index += 1
        try:
            meta = yaml.load("\n".join(body), Loader=loader) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = start + 2 + mark.line if mark is not None else start + 1
            error = f"not valid YAML: {yaml_problem(exc).problem}"
            blocks.append(MetadataBlock(start + 1, index, None, error, line))
            continue
        if not isinstance(meta, dict):
            blocks.append(MetadataBlock(start + 1, index, None, "not a YAML mapping", start + 1))
            continue
        blocks.append(MetadataBlock(start + 1, index, meta))
    return blocks


def parse_metadata(module: PolicyModule) -> list[RuleInfo]:
    """Read the rules' ``# METADATA`` blocks (regorus has no ``rego.metadata`` builtins).

    Blocks without ``custom.id`` are skipped; a block that is not a YAML mapping raises
    :class:`PolicyError` naming the file and the failing line.
    """
    parts = module_package(module.text)
    package = ".".join(parts) if parts else None
    found: list[RuleInfo] = []
    for block in metadata_blocks(module.text):
        if block.error:
            raise PolicyError(
                f"METADATA block is {block.error}", where=f"{module.path}:{block.error_line}"
            )
        custom = block.get("custom")
        if not isinstance(custom, dict) or not custom.get("id"):
            continue
        found.append(
            RuleInfo(
                id=str(custom["id"]),
                title=_str_or_none(block.get("title")),
                description=_str_or_none(block.get("description")),
                severity=_str_or_none(custom.get("severity")),
                remediation=_str_or_none(custom.get("remediation")),
                package=package,
                path=module.path,
                line=block.line,
                custom=custom,
            )
        )
    return found


def _str_or_none(value: Any) -> str | None:
    return str(value).strip() if value is not None else None
