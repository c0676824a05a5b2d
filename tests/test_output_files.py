"""Files gate writes, and files it must not (issue 7 §4): --output and the output format."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import ROOT, fixture

from gate.errors import GateError, UsageError
from gate.formats import EXTENSIONS, FORMATS, output_format_for
from gate.output import write_output

TRIVY = fixture("reports/trivy/v2-image.json")
INSPECT = fixture("image/inspect.json")
MALFORMED = fixture("inputs/malformed.json")
SCAN_DAY = "2024-10-14T12:00:00Z"
CHECK = ("check", TRIVY, INSPECT, "--at", SCAN_DAY)
"""A run that reaches a verdict (fail, exit 1): what is written is the report of a real run."""


def _gate(*args: str | Path, **options) -> subprocess.CompletedProcess[str]:
    """Run `python -m gate` as a real process (descriptors and pipes as CI would give them)."""
    if "stdout" not in options and "stderr" not in options:
        options["capture_output"] = True
    return subprocess.run(
        [sys.executable, "-m", "gate", *map(str, args)],
        text=True,
        cwd=ROOT,
        check=False,
        **options,
    )


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".partial"))


# --- regular files: atomic, unique temporary, sensible permissions ----------------------


def test_regular_file_is_written_whole_with_umask_permissions(gate_cli, tmp_path):
    target = tmp_path / "verdict.json"
    previous = os.umask(0o022)
    try:
        result = gate_cli(*CHECK, "-o", target)
    finally:
        os.umask(previous)
    assert result.code == 1
    assert json.loads(target.read_text())["decision"] == "fail"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert _leftovers(tmp_path) == []


def test_replacing_a_file_keeps_its_permissions(gate_cli, tmp_path):
    target = tmp_path / "verdict.json"
    target.write_text("old")
    target.chmod(0o600)
    assert gate_cli(*CHECK, "-o", target).code == 1
    assert json.loads(target.read_text())["decision"] == "fail"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_parallel_writers_to_one_path_all_succeed_last_one_wins(tmp_path):
    target = tmp_path / "out.txt"
    texts = [f"writer {n}\n" * 2000 for n in range(16)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(texts))

    def write(text: str) -> None:
        start.wait()
        try:
            write_output(text, str(target))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert target.read_text() in texts  # one whole report, never a mix
    assert _leftovers(tmp_path) == []


def test_parallel_gate_processes_to_one_output_all_succeed(tmp_path):
    target = tmp_path / "verdict.json"
    command = [sys.executable, "-m", "gate", *map(str, CHECK), "-o", str(target), "-q"]
    runs = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    outcomes = [(run.wait(), run.stderr.read()) for run in runs if run.stderr]
    for run in runs:
        for stream in (run.stdout, run.stderr):
            if stream:
                stream.close()
    assert outcomes == [(1, b"")] * 4
    assert json.loads(target.read_text())["decision"] == "fail"
    assert _leftovers(tmp_path) == []


def test_symlink_to_a_regular_file_is_written_through_and_kept(gate_cli, tmp_path):
    real = tmp_path / "reports" / "verdict.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    assert gate_cli(*CHECK, "-o", link).code == 1
    assert link.is_symlink() and link.resolve() == real
    assert json.loads(real.read_text())["decision"] == "fail"
    assert _leftovers(real.parent) == [] and _leftovers(tmp_path) == []


def test_dangling_symlink_creates_the_file_it_names(gate_cli, tmp_path):
    link = tmp_path / "latest.json"
    link.symlink_to(tmp_path / "created.json")
    assert gate_cli(*CHECK, "-o", link).code == 1
    assert link.is_symlink()
    assert json.loads((tmp_path / "created.json").read_text())["decision"] == "fail"


def test_a_failed_write_is_no_verdict_and_leaves_nothing(gate_cli):
    # /proc/version is a "regular" file in a directory nobody (not even root) can create in.
    result = gate_cli(*CHECK, "-o", "/proc/version", "-f", "table")
    assert result.code == 3
    assert result.err.startswith("error: /proc/version: cannot write output: ")
    assert "FAIL" not in result.err  # no summary line for a report that was never written


# --- not regular files: written in place, never replaced --------------------------------


def test_dev_null_is_written_and_stays_a_device(gate_cli):
    before = os.stat("/dev/null")
    result = gate_cli(*CHECK, "-o", "/dev/null", "-q")
    assert result.code == 1
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_fifo_is_written_in_place(gate_cli, tmp_path):
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    result = gate_cli(*CHECK, "-o", fifo, "-f", "json", "-q")
    reader.join(timeout=30)
    if reader.is_alive():  # gate never opened the FIFO: release the reader blocked in open()
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join()
    assert result.code == 1
    assert json.loads(received[0])["decision"] == "fail"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_dev_stdout_and_a_symlink_to_proc_self_fd_1_write_to_stdout(tmp_path):
    link = tmp_path / "out"
    link.symlink_to("/proc/self/fd/1")
    for output in ("/dev/stdout", link):
        result = _gate(*CHECK, "-o", output, "-f", "json", "-q")
        assert result.returncode == 1, result.stderr
        assert json.loads(result.stdout)["decision"] == "fail"
    assert os.readlink(link) == "/proc/self/fd/1"


def test_dash_means_standard_output(gate_cli):
    result = gate_cli(*CHECK, "-o", "-", "-f", "json")
    assert result.code == 1
    assert json.loads(result.out)["decision"] == "fail"
    assert not (ROOT / "-").exists()


# --- refusals: before any evaluation, nothing written ----------------------------------
# Each refused run is given a malformed report: exit 2 (not 3) proves the refusal came first.


def _refused(gate_cli, *args: str | Path) -> str:
    result = gate_cli("check", MALFORMED, *args)
    assert result.code == 2, result.err
    assert result.out == ""
    return result.err


def test_output_equal_to_an_input_is_refused(gate_cli, tmp_path):
    report = tmp_path / "trivy.json"
    report.write_bytes(TRIVY.read_bytes())
    err = _refused(gate_cli, report, "-o", report)
    assert "--output would overwrite an input file" in err
    assert report.read_bytes() == TRIVY.read_bytes()


def test_output_reaching_an_input_through_dots_or_a_symlink_is_refused(gate_cli, tmp_path):
    report = tmp_path / "trivy.json"
    report.write_bytes(TRIVY.read_bytes())
    (tmp_path / "sub").mkdir()
    link = tmp_path / "alias.json"
    link.symlink_to(report)
    for output in (tmp_path / "sub" / ".." / "trivy.json", link):
        assert "would overwrite an input file" in _refused(gate_cli, report, "-o", output)
    assert report.read_bytes() == TRIVY.read_bytes()


def test_output_equal_to_data_or_waivers_is_refused(gate_cli, tmp_path):
    data = tmp_path / "data.yaml"
    data.write_text("gate_config: {}\n")
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers: []\n")
    for option, path in (("--data", data), ("--waivers", waivers)):
        before = path.read_text()
        err = _refused(gate_cli, option, path, "-o", path)
        assert "would overwrite an input file" in err
        assert path.read_text() == before


def test_hard_link_to_an_input_is_refused(gate_cli, tmp_path):
    # own case: no symlink and no `..`, but the same file all the same
    report = tmp_path / "trivy.json"
    report.write_bytes(TRIVY.read_bytes())
    other = tmp_path / "copy.json"
    os.link(report, other)
    assert "would overwrite an input file" in _refused(gate_cli, report, "-o", other)
    assert report.read_bytes() == TRIVY.read_bytes()


def test_output_inside_a_policy_directory_is_refused(gate_cli, tmp_path):
    policies = tmp_path / "policies"
    (policies / "org").mkdir(parents=True)
    (policies / "org" / "rule.rego").write_text("package gate.org\n")
    targets = [
        policies / "report.json",  # a new file: data.json or x.rego there would be loaded
        policies / "org" / "rule.rego",
        policies / "org" / "new.rego",
        policies / "org" / ".." / "data.json",
    ]
    for target in targets:
        err = _refused(gate_cli, "--policy", policies, "-o", target)
        assert "--output would write into a policy directory" in err
    assert sorted(p.name for p in policies.rglob("*")) == ["org", "rule.rego"]


def test_output_into_the_bundled_pack_is_refused(gate_cli):
    from gate.policy import default_policy_dir

    target = default_policy_dir() / "data.json"
    before = target.read_bytes()
    for policy_args in ((), ("--policy", "gate:policies")):
        err = _refused(gate_cli, *policy_args, "-o", target)
        assert "would write into a policy directory" in err
    assert target.read_bytes() == before


def test_normalize_never_writes_over_the_pack_whose_data_it_reads(gate_cli):
    from gate.policy import default_policy_dir

    target = default_policy_dir() / "data.json"
    before = target.read_bytes()
    result = gate_cli("normalize", MALFORMED, "-o", target)
    assert result.code == 2
    assert "would write into a policy directory" in result.err
    assert target.read_bytes() == before


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("", "--output is empty"),
        (".", "names a directory"),
        ("no-such-dir/verdict.json", "does not exist"),
    ],
)
def test_unusable_output_paths_are_usage_errors(gate_cli, output, message):
    assert message in _refused(gate_cli, "-o", output)


# --- standard output that cannot be written --------------------------------------------


def test_closed_stdout_is_no_verdict():
    command = [sys.executable, "-m", "gate", *map(str, CHECK)]
    done = subprocess.run(
        " ".join(command) + " >&-", shell=True, capture_output=False, stderr=subprocess.PIPE,
        text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 3
    assert done.stderr == "error: cannot write output: standard output is closed\n"


def test_closed_stdout_is_an_error_for_every_command_that_prints():
    # own case: click.echo skips a missing stdout silently, so `gate schema >&-` exited 0
    done = subprocess.run(
        f"{sys.executable} -m gate schema >&-", shell=True, stderr=subprocess.PIPE,
        text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 3
    assert done.stderr == "error: cannot write output: standard output is closed\n"


def test_closed_stdout_does_not_matter_when_the_report_goes_to_a_file(tmp_path):
    target = tmp_path / "verdict.json"
    command = [sys.executable, "-m", "gate", *map(str, CHECK), "-o", str(target), "-q"]
    done = subprocess.run(
        " ".join(command) + " >&-", shell=True, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (1, "")
    assert json.loads(target.read_text())["decision"] == "fail"


def test_broken_pipe_is_no_verdict_without_a_traceback():
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before gate writes a byte (`| head -c0`)
    try:
        done = _gate(*CHECK, "-f", "json", stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert done.returncode == 3
    assert done.stderr == "error: cannot write output: the reader of standard output went away\n"


# --- the format follows --format, else the extension ------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("-f", "table", "-o", "x.json"), "--format table would write table into a .json"),
        (("-f", "table", "-o", "x.sarif"), "--format table would write table into a .sarif"),
        (("-f", "json", "-o", "x.xml"), "--format json would write json into a .xml"),
        (("-o", "x.html"), "a .html file asks for html output, which gate cannot write"),
        (("-o", "x.weird"), "cannot tell the output format from the extension '.weird'"),
    ],
)
def test_output_format_mismatch_is_a_usage_error(gate_cli, tmp_path, args, fragment):
    *options, output = args
    err = _refused(gate_cli, *options, tmp_path / output)
    assert fragment in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "written"),
    [
        (("-o", "verdict.json"), "json"),
        (("-o", "VERDICT.JSON"), "json"),
        (("-o", "verdict.txt"), "table"),
        (("-o", "verdict"), "table"),
        (("-f", "json", "-o", "verdict.txt"), "json"),
        (("-f", "json", "-o", "verdict.weird"), "json"),
    ],
)
def test_output_format_from_flag_or_extension(gate_cli, tmp_path, args, written):
    *options, name = args
    target = tmp_path / name
    assert gate_cli(*CHECK, *options, target).code == 1
    text = target.read_text()
    if written == "json":
        assert json.loads(text)["decision"] == "fail"
    else:
        assert text.startswith("FAIL: ")


def test_every_mapped_extension_is_written_or_refused():
    for suffix, name in EXTENSIONS.items():
        if name in FORMATS:
            assert output_format_for(None, f"x{suffix}") == name
        else:
            with pytest.raises(UsageError, match=f"asks for {name} output"):
                output_format_for(None, f"x{suffix}")


def test_write_output_reports_a_directory_vanishing_mid_run(tmp_path):
    # own case: the target's directory is removed between the check and the write
    gone = tmp_path / "gone"
    gone.mkdir()
    gone.rmdir()
    with pytest.raises(GateError, match="cannot write output"):
        write_output("text", str(gone / "verdict.txt"))


def test_policy_doc_output_is_written_atomically(gate_cli, tmp_path):
    target = tmp_path / "RULES.md"
    target.write_text("old")
    result = gate_cli("policy", "doc", "-o", target)
    assert result.code == 0, result.err
    assert target.read_text().startswith("#")
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("-f", "markdown", "-o", "rules.json"), "--format markdown would write markdown into"),
        (("-o", "rules.html"), "a .html file asks for html output"),
        (("-o", "rules.weird"), "cannot tell the output format"),
    ],
)
def test_policy_doc_output_format_mismatch_is_a_usage_error(gate_cli, tmp_path, args, fragment):
    *options, name = args
    result = gate_cli("policy", "doc", *options, tmp_path / name)
    assert result.code == 2
    assert fragment in result.err
    assert list(tmp_path.iterdir()) == []
