"""Verdicts as OCI artifacts attached to the image they judge.

An artifact of type ``application/vnd.gate.verdict.v1+json`` whose ``subject`` is the
gated digest (the index, for an index): an empty config and one layer, either the verdict
JSON as ``gate check --format json`` writes it or, with a signing key, a DSSE envelope of an
in-toto Statement (subjects: every digest the image goes by; predicate: the verdict). It
is found through the referrers API, or the ``sha256-<hex>`` tag registries without it use.
The annotations (stage, decision, time) are for people browsing the registry: gate reads
the layer and checks its signature, never the annotations.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gate.document import PreviousVerdict
from gate.errors import RegistryError
from gate.registry.image import VERDICT_ARTIFACT_TYPE, RegistryImage, attached_inputs, image_input
from gate.signing import IN_TOTO_PAYLOAD_TYPE, VERDICT_PREDICATE_TYPE

if TYPE_CHECKING:
    from gate.registry.client import RegistryClient
    from gate.run import Settings
    from gate.signing import SigningKey, TrustedKey
    from gate.verdict import Verdict

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = b"{}"
DSSE_LAYER_TYPE = "application/vnd.dsse.envelope.v1+json"
VERDICT_LAYER_TYPE = VERDICT_ARTIFACT_TYPE
ANNOTATION_PREFIX = "dev.gate.verdict."


def verdict_layer(
    verdict: Verdict, image: RegistryImage, key: SigningKey | None
) -> tuple[bytes, str]:
    """The layer's bytes and media type: the verdict JSON, or its signed Statement."""
    text = verdict.to_json().encode()
    if key is None:
        return text, VERDICT_LAYER_TYPE
    from gate.signing import in_toto_statement, sign_envelope

    name = image.ref.with_tag(None).with_digest(None).image_name()
    statement = in_toto_statement(
        [(name, digest) for digest in image.digests], VERDICT_PREDICATE_TYPE, json.loads(text)
    )
    envelope = sign_envelope(statement, IN_TOTO_PAYLOAD_TYPE, key)
    return json.dumps(envelope, sort_keys=True).encode(), DSSE_LAYER_TYPE


def attach_verdict(
    client: RegistryClient,
    repository: str,
    image: RegistryImage,
    verdict: Verdict,
    key: SigningKey | None,
) -> str:
    """Push ``verdict`` (signed with ``key`` when given) as a referrer of the image in
    ``repository`` of ``client``'s registry; return the artifact's manifest digest."""
    layer, layer_type = verdict_layer(verdict, image, key)
    client.push_blob(repository, EMPTY_CONFIG)
    client.push_blob(repository, layer)
    top = image.top
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": VERDICT_ARTIFACT_TYPE,
        "config": _descriptor(EMPTY_CONFIG_TYPE, EMPTY_CONFIG),
        "layers": [_descriptor(layer_type, layer)],
        "subject": {"mediaType": top.media_type, "digest": top.digest, "size": len(top.raw)},
        "annotations": {
            "org.opencontainers.image.created": verdict.evaluated_at,
            f"{ANNOTATION_PREFIX}stage": verdict.stage,
            f"{ANNOTATION_PREFIX}decision": verdict.decision,
            f"{ANNOTATION_PREFIX}policy-digest": verdict.policy.digest,
            f"{ANNOTATION_PREFIX}signed": "true" if key is not None else "false",
        },
    }
    raw = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    return client.attach(repository, raw, OCI_MANIFEST, top.digest)


def _descriptor(media_type: str, blob: bytes) -> dict[str, object]:
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    return {"mediaType": media_type, "digest": digest, "size": len(blob)}


def attached_verdicts(
    client: RegistryClient, image: RegistryImage, trusted: Sequence[TrustedKey]
) -> list[PreviousVerdict]:
    """Every verdict attached to ``image``, its signature checked against ``trusted``."""
    from gate.promotion import judge

    source, fragment = image_input(image)
    entries = [(source, fragment), *attached_inputs(client, image, everything=False)]
    verdict_entries = [(s, f) for s, f in entries if f.verdicts]
    promotion, _ = judge(
        [f for _, f in verdict_entries],
        [s.path for s, _ in verdict_entries],
        fragment.subject,
        trusted,
        enforced=False,
    )
    return sorted(promotion.verdicts, key=lambda v: v.evaluated_at or "")


def attach_to_subject(settings: Settings, verdict: Verdict, key: SigningKey | None) -> list[str]:
    """``check --attach``: attach ``verdict`` to the registry input it is about."""
    from gate.registry.image import client_for, resolve_image
    from gate.registry.reference import is_registry_input, parse_registry_ref

    for given in settings.inputs:
        if not is_registry_input(given):
            continue
        ref = parse_registry_ref(given)
        client = client_for(ref, settings.registry)
        image = resolve_image(client, ref, settings.platform)
        if image.manifest.digest == verdict.subject.digest:
            artifact = attach_verdict(client, ref.repository, image, verdict, key)
            return [str(ref.with_tag(None).with_digest(artifact))]
    raise RegistryError(
        f"none of the registry inputs is the gated image ({verdict.subject.digest})",
        hint="--attach attaches the verdict to the image read from its registry",
    )
