"""The distribution: its name, one version, and a wheel that carries what gate needs at run time.

The build runs offline (``--no-isolation``: the build backend comes from the ``test`` extra),
on a copy of the source tree, so concurrent runs never share a ``build/`` directory.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.message import Message
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
from conftest import ROOT

import gate

DISTRIBUTION = "image-gate"
# What a build needs from the tree; tests/ and fixtures/ are copied too, so that the wheel
# leaving them out is a fact the test can see, not an accident of the copy.
SOURCE = ("pyproject.toml", "README.md", "gate", "policies", "tests", "fixtures", "docs")
NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".*")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel) built by `python -m build` from a copy of the tree (wheel from sdist)."""
    pytest.importorskip("build", reason="the build frontend is in the test extra")
    tree = tmp_path_factory.mktemp("tree")
    for name in SOURCE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=NOT_COPIED)
        else:
            shutil.copy2(source, tree / name)
    out = tmp_path_factory.mktemp("dist")
    run = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(tree)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # setuptools announces the end of deprecated configuration this way; heed it in time.
    assert "deprecated" not in (run.stdout + run.stderr).lower(), run.stderr[-3000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


def _wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def _wheel_text(wheel: Path, suffix: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(suffix)]
        return archive.read(name).decode("utf-8")


def _wheel_metadata(wheel: Path) -> Message:
    return Parser().parsestr(_wheel_text(wheel, ".dist-info/METADATA"))


def test_the_installed_version_is_the_one_gate_reports(gate_cli):
    assert metadata.version(DISTRIBUTION) == gate.__version__
    result = gate_cli("--version")
    assert (result.code, result.out) == (0, f"gate, version {gate.__version__}\n")


def test_the_version_is_written_in_one_place():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "gate.__version__"}


def test_the_build_backend_is_in_the_test_extra():
    """The offline build below only works when the test extra brings the backend."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    test_extra = project["project"]["optional-dependencies"]["test"]
    for requirement in project["build-system"]["requires"]:
        assert requirement in test_extra


def test_the_wheel_carries_the_policies_schemas_templates_and_types(built):
    _, wheel = built
    names = set(_wheel_names(wheel))
    policies = {n for n in names if n.startswith("gate/policies/") and n.endswith(".rego")}
    in_tree = {
        "gate/policies/" + p.relative_to(ROOT / "policies").as_posix()
        for p in (ROOT / "policies").rglob("*.rego")
    }
    assert policies == in_tree and len(policies) > 10
    assert "gate/policies/data.json" in names
    schemas = {n for n in names if n.startswith("gate/schema/") and n.endswith(".json")}
    assert schemas == {"gate/schema/" + p.name for p in (ROOT / "gate" / "schema").glob("*.json")}
    templates = {n for n in names if n.startswith("gate/templates/init/")}
    assert "gate/templates/init/dot-github/workflows/gate.yml" in templates
    assert len(templates) == sum(
        1 for p in (ROOT / "gate/templates/init").rglob("*") if p.is_file()
    )
    assert "gate/py.typed" in names
    assert "gate/cli.py" in names


def test_the_wheel_carries_the_decision_log_migrations_and_they_run(built, tmp_path):
    """A log opened by an installed (not editable) gate finds its alembic revisions."""
    _, wheel = built
    names = set(_wheel_names(wheel))
    migrations = ROOT / "gate" / "decisionlog" / "migrations"
    assert {
        "gate/" + p.relative_to(ROOT / "gate").as_posix() for p in migrations.rglob("*.py")
    } <= names
    assert "gate/decisionlog/migrations/versions/0001_decisions.py" in names
    target = tmp_path / "installed"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
         "--target", str(target), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    code = (
        "import sys, gate; from gate.decisionlog import open_log; "
        "assert gate.__file__.startswith(sys.argv[1]), gate.__file__; "
        "open_log('sqlite:///' + sys.argv[2]).close(); print('ok')"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(target), str(tmp_path / "decisions.db")],
        env={**os.environ, "PYTHONPATH": str(target)},
        cwd=tmp_path,  # `python -c` puts the working directory, the checkout, first
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.stdout == "ok\n", run.stderr


def test_the_wheel_carries_no_tests_fixtures_or_bytecode(built):
    _, wheel = built
    names = _wheel_names(wheel)
    top_level = {name.split("/", 1)[0] for name in names}
    assert top_level == {"gate", f"image_gate-{gate.__version__}.dist-info"}
    assert not [n for n in names if "/tests/" in n or "/fixtures/" in n or n.endswith(".pyc")]


def test_the_wheel_metadata_names_image_gate_and_the_gate_command(built):
    sdist, wheel = built
    assert wheel.name == f"image_gate-{gate.__version__}-py3-none-any.whl"
    assert sdist.name == f"image_gate-{gate.__version__}.tar.gz"
    meta = _wheel_metadata(wheel)
    assert meta["Name"] == DISTRIBUTION
    assert meta["Version"] == gate.__version__
    assert meta["Requires-Python"] == ">=3.11"
    assert meta["License-Expression"] == "Apache-2.0"
    entry_points = _wheel_text(wheel, ".dist-info/entry_points.txt")
    assert "[console_scripts]\ngate = gate.cli:main\n" in entry_points


def test_the_opa_client_is_pinned(built):
    """`--engine opa` needs it; pinned, since its defaults decide what is uploaded."""
    _, wheel = built
    requires = _wheel_metadata(wheel).get_all("Requires-Dist") or []
    opa = [r for r in requires if r.startswith("opa-python-client")]
    assert opa == ["opa-python-client==3.0.0"]
    assert any(r.startswith("gordon-to-regorus==0.13.0") for r in requires)


def _imported_modules() -> set[str]:
    """Top-level names of every module gate's code imports (lazily too: any import node)."""
    modules: set[str] = set()
    for path in (ROOT / "gate").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules


# The module each runtime dependency provides.
IMPORT_NAMES = {
    "click": "click",
    "pydantic": "pydantic",
    "rich": "rich",
    "jsonschema": "jsonschema",
    "gordon-to-regorus": "regorus",
    "PyYAML": "yaml",
    "urllib3": "urllib3",
    "cryptography": "cryptography",
    "univers": "univers",
    "pyjwt": "jwt",
    "opa-python-client": "opa_client",
    "prometheus-client": "prometheus_client",
    "sqlalchemy": "sqlalchemy",
    "alembic": "alembic",
    "psycopg": "psycopg",
    "starlette": "starlette",
    "uvicorn": "uvicorn",
    "python-multipart": "python_multipart",
}


def test_every_runtime_dependency_is_imported_by_gate():
    """A dependency nothing imports is footprint and attack surface for nothing."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = {
        re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
        for requirement in project["project"]["dependencies"]
    }
    assert declared == set(IMPORT_NAMES)
    imported = _imported_modules()
    assert {name: module in imported for name, module in IMPORT_NAMES.items()} == dict.fromkeys(
        IMPORT_NAMES, True
    )


def test_the_sdist_builds_the_wheel_and_holds_the_policies(built):
    sdist, _ = built
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    prefix = f"image_gate-{gate.__version__}/"
    assert prefix + "pyproject.toml" in names
    assert prefix + "README.md" in names
    assert prefix + "policies/data.json" in names


def test_twine_accepts_the_distributions(built):
    pytest.importorskip("twine", reason="twine is in the test extra")
    run = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, built)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("PASSED") == 2, run.stdout
