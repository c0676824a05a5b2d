"""The files CI systems run: the GitHub composite action, the GitLab job template, the
pre-commit hooks. Each is read as its consumer reads it, and its scripts are run here with
bash and the real gate, hostile inputs included (no runner, no network).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, fixture
from services import unavailable

import gate

ACTION = ROOT / "action.yml"
GITLAB = ROOT / "ci" / "gitlab" / "gate.gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
WORKFLOW_TEMPLATE = ROOT / "gate" / "templates" / "init" / "dot-github" / "workflows" / "gate.yml"
TRIVY = fixture("reports/trivy/v2-image.json")
INSPECT = fixture("image/inspect.json")
BIN = Path(sys.executable).parent
SHA_PIN = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})$")


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _action_steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = _load(ACTION)["runs"]["steps"]
    return steps


def _step(step_id_or_name: str) -> dict[str, Any]:
    (step,) = [s for s in _action_steps() if step_id_or_name in (s.get("id"), s.get("name"))]
    return step


def _tool(name: str) -> str:
    """A linter binary from the test extra (installed beside this Python); skip without it."""
    found = shutil.which(name) or (str(BIN / name) if (BIN / name).exists() else None)
    if found is None:
        unavailable(name, "pip install '.[test]'")
    return found


def _shellcheck(script: str, shell: str) -> str:
    run = subprocess.run(
        [_tool("shellcheck"), "--shell", shell, "--format", "gcc", "-"],
        input=script,
        capture_output=True,
        text=True,
        check=False,
    )
    return run.stdout


# --- action.yml: what it declares ---------------------------------------------------------


def test_action_declares_its_inputs_and_outputs():
    action = _load(ACTION)
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {
        "reports", "stage", "policy", "data", "waivers", "image", "baseline", "dockerfile",
        "trust-keys", "advisory", "version", "sarif-upload",
    }  # fmt: skip
    assert action["inputs"]["sarif-upload"]["default"] == "true"
    assert action["inputs"]["advisory"]["default"] == "false"
    assert action["inputs"]["version"]["default"] == ""  # install this action's own checkout
    assert {name: out["value"] for name, out in action["outputs"].items()} == {
        "decision": "${{ steps.gate.outputs.decision }}",
        "exit-code": "${{ steps.gate.outputs.exit-code }}",
        "verdict": "${{ steps.gate.outputs.verdict }}",
    }


def _pinned_uses(steps: list[dict[str, Any]]) -> dict[str, str]:
    """action -> sha of every `uses:`, asserting each is pinned by a full commit."""
    pins = {}
    for step in steps:
        if "uses" not in step or step["uses"].startswith("./"):
            continue
        match = SHA_PIN.match(step["uses"])
        assert match, f"not pinned by commit: {step['uses']}"
        pins[match["action"]] = match["sha"]
    return pins


def test_every_action_is_pinned_by_commit_and_the_same_everywhere():
    action_pins = _pinned_uses(_action_steps())
    assert set(action_pins) == {"actions/setup-python", "github/codeql-action/upload-sarif"}
    workflow = _load(WORKFLOW_TEMPLATE)
    workflow_pins: dict[str, str] = {}
    for job in workflow["jobs"].values():
        workflow_pins.update(_pinned_uses(job["steps"]))
    shared = set(action_pins) & set(workflow_pins)
    assert shared == {"actions/setup-python"}
    assert all(action_pins[name] == workflow_pins[name] for name in shared)
    # The tag each commit was taken from stays readable next to it.
    for line in ACTION.read_text().splitlines():
        if re.search(r"uses: \S+@", line):
            assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def test_no_expression_is_interpolated_into_a_script():
    """Inputs reach the shell as environment variables: `${{ }}` in run: is script injection."""
    for step in _action_steps():
        if "run" in step:
            assert "${{" not in step["run"], step.get("name")
            assert step["shell"] == "bash"
    text = ACTION.read_text()
    for match in re.finditer(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", text):
        line = text[: match.start()].rsplit("\n", 1)[1]
        assert re.match(r"\s+(IN_[A-Z_]+|GATE_VERSION_WANTED): $", line), line


def test_the_sarif_upload_runs_always_but_only_with_a_file():
    upload = _step("Upload SARIF to code scanning")
    assert upload["if"] == (
        "always() && inputs.sarif-upload == 'true' && steps.gate.outputs.sarif == 'true'"
    )
    assert upload["with"]["sarif_file"] == "gate.sarif"
    final = _step("Exit as gate did")
    assert final["if"] == "always()"
    assert final == _action_steps()[-1]


def test_the_action_scripts_pass_shellcheck():
    for step in _action_steps():
        if "run" in step:
            assert _shellcheck(step["run"], "bash") == "", step.get("name")


def test_zizmor_finds_nothing_in_the_action_and_the_scaffolded_workflow(tmp_path):
    """zizmor (offline): template injection, unpinned uses, credential persistence, ..."""
    zizmor = _tool("zizmor")
    (tmp_path / "action").mkdir()
    shutil.copy(ACTION, tmp_path / "action" / "action.yml")
    workflows = tmp_path / "repo" / ".github" / "workflows"
    workflows.mkdir(parents=True)
    text = WORKFLOW_TEMPLATE.read_text().replace("@GATE_VERSION@", gate.__version__)
    (workflows / "gate.yml").write_text(text)
    for target in (tmp_path / "action" / "action.yml", workflows / "gate.yml"):
        run = subprocess.run(
            [zizmor, "--offline", "--no-progress", "--format", "plain", str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stdout + run.stderr


def test_zizmor_would_see_an_interpolated_input(tmp_path):
    """The check above can fail: the injection it exists for is reported."""
    zizmor = _tool("zizmor")
    text = ACTION.read_text().replace(
        '[ -z "$IN_STAGE" ] || args+=(--stage "$IN_STAGE")',
        'args+=(--stage "${{ inputs.stage }}")',
    )
    assert '${{ inputs.stage }}")' in text
    (tmp_path / "action.yml").write_text(text)
    run = subprocess.run(
        [zizmor, "--offline", "--no-progress", "--format", "plain", str(tmp_path / "action.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0 and "template-injection" in run.stdout


# --- action.yml: its scripts, run -----------------------------------------------------------


@pytest.fixture
def runner(tmp_path: Path) -> Path:
    """A stand-in for the runner: RUNNER_TEMP with the installed gate, and a workspace."""
    venv_bin = tmp_path / "runner-temp" / "image-gate" / "bin"
    venv_bin.mkdir(parents=True)
    gate_command = shutil.which("gate", path=str(BIN)) or shutil.which("gate")
    assert gate_command, "the gate command is installed with the package"
    (venv_bin / "gate").symlink_to(gate_command)
    (venv_bin / "python").symlink_to(sys.executable)
    (tmp_path / "workspace").mkdir()
    return tmp_path


def run_gate_step(
    runner: Path, **inputs: str
) -> tuple[dict[str, str], subprocess.CompletedProcess[str]]:
    """Run the action's Gate step as the runner would; return its outputs and the process."""
    env = {f"IN_{name.upper()}": "" for name in (
        "reports", "stage", "policy", "data", "waivers", "image", "baseline", "dockerfile",
        "trust_keys",
    )}  # fmt: skip
    env["IN_ADVISORY"] = "false"
    env.update({f"IN_{name.upper()}": value for name, value in inputs.items()})
    outputs = runner / "github-output"
    outputs.write_text("")
    env.update(
        PATH="/usr/bin:/bin",
        RUNNER_TEMP=str(runner / "runner-temp"),
        GITHUB_OUTPUT=str(outputs),
        GITHUB_STEP_SUMMARY=str(runner / "step-summary.md"),
        RUST_LIB_BACKTRACE="0",
    )
    run = subprocess.run(
        ["bash", "-e", "-c", _step("gate")["run"]],
        cwd=runner / "workspace",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr  # the step records gate's code; the last step exits
    lines = outputs.read_text().splitlines()
    recorded = dict(line.split("=", 1) for line in lines)
    assert len(recorded) == len(lines), "an output was written twice"
    return recorded, run


def _exit_step(code: str) -> int:
    run = subprocess.run(
        ["bash", "-e", "-c", _step("Exit as gate did")["run"]],
        env={"GATE_EXIT": code, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    return run.returncode


def test_a_failing_gate_writes_every_report_and_fails_the_job(runner):
    outputs, run = run_gate_step(runner, reports=f"{TRIVY}\n{INSPECT}", stage="prod")
    workspace = runner / "workspace"
    assert outputs == {
        "exit-code": "1",
        "decision": "fail",
        "verdict": str(workspace / "gate-verdict.json"),
        "sarif": "true",
    }
    verdict = json.loads((workspace / "gate-verdict.json").read_text())
    assert (verdict["decision"], verdict["stage"]) == ("fail", "prod")
    assert json.loads((workspace / "gate.sarif").read_text())["version"] == "2.1.0"
    summary = (workspace / "gate-summary.md").read_text()
    # gate appends the job summary itself (--format github); the action does not repeat it.
    assert (runner / "step-summary.md").read_text().count(summary.strip()) == 1
    assert "::error title=" in run.stdout
    assert _exit_step(outputs["exit-code"]) == 1


def test_advisory_reports_the_failure_but_passes_the_job(runner):
    outputs, _ = run_gate_step(runner, reports=f"{TRIVY} {INSPECT}", advisory="true")
    assert (outputs["exit-code"], outputs["decision"]) == ("0", "fail")
    assert _exit_step(outputs["exit-code"]) == 0


def test_an_advisory_value_that_is_not_a_boolean_is_a_usage_error(runner):
    outputs, _ = run_gate_step(runner, reports=f"{TRIVY} {INSPECT}", advisory="yes")
    assert outputs == {"exit-code": "2", "decision": "no-verdict"}
    assert _exit_step(outputs["exit-code"]) == 2


@pytest.mark.parametrize(
    ("inputs", "code", "named"),
    [
        ({"reports": "$(touch PWNED) `touch PWNED`"}, "3", "$(touch"),
        ({"reports": "*.json"}, "3", "*.json"),
        ({"reports": f"{TRIVY} {INSPECT}", "stage": "prod; touch PWNED"}, "2", "prod; touch"),
        ({"reports": f"{TRIVY} {INSPECT}", "waivers": "$(touch PWNED)"}, "3", "$(touch"),
        ({"reports": f"{TRIVY} {INSPECT}", "policy": "--help"}, "2", "--help"),
    ],
    ids=["substitution", "glob", "stage-command", "waivers-substitution", "option-word"],
)
def test_hostile_input_values_stay_data(runner, inputs, code, named):
    """Command substitution, globs and option-looking words reach gate as arguments only."""
    workspace = runner / "workspace"
    (workspace / "decoy.json").write_text("{}")
    outputs, run = run_gate_step(runner, **inputs)
    assert not (workspace / "PWNED").exists()
    assert outputs == {"exit-code": code, "decision": "no-verdict"}, run.stderr
    assert named in run.stderr  # named literally in gate's error, not expanded


def test_no_verdict_leaves_no_stale_report_to_upload(runner):
    workspace = runner / "workspace"
    for stale in ("gate.sarif", "gate-verdict.json", "gate-summary.md"):
        (workspace / stale).write_text("from an earlier run")
    outputs, _ = run_gate_step(runner, reports=str(runner / "missing.json"))
    assert outputs == {"exit-code": "3", "decision": "no-verdict"}
    assert not any((workspace / f).exists() for f in ("gate.sarif", "gate-verdict.json"))
    assert _exit_step(outputs["exit-code"]) == 3


@pytest.mark.parametrize(
    ("recorded", "code"),
    [("0", 0), ("1", 1), ("2", 2), ("3", 3), ("", 3), ("137", 3), ("0; exit 0", 3), ("-1", 3)],
)
def test_the_job_ends_as_gate_did_and_fails_closed(recorded, code):
    """No recorded code (gate never ran, or was killed) is 'no verdict', never success."""
    assert _exit_step(recorded) == code


@pytest.mark.parametrize(
    "version", ["1.0; curl evil", "--index-url=http://evil", "latest", "1.0 x"]
)
def test_the_install_step_refuses_a_version_that_is_not_a_release_number(tmp_path, version):
    run = subprocess.run(
        ["bash", "-e", "-c", _step("Install gate")["run"]],
        env={
            "GATE_VERSION_WANTED": version,
            "ACTION_PATH": str(ROOT),
            "RUNNER_TEMP": str(tmp_path),
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert list(tmp_path.iterdir()) == []  # refused before anything was installed


# --- the GitLab template -------------------------------------------------------------------

# Keywords of the official CI schema (gitlab-org/gitlab app/assets/javascripts/editor/schema/
# ci.json: job_template, rules items, artifacts, artifacts.reports), the subset a job template
# may reasonably use; anything else is a typo GitLab would reject.
GITLAB_JOB_KEYS = {
    "image", "services", "before_script", "after_script", "hooks", "rules", "variables",
    "cache", "id_tokens", "identity", "inputs", "secrets", "script", "stage", "extends",
    "needs", "artifacts", "environment", "retry", "timeout", "interruptible", "tags",
    "allow_failure", "when", "dependencies", "coverage", "parallel", "resource_group",
}  # fmt: skip
GITLAB_RULE_KEYS = {
    "if", "changes", "exists", "variables", "when", "start_in", "allow_failure", "needs",
    "interruptible",
}  # fmt: skip
GITLAB_ARTIFACT_KEYS = {"paths", "exclude", "expose_as", "name", "untracked", "when",
                        "access", "expire_in", "reports"}  # fmt: skip
GITLAB_REPORT_KEYS = {"junit", "codequality", "cyclonedx", "sast", "container_scanning",
                      "dotenv", "annotations"}  # fmt: skip


def _gitlab_job() -> dict[str, Any]:
    template = _load(GITLAB)
    assert set(template) == {".gate"}  # hidden: it runs only where a job extends it
    job: dict[str, Any] = template[".gate"]
    return job


def test_gitlab_template_uses_only_documented_keywords():
    job = _gitlab_job()
    assert set(job) <= GITLAB_JOB_KEYS
    assert set(job["artifacts"]) <= GITLAB_ARTIFACT_KEYS
    assert set(job["artifacts"]["reports"]) <= GITLAB_REPORT_KEYS
    for rule in job["rules"]:
        assert set(rule) <= GITLAB_RULE_KEYS
        if "allow_failure" in rule:
            assert set(rule["allow_failure"]) == {"exit_codes"}


def test_gitlab_failed_is_allowed_only_in_merge_requests_and_no_verdict_never():
    job = _gitlab_job()
    assert "allow_failure" not in job  # a job-level allow_failure would cover every pipeline
    allowing = [rule for rule in job["rules"] if "allow_failure" in rule]
    assert allowing == [
        {
            "if": '$CI_PIPELINE_SOURCE == "merge_request_event"',
            "allow_failure": {"exit_codes": [1]},
        }
    ]
    assert job["rules"][-1] == {"when": "on_success"}


def test_gitlab_publishes_junit_and_code_quality_always():
    job = _gitlab_job()
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"] == {
        "junit": "gate-junit.xml",
        "codequality": "gl-code-quality-report.json",
    }
    assert job["artifacts"]["paths"] == ["gate.json"]


def test_gitlab_image_and_package_are_pinned():
    job = _gitlab_job()
    dockerfile_bases = re.findall(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    assert job["image"] == dockerfile_bases[0]  # one reviewed base, by digest
    assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", job["image"])
    assert job["variables"]["IMAGE_GATE_PACKAGE"] == f"image-gate=={gate.__version__}"


def test_gitlab_script_passes_shellcheck():
    findings = _shellcheck("\n".join(_gitlab_job()["script"]) + "\n", "sh").splitlines()
    # The one accepted: $GATE_INPUTS is split on purpose (a list of paths) under `set -f`,
    # so it is never glob-expanded (test_gitlab_script_does_not_glob_its_inputs).
    assert [f for f in findings if "[SC2086]" not in f] == []
    assert len(findings) <= 1


def _gitlab_gate_line() -> str:
    """The `gate check` line of the script, with the job's venv replaced by this one."""
    (line,) = [s for s in _gitlab_job()["script"] if " check " in s]
    return line.replace("/tmp/image-gate/bin/gate", shlex.quote(str(BIN / "gate")))


def _run_gitlab_line(tmp_path: Path, inputs: str) -> int:
    env = {**os.environ, "GATE_INPUTS": inputs, "GATE_STAGE": "prod", "RUST_LIB_BACKTRACE": "0"}
    run = subprocess.run(
        ["sh", "-e", "-c", _gitlab_gate_line()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return run.returncode


def test_gitlab_script_writes_the_three_reports_and_keeps_the_exit_code(tmp_path):
    assert _run_gitlab_line(tmp_path, f"{TRIVY} {INSPECT}") == 1
    assert json.loads((tmp_path / "gate.json").read_text())["decision"] == "fail"
    quality = json.loads((tmp_path / "gl-code-quality-report.json").read_text())
    assert quality and {"description", "check_name", "fingerprint", "severity", "location"} <= set(
        quality[0]
    )
    assert (tmp_path / "gate-junit.xml").read_text().lstrip().startswith("<?xml")


def test_gitlab_script_does_not_glob_its_inputs(tmp_path):
    """GATE_INPUTS='*.json' names a file called *.json (none): no verdict, not every file."""
    (tmp_path / "trivy.json").write_bytes(TRIVY.read_bytes())
    (tmp_path / "inspect.json").write_bytes(INSPECT.read_bytes())
    assert _run_gitlab_line(tmp_path, "*.json") == 3


# --- pre-commit hooks ----------------------------------------------------------------------


def _hooks() -> list[dict[str, Any]]:
    hooks: list[dict[str, Any]] = _load(HOOKS)
    return hooks


def test_hooks_have_the_keys_pre_commit_requires():
    hooks = _hooks()
    assert [h["id"] for h in hooks] == [
        "gate-policy-lint", "gate-policy-test", "gate-waivers-check", "gate-check",
    ]  # fmt: skip
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook), hook["id"]
        assert hook["language"] == "python"  # pre-commit installs gate from the repository
        assert hook["entry"].split()[0] == "gate"
        if "files" in hook:
            re.compile(hook["files"])


def test_the_pre_push_hook_checks_what_gate_yaml_names():
    (check,) = [h for h in _hooks() if h["id"] == "gate-check"]
    assert check["entry"] == "gate check"
    assert check["stages"] == ["pre-push"]
    assert check["pass_filenames"] is False
    assert check["always_run"] is True


def test_the_waivers_hook_matches_waivers_files():
    (waivers,) = [h for h in _hooks() if h["id"] == "gate-waivers-check"]
    pattern = re.compile(waivers["files"])
    assert pattern.search("waivers.yaml") and pattern.search("team/waivers-prod.yml")
    assert not pattern.search("policies/data.json")
    assert waivers["args"] == ["waivers.yaml"] and waivers["pass_filenames"] is False


@pytest.mark.parametrize("hook_id", ["gate-policy-lint", "gate-policy-test",
                                     "gate-waivers-check", "gate-check"])  # fmt: skip
def test_each_hook_invokes_a_real_subcommand(gate_cli, hook_id):
    (hook,) = [h for h in _hooks() if h["id"] == hook_id]
    result = gate_cli(*hook["entry"].split()[1:], "--help")
    assert result.code == 0, result.err


def test_the_hooks_pass_on_a_scaffolded_policy_repository(gate_cli, tmp_path, monkeypatch):
    """Run as pre-commit would (entry + args, no filenames) in a fresh `gate init`."""
    assert gate_cli("init", tmp_path).code == 0
    monkeypatch.chdir(tmp_path)
    for hook in _hooks():
        if hook["id"] == "gate-check":
            continue  # needs an image's reports: covered by the action and GitLab tests
        result = gate_cli(*hook["entry"].split()[1:], *hook.get("args", []))
        assert result.code == 0, (hook["id"], result.out, result.err)
