"""`gate init`: the scaffolded policy repository, and that it works out of the box."""

from __future__ import annotations

import datetime as dt
import glob
import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, fixture
from tests_support import run_rego_tests

from gate import __version__
from gate.catalog import build_catalog
from gate.policy import load_bundle
from gate.scaffold import TEMPLATE_DIR, template_files
from gate.waivers import load_waivers

SCAFFOLD = {
    ".github/workflows/gate.yml",
    "README.md",
    "policies/data.json",
    "policies/lib/org.rego",
    "policies/lib/org_test.rego",
    "policies/org/registry_allowed.rego",
    "policies/org/registry_allowed_test.rego",
    "policies/org/team_label.rego",
    "policies/org/team_label_test.rego",
    "waivers.yaml",
}
ORG_RULES = {"org-registry-unapproved", "org-team-label"}
TRIVY = fixture("reports/trivy/v2-image.json")
INSPECT = fixture("image/inspect.json")
AT = "2026-01-15T12:00:00Z"


# ---------------------------------------------------------------------------------------


@pytest.fixture
def scaffolded(gate_cli, tmp_path) -> Path:
    """A fresh scaffold in a directory `gate init` had to create."""
    target = tmp_path / "org" / "gate-policies"
    result = gate_cli("init", target)
    assert result.code == 0, result.err
    return target


def _files(directory: Path) -> set[str]:
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}


def test_init_creates_every_file(gate_cli, tmp_path):
    target = tmp_path / "new" / "repo"
    result = gate_cli("init", target)
    assert result.code == 0, result.err
    assert _files(target) == SCAFFOLD
    created = [line.removeprefix("created ") for line in result.out.splitlines()[:-1]]
    assert created == [str(target / name) for name in sorted(SCAFFOLD)]
    assert result.out.splitlines()[-1].startswith("next: gate policy test ")
    for name in SCAFFOLD:
        assert "@GATE_VERSION@" not in (target / name).read_text()


def test_init_defaults_to_the_current_directory(gate_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = gate_cli("init")
    assert result.code == 0, result.err
    assert _files(tmp_path) == SCAFFOLD
    assert result.out.splitlines()[0] == "created .github/workflows/gate.yml"


def test_init_refuses_to_overwrite_and_writes_nothing(gate_cli, tmp_path):
    (tmp_path / "policies").mkdir()
    (tmp_path / "README.md").write_text("ours")
    (tmp_path / "policies" / "data.json").write_text("{}")
    result = gate_cli("init", tmp_path)
    assert result.code == 2
    assert result.err.splitlines()[0] == (
        f"error: {tmp_path}: refusing to overwrite 2 existing file(s): "
        "README.md, policies/data.json"
    )
    assert "--force" in result.err
    assert _files(tmp_path) == {"README.md", "policies/data.json"}
    assert (tmp_path / "README.md").read_text() == "ours"


def test_force_overwrites_only_the_scaffold_files(gate_cli, tmp_path):
    (tmp_path / "README.md").write_text("ours")
    (tmp_path / "policies" / "org").mkdir(parents=True)
    (tmp_path / "policies" / "org" / "extra.rego").write_text("package gate.org.extra\n")
    result = gate_cli("init", tmp_path, "--force")
    assert result.code == 0, result.err
    assert _files(tmp_path) == SCAFFOLD | {"policies/org/extra.rego"}
    assert (tmp_path / "README.md").read_text().startswith("# Organisation gate policies")
    assert (tmp_path / "policies/org/extra.rego").read_text() == "package gate.org.extra\n"


def test_init_into_a_file_is_a_usage_error(gate_cli, tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    result = gate_cli("init", target)
    assert (result.code, result.err) == (2, f"error: {target}: not a directory\n")


def test_the_scaffold_tests_pass_and_cover_the_rules(scaffolded):
    run = run_rego_tests(scaffolded / "policies")
    assert run.failures == {}
    packages = {name.rsplit(".", 1)[0] for name in run.results}
    assert packages == {
        "lib.org_test", "gate.org.registry_allowed_test", "gate.org.team_label_test",
    }  # fmt: skip
    assert len(run.results) >= 20
    assert run.coverage >= 90, run.not_covered


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("org/registry_allowed.rego", "not allowed(_location)", "allowed(_location)"),
        ("org/team_label.rego", "not lower(trim_space(team)) in teams", "false"),
        ("lib/org.rego", 'a in {"deny", "warn", "off"}', "true"),
        ("lib/org.rego", "(now_ns - parse_ns(ts))", "(parse_ns(ts) - now_ns)"),
    ],
    ids=["registry-inverted", "unknown-team-accepted", "action-not-validated", "age-negated"],
)
def test_the_scaffold_tests_catch_a_broken_rule(scaffolded, file, old, new):
    path = scaffolded / "policies" / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    assert run_rego_tests(scaffolded / "policies").failures != {}


