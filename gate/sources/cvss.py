"""CVSS readings shared by the sources: the version a vector names, Trivy's per-source map.

Trivy writes its ratings as a map from rater (``nvd``, ``redhat``, ``ghsa``, …) to
``V40Score``/``V40Vector``, ``V3Score``/``V3Vector`` and ``V2Score``/``V2Vector``; Trivy's
JSON, trivy-operator's ``VulnerabilityReport`` and Harbor's Trivy adapter
(``vendor_attributes.CVSS``) all carry that map, so one reader serves them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from gate.document import Cvss
from gate.inputs import InputFile
from gate.sources.shape import Place, mapping_at, number_at, text_at

# Field names in one entry of Trivy's per-source CVSS map, newest CVSS version first, with
# the version to assume when the vector does not say (CVSS v2 vectors carry no prefix).
_TRIVY_FIELDS = (
    ("V40Score", "V40Vector", "4.0"),
    ("V3Score", "V3Vector", "3.0"),
    ("V2Score", "V2Vector", "2.0"),
)
_VECTOR_PREFIX = re.compile(r"^CVSS:(\d+(?:\.\d+)?)/")


# Reports repeat a few dozen vectors across thousands of findings.
@lru_cache(maxsize=1024)
def cvss_version(vector: str | None, default: str | None) -> str | None:
    """Return the CVSS version a vector names (``CVSS:3.1/…`` → ``3.1``), else ``default``."""
    match = _VECTOR_PREFIX.match(vector or "")
    return match.group(1) if match else default


def vendor_cvss(
    ratings: dict[str, Any], preferred: str | None, source: InputFile, place: Place
) -> Cvss | None:
    """Pick one rating from Trivy's per-source CVSS map found at JSON path ``place``.

    The ``preferred`` rater first (Trivy's ``SeveritySource``), then NVD, then the others
    in file order; within a rater the newest CVSS version it gives (4.0, then 3.x, then 2).
    """
    for rater in _raters(ratings, preferred):
        entry = mapping_at(ratings, rater, source, place)
        here = (place, rater)
        for score_field, vector_field, default_version in _TRIVY_FIELDS:
            score = number_at(entry, score_field, source, here)
            vector = text_at(entry, vector_field, source, here)
            if score is not None or vector is not None:
                return Cvss(
                    score=score,
                    vector=vector,
                    version=cvss_version(vector, default_version),
                    source=rater,
                )
    return None


def _raters(ratings: dict[str, Any], preferred: str | None) -> Iterator[str]:
    """The raters of ``ratings`` in the order :func:`vendor_cvss` tries them.

    Lazily: the first rater tried almost always has a rating.
    """
    first = [rater for rater in dict.fromkeys((preferred, "nvd")) if rater in ratings]
    yield from first
    yield from (rater for rater in ratings if rater not in first)
