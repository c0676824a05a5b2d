"""The gated image's identity, and which inputs are evidence about it.

Evidence counts only when it is about the image being gated. Each input *claims* an image
(the references, digests and ``pkg:oci`` URLs it names); :func:`resolve` decides

1. **the subject**: ``--image`` and dedicated image metadata (docker inspect, image
   config, manifest or index) define it, and must agree with each other — two digests
   of the same kind that differ, or names that cannot be one image, are a contradiction
   and no verdict. With neither, the first input (by authority, then order) that names
   an image defines it. Inputs that match it then complete it (a digest, an image ID, a
   name) in the same order, so that later inputs are compared with everything known;
2. **each input's evidence** (:class:`gate.document.Evidence`): how it relates to the
   subject (by :class:`gate.identity.ImageIdentity`: digest decides when both sides have
   one, else registry, repository and tag) and what it can prove about it
   (``counts_for``): everything its kinds say when it is about the subject, nothing when
   it names another image or none at all. An SBOM with no packages is not an SBOM of
   anything.

The core then takes image configuration and VEX statements only from inputs about the
subject, and matches attestations against every digest the subject goes by. Findings
of every input are kept whatever it is about: dropping them could only make a verdict
laxer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from gate.document import Evidence, ScanKind, Subject, SubjectMatch
from gate.errors import InputError
from gate.identity import ImageIdentity, names_an_image, normal_digest, short_digest
from gate.reference import parse_reference

if TYPE_CHECKING:  # sources import the core's modules: importing them here would be circular
    from gate.sources.base import Fragment

METADATA_AUTHORITY = 5
"""Fragments at or above this authority with image metadata define the gated image."""

IMAGE_FLAG = "--image"
_IMAGE_ARTIFACTS = frozenset({None, "container_image"})
ABOUT_SUBJECT: frozenset[SubjectMatch] = frozenset({"defines", "digest", "name"})


@dataclass(frozen=True)
class Claim:
    """What one input says the image it describes is."""

    source: str
    """Input file as given, or ``--image``."""
    names: tuple[str, ...]
    """References, digests and ``pkg:oci`` URLs, as written."""
    subject: Subject
    """The input's own subject hints (reference, digest, image ID)."""
    digests: frozenset[str]
    """Every digest it names, normalised: its artifact's, and its statements' subjects."""
    own_digests: frozenset[str]
    """The digests of its own artifact: what the subject may take from it."""

    @cached_property
    def references(self) -> list[Subject]:
        """The names that are image references (with a repository)."""
        parsed = (parse_reference(name) for name in self.names if normal_digest(name) is None)
        return [reference for reference in parsed if reference.repository]

    @property
    def manifest_digests(self) -> frozenset[str]:
        """Digests other than the image ID: manifest, index and platform manifest digests."""
        return self.digests - {normal_digest(self.subject.image_id)}

    def describe(self) -> str:
        """What the input names, for messages."""
        shown = [n for n in self.names if normal_digest(n) is None]
        shown += sorted(short_digest(d) for d in self.digests)
        return ", ".join(dict.fromkeys(shown)) or "no image"


def claim_of(fragment: Fragment, source: str) -> Claim:
    """Everything ``fragment`` names as the image it is about."""
    # A filesystem, repository or container name is not an image reference, even when it
    # parses as one ("shop-api-1" would read as docker.io/library/shop-api-1).
    artifact_name = fragment.artifact_name if fragment.artifact_type in _IMAGE_ARTIFACTS else None
    candidates = [
        fragment.subject.reference,
        artifact_name,
        *fragment.names,
        *(product for statement in fragment.vex for product in statement.products),
    ]
    names = [c for c in dict.fromkeys(candidates) if c and names_an_image(c)]
    own = _digests([fragment.subject.digest, fragment.subject.image_id, *fragment.artifact_digests])
    stated = _digests(
        [d for attestation in fragment.attestations for d in attestation.subject_digests]
    )
    return Claim(source, tuple(names), fragment.subject, own | stated, own)


