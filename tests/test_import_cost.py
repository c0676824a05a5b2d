"""What a plain `gate check` imports: only what the run in hand needs (issue 13).

Each check runs in a fresh interpreter, since this one has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import fixture

from gate import LazyRegistry
from gate.errors import PolicyError
from gate.formats import FORMATS
from gate.policy import load_policies
from gate.sources import SOURCES, detect
from gate.verdict import Result
from gate.versions import sort_versions

TRIVY = fixture("reports/trivy/v2-image.json")
AT = "2026-11-27T12:00:00Z"


def run_fresh(code: str) -> str:
    """Run ``code`` in a fresh interpreter; its output (it must succeed)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    shown = run_fresh(f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))")
    return set(json.loads(shown.splitlines()[-1]))


def checked(*inputs: Path) -> set[str]:
    """The modules a `gate check` of ``inputs`` imports (whatever its decision)."""
    arguments = [str(path) for path in inputs] + ["--stage", "prod", "--at", AT, "-q"]
    return imported_after(
        "import sys\nfrom gate.cli import main\n"
        f"try:\n    main(['check', *{arguments!r}, '-f', 'json', '-o', '/dev/null'])\n"
        "except SystemExit as end:\n    assert end.code in (0, 1), end.code"
    )


def test_importing_the_cli_loads_no_heavy_library():
    loaded = imported_after("import gate.cli")
    for heavy in ("pydantic", "yaml", "univers", "rich", "jsonschema", "gate.run"):
        assert heavy not in loaded


def test_an_error_line_imports_no_file_writing_machinery():
    loaded = imported_after("from gate.output import printable\nprintable('\\x1b[2J')")
    assert "tempfile" not in loaded


def test_a_trivy_check_imports_no_other_source_nor_the_bundle_code():
    loaded = checked(TRIVY)
    assert "gate.sources.trivy" in loaded
    unrelated = {
        f"gate.sources.{name}"
        for name in ("grype", "sarif", "cyclonedx", "spdx", "csaf", "snyk", "provenance")
    }
    assert not unrelated & loaded
    # the bundled pack is a directory: no tarfile, no rich (json output), no jsonschema
    assert not {"gate.opabundle", "tarfile", "rich", "jsonschema"} & loaded
    # -f json: the json formatter, and the table module for the summary line, only
    assert {"gate.formats.json", "gate.formats.table"} <= loaded
    others = {f"gate.formats.{name}" for name in ("sarif", "junit", "markdown", "github", "gitlab")}
    assert not others & loaded


def test_a_lone_fixed_version_is_not_parsed():
    loaded = imported_after(
        "from gate.versions import sort_versions\n"
        "assert sort_versions('deb', ['1.0-1', '1.0-1']) == ['1.0-1']"
    )
    assert "univers" not in loaded
    # ...and two are ordered by univers, as before
    assert sort_versions("deb", ["1:1.0-1", "2.0-1"]) == ["2.0-1", "1:1.0-1"]


def test_every_registered_source_reads_the_format_it_is_registered_under():
    names = list(SOURCES)
    assert names[:4] == ["trivy-json", "trivy-operator", "harbor", "grype-json"]
    assert len(names) == len(set(names)) == len(SOURCES) == 19
    for name, source in SOURCES.items():
        assert source.format == name
        assert SOURCES[name] is source  # built once


def test_every_registered_formatter_writes_the_format_it_is_registered_under():
    assert list(FORMATS)[0] == "table"
    for name, formatter in FORMATS.items():
        assert formatter.name == name


def test_asking_whether_a_format_exists_imports_nothing():
    loaded = imported_after(
        "from gate.sources import SOURCES\n"
        "from gate.formats import FORMATS\n"
        "assert 'grype-json' in SOURCES and 'nope' not in SOURCES and None not in SOURCES\n"
        "assert SOURCES.get('nope') is None\n"
        "assert 'sarif' in FORMATS and 'html' not in FORMATS and len(FORMATS) == 7"
    )
    assert not {"gate.sources.grype", "gate.formats.sarif"} & loaded


def test_a_registry_entry_that_builds_another_name_is_refused():
    wired = LazyRegistry({"sarif": "gate.formats.json:JsonFormatter"}, lambda f: f.name)
    with pytest.raises(TypeError, match="is json, not sarif"):
        wired["sarif"]
    with pytest.raises(KeyError):
        wired["json"]


def test_detection_still_tries_every_source_in_order():
    # A format late in the order (a docker inspect file) is still found, and an unknown
    # shape is still nobody's.
    inspect = json.loads(fixture("image/inspect.json").read_text())
    found = detect(inspect, "inspect.json")
    assert found is not None and found.format == "docker-inspect"
    assert detect({"not": "a report"}, "x.json") is None


def test_a_verify_key_still_refuses_a_policy_directory_but_not_the_bundled_pack(
    tmp_path: Path,
):
    (tmp_path / "p.rego").write_text("package gate.p\nimport rego.v1\ndeny contains 1 if false\n")
    never_read = str(tmp_path / "absent.pub")
    with pytest.raises(PolicyError, match="not a signed bundle"):
        load_policies([tmp_path], verify_key=never_read)
    assert load_policies([], verify_key=never_read).modules


def test_results_resolve_their_explanation_on_first_use():
    # Result names Explanation before it is defined: the deferred build still resolves it,
    # and still refuses what does not fit.
    base = {"id": "r", "msg": "m", "severity": "high", "level": "deny", "package": "gate.r"}
    result = Result(**base, explanation={"rule": {"file": "p.rego", "line": 3}})
    assert result.explanation is not None and result.explanation.rule is not None
    assert result.explanation.rule.line == 3
    with pytest.raises(ValueError, match="line"):
        Result(**base, explanation={"rule": {"file": "p.rego", "line": "third"}})


def test_concurrent_first_use_validates_as_a_built_model_does():
    # gate serve evaluates in threads: the first requests of a worker race to build the
    # deferred validators. Each must still accept the valid and refuse an unknown key.
    run_fresh(
        "import threading\n"
        "from gate.document import Document\n"
        "start, errors = threading.Barrier(8), []\n"
        "def first_use():\n"
        "    start.wait()\n"
        "    context = {'stage': 'prod', 'evaluated_at': '2026-11-27T12:00:00Z'}\n"
        "    try:\n"
        "        Document(context=context, vulnerabilities=[])\n"
        "    except Exception as exc:\n"
        "        errors.append(repr(exc))\n"
        "    try:\n"
        "        Document(context=context, unknown=1)\n"
        "        errors.append('an unknown key was accepted')\n"
        "    except ValueError:\n"
        "        pass\n"
        "threads = [threading.Thread(target=first_use) for _ in range(8)]\n"
        "for thread in threads:\n"
        "    thread.start()\n"
        "for thread in threads:\n"
        "    thread.join()\n"
        "assert not errors, errors"
    )