@pytest.mark.parametrize("command", ["test", "lint"])
def test_gate_policy_commands_accept_the_scaffold(gate_cli, scaffolded, command):
    result = gate_cli("policy", command, scaffolded / "policies")
    assert result.code == 0, result.out + result.err


def test_gate_policy_test_meets_the_workflow_coverage(gate_cli, scaffolded):
    result = gate_cli("policy", "test", scaffolded / "policies", "--min-coverage", "90")
    assert result.code == 0, result.out + result.err


def test_data_json_sets_every_org_rule_in_every_stage(scaffolded):
    catalog = build_catalog(load_bundle([scaffolded / "policies"]), ["policies"])
    assert catalog.stages == ["dev", "staging", "prod"]
    assert {entry.info.id for entry in catalog.rules} == ORG_RULES
    for entry in catalog.rules:
        assert entry.unset_stages == [], entry.info.id
        assert entry.info.title and entry.info.description and entry.info.remediation
        assert entry.info.severity in {"critical", "high", "medium", "low"}
        assert entry.info.package and entry.info.package.startswith("gate.org.")


def test_waivers_file_is_valid_and_its_example_outlives_2026(scaffolded):
    waivers = load_waivers(str(scaffolded / "waivers.yaml"))
    assert [w.ref.rule for w in waivers] == ["org-team-label"]
    assert waivers[0].expires_at > dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def _workflow(scaffolded: Path) -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load(
        (scaffolded / ".github/workflows/gate.yml").read_text()
    )
    return workflow


def _runs(job: dict[str, Any]) -> list[str]:
    return [step["run"].strip() for step in job["steps"] if "run" in step]


