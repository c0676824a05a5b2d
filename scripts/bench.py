#!/usr/bin/env python3
"""Measure `gate check` against its floor, in one run, and print the ratios issue 13 sets.

Every measurement is a fresh process (what a CI step or a pre-push hook pays), after one
unmeasured warm-up run of each command that leaves its bytecode written as an installed
gate has it: wall time and peak RSS (the largest of the process and its children, so the
forked evaluation counts). Commands are interleaved round by round, so that a busy moment
of the machine hits every command alike, and each figure is the median of --repeat rounds.

- bare: `python -c 'import json'`, the start of any Python tool;
- floor(N): Python start + `json.loads` of the N-finding report + the embedded engine
  evaluating one simple rule over the raw report (what any Rego gate on this report pays);
- gate(N): `gate check REPORT --stage prod -f json` on the same report.

Targets: gate(1) <= 8x bare; gate(10k) and gate(50k) <= 3x floor; peak RSS of gate(50k)
<= 10x the report's size; gate(200k) completes under 3 GB and grows linearly (its time and
memory per finding within 1.5x those at 50k).

``--parts`` also measures what gate's time is made of, in the same rounds:

- start: Python start + the imports of a check (`import gate.cli, gate.run`);
- engine(N): Python start + regorus compiling gate's bundled policies and evaluating them
  (`data.gate`, as a check does) over gate's own document for the N-finding report, made
  beforehand with `gate normalize`: the policy work of a check, without gate's Python.

    python scripts/bench.py [--repeat 3] [--counts 1 10000 50000 200000] [--before DIR] [--parts]

``--before DIR`` also runs the gate of another checkout (``git worktree add DIR REV``) in the
same rounds, for a before/after table measured in one quiet moment.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
AT = "2026-11-27T12:00:00Z"
FLOOR = """
import json, sys
raw = open(sys.argv[1], "rb").read()
json.loads(raw)
import regorus
engine = regorus.Engine()
engine.add_policy("floor.rego", '''package floor
import rego.v1
high := count([v | some r in input.Results; some v in r.Vulnerabilities; v.Severity == "HIGH"])
''')
engine.set_input_json(raw.decode())
engine.eval_query_as_json("data.floor.high")
"""
ENGINE = """
import json, sys
from pathlib import Path
import regorus
pack, document = Path(sys.argv[1]), Path(sys.argv[2])
engine = regorus.Engine()
for module in sorted(pack.rglob("*.rego")):
    if not module.name.endswith("_test.rego"):
        engine.add_policy(str(module), module.read_text())
