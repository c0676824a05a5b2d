#!/usr/bin/env python3
"""Measure decision-log writes: records/s of one writer, per log URL and verdict size.

Records the small fixture verdict, the verdict (--explain) of a synthetic 10,000-finding
Trivy report (about 1.3 MB of JSON), and that verdict with its results listed twice (about
2.6 MB), into each log, one transaction per record as gate does. Prints a Markdown table:

    python scripts/bench_decisionlog.py --log sqlite:////tmp/bench.db \\
        --log postgresql://postgres@127.0.0.1:5432/gate --count 200
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AT = "2026-11-27T12:00:00Z"


def large_verdict_json(findings: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "trivy.json"
        verdict = Path(tmp) / "verdict.json"
        with report.open("w") as out:
            subprocess.run(
                [sys.executable, str(HERE / "make_trivy_report.py"), str(findings)],
                stdout=out,
                check=True,
            )
        subprocess.run(
            [sys.executable, "-m", "gate", "check", str(report), "--at", AT, "--no-config",
             "--explain", "-f", "json", "-o", str(verdict), "-q"],
            check=False,
        )  # fmt: skip
        return verdict.read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", action="append", required=True, metavar="URL")
    parser.add_argument("--count", type=int, default=200, help="records per measurement")
    parser.add_argument("--findings", type=int, default=10_000)
    args = parser.parse_args()

    from gate.decisionlog import open_log
    from gate.verdict import Verdict

    small = (ROOT / "fixtures/verdicts/shop-api-staging.json").read_text()
    large = large_verdict_json(args.findings)
    parsed = Verdict.model_validate_json(large)
    doubled = parsed.model_copy(
        update={"violations": parsed.violations * 2, "warnings": parsed.warnings * 2}
    ).to_json()
    print("| log | verdict | JSON MB | records | seconds | records/s |")
    print("|---|---|---:|---:|---:|---:|")
    for url in args.log:
        log = open_log(url)
        sizes = (
            ("fixture", small),
            (f"{args.findings} findings", large),
            (f"{args.findings} findings, results x2", doubled),
        )
        for name, text in sizes:
            verdict = Verdict.model_validate_json(text)
            count = args.count if name == "fixture" else max(1, args.count // 10)
            start = time.perf_counter()
            for _ in range(count):
                log.record(verdict, verdict_json=text, source="cli")
            seconds = time.perf_counter() - start
            print(
                f"| {log.shown_url.split(':', 1)[0]} | {name} | {len(text) / 1e6:.2f} | {count}"
                f" | {seconds:.2f} | {count / seconds:.1f} |"
            )
        log.close()


if __name__ == "__main__":
    main()
