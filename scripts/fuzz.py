#!/usr/bin/env python3
"""The long fuzz run: the properties of tests/sources/test_fuzz.py with many more examples.

For every source (or one, ``--source``), random shape mutations of its real fixtures are
read as ``gate normalize`` reads them, and each outcome is checked: (a) no crash (an
exception that is no GateError, or a source's unexpected exception wrapped as "cannot
normalise"), (b) no finding lost to a mutation beside the findings; for grype and syft
also (c) a scan or SBOM that no longer names the image of a passing prod set never lets
``gate check`` pass (a twentieth of the examples: each is a whole run). Every distinct
problem is minimised (keys and items dropped while it persists) and written to
``--out`` as a reproducer; the figures are printed per source:

    python scripts/fuzz.py --examples 2000 [--source trivy-json] [--seed 1] [--out fuzz-out]

Exit status 1 when anything was found. atheris is not needed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "sources")]

from fuzzing import (  # noqa: E402 - after the path the test helpers need
    FIXTURES_BY_FORMAT,
    IMAGE_NAMES,
    PASSING_AT,
    PASSING_PROD_SET,
    Mutation,
    Outcome,
    apply_all,
    dump,
    gate_exit,
    load_fixture,
    loses_findings,
    mutations,
    normalise,
    paths_of,
    unnamings,
    value_at,
)
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@dataclass
class Case:
    """The first case of one distinct problem: the fixture, what was changed, the file."""

    fixture: str
    change: str
    text: str
    reproduces: Callable[[str], bool] | None = None
    """Whether a smaller file still shows the problem (None: the file is kept as it is)."""


@dataclass
class Tally:
    """One property's figures over one source, and the first case of each distinct problem."""

    cases: int = 0
    problems: dict[str, Case] = field(default_factory=dict)


def signature(outcome: Outcome) -> str:
    """Where a crash happened (exception type and innermost gate frame), to count it once."""
    crash = outcome.crash
    assert crash is not None
    inner = crash.__cause__ or crash
    frames = [f for f in traceback.extract_tb(inner.__traceback__) if "/gate/" in f.filename]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"crash {type(inner).__name__} at {where}"


def problem_of(format_name: str, mutation: Mutation, before: Outcome, text: str) -> str | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.json"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        after = normalise(path)
    if after.crash is not None:
        return signature(after)
    if loses_findings(format_name, mutation, before, after):
        return f"lost findings at {mutation.action} {'.'.join(map(str, mutation.path[:1]))}..."
    return None


def minimised(text: str, still_fails: Callable[[str], bool]) -> str:
    """Drop keys and items of the JSON ``text`` while ``still_fails`` holds (greedy)."""
    try:
        data = json.loads(text)
    except ValueError:
        return text  # a duplicate-key or raw-literal case: the file is its own reproducer
    changed = True
    while changed:
        changed = False
        for path in sorted(paths_of(data), key=len):
            if not path:
                continue
            candidate = json.loads(json.dumps(data))
            del value_at(candidate, path[:-1])[path[-1]]
            if still_fails(json.dumps(candidate)):
                data, changed = candidate, True
                break
    return json.dumps(data, indent=1)


def fuzz_source(format_name: str, examples: int, seed_value: int) -> Tally:
    tally = Tally()
    fixtures = {relative: load_fixture(relative) for relative in FIXTURES_BY_FORMAT[format_name]}
    baselines = {relative: normalise(ROOT / "fixtures" / relative) for relative in fixtures}

    @seed(seed_value)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def run(data: st.DataObject) -> None:
        relative = data.draw(st.sampled_from(sorted(fixtures)))
        mutation = data.draw(mutations(fixtures[relative]))
        text = dump(mutation.apply(fixtures[relative]))
        tally.cases += 1
        found = problem_of(format_name, mutation, baselines[relative], text)
        if found is not None and found not in tally.problems:
            before = baselines[relative]

            def reproduces(candidate: str, found: str = found) -> bool:
                return problem_of(format_name, mutation, before, candidate) == found

            tally.problems[found] = Case(relative, str(mutation), text, reproduces)

    run()
    return tally


def fuzz_evidence(format_name: str, examples: int, seed_value: int) -> Tally:
    """Property (c): a scan/SBOM that stops naming the image never lets a passing set pass."""
    tally = Tally()
    relative = PASSING_PROD_SET[format_name]
    original = load_fixture(relative)
    others = [str(ROOT / "fixtures" / r) for f, r in PASSING_PROD_SET.items() if f != format_name]

    @seed(seed_value)
    @settings(max_examples=examples, deadline=None, database=None)
    @given(unnamings(format_name, original))
    def run(changes: list[Mutation]) -> None:
        text = dump(apply_all(original, changes))
        tally.cases += 1
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "input.json"
            path.write_text(text, encoding="utf-8")
            code, err = gate_exit(
                "check", str(path), *others, "--stage", "prod", "--at", PASSING_AT
            )
        found = "passed without naming the image" if code == 0 else None
        if "internal error" in err:
            found = f"internal error: {err.splitlines()[0]}"
        if found is not None and found not in tally.problems:
            tally.problems[found] = Case(relative, "; ".join(map(str, changes)), text)

    run()
    return tally


def report(name: str, tally: Tally, started: float, out: Path) -> None:
    print(
        f"{name:24} {tally.cases:6} cases  {len(tally.problems):3} problems"
        f"  {time.monotonic() - started:6.1f} s",
        flush=True,
    )
    for number, (found, case) in enumerate(tally.problems.items()):
        reproducer = out / f"{name}-{number}.json"
        reproducer.parent.mkdir(parents=True, exist_ok=True)
        text = minimised(case.text, case.reproduces) if case.reproduces else case.text
        reproducer.write_text(text, encoding="utf-8", errors="surrogatepass")
        print(f"    {found}: {case.fixture}: {case.change[:100]} -> {reproducer}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=500, help="cases per source")
    parser.add_argument("--source", choices=sorted(FIXTURES_BY_FORMAT), action="append")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("fuzz-out"))
    options = parser.parse_args()
    total_cases = total_problems = 0
    for format_name in options.source or sorted(FIXTURES_BY_FORMAT):
        runs = [(format_name, fuzz_source)]
        if format_name in IMAGE_NAMES:  # each case is a whole `gate check`: fewer of them
            runs.append((f"{format_name} (evidence)", fuzz_evidence))
        for name, fuzz in runs:
            started = time.monotonic()
            examples = options.examples if fuzz is fuzz_source else options.examples // 20 + 1
            tally = fuzz(format_name, examples, options.seed)
            total_cases += tally.cases
            total_problems += len(tally.problems)
            report(name, tally, started, options.out)
    print(f"total: {total_cases} cases, {total_problems} distinct problems")
    return 1 if total_problems else 0


if __name__ == "__main__":
    sys.exit(main())