def test_workflow_lints_tests_and_checks_the_waivers(scaffolded):
    text = (scaffolded / ".github/workflows/gate.yml").read_text()
    assert f"scaffolded by `gate init` of gate {__version__}" in text
    job = _workflow(scaffolded)["jobs"]["policies"]
    runs = _runs(job)
    assert "pip install ./.gate" in runs  # gate from the pinned checkout, no index name
    assert "gate policy lint --strict policies" in runs
    assert "gate policy test policies --min-coverage 90 --format junit > policy-tests.xml" in runs
    assert "gate waivers check waivers.yaml" in runs
    (upload,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artif")]
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "policy-tests.xml"
    setup = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@")]
    assert setup[0]["with"]["python-version"] == "3.11"


def test_the_workflow_commands_pass_on_the_scaffold(gate_cli, scaffolded, monkeypatch):
    """What CI runs passes on a fresh scaffold (in-process, in the scaffold's directory)."""
    monkeypatch.chdir(scaffolded)
    for command in (
        "gate policy lint --strict policies",
        "gate policy test policies --min-coverage 90 --format junit",
        "gate waivers check waivers.yaml",
    ):
        result = gate_cli(*command.split()[1:])
        assert result.code == 0, (command, result.out, result.err)


def test_workflow_pins_every_action_by_commit(scaffolded):
    workflow = _workflow(scaffolded)
    uses = [s["uses"] for job in workflow["jobs"].values() for s in job["steps"] if "uses" in s]
    assert uses
    for action in uses:
        if action.startswith("./"):
            continue  # gate's own action, checked out at the validated GATE_REF
        _, _, ref = action.partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", ref), action
    text = (scaffolded / ".github/workflows/gate.yml").read_text()
    for line in text.splitlines():
        if "uses:" in line and "@" in line:
            assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line  # tag kept


def test_workflow_keeps_no_credentials_and_least_permissions(scaffolded):
    workflow = _workflow(scaffolded)
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert jobs["policies"]["permissions"] == {"contents": "read"}
    assert jobs["image"]["permissions"] == {"contents": "read", "security-events": "write"}
    for job in jobs.values():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_workflow_puts_no_expression_inside_a_script(scaffolded):
    """Values reach scripts through env: a ${{ }} in run: would be script injection."""
    for job in _workflow(scaffolded)["jobs"].values():
        for run in _runs(job):
            assert "${{" not in run, run


def test_workflow_refuses_an_unpinned_gate(scaffolded, tmp_path):
    """The check step fails unless GATE_REF is a full commit and GATE_REPOSITORY a name."""
    (check,) = [
        s["run"]
        for s in _workflow(scaffolded)["jobs"]["policies"]["steps"]
        if s.get("name") == "Check the pinned gate"
    ]
    sha = "0123456789abcdef0123456789abcdef01234567"
    cases = [
        ("acme/image-gate", sha, 0),
        ("acme/image-gate", "v1.2.3", 2),
        ("acme/image-gate", "main", 2),
        ("acme/image-gate", "", 2),
        ("", sha, 2),
        ("acme/image-gate; curl evil", sha, 2),
    ]
    for repository, ref, code in cases:
        run = subprocess.run(
            ["bash", "-e", "-c", check],
            env={"GATE_REPOSITORY": repository, "GATE_REF": ref, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == code, (repository, ref, run.stdout, run.stderr)


def test_image_job_uses_the_composite_action_with_the_layered_policies(scaffolded):
    job = _workflow(scaffolded)["jobs"]["image"]
    (gate_step,) = [s for s in job["steps"] if s.get("id") == "gate"]
    assert gate_step["uses"] == "./.gate"
    assert gate_step["with"]["policy"] == "gate:policies policies"
    assert gate_step["with"]["waivers"] == "waivers.yaml"
    assert job["needs"] == "policies"
    assert job["if"] == "github.event_name == 'workflow_dispatch'"


def _verdict(gate_cli, *args: str | Path, inputs: tuple[Path, ...] = ()) -> dict[str, Any]:
    given = inputs or (TRIVY, INSPECT)
    result = gate_cli("check", *given, "--at", AT, "-f", "json", "-q", *args)
    assert result.code in (0, 1), result.err
    verdict: dict[str, Any] = json.loads(result.out)
    return verdict


# The foreign image is a scan of nginx: image names come from the inputs (--image cannot
# rename the image that metadata describes).
NGINX_SCAN = fixture("hostile/trivy-nginx-no-digests.json")


@pytest.mark.parametrize(
    ("inputs", "stage", "violations", "warnings"),
    [
        ((), "prod", ["org-team-label"], []),
        ((), "dev", [], ["org-team-label"]),
        ((NGINX_SCAN,), "prod", ["org-registry-unapproved", "org-team-label"], []),
    ],
    ids=["prod", "dev", "foreign-registry"],
)
def test_gate_check_with_the_scaffold_alone(
    gate_cli, scaffolded, inputs, stage, violations, warnings
):
    policies = scaffolded / "policies"
    verdict = _verdict(gate_cli, "--policy", policies, "--stage", stage, inputs=inputs)
    assert sorted(v["id"] for v in verdict["violations"]) == violations
    assert sorted(w["id"] for w in verdict["warnings"]) == warnings


def test_gate_check_with_the_scaffold_layered_on_the_bundled_pack(gate_cli, scaffolded):
    from gate.policy import default_policy_dir

    bundled = default_policy_dir()
    verdict = _verdict(gate_cli, "--policy", bundled, "--policy", scaffolded / "policies")
    failed = {v["id"] for v in verdict["violations"]}
    assert "org-team-label" in failed
    assert "vuln-fixable-critical" in failed  # the bundled rules still run
    assert verdict["stage"] == "prod"


def test_templates_are_package_data():
    """Every template file matches pyproject's package-data globs (hidden paths would not)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["gate"]
    packaged = {
        path
        for pattern in patterns
        for path in glob.glob(pattern, root_dir=ROOT / "gate", recursive=True)
    }
    templates = {
        p.relative_to(ROOT / "gate").as_posix()
        for p in (ROOT / "gate" / TEMPLATE_DIR).rglob("*")
        if p.is_file()
    }
    assert templates and templates <= packaged
    assert {f.target for f in template_files()} == SCAFFOLD
