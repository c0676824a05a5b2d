"""Earlier verdicts and image signatures: checked here, judged by the policies.

A signature cannot be verified in Rego, so the core checks each one against the trusted
keys (``--trust-key``) and compares what it is about with the gated image's digests; the
document then records the facts (``promotion.verdicts[]``, ``signatures[]``) and the rules
``promotion-order`` and ``signature-required`` decide what counts. Nothing is recorded as
verified without a check: with no trusted key, a signed verdict is ``unverified``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gate.document import ImageSignature, PreviousVerdict, Promotion, Subject
from gate.identity import normal_digest

if TYPE_CHECKING:
    from gate.signing import TrustedKey
    from gate.sources.base import Fragment, SignatureClaim, VerdictClaim


def gated_digests(subject: Subject) -> frozenset[str]:
    """The digests a verdict or signature may name to be about the gated image."""
    return frozenset(
        d for d in (normal_digest(subject.digest), normal_digest(subject.index_digest)) if d
    )


def judge(
    fragments: Sequence[Fragment],
    sources: Sequence[str],
    subject: Subject,
    trusted: Sequence[TrustedKey],
    enforced: bool,
) -> tuple[Promotion, list[ImageSignature]]:
    """Check every verdict and signature the inputs hold against ``trusted`` and ``subject``."""
    digests = gated_digests(subject)
    verdicts: list[PreviousVerdict] = []
    signatures: list[ImageSignature] = []
    for fragment, source in zip(fragments, sources, strict=True):
        verdicts += [_verdict(claim, source, digests, trusted) for claim in fragment.verdicts]
        signatures += [_signature(claim, source, digests, trusted) for claim in fragment.signatures]
    promotion = Promotion(enforced=enforced, trust_keys=len(trusted), verdicts=verdicts)
    return promotion, signatures


def _verdict(
    claim: VerdictClaim, source: str, digests: frozenset[str], trusted: Sequence[TrustedKey]
) -> PreviousVerdict:
    if claim.envelope is None:
        state, signer, reason = "unsigned", None, "not signed"
    else:
        from gate.signing import check_envelope

        check = check_envelope(claim.envelope, trusted)
        state, signer, reason = check.state, check.key_id, check.reason
    return PreviousVerdict(
        input=claim.source or source,
        stage=claim.stage,
        decision=_decision(claim.decision),
        evaluated_at=claim.evaluated_at,
        policy_digest=claim.policy_digest,
        subject_digests=claim.subject_digests,
        about_subject=bool(digests & set(claim.subject_digests)),
        signature=state,
        signer=signer,
        signature_reason=reason,
    )


def _signature(
    claim: SignatureClaim, source: str, digests: frozenset[str], trusted: Sequence[TrustedKey]
) -> ImageSignature:
    from gate.signing import check_cosign_signature

    check = check_cosign_signature(claim.payload, claim.signature, trusted)
    signed = normal_digest(check.signed_digest)
    return ImageSignature(
        kind="cosign",
        input=claim.source or source,
        signed_digest=signed,
        docker_reference=check.docker_reference,
        about_subject=signed is not None and signed in digests,
        state=check.state,
        verified=check.state == "verified",
        key_id=check.key_id,
        reason=check.reason,
    )


def _decision(value: Any) -> Any:
    return value if value in ("pass", "fail") else None
