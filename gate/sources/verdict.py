"""Earlier gate verdicts: the proof that an image passed the previous stage.

Two shapes, both what gate itself writes:

- a verdict as ``gate check --format json`` writes it (unsigned);
- a DSSE envelope holding an in-toto Statement whose predicate is such a verdict (what
  ``gate promote``/``check --attach`` push with ``--sign-key``), or that Statement bare.

The file contributes no findings and claims no image: a verdict about another image must
not become the subject of the run. The core checks signatures and compares the verdict's
digests with the gated image (:mod:`gate.promotion`); ``promotion-order`` decides.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, ClassVar

from gate.identity import normal_digest
from gate.inputs import InputFile
from gate.signing import IN_TOTO_PAYLOAD_TYPE, VERDICT_PREDICATE_TYPE
from gate.sources.base import Fragment, VerdictClaim, fail

TOOL = "gate"


def is_verdict(data: Any) -> bool:
    """A verdict document as gate writes it."""
    return (
        isinstance(data, dict)
        and "verdict_version" in data
        and "decision" in data
        and "stage" in data
        and "subject" in data
    )


def envelope_statement(data: Any) -> dict[str, Any] | None:
    """The in-toto Statement inside a DSSE envelope ``data``, or None when it holds none."""
    if not isinstance(data, dict) or data.get("payloadType") != IN_TOTO_PAYLOAD_TYPE:
        return None
    payload = data.get("payload")
    if not isinstance(payload, str) or not isinstance(data.get("signatures"), list):
        return None
    try:
        statement = json.loads(base64.b64decode(payload, validate=True))
    except (binascii.Error, ValueError, RecursionError):
        return None
    return statement if isinstance(statement, dict) else None


def _is_verdict_statement(statement: Any) -> bool:
    return isinstance(statement, dict) and statement.get("predicateType") == VERDICT_PREDICATE_TYPE


def is_verdict_attestation(data: Any) -> bool:
    """An in-toto Statement of a gate verdict, bare or in a DSSE envelope."""
    return _is_verdict_statement(data) or _is_verdict_statement(envelope_statement(data))


class VerdictSource:
    """A gate verdict, bare or as the predicate of a (signed) in-toto Statement."""

    format: ClassVar[str] = "gate-verdict"
    expected_shape: ClassVar[str] = (
        'a gate verdict ("verdict_version", "decision", "stage", "subject"), or a DSSE '
        f"envelope / in-toto Statement with predicateType {VERDICT_PREDICATE_TYPE}"
    )

    def matches(self, data: Any) -> bool:
        """A verdict, a Statement of one, or an envelope around such a Statement."""
        return is_verdict(data) or is_verdict_attestation(data)

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Read the verdict's claims; the signature is checked by the core."""
        if is_verdict(data):
            claim = _claim(data, None, [], source, "")
        else:
            statement = data if _is_verdict_statement(data) else envelope_statement(data)
            if statement is None:
                raise fail(source, "", f"not a {self.expected_shape}")
            envelope = None if statement is data else data
            place = "payload.predicate" if envelope is not None else "predicate"
            claim = _claim(
                statement.get("predicate"),
                envelope,
                _statement_digests(statement, source),
                source,
                place,
            )
        return Fragment(format=self.format, tool=TOOL, verdicts=[claim])


def _claim(
    verdict: Any, envelope: Any, signed_digests: list[str], source: InputFile, place: str
) -> VerdictClaim:
    if not is_verdict(verdict):
        raise fail(source, place, "the predicate is not a gate verdict")
    subject = verdict.get("subject")
    subject = subject if isinstance(subject, dict) else {}
    own = [normal_digest(_text(subject.get(k))) for k in ("digest", "index_digest")]
    named = [d for d in own if d]
    if signed_digests:
        # The Statement's subjects are what a signature binds; a predicate naming an image
        # they do not list is about nothing this envelope vouches for.
        digests = signed_digests if set(named) <= set(signed_digests) else []
    else:
        digests = named
    policy = verdict.get("policy")
    return VerdictClaim(
        stage=_text(verdict.get("stage")),
        decision=_text(verdict.get("decision")),
        evaluated_at=_text(verdict.get("evaluated_at")),
        policy_digest=_text(policy.get("digest")) if isinstance(policy, dict) else None,
        subject_digests=digests,
        envelope=envelope,
    )


def _statement_digests(statement: dict[str, Any], source: InputFile) -> list[str]:
    subjects = statement.get("subject")
    if not isinstance(subjects, list):
        raise fail(source, "subject", "an in-toto Statement lists its subjects")
    digests: list[str] = []
    for subject in subjects:
        found = subject.get("digest") if isinstance(subject, dict) else None
        hexes = found if isinstance(found, dict) else {}
        digests += [d for d in (normal_digest(f"sha256:{_text(hexes.get('sha256'))}"),) if d]
    return digests


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