def _digests(values: list[str | None]) -> frozenset[str]:
    return frozenset(d for d in map(normal_digest, values) if d)


def image_flag_claim(reference: Subject) -> Claim:
    """The claim ``--image REF`` makes."""
    digests = _digests([reference.digest])
    return Claim(IMAGE_FLAG, (reference.reference or "",), reference, digests, digests)


def defines_subject(fragment: Fragment) -> bool:
    """Dedicated image metadata (not a scanner's copy, not an attestation manifest)."""
    return (
        fragment.authority >= METADATA_AUTHORITY
        and "metadata" in fragment.kinds
        and fragment.artifact_type != "attestation"
    )


@dataclass
class Resolution:
    """The subject (its ``names``: the references the inputs themselves, not --image, give
    for it) and, per fragment (in input order), its evidence."""

    subject: Subject
    identity: ImageIdentity
    evidence: list[Evidence]

    def about_subject(self, index: int) -> bool:
        """True when fragment ``index`` is about the gated image."""
        return self.evidence[index].match in ABOUT_SUBJECT


def resolve(
    fragments: Sequence[Fragment], sources: Sequence[str], image: Subject | None = None
) -> Resolution:
    """Decide the gated image and classify every fragment; raise InputError on a contradiction."""
    claims = [claim_of(f, source) for f, source in zip(fragments, sources, strict=True)]
    ranked = sorted(range(len(fragments)), key=lambda i: -fragments[i].authority)
    anchors = [i for i in ranked if defines_subject(fragments[i])]
    defining: list[Claim] = [image_flag_claim(image)] if image is not None else []
    defining += [claims[i] for i in anchors]
    _check_agreement(defining)
    if not defining:
        first = next((i for i in ranked if claims[i].names or claims[i].digests), None)
        if first is not None:
            anchors, defining = [first], [claims[first]]
    subject = _merge_subjects([c.subject for c in defining])
    digests = {d for c in defining for d in c.own_digests}
    matches: dict[int, SubjectMatch] = dict.fromkeys(anchors, "defines")
    # Inputs that match what is known complete it, so that later ones meet all of it.
    for index in ranked:
        if index in matches:
            continue
        claim = claims[index]
        match = _match(claim, ImageIdentity.of(subject, sorted(digests)))
        if match in ABOUT_SUBJECT:
            matches[index] = match
            subject = _complete(subject, claim.subject)
            digests |= claim.own_digests
    identity = ImageIdentity.of(subject, sorted(digests))
    evidence = []
    references: list[Subject] = []
    tags = [subject.tag]
    for index, fragment in enumerate(fragments):
        claim = claims[index]
        # What did not match may still be unnamed, unverifiable or another image.
        match = matches.get(index) or _match(claim, identity)
        evidence.append(_evidence(fragment, claim, match, identity))
        if match in ABOUT_SUBJECT:
            naming = [r for r in claim.references if r.reference and identity.named_by(r.reference)]
            references += naming
            # Image metadata, or a scan proven by digest to be of this image, tags it with
            # every tag it lists (RepoTags); an input matched by name only has the one tag.
            proven = match in ("defines", "digest")
            tags += [r.tag for r in (claim.references if proven else naming)]
    named = subject.model_copy(
        update={
            "names": list(dict.fromkeys(r.reference for r in references if r.reference)),
            "tags": list(dict.fromkeys(tag for tag in tags if tag)),
        }
    )
    return Resolution(named, identity, evidence)


def _match(claim: Claim, identity: ImageIdentity) -> SubjectMatch:
    if not claim.names and not claim.digests:
        return "unnamed"
    if claim.digests and identity.digests:
        return "digest" if claim.digests & identity.digests else "other-image"
    if any(identity.named_by(name) for name in claim.names):
        return "name"
    if identity.repository is None or not claim.references:
        return "unverifiable"
    return "other-image"


