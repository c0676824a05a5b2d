"""Property-based tests over every source: random shape mutations of real fixtures (issue 7 §6).

For each source and each of its fixtures, a mutation (delete a key, replace a value by
null/number/string/list/object/huge or non-finite number/unicode/lone surrogate, duplicate
or truncate a list, swap a value's type, repeat a key) is written to a file and read as
``gate normalize`` reads it:

(a) the outcome is findings or a GateError, never another exception or a source's
    unexpected exception dressed as "cannot normalise";
(b) a mutation beside the findings (tests/fuzzing.py's FINDING_PATHS) leaves their
    number unchanged, or the file is refused;
(c) a grype or syft file of a passing prod set that no longer names the gated image
    never lets ``gate check`` exit 0.

Few, derandomised examples keep the suite fast and reproducible; scripts/fuzz.py runs the
same properties for long.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES
from fuzzing import (
    FIXTURES_BY_FORMAT,
    PASSING_ARGS,
    PASSING_AT,
    PASSING_PROD_SET,
    Mutation,
    Raw,
    apply_all,
    dump,
    gate_exit,
    load_fixture,
    loses_findings,
    mutations,
    normalise,
    touches_findings,
    unnamings,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gate.sources import SOURCES

FUZZ = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FIXTURE_DATA = {
    relative: load_fixture(relative) for paths in FIXTURES_BY_FORMAT.values() for relative in paths
}
BASELINES = {relative: normalise(FIXTURES / relative) for relative in FIXTURE_DATA}


def mutated_file(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "input.json"
    path.write_text(dump(data), encoding="utf-8", errors="surrogatepass")
    return path


def test_every_source_has_fixtures_to_mutate() -> None:
    # the parametrised properties below must not pass vacuously for any source
    assert set(FIXTURES_BY_FORMAT) == set(SOURCES)
    readable = {
        f
        for f, paths in FIXTURES_BY_FORMAT.items()
        if any(BASELINES[p].findings is not None for p in paths)
    }
    assert readable == set(SOURCES)
    assert all(outcome.crash is None for outcome in BASELINES.values())


@pytest.mark.parametrize("format_name", sorted(SOURCES))
@FUZZ
@given(data=st.data())
def test_a_mutated_fixture_is_read_or_refused_and_keeps_its_findings(
    tmp_path: Path, format_name: str, data: st.DataObject
) -> None:
    relative = data.draw(st.sampled_from(FIXTURES_BY_FORMAT[format_name]), label="fixture")
    mutation = data.draw(mutations(FIXTURE_DATA[relative]), label="mutation")
    outcome = normalise(mutated_file(tmp_path, mutation.apply(FIXTURE_DATA[relative])))
    assert outcome.crash is None, f"{relative}: {mutation}: {outcome.crash!r}"
    assert not loses_findings(format_name, mutation, BASELINES[relative], outcome), (
        f"{relative}: {mutation}: {BASELINES[relative].findings} findings became"
        f" {outcome.findings} without a refusal"
    )


@pytest.mark.parametrize("format_name", ["grype-json", "syft-json"])
@settings(FUZZ, max_examples=15)
@given(data=st.data())
def test_a_scan_or_sbom_that_no_longer_names_the_image_never_passes(
    tmp_path: Path, format_name: str, data: st.DataObject
) -> None:
    original = load_fixture(PASSING_PROD_SET[format_name])
    changes = data.draw(unnamings(format_name, original), label="changes")
    assert changes, "the fixture names the image somewhere"
    mutated = mutated_file(tmp_path, apply_all(original, changes))
    others = [FIXTURES / r for f, r in PASSING_PROD_SET.items() if f != format_name]
    arguments = [str(mutated), *map(str, others), "--stage", "prod", "--at", PASSING_AT]
    arguments += PASSING_ARGS
    code, err = gate_exit("check", *arguments)
    assert code in (1, 3), f"{'; '.join(map(str, changes))}: exit {code}: {err}"
    assert "internal error" not in err


def test_the_passing_prod_set_passes_unchanged() -> None:
    # property (c) means something only if the same set, unmutated, passes
    code, err = gate_exit(
        "check",
        *(str(FIXTURES / r) for r in PASSING_PROD_SET.values()),
        "--stage",
        "prod",
        "--at",
        PASSING_AT,
        *PASSING_ARGS,
    )
    assert code == 0, err


@pytest.mark.parametrize(
    ("relative", "mutation", "words"),
    [
        # what the long fuzz run found, each now a refusal or a reading
        (
            "reports/trivy-operator/vulnerabilityreport.json",
            Mutation(("kind",), "swap", ["VulnerabilityReport"]),
            "not a recognised report",
        ),
        (
            "vex/openvex-0.0.1-legacy.json",
            Mutation(("@context",), "replace", Raw("[" * 900 + "]" * 900)),
            "not a recognised report",
        ),
        (
            "reports/hadolint/findings.json",
            Mutation((5, "code"), "replace", "\ud800"),
            "[5].code: invalid JSON: a lone surrogate",
        ),
        (
            "image/inspect-root.json",
            Mutation((0, "Config", "Cmd", 0), "replace", "\ud800"),
            "[0].Config.Cmd[0]: invalid JSON: a lone surrogate",
        ),
    ],
)
def test_what_the_fuzzer_found_is_refused_clearly(
    tmp_path: Path, relative: str, mutation: Mutation, words: str
) -> None:
    outcome = normalise(mutated_file(tmp_path, mutation.apply(load_fixture(relative))))
    assert outcome.crash is None and outcome.refusal is not None
    assert words in str(outcome.refusal)


def test_the_finding_oracle_tells_inside_from_beside() -> None:
    # the oracle of property (b) is itself code: pin what it calls inside and beside
    assert touches_findings("trivy-json", ("Results", 0, "Vulnerabilities", 3, "PkgName"))
    assert touches_findings("trivy-json", ("Results",))
    assert not touches_findings("trivy-json", ("Results", 0, "Target"))
    assert not touches_findings("trivy-json", ("SchemaVersion",))
    assert touches_findings("hadolint-json", (2, "code"))
    assert not touches_findings("grype-json", ("source", "target"))
    assert not touches_findings("docker-inspect", ())
