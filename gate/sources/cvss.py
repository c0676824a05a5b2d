"""CVSS readings shared by the sources: the version a vector names, Trivy's per-source map.

Trivy writes its ratings as a map from rater (``nvd``, ``redhat``, ``ghsa``, …) to
``V40Score``/``V40Vector``, ``V3Score``/``V3Vector`` and ``V2Score``/``V2Vector``; Trivy's
JSON, trivy-operator's ``VulnerabilityReport`` and Harbor's Trivy adapter
(``vendor_attributes.CVSS``) all carry that map, so one reader serves them.
"""

from __future__ import annotations

import re
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


def cvss_rating(
    score: float | None, vector: str | None, version: str | None, source: str | None
) -> Cvss:
    """Return the :class:`Cvss` of these values, one shared model per distinct rating.

    Nothing changes a model in place once built, so findings can share their rating: a
    report repeats a few hundred (score, vector) pairs across thousands of findings, and
    validating a new model for each was a tenth of a source's time.
    """
    if score == 0:  # -0.0 equals 0.0 as a key, and would be written as whichever came first
        return Cvss(score=score, vector=vector, version=version, source=source)
    return _shared_rating(score, vector, version, source)


@lru_cache(maxsize=4096)
def _shared_rating(
    score: float | None, vector: str | None, version: str | None, source: str | None
) -> Cvss:
    return Cvss(score=score, vector=vector, version=version, source=source)


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
            if score_field not in entry and vector_field not in entry:
                continue  # the usual case for the newer versions: two reads spared
            score = number_at(entry, score_field, source, here)
            vector = text_at(entry, vector_field, source, here)
            if score is not None or vector is not None:
                return cvss_rating(score, vector, cvss_version(vector, default_version), rater)
    return None


def _raters(ratings: dict[str, Any], preferred: str | None) -> list[str]:
    """The raters of ``ratings`` in the order :func:`vendor_cvss` tries them."""
    first = [rater for rater in dict.fromkeys((preferred, "nvd")) if rater in ratings]
    if len(first) == len(ratings):  # one or two raters, the usual map: no second pass
        return first
    return first + [rater for rater in ratings if rater not in first]
