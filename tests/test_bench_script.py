"""scripts/bench.py (the issue 13 measurements) runs and states every target it measures.

No timing is asserted: the figures depend on the machine; the script must just keep working.
"""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_the_benchmark_measures_gate_against_bare_python_and_the_floor() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts/bench.py"), "--repeat", "1", "--counts", "1", "3",
         "--parts"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    lines = run.stdout.splitlines()
    assert any(line.startswith("| gate | 3 |") and line.endswith("| 1 |") for line in lines)
    assert any(line.startswith("- 1 finding: gate ") and "bare python" in line for line in lines)
    assert any(line.startswith("- 3 findings: gate ") and "the floor" in line for line in lines)
    # --parts: the engine alone on gate's own document ran and succeeded
    assert any(line.startswith("| engine | 3 |") and line.endswith("| 0 |") for line in lines)
    assert any(line.startswith("- 3 findings: engine alone ") for line in lines)
