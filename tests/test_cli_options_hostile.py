"""Options that would silently change what is judged are refused (issue 7 §3).

Each guard is tested with its hostile case next to the legitimate use it must keep.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, fixture, input_fixtures, load_input

from gate.errors import InputError, UsageError
from gate.run import read_fragment
from gate.sources import SOURCES, detect
from gate.sources.base import accepts_forced

TRIVY = fixture("reports/trivy/v2-image.json")
GRYPE = fixture("reports/grype/image.json")
INSPECT = fixture("image/inspect.json")
SCAN_DAY = "2024-10-14T12:00:00Z"


# --- --type: a forced format must fit the file's shape --------------------------------


def test_forcing_trivy_onto_a_grype_report_is_no_verdict(gate_cli):
    # Today's wrong pass: the Grype report read as Trivy was an empty Trivy scan that
    # satisfied scan-required while its critical findings vanished.
    result = gate_cli("check", GRYPE, INSPECT, "--type", f"{GRYPE}=trivy-json", "--at", SCAN_DAY)
    assert result.code == 3
    assert result.out == ""
    assert result.err.startswith(f"error: {GRYPE}: does not look like trivy-json: expected ")
    assert '"SchemaVersion"' in result.err
    assert 'found an object with keys "matches"' in result.err


def test_forcing_a_format_onto_every_input_checks_each_file(gate_cli):
    result = gate_cli("normalize", TRIVY, GRYPE, "--type", "trivy-json", "--at", SCAN_DAY)
    assert result.code == 3
    assert f"error: {GRYPE}: does not look like trivy-json" in result.err


def test_forcing_the_right_format_still_reads_the_file(gate_cli):
    result = gate_cli(
        "normalize", TRIVY, GRYPE, "--type", f"{GRYPE}=grype-json", "--type", f"{TRIVY}=trivy-json"
    )
    assert result.code == 0, result.err
    assert [s["format"] for s in json.loads(result.out)["scans"]] == ["trivy-json", "grype-json"]


@pytest.mark.parametrize("path", input_fixtures())
def test_every_format_forced_onto_a_file_it_does_not_fit_is_refused(path: Path):
    """SOURCES x fixtures: a misfit is refused with the expected shape, a fit is read."""
    data, _ = load_input(path)
    fitting = {name for name, source in SOURCES.items() if accepts_forced(source, data)}
    detected = detect(data)
    assert fitting == {detected.format if detected else "hadolint-json"}
    for name in SOURCES:
        if name in fitting:
            continue
        with pytest.raises(InputError) as refused:
            read_fragment(str(path), name)
        message = str(refused.value)
        assert message.startswith(f"{path}: does not look like {name}: expected ")
        assert SOURCES[name].expected_shape in message
    for name in fitting:
        try:
            _, fragment = read_fragment(str(path), name)
        except InputError as exc:  # fits the shape but its content is refused: never a scan
            assert "does not look like" not in str(exc)
        else:
            assert fragment.format == name


def test_the_table_covers_every_source_and_most_pairs_are_misfits():
    # Guards the table above against passing vacuously (e.g. every file fitting everything).
    pairs = [
        (name, path)
        for param in input_fixtures()
        for path in param.values
        for name, source in SOURCES.items()
        if not accepts_forced(source, load_input(path)[0])
    ]
    assert {name for name, _ in pairs} == set(SOURCES)
    assert len(pairs) > 15 * len(input_fixtures())


def test_hadolint_empty_array_needs_and_gets_the_forced_type(gate_cli, tmp_path):
    clean = tmp_path / "hadolint.json"
    clean.write_text("[]")
    detected = gate_cli("normalize", clean)
    assert detected.code == 3
    forced = gate_cli("normalize", clean, "--type", "hadolint-json")
    assert forced.code == 0, forced.err
    assert json.loads(forced.out)["scans"][0]["format"] == "hadolint-json"


def test_an_empty_array_forced_as_another_array_format_is_refused(gate_cli, tmp_path):
    # Only hadolint widens its shape under --type; `[]` is not an empty Snyk or docker scan.
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    for name in ("snyk-json", "docker-inspect", "trivy-json"):
        result = gate_cli("normalize", empty, "--type", name)
        assert result.code == 3, name
        assert f"does not look like {name}: expected" in result.err
        assert "found an array of 0 items" in result.err


def test_type_naming_no_given_input_is_a_usage_error(gate_cli):
    result = gate_cli("check", TRIVY, INSPECT, "--type", "trivy.json=trivy-json")
    assert result.code == 2
    assert result.err.startswith(
        "error: --type trivy.json=trivy-json: 'trivy.json' is not one of the input files"
    )


def test_type_file_may_be_spelled_differently_when_it_is_the_same_file(gate_cli):
    spelled = os.path.relpath(GRYPE, ROOT)
    result = gate_cli("check", GRYPE, INSPECT, "--type", f"{spelled}=trivy-json")
    assert result.code == 3  # the forced type applied, so the misfit was caught
    assert "does not look like trivy-json" in result.err


@pytest.mark.parametrize("value", ["nonsense", "=trivy-json", f"{TRIVY}=", f"{TRIVY}=Trivy-JSON"])
def test_type_with_unknown_format_or_empty_parts_is_a_usage_error(gate_cli, value):
    result = gate_cli("check", TRIVY, INSPECT, "--type", value)
    assert result.code == 2
    assert result.err.startswith(f"error: --type {value}: ")


def test_one_file_forced_to_two_formats_is_a_usage_error(gate_cli):
    result = gate_cli(
        "check", TRIVY, INSPECT, "--type", f"{TRIVY}=trivy-json", "--type", f"{TRIVY}=sarif"
    )
    assert result.code == 2
    assert "is already forced to trivy-json" in result.err


# --- --image -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "   ", "\t", "Not A Ref", "./image.tar", "a@sha256:xyz"])
def test_image_that_is_not_a_reference_is_a_usage_error(gate_cli, value):
    result = gate_cli("check", TRIVY, INSPECT, "--image", value, "--at", SCAN_DAY)
    assert result.code == 2
    assert result.err.startswith("error: Invalid value for '--image': ")
    assert result.out == ""


def test_a_real_image_reference_is_accepted(gate_cli):
    result = gate_cli(
        "normalize", TRIVY, "--image", "ghcr.io/acme/shop-api:1.4.2", "--at", SCAN_DAY
    )
    assert result.code == 0, result.err


# --- --at ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "1969-12-31T23:59:59Z",
        "0001-01-01",
        "2262-04-11T00:00:00Z",
        "9999-12-31",
        # own case: in range as written, out of range once the offset is applied
        "1970-01-01T00:30:00+01:00",
    ],
)
def test_at_outside_what_the_engine_represents_is_a_usage_error(gate_cli, value):
    result = gate_cli("check", TRIVY, INSPECT, "--at", value)
    assert result.code == 2
    assert result.err.startswith(f"error: Invalid value for '--at': {value!r} is outside")


@pytest.mark.parametrize("value", ["yesterday", "", "2024-13-01", "2024-10-14T25:00:00Z"])
def test_unparseable_at_is_a_usage_error(gate_cli, value):
    result = gate_cli("check", TRIVY, INSPECT, "--at", value)
    assert result.code == 2
    assert "is not an RFC 3339 time" in result.err


@pytest.mark.parametrize("value", ["1970-01-01T00:00:00Z", "2262-04-10T23:59:59Z"])
def test_at_at_the_edges_of_the_range_is_evaluated(gate_cli, value):
    result = gate_cli("normalize", TRIVY, "--at", value)
    assert result.code == 0, result.err
    assert json.loads(result.out)["context"]["evaluated_at"] == value


# --- standard input ------------------------------------------------------------------


def test_stdin_given_twice_is_a_usage_error(gate_cli):
    result = gate_cli("check", "-", "-", INSPECT)
    assert result.code == 2
    assert "standard input ('-') is given more than once" in result.err


@pytest.mark.parametrize(
    "options",
    [("--waivers", "-", "--data", "-"), ("--data", "-", "-"), ("--waivers", "-", "-")],
    ids=["waivers-and-data", "data-and-input", "waivers-and-input"],
)
def test_stdin_is_read_once_whatever_takes_it(gate_cli, options):
    result = gate_cli("check", TRIVY, INSPECT, *options)
    assert result.code == 2
    assert "standard input ('-') is given more than once" in result.err


def test_policies_are_not_read_from_stdin(gate_cli):
    result = gate_cli("check", TRIVY, INSPECT, "--policy", "-")
    assert result.code == 2
    assert result.err.startswith("error: --policy -: policies are read from files")


def _gate(*args: str | Path, **options) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gate", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        **options,
    )


def test_report_from_stdin_is_read(tmp_path):
    with TRIVY.open() as report:
        result = _gate("normalize", "-", "--at", SCAN_DAY, stdin=report)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["scans"][0]["input"] == "<stdin>"


def test_waivers_from_stdin_are_read_and_named(tmp_path):
    waivers = (
        "waivers:\n  - rule: secret-found\n    reason: r\n    owner: o\n    expires: 2099-01-01\n"
    )
    result = _gate(
        "check", TRIVY, INSPECT, "--at", SCAN_DAY, "-f", "json", "--waivers", "-",
        input=waivers,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "secret-found" in {w["id"] for w in json.loads(result.stdout)["waived"]}


def test_data_from_stdin_is_read_and_named_when_it_relaxes_a_rule(tmp_path):
    lax = json.dumps({"gate_config": {"stages": {"prod": {"actions": {"secret-found": "off"}}}}})
    result = _gate(
        "check", TRIVY, INSPECT, "--at", SCAN_DAY, "-f", "json", "--data", "-", input=lax
    )
    verdict = json.loads(result.stdout)
    assert {"id": "secret-found", "action": "off", "set_by": "<stdin>"} in verdict["relaxed"]
    assert "secret-found off (<stdin>)" in result.stderr


def test_bad_waivers_from_stdin_name_stdin():
    result = _gate("check", TRIVY, INSPECT, "--waivers", "-", input="waivers: [1, 2\n")
    assert result.returncode == 3
    assert result.stderr.startswith("error: <stdin>: ")


def test_closed_stdin_is_no_verdict():
    result = subprocess.run(
        f"{sys.executable} -m gate check - {INSPECT} --at {SCAN_DAY} <&-",
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 3
    assert result.stderr == "error: <stdin>: cannot read: standard input is closed\n"


def test_library_callers_forcing_an_unknown_format_get_a_usage_error():
    with pytest.raises(UsageError, match="unknown input type 'no-such-format'"):
        read_fragment(str(TRIVY), "no-such-format")