def _evidence(
    fragment: Fragment, claim: Claim, match: SubjectMatch, identity: ImageIdentity
) -> Evidence:
    kinds: list[ScanKind] = sorted(set(fragment.kinds))
    shown = list(dict.fromkeys([*claim.names, *sorted(claim.digests)]))
    if match not in ABOUT_SUBJECT:
        return Evidence(
            match=match, names=shown, counts_for=[], note=_why_not(claim, match, identity)
        )
    note = None
    if "sbom" in kinds and not fragment.packages:
        kinds.remove("sbom")
        note = "an SBOM that lists no packages describes nothing"
    return Evidence(match=match, names=shown, counts_for=kinds, note=note)


def _why_not(claim: Claim, match: SubjectMatch, identity: ImageIdentity) -> str:
    gated = identity.describe()
    if match == "unnamed":
        return f"it names no image; the image being gated is {gated}"
    if match == "unverifiable":
        return (
            f"it names {claim.describe()}, which cannot be compared with the image being "
            f"gated ({gated})"
        )
    return f"it is about {claim.describe()}, not the image being gated ({gated})"


def _check_agreement(defining: list[Claim]) -> None:
    for later_index in range(1, len(defining)):
        later = defining[later_index]
        for earlier in defining[:later_index]:
            problem = _contradiction(earlier, later)
            if problem:
                raise InputError(
                    f"{problem}: {later.source} names {later.describe()}, but {earlier.source} "
                    f"names {earlier.describe()}",
                    where=later.source if later.source != IMAGE_FLAG else None,
                    hint="gate one image per run: give the image metadata and --image of the "
                    "same image (the same digest)",
                )


def _contradiction(first: Claim, second: Claim) -> str | None:
    """Why two defining claims cannot be one image, or None when they can."""
    if first.digests & second.digests:
        return None
    first_id, second_id = (normal_digest(c.subject.image_id) for c in (first, second))
    if first_id and second_id:
        return "the image IDs differ"
    if first.manifest_digests and second.manifest_digests:
        return "the image digests differ"
    if first.references and second.references:
        for reference in first.references:
            named = ImageIdentity.of(reference.model_copy(update={"digest": None}))
            if any(named.named_by(other.reference or "") for other in second.references):
                return None
        return "the image names differ"
    return None


_NAME_FIELDS = ("reference", "registry", "repository", "tag")
_DIGEST_FIELDS = ("digest", "image_id", "index_digest")


def _merge_subjects(candidates: list[Subject]) -> Subject:
    """Name fields come together from the first subject with a repository (preferring one
    of the same repository that also has a tag: ``--image repo@digest`` and metadata that
    tags it); the digest and image ID one by one."""
    named = next((s for s in candidates if s.repository), None) or next(
        (s for s in candidates if s.reference), Subject()
    )
    for candidate in candidates:
        named = _with_tag(named, candidate)
    values = {name: getattr(named, name) for name in _NAME_FIELDS}
    for name in _DIGEST_FIELDS:
        values[name] = next((getattr(s, name) for s in candidates if getattr(s, name)), None)
    return Subject(**values)


def _with_tag(subject: Subject, more: Subject) -> Subject:
    """``subject`` named as ``more`` names it when that is the same repository with a tag."""
    if (
        subject.tag is None
        and more.tag
        and (more.registry, more.repository)
        == (
            subject.registry,
            subject.repository,
        )
    ):
        return subject.model_copy(update={name: getattr(more, name) for name in _NAME_FIELDS})
    return subject


def _complete(subject: Subject, more: Subject) -> Subject:
    """``subject`` with what it lacks taken from ``more`` (an input about the same image)."""
    if subject.repository is None and more.repository:
        subject = subject.model_copy(update={name: getattr(more, name) for name in _NAME_FIELDS})
    subject = _with_tag(subject, more)
    updates = {
        name: getattr(more, name)
        for name in _DIGEST_FIELDS
        if getattr(subject, name) is None and getattr(more, name)
    }
    return subject.model_copy(update=updates) if updates else subject
