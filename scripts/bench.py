#!/usr/bin/env python3
"""Measure gate on synthetic Trivy reports: wall time and peak memory, next to json.load.

Each measurement runs in a fresh process (what a CI step or pre-push hook pays),
median of --repeat runs. Prints a Markdown table:

    python scripts/bench.py --counts 100 1000 10000 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
AT = "2026-11-27T12:00:00Z"


def run(command: list[str]) -> tuple[float, float, int]:
    """Run ``command`` in a child; return (seconds, peak RSS MiB of that child, exit code)."""
    # Wrap in a fresh Python so that ru_maxrss of RUSAGE_CHILDREN reflects this run only.
    wrapper = (
        "import resource,subprocess,sys,time;t=time.perf_counter();"
        "r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL);"
        "print(time.perf_counter()-t,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *command], capture_output=True, text=True, check=True
    )
    seconds, rss_kib, code = out.stdout.split()
    return float(seconds), int(rss_kib) / 1024, int(code)


def median_run(command: list[str], repeat: int) -> tuple[float, float, int]:
    runs = [run(command) for _ in range(repeat)]
    return (
        statistics.median(r[0] for r in runs),
        statistics.median(r[1] for r in runs),
        runs[0][2],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    gate = [sys.executable, "-m", "gate"]
    print(
        "| findings | file MiB | json.load s | json.load MiB | gate check s | gate check MiB"
        " | exit |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.counts:
            report = Path(tmp) / f"trivy-{count}.json"
            with report.open("w") as handle:
                subprocess.run(
                    [sys.executable, str(HERE / "make_trivy_report.py"), str(count)],
                    stdout=handle,
                    check=True,
                )
            load = median_run(
                [sys.executable, "-c", f"import json;json.load(open({str(report)!r}))"], args.repeat
            )
            check = median_run(
                [*gate, "check", str(report), "--stage", "prod", "--at", AT, "-f", "json", "-q"],
                args.repeat,
            )
            size = report.stat().st_size / (1024 * 1024)
            print(
                f"| {count:,} | {size:.1f} | {load[0]:.3f} | {load[1]:.0f} | {check[0]:.3f} "
                f"| {check[1]:.0f} | {check[2]} |"
            )


if __name__ == "__main__":
    os.environ.setdefault("RUST_LIB_BACKTRACE", "0")
    main()
