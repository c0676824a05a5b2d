"""``gate promote``: gate the image read from its registry, and tag that digest on a pass.

1. The image is resolved once, tag to digest; everything after reads it by digest, so what
   was evaluated is what gets tagged even if the source tag moves meanwhile.
2. It is evaluated exactly as ``gate check`` would, with the registry image as an input
   (``promotion.enforced``: a missing previous-stage verdict blocks).
3. Every destination is looked at before anything is written: a tag that points at
   another digest is immutable unless it floats (``latest``, ``1``, ``1.2``), and is left
   alone (exit 1, nothing changed) unless ``--force``.
4. On a pass each destination gets the *same manifest bytes* (blobs mounted within a
   registry, copied across registries) and is read back at the digest.
5. The verdict, pass or fail, is attached to the digest in every repository involved
   (signed with ``--sign-key``) and records what was done. No verdict: nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from gate.errors import ExitCode, RegistryError, UsageError
from gate.registry.client import RegistryClient
from gate.registry.copy import copy_manifest
from gate.registry.image import RegistryImage, client_for, resolve_image
from gate.registry.reference import RegistryRef, is_registry_input, parse_registry_ref
from gate.registry.verdicts import attach_verdict
from gate.run import Phases, Settings, evaluate
from gate.verdict import PromotionRecord, TagChange, Verdict

if TYPE_CHECKING:
    from gate.signing import SigningKey

_FLOATING = re.compile(r"^(latest|v?\d+|v?\d+\.\d+)$")
"""Tags that are meant to move: ``latest`` and semantic-version prefixes (``1``, ``v1.2``)."""


def is_floating(tag: str) -> bool:
    """True for tags that follow the newest image (``latest``, ``1``, ``1.2``)."""
    return bool(_FLOATING.match(tag))


@dataclass(frozen=True)
class Destination:
    ref: RegistryRef
    previous: str | None
    """The digest the tag points at now (None: the tag does not exist)."""

    def change(self) -> TagChange:
        return TagChange(tag=str(self.ref), previous_digest=self.previous)


@dataclass(frozen=True)
class Outcome:
    """What ``gate promote`` decided and did."""

    verdict: Verdict
    attached: list[str]
    """Verdict artifacts pushed, ``registry://host/repo@sha256:…``."""

    @property
    def exit_code(self) -> ExitCode:
        """As ``gate check``, and 1 when an immutable destination tag refused the promotion."""
        record = self.verdict.promotion
        if self.verdict.decision != "pass" or (record is not None and record.refused):
            return ExitCode.FAILED
        return ExitCode.PASSED


def image_ref(image: str) -> RegistryRef:
    """``--image``: ``registry://HOST/REPO[:TAG][@DIGEST]``, or the same without the scheme."""
    return parse_registry_ref(image if is_registry_input(image) else f"registry://{image}")


def destination_ref(value: str, source: RegistryRef) -> RegistryRef:
    """``--to TAG`` (same repository) or ``--to registry://HOST/REPO:TAG`` (anywhere)."""
    if is_registry_input(value):
        ref = parse_registry_ref(value)
    else:
        ref = parse_registry_ref(f"registry://{source.host}/{source.repository}:{value}")
    if ref.tag is None or ref.digest is not None:
        raise UsageError(f"--to {value}: a destination is a tag (TAG or registry://HOST/REPO:TAG)")
    return ref


def promote(
    settings: Settings,
    image: str,
    to: Sequence[str],
    *,
    force: bool = False,
    dry_run: bool = False,
    sign_key: SigningKey | None = None,
    phases: Phases | None = None,
) -> Outcome:
    """Evaluate the registry image ``image`` and, on a pass, tag its digest as ``to`` says."""
    if not to:
        raise UsageError("no destination: give --to TAG at least once")
    source = image_ref(image)
    targets = [destination_ref(value, source) for value in to]
    clients: dict[str, RegistryClient] = {}

    def client(ref: RegistryRef) -> RegistryClient:
        if ref.host not in clients:
            clients[ref.host] = client_for(ref, settings.registry)
        return clients[ref.host]

    pinned = resolve_image(client(source), source, settings.platform)
    verdict = evaluate(
        replace(settings, inputs=[*settings.inputs, str(pinned.ref)], promotion=True),
        phases=phases,
    )
    if verdict.subject.digest != pinned.manifest.digest:
        raise RegistryError(
            f"the verdict is about {verdict.subject.digest}, not the image read from the "
            f"registry ({pinned.manifest.digest})",
            where=str(pinned.ref),
        )
    digest = pinned.top.digest
    destinations = [
        Destination(t, client(t).find_manifest(t.repository, t.tag or "")) for t in targets
    ]
    conflicts = [
        d
        for d in destinations
        if d.previous not in (None, digest) and not is_floating(d.ref.tag or "")
    ]
    refused = conflicts if not force else []
    written: list[str] = []
    if verdict.decision == "pass" and not refused and not dry_run:
        for target in destinations:
            try:
                copy_manifest(
                    client(source),
                    source.repository,
                    pinned.top,
                    client(target.ref),
                    target.ref.repository,
                    target.ref.tag or "",
                )
            except RegistryError as exc:
                # Tags cannot be written atomically across a registry: say what already is.
                done = ", ".join(written) or "none"
                raise RegistryError(
                    f"{exc.message} (tags already written: {done})", where=exc.where, hint=exc.hint
                ) from exc
            written.append(str(target.ref))
    record = PromotionRecord(
        image=str(pinned.ref),
        digest=digest,
        to=[d.change() for d in destinations],
        written=written,
        forced=[d.change() for d in conflicts] if force and verdict.decision == "pass" else [],
        refused=[d.change() for d in refused] if verdict.decision == "pass" else [],
        dry_run=dry_run,
    )
    verdict = verdict.model_copy(update={"promotion": record})
    attached: list[str] = []
    if not dry_run and not (verdict.decision == "pass" and refused):
        attached = _attach_everywhere(verdict, pinned, [source, *targets], client, sign_key)
    return Outcome(verdict=verdict, attached=attached)


def _attach_everywhere(
    verdict: Verdict,
    image: RegistryImage,
    places: Sequence[RegistryRef],
    client: Callable[[RegistryRef], RegistryClient],
    key: SigningKey | None,
) -> list[str]:
    """Attach ``verdict`` in each repository involved, where the next stage will look."""
    attached: list[str] = []
    seen: set[tuple[str, str]] = set()
    for place in places:
        if (place.host, place.repository) in seen:
            continue
        seen.add((place.host, place.repository))
        if verdict.decision != "pass" and place is not places[0]:
            continue  # a failed image was not copied there: it has no subject to refer to
        artifact = attach_verdict(client(place), place.repository, image, verdict, key)
        attached.append(str(place.with_tag(None).with_digest(artifact)))
    return attached
