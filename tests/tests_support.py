"""Helpers shared by test modules (importable: tests/ is on sys.path under pytest)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import AT, fixture


def normalize_fixture(*relative: str | Path, stage: str = "prod") -> dict[str, Any]:
    """Normalise fixture files as `gate normalize` does and return the JSON document."""
    import datetime as dt

    from gate.run import Settings, normalize

    at = dt.datetime.fromisoformat(AT.replace("Z", "+00:00"))
    paths = [r if isinstance(r, Path) else fixture(r) for r in relative]
    settings = Settings(inputs=[str(p) for p in paths], stage=stage, at=at)
    return json.loads(normalize(settings).model_dump_json())
