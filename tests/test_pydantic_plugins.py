"""Third-party pydantic plugins never run inside the gate CLI.

A pydantic plugin is any installed distribution with an entry point in the ``pydantic``
group: pydantic loads it the first time it builds a model and hands it every validation,
including the result, which the plugin may change. The CLI validates documents and verdicts
with pydantic, so it disables plugins (which also spares the entry-point scan).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import QUICK_START_FAILING, ROOT

PLUGIN = """
import os
from pathlib import Path


class _Plugin:
    def new_schema_validator(self, *args, **kwargs):
        Path(os.environ["PLUGIN_MARKER"]).write_text("loaded")
        return None, None, None


plugin = _Plugin()
"""


def _install_plugin(folder: Path) -> dict[str, str]:
    """A distribution with a ``pydantic`` entry point, importable from ``folder``; the
    environment that puts it on the path, and the marker file it writes when it runs."""
    (folder / "marker_plugin.py").write_text(PLUGIN)
    info = folder / "marker_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: marker-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pydantic]\nmarker = marker_plugin:plugin\n")
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join([str(folder), env.get("PYTHONPATH", "")])
    env["PLUGIN_MARKER"] = str(folder / "marker")
    return env


def test_an_installed_pydantic_plugin_is_not_run_by_gate_check(tmp_path: Path) -> None:
    env = _install_plugin(tmp_path)
    marker = tmp_path / "marker"
    # The plugin is real: pydantic outside gate's CLI runs it.
    subprocess.run(
        [sys.executable, "-c", "import pydantic\nclass M(pydantic.BaseModel):\n    x: int = 0"],
        env=env, check=True, timeout=60,
    )  # fmt: skip
    assert marker.read_text() == "loaded"
    marker.unlink()
    done = subprocess.run(
        [sys.executable, "-m", "gate", "check", *QUICK_START_FAILING, "--stage", "prod", "-q"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert not marker.exists()
