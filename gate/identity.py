"""Which image is being gated, and whether what an input names is that image.

One reading of image identity for every place that needs it: VEX products, scans, SBOMs,
attestations and the subject's own sources (``--image`` and image metadata).

An input *names* an image by a digest (manifest digest or image ID, ``sha256:…``), by a
reference read as Docker does (``nginx`` is ``docker.io/library/nginx``), or by a
``pkg:oci`` package URL. It names the gated image when:

* both sides know digests: one of the input's digests is one of the image's (the digest
  alone decides, names are not looked at);
* otherwise the same registry and repository, and the same tag when both have one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from gate.document import Subject
from gate.reference import parse_reference

_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-f]{32,}$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")


def normal_digest(value: str | None) -> str | None:
    """``sha256:…`` in lower case, or None when ``value`` is not a digest."""
    if value is None:
        return None
    lowered = value.strip().lower()
    return lowered if _DIGEST.match(lowered) else None


@dataclass(frozen=True)
class OciPurl:
    """The image parts of a ``pkg:oci`` package URL."""

    name: str
    digest: str | None
    tag: str | None
    location: str | None
    """``repository_url`` completed with the name, without scheme, when given."""


def parse_oci_purl(text: str) -> OciPurl | None:
    """Read ``pkg:oci/name@sha256%3A…?repository_url=…&tag=…``; None for any other text."""
    from gate.vex import parse_purl  # gate.vex matches products with this module

    purl = parse_purl(text)
    if purl is None or purl.type != "oci":
        return None
    name = "/".join(p for p in (purl.namespace, purl.name) if p)
    location = purl.qualifiers.get("repository_url")
    if location:
        location = _SCHEME.sub("", location.strip()).rstrip("/")
        if location.rsplit("/", 1)[-1].lower() != purl.name.lower():
            location = f"{location}/{purl.name}"
    return OciPurl(
        name=name,
        digest=normal_digest(purl.version),
        tag=purl.qualifiers.get("tag") or None,
        location=location.lower() if location else None,
    )


def names_an_image(text: str) -> bool:
    """True when ``text`` is a digest, an image reference or a ``pkg:oci`` URL."""
    text = text.strip()
    if text[:4].lower() == "pkg:":
        return parse_oci_purl(text) is not None
    if normal_digest(text) is not None:
        return True
    if text[:4].lower() == "cpe:":
        return False
    return parse_reference(text).repository is not None


@dataclass(frozen=True)
class ImageIdentity:
    """What is known of the gated image: its name and every digest it goes by."""

    registry: str | None
    repository: str | None
    tag: str | None
    digests: frozenset[str]

    @classmethod
    def of(cls, subject: Subject, also: tuple[str, ...] | list[str] = ()) -> ImageIdentity:
        """The identity of ``subject``; ``also`` adds digests image metadata gives for it."""
        digests = (normal_digest(d) for d in (subject.digest, subject.image_id, *also))
        return cls(
            registry=subject.registry,
            repository=subject.repository,
            tag=subject.tag,
            digests=frozenset(d for d in digests if d),
        )

    @property
    def known(self) -> bool:
        """True when something can be compared with it (a repository or a digest)."""
        return bool(self.repository or self.digests)

    def named_by(self, product: str) -> bool:
        """True when ``product`` (digest, reference or ``pkg:oci`` URL) is this image."""
        text = product.strip()
        if text[:4].lower() == "pkg:":
            return self._named_by_purl(text)
        pinned = normal_digest(text)
        if pinned is not None:
            return pinned in self.digests
        if text[:4].lower() == "cpe:":
            return False
        reference = parse_reference(text)
        if reference.repository is None:
            return False
        return self._same(reference, normal_digest(reference.digest), reference.tag)

    def _named_by_purl(self, text: str) -> bool:
        purl = parse_oci_purl(text)
        if purl is None:
            return False
        if purl.location:
            reference = parse_reference(purl.location)
            return reference.repository is not None and self._same(reference, purl.digest, purl.tag)
        if purl.digest is not None and self.digests:
            return purl.digest in self.digests
        last_segment = (self.repository or "").rsplit("/", 1)[-1]
        return bool(last_segment) and purl.name.lower() == last_segment and self._tag_fits(purl.tag)

    def _same(self, reference: Subject, pinned: str | None, tag: str | None) -> bool:
        if pinned is not None and self.digests:
            return pinned in self.digests
        if self.repository is None or reference.repository != self.repository:
            return False
        if self.registry and reference.registry and reference.registry != self.registry:
            return False
        return self._tag_fits(tag)

    def _tag_fits(self, tag: str | None) -> bool:
        return tag is None or self.tag is None or tag == self.tag

    def describe(self) -> str:
        """The identity for messages: ``ghcr.io/acme/api:1.2 (sha256:ab12…, …)``."""
        name = ""
        if self.repository:
            name = f"{self.registry}/{self.repository}" if self.registry else self.repository
            name += f":{self.tag}" if self.tag else ""
        digests = ", ".join(short_digest(d) for d in sorted(self.digests))
        if name and digests:
            return f"{name} ({digests})"
        return name or digests or "an image nobody named"


def short_digest(digest: str) -> str:
    """``sha256:4a5f0c9d8e7b`` — enough to tell digests apart in a message."""
    algorithm, _, hexits = digest.partition(":")
    return f"{algorithm}:{hexits[:12]}" if hexits else digest


def spellings(references: Sequence[str]) -> list[str]:
    """Each reference as written and spelled out in full (``nginx:1`` and
    ``docker.io/library/nginx:1``), for matching user-written patterns against."""
    spelled: list[str] = []
    for text in references:
        spelled.append(text)
        parsed = parse_reference(text)
        if parsed.repository:
            full = f"{parsed.registry}/{parsed.repository}"
            full += f":{parsed.tag}" if parsed.tag else ""
            full += f"@{parsed.digest}" if parsed.digest else ""
            spelled.append(full)
    return list(dict.fromkeys(spelled))
