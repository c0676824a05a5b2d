#!/usr/bin/env python3
"""Time `gate promote` against a local registry, next to `gate check` on the same inputs.

Starts Distribution (`docker-registry`, Debian's package) on a free loopback port, pushes a
small image, writes a synthetic Trivy report of N findings, and measures in fresh processes
(median of --repeat runs, interleaved):

- `gate check REPORT` (files only: the baseline of issue 13's benchmark),
- `gate check REPORT registry://…` (the image read from the registry),
- `gate promote REPORT --image registry://… --to TAG` with a signing key: evaluation,
  promotion (when it passes) and the signed verdict attached.

    python scripts/bench_promote.py --findings 10000 --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bench import run  # noqa: E402  (scripts/ is on sys.path when run as a script)
from registry.support import push_test_image, start_registry  # noqa: E402

AT = "2026-11-27T12:00:00Z"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args()
    gate = [sys.executable, "-m", "gate"]
    with tempfile.TemporaryDirectory() as tmp:
        registry = start_registry(Path(tmp) / "registry")
        try:
            push_test_image(registry.host, "bench/api", "1.0.0")
            image = f"registry://{registry.host}/bench/api:1.0.0"
            report = Path(tmp) / "trivy.json"
            with report.open("w") as handle:
                subprocess.run(
                    [sys.executable, str(ROOT / "scripts" / "make_trivy_report.py"),
                     str(args.findings)],
                    stdout=handle,
                    check=True,
                )  # fmt: skip
            common = [str(report), "--stage", args.stage, "--at", AT, "-f", "json", "-q"]
            commands = {
                "gate check FILE": [*gate, "check", *common],
                "gate check FILE registry://": [*gate, "check", *common, image],
                "gate promote FILE --image registry:// (signed verdict attached)": [
                    *gate, "promote", *common, "--image", image, "--to", "1.0.0-next",
                    "--sign-key", str(ROOT / "fixtures" / "keys" / "release.key"),
                ],
            }  # fmt: skip
            timings: dict[str, list[tuple[float, float, int]]] = {name: [] for name in commands}
            for _ in range(args.repeat):
                for name, command in commands.items():
                    timings[name].append(run(command))
        finally:
            registry.stop()
    print(f"{args.findings:,} findings, stage {args.stage}, median of {args.repeat}")
    print("| command | s | peak MiB | exit |")
    print("|---|---:|---:|---:|")
    for name, runs in timings.items():
        seconds = statistics.median(r[0] for r in runs)
        memory = statistics.median(r[1] for r in runs)
        print(f"| {name} | {seconds:.3f} | {memory:.0f} | {runs[0][2]} |")


if __name__ == "__main__":
    main()