engine.add_data_json((pack / "data.json").read_text())
engine.set_input_json(document.read_text())
engine.eval_query_as_json("data.gate")
"""
# The wrapper times its child and reads the peak RSS of the child's whole tree.
WRAPPER = (
    "import resource,subprocess,sys,time;t=time.perf_counter();"
    "r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL);"
    "print(time.perf_counter()-t,resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
    "r.returncode)"
)
MiB = 1024 * 1024


@dataclass
class Sample:
    seconds: float
    rss_mib: float
    code: int


# An installed gate has its bytecode (pip compiles it); a checkout run with
# PYTHONDONTWRITEBYTECODE=1 would compile every module at each start instead.
ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(command: list[str], cwd: Path) -> Sample:
    # Not from a checkout: `python -m gate` would import the gate of the working directory.
    out = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command],
        capture_output=True,
        text=True,
        check=True,
        env=ENVIRONMENT,
        cwd=cwd,
    )
    seconds, rss_kib, code = out.stdout.split()
    return Sample(float(seconds), int(rss_kib) / 1024, int(code))


def median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.seconds for s in samples),
        statistics.median(s.rss_mib for s in samples),
        samples[0].code,
    )


def make_report(count: int, folder: Path) -> Path:
    report = folder / f"trivy-{count}.json"
    with report.open("w") as handle:
        subprocess.run(
            [sys.executable, str(HERE / "make_trivy_report.py"), str(count)],
            stdout=handle,
            check=True,
        )
    return report


def make_document(report: Path, folder: Path) -> list[str]:
    """``[policy pack, document]``: gate's bundled pack and the compact document a check of
    ``report`` evaluates."""
    from gate.policy import default_policy_dir

    normalized = subprocess.run(
        [sys.executable, "-m", "gate", "normalize", str(report), "--stage", "prod", "--at", AT],
        capture_output=True,
        check=True,
        env=ENVIRONMENT,
        cwd=folder,
    ).stdout
    document = report.with_suffix(".document.json")
    document.write_bytes(json.dumps(json.loads(normalized), separators=(",", ":")).encode())
    return [str(default_policy_dir()), str(document)]


def verdict(ratio: float, limit: float) -> str:
    return f"{ratio:.2f}x (target <= {limit:g}x: {'met' if ratio <= limit else 'MISSED'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 10_000, 50_000, 200_000])
    parser.add_argument(
        "--big-repeat", type=int, default=1, help="rounds for counts above 50,000 (default 1)"
    )
    parser.add_argument("--before", metavar="DIR", help="also measure the gate checked out in DIR")
    parser.add_argument("--parts", action="store_true", help="also measure start and engine(N)")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "floor.py").write_text(FLOOR)
        reports = {count: make_report(count, folder) for count in args.counts}
        sizes = {count: report.stat().st_size / MiB for count, report in reports.items()}
        commands: dict[str, list[str]] = {"bare": [python, "-c", "import json"]}
        if args.parts:
            (folder / "engine.py").write_text(ENGINE)
            commands["start"] = [python, "-c", "import gate.cli, gate.run"]
        for count, report in reports.items():
            commands[f"floor {count}"] = [python, str(folder / "floor.py"), str(report)]
            check = ["-m", "gate", "check", str(report), "--stage", "prod", "--at", AT]
            check += ["-f", "json"]
            commands[f"gate {count}"] = [python, *check, "-q"]
            if args.before:
                # PYTHONPATH comes before the editable install's finder: that tree's gate runs.
                env_python = ["env", f"PYTHONPATH={Path(args.before).resolve()}", python]
                commands[f"before {count}"] = [*env_python, *check, "-q"]
            if args.parts:
                document = make_document(report, folder)
                commands[f"engine {count}"] = [python, str(folder / "engine.py"), *document]
        samples: dict[str, list[Sample]] = {name: [] for name in commands}
        for command in commands.values():  # bytecode written, files in the page cache
            measure(command, folder)
        for round_number in range(args.repeat):
            for name, command in commands.items():
                count = int(name.split()[1]) if " " in name else 0
                if count > 50_000 and round_number >= args.big_repeat:
                    continue
                samples[name].append(measure(command, folder))
        result = {name: median(runs) for name, runs in samples.items()}

    machine = f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}"
    print(f"machine: {machine}, {os.cpu_count()} CPUs (median of {args.repeat})\n")
    print("| command | findings | report MiB | wall s | peak RSS MiB | exit |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, sample in result.items():
        count = int(name.split()[1]) if " " in name else 0
        size = sizes[count] if count else 0.0
        print(
            f"| {name.split()[0]} | {count:,} | {size:.1f} | {sample.seconds:.3f} "
            f"| {sample.rss_mib:.0f} | {sample.code} |"
        )
    print()
    if args.before:
        print("| findings | before s | after s | speed-up | before MiB | after MiB |")
        print("|---:|---:|---:|---:|---:|---:|")
        for count in reports:
            old, new = result[f"before {count}"], result[f"gate {count}"]
            print(
                f"| {count:,} | {old.seconds:.3f} | {new.seconds:.3f} "
                f"| {old.seconds / new.seconds:.2f}x | {old.rss_mib:.0f} | {new.rss_mib:.0f} |"
            )
        print()
    bare = result["bare"].seconds
    for count in reports:
        gate = result[f"gate {count}"]
        floor = result[f"floor {count}"]
        size = sizes[count]
        if count == 1:
            print(f"- 1 finding: gate {gate.seconds:.3f} s = {verdict(gate.seconds / bare, 8)} "
                  f"bare python ({bare:.3f} s)")  # fmt: skip
            continue
        line = (
            f"- {count:,} findings: gate {gate.seconds:.3f} s = "
            f"{verdict(gate.seconds / floor.seconds, 3)} the floor ({floor.seconds:.3f} s); "
            f"peak RSS {gate.rss_mib:.0f} MiB = {gate.rss_mib / size:.1f}x the report "
            f"({size:.1f} MiB)"
        )
        if count == 50_000:
            line += f", {verdict(gate.rss_mib / size, 10)}"
        print(line)
    if args.parts:
        start = result["start"].seconds
        print(f"- start (Python + a check's imports): {start:.3f} s")
        for count in reports:
            gate, engine = result[f"gate {count}"].seconds, result[f"engine {count}"].seconds
            floor = result[f"floor {count}"].seconds
            print(
                f"- {count:,} findings: engine alone {engine:.3f} s ({engine / floor:.2f}x the "
                f"floor); start + engine alone {start + engine - bare:.3f} s "
                f"({(start + engine - bare) / floor:.2f}x the floor); the rest of gate "
                f"{gate - engine - start + bare:.3f} s"
            )
    if 50_000 in reports and 200_000 in reports:
        small, big = result["gate 50000"], result["gate 200000"]
        time_growth = (big.seconds / 200_000) / (small.seconds / 50_000)
        rss_growth = (big.rss_mib / 200_000) / (small.rss_mib / 50_000)
        print(
            f"- 200,000 findings: {big.rss_mib:.0f} MiB "
            f"({'under' if big.rss_mib < 3 * 1024 else 'OVER'} 3 GB); per finding, time "
            f"{time_growth:.2f}x and memory {rss_growth:.2f}x those at 50,000 "
            f"(linear: <= 1.5x: {'met' if max(time_growth, rss_growth) <= 1.5 else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
