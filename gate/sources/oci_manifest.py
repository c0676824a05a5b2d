"""Image manifests and indexes as a registry serves them (``crane manifest`` output).

Handled shapes:

* OCI image manifest and Docker v2 schema 2 manifest: the subject digest is the SHA-256
  of the file's bytes (what the registry calls the manifest digest, provided the file
  was saved byte-for-byte), the image ID is ``config.digest``, layers are listed;
* OCI image index and Docker manifest list: the digest likewise; architecture and OS
  only when exactly one real platform is listed (buildkit's attestation manifests, with
  platform ``unknown/unknown``, do not count);
* an OCI image-layout ``index.json`` (entries carry ``ref.name`` or cosign ``kind``
  annotations): a local file whose hash is nobody's digest, so the digest of the one
  image entry it points at is used instead;
* Docker v2 schema 1 (signed or not): configuration from the first ``v1Compatibility``,
  layers from ``fsLayers``, and no digest (see :func:`_schema1`);
* attestation manifests (cosign ``.att`` with DSSE envelope layers, buildkit in-toto
  layers, or any manifest with a ``subject``): they describe another image, so they give
  no image metadata, only the ``subject`` digest when they name one.

Attestations (``kinds`` gains ``attestation``; every entry has ``envelope``
``oci-manifest``; the statements themselves are in blobs a manifest only points at):

* an attestation manifest gives one :class:`~gate.document.Attestation` per statement
  layer (DSSE envelope, in-toto JSON or Sigstore bundle holding a DSSE envelope): ``kind``
  and ``predicate_type`` from the layer's predicate-type annotation (cosign's
  ``predicateType``, BuildKit's ``in-toto.io/predicate-type``, the Sigstore bundle's
  ``dev.sigstore.bundle.predicateType``), ``subject_digests`` from the manifest's
  ``subject`` when it has one (cosign's tag-addressed ``.att`` manifests have none).
  ``signed`` is True when the layer carries a non-empty cosign signature, Fulcio
  certificate or Rekor bundle annotation, or is itself a Sigstore bundle: cosign leaves
  ``dev.cosignproject.cosign/signature`` empty for attestations (the signature is inside
  the envelope blob), so the certificate and transparency-log entry are the visible trace.
  It is NOT verified;
* a referrer (a manifest with ``subject``) with no statement layer gives one attestation
  whose ``kind`` comes from its artifact type (SPDX / CycloneDX → ``sbom``, OpenVEX →
  ``vex``, else ``other``), unless it is a signature (a Notary or cosign signature
  artifact type, or a Sigstore bundle annotated as holding a ``message-signature``);
* an index entry annotated ``vnd.docker.reference.type: attestation-manifest`` (BuildKit)
  gives an attestation of kind ``other`` about ``vnd.docker.reference.digest``, and a
  cosign layout entry of kind ``dev.cosignproject.cosign/atts`` one about the layout's
  image: the index says that attestations exist, not what they state, and nothing about
  signatures, so ``signed`` is False.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from gate.document import Attestation, Image, Layer, Subject
from gate.inputs import InputFile
from gate.sources.base import Fragment, fail, rfc3339, text
from gate.sources.image_config import (
    base_image,
    descriptor_layers,
    digest,
    first_reference,
    image_from_config,
    nonempty,
    string_map,
    subject,
    unique,
)
from gate.sources.provenance import attestation_kind
from gate.sources.shape import array, at, kind, mapping, text_at

REF_NAME = "org.opencontainers.image.ref.name"
CREATED = "org.opencontainers.image.created"
# containerd's exports name the image in full here and put only the tag in REF_NAME.
CONTAINERD_NAME = "io.containerd.image.name"

_STATEMENT_LAYERS = frozenset(
    {"application/vnd.dsse.envelope.v1+json", "application/vnd.in-toto+json"}
)
_ATTESTATION_LAYERS = _STATEMENT_LAYERS | {"application/vnd.dev.cosign.simplesigning.v1+json"}
_BUNDLE_PREFIX = "application/vnd.dev.sigstore.bundle"
# A Sigstore bundle layer holding a plain signature rather than a DSSE statement says so.
_BUNDLE_CONTENT = "dev.sigstore.bundle.content"
_PREDICATE_TYPE_KEYS = (
    "predicateType",
    "in-toto.io/predicate-type",
    "dev.sigstore.bundle.predicateType",
)
# Annotations that only a signing cosign writes: the signature, Fulcio certificate, Rekor entry.
_SIGNING_KEYS = (
    "dev.cosignproject.cosign/signature",
    "dev.sigstore.cosign/certificate",
    "dev.sigstore.cosign/bundle",
)
_SIGNATURE_ARTIFACTS = frozenset(
    {
        "application/vnd.cncf.notary.signature",
        "application/vnd.dev.cosign.artifact.sig.v1+json",
        "application/vnd.dev.cosign.simplesigning.v1+json",
    }
)
_REFERENCE_TYPE = "vnd.docker.reference.type"
_REFERENCE_DIGEST = "vnd.docker.reference.digest"
_COSIGN_ATTESTATIONS = "dev.cosignproject.cosign/atts"
_COSIGN_KIND = "kind"
_COSIGN_PREFIX = "dev.cosignproject.cosign/"
_COSIGN_IMAGES = frozenset(
    {"dev.cosignproject.cosign/image", "dev.cosignproject.cosign/imageIndex"}
)


class ImageManifestSource:
    """An image manifest, manifest list or index (OCI or Docker, any schema)."""

    format: ClassVar[str] = "image-manifest"
    expected_shape: ClassVar[str] = (
        '"schemaVersion" and "layers", "manifests", "fsLayers" or "config" with "mediaType"'
    )

    def matches(self, data: Any) -> bool:
        """Manifests have ``schemaVersion`` and layers, entries, fsLayers or a typed config."""
        return (
            isinstance(data, dict)
            and "schemaVersion" in data
            and (
                "layers" in data
                or "manifests" in data
                or "fsLayers" in data
                or ("config" in data and "mediaType" in data)
            )
        )

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Map whichever manifest shape this is (see the module docstring)."""
        if not isinstance(data, dict):
            raise fail(source, "", "expected an image manifest object")
        fragment = Fragment(
            format=self.format,
            tool="oci",
            artifact_type="container_image",
            kinds=["metadata"],
            authority=5,
        )
        if data.get("schemaVersion") == 1 or "fsLayers" in data:
            _schema1(fragment, data, source)
        elif "manifests" in data:
            _index(fragment, data, source)
        else:
            _manifest(fragment, data, source)
        return fragment


def _full_reference(value: str | None) -> str | None:
    """Return ``value`` when it names an image, not just a tag like ``latest`` or ``v1.2``.

    A bare word would parse as a Docker Hub repository, so a registry path or a tag
    separator is required.
    """
    if value and ("/" in value or ":" in value or "@" in value):
        return first_reference([value])
    return None


def _annotated_image(annotations: dict[str, str]) -> Image:
    """Return what manifest or index annotations say about the image."""
    return Image(created=rfc3339(annotations.get(CREATED)), base=base_image(annotations))


def _manifest(fragment: Fragment, manifest: dict[str, Any], source: InputFile) -> None:
    """Map an OCI image manifest or Docker v2 schema 2 manifest."""
    own_digest = f"sha256:{source.sha256}"
    annotations = string_map(manifest.get("annotations"), source, "annotations")
    config = mapping(manifest.get("config"), source, "config")
    layers = descriptor_layers(manifest.get("layers"), source, "layers")
    fragment.artifact_digests = [own_digest]
    fragment.artifact_name = annotations.get(REF_NAME)
    described = mapping(manifest.get("subject"), source, "subject")
    if described or (layers and all(layer.media_type in _ATTESTATION_LAYERS for layer in layers)):
        fragment.artifact_type = "attestation"
        fragment.subject = Subject(digest=digest(text_at(described, "digest", source, "subject")))
        _add_attestations(
            fragment, _manifest_attestations(manifest, fragment.subject.digest, source)
        )
        return
    fragment.subject = subject(
        _full_reference(annotations.get(REF_NAME)),
        digest=own_digest,
        image_id=digest(text_at(config, "digest", source, "config")),
    )
    fragment.image = nonempty(_annotated_image(annotations).model_copy(update={"layers": layers}))


def _index(fragment: Fragment, index: dict[str, Any], source: InputFile) -> None:
    """Map an OCI image index, a Docker manifest list or an OCI layout ``index.json``."""
    annotations = string_map(index.get("annotations"), source, "annotations")
    entries = [
        (at("manifests", position), mapping(raw, source, at("manifests", position)))
        for position, raw in enumerate(array(index.get("manifests"), source, "manifests"))
    ]
    entry_annotations = [
        string_map(entry.get("annotations"), source, at(place, "annotations"))
        for place, entry in entries
    ]
    layout = any(
        REF_NAME in notes or notes.get(_COSIGN_KIND, "").startswith(_COSIGN_PREFIX)
        for notes in entry_annotations
    )
    images = [
        (place, entry, notes)
        for (place, entry), notes in zip(entries, entry_annotations, strict=True)
        if not _is_attestation(entry, notes, source, place)
    ]
    image_digests = [digest(text_at(entry, "digest", source, place)) for place, entry, _ in images]
    _add_attestations(
        fragment,
        [
            found
            for notes in entry_annotations
            if (found := _index_attestation(notes, image_digests, source)) is not None
        ],
    )
    image = _annotated_image(annotations)
    if len(images) == 1:
        place, entry, notes = images[0]
        platform_place = at(place, "platform")
        platform = mapping(entry.get("platform"), source, platform_place)
        image = image.model_copy(
            update={
                key: text_at(platform, key, source, platform_place)
                for key in ("os", "architecture", "variant")
            }
        )
    fragment.image = nonempty(image)
    if layout:
        # The layout's own index.json hash is no registry digest: use the image it lists.
        if len(images) == 1:
            place, entry, notes = images[0]
            entry_digest = digest(text_at(entry, "digest", source, place))
            fragment.artifact_digests = [entry_digest] if entry_digest else []
            fragment.artifact_name = notes.get(CONTAINERD_NAME) or notes.get(REF_NAME)
            reference = _full_reference(notes.get(CONTAINERD_NAME) or notes.get(REF_NAME))
            fragment.subject = subject(reference, digest=entry_digest, image_id=None)
        return
    own_digest = f"sha256:{source.sha256}"
    # The platform manifests an index lists are the same image: a scan or an attestation
    # may name one of them rather than the index.
    fragment.artifact_digests = unique([own_digest, *(d for d in image_digests if d)])
    fragment.artifact_name = annotations.get(REF_NAME)
    fragment.subject = subject(
        _full_reference(annotations.get(REF_NAME)), digest=own_digest, image_id=None
    )


def _add_attestations(fragment: Fragment, attestations: list[Attestation]) -> None:
    """Record ``attestations`` in ``fragment``, and that the file holds some."""
    if attestations:
        fragment.attestations = attestations
        fragment.kinds = [*fragment.kinds, "attestation"]


def _manifest_attestations(
    manifest: dict[str, Any], about: str | None, source: InputFile
) -> list[Attestation]:
    """Return the attestations of an attestation or referrer manifest about digest ``about``."""
    subject_digests = [about] if about else []
    found = []
    signature = False
    for position, raw in enumerate(array(manifest.get("layers"), source, "layers")):
        here = at("layers", position)
        layer = mapping(raw, source, here)
        media_type = text_at(layer, "mediaType", source, here) or ""
        notes = string_map(layer.get("annotations"), source, at(here, "annotations"))
        bundle = media_type.startswith(_BUNDLE_PREFIX)
        if not (media_type in _STATEMENT_LAYERS or bundle):
            continue
        if bundle and notes.get(_BUNDLE_CONTENT) == "message-signature":
            signature = True  # a signed blob, not a statement: the referrer is a signature
            continue
        predicate_type = next(
            (notes[key] for key in _PREDICATE_TYPE_KEYS if text(notes.get(key))), None
        )
        found.append(
            Attestation(
                kind=attestation_kind(predicate_type),
                predicate_type=predicate_type,
                subject_digests=subject_digests,
                envelope="oci-manifest",
                signed=bundle or any(text(notes.get(key)) for key in _SIGNING_KEYS),
                input=source.path,
            )
        )
    if found or signature or not subject_digests:
        return found
    config = mapping(manifest.get("config"), source, "config")
    artifact_type = text_at(manifest, "artifactType", source, "") or text_at(
        config, "mediaType", source, "config"
    )
    if artifact_type in _SIGNATURE_ARTIFACTS:
        return []
    return [
        Attestation(
            kind=_artifact_kind(artifact_type),
            subject_digests=subject_digests,
            envelope="oci-manifest",
            input=source.path,
        )
    ]


def _artifact_kind(artifact_type: str | None) -> Literal["sbom", "vex", "other"]:
    """Classify a referrer by its artifact type, which names a format, not a predicate."""
    lowered = (artifact_type or "").lower()
    if "spdx" in lowered or "cyclonedx" in lowered:
        return "sbom"
    if "openvex" in lowered:
        return "vex"
    return "other"


def _index_attestation(
    notes: dict[str, str], image_digests: list[str | None], source: InputFile
) -> Attestation | None:
    """Return the attestation an index entry announces, if it announces one."""
    if notes.get(_REFERENCE_TYPE) == "attestation-manifest":
        about = digest(notes.get(_REFERENCE_DIGEST))
    elif notes.get(_COSIGN_KIND) == _COSIGN_ATTESTATIONS:
        # A cosign layout holds one image and its attestations.
        about = image_digests[0] if len(image_digests) == 1 else None
    else:
        return None
    return Attestation(
        kind="other",
        subject_digests=[about] if about else [],
        envelope="oci-manifest",
        input=source.path,
    )


def _is_attestation(
    entry: dict[str, Any], notes: dict[str, str], source: InputFile, place: str
) -> bool:
    """Tell attestation, signature and SBOM entries from image entries of an index."""
    if notes.get(_REFERENCE_TYPE) == "attestation-manifest":
        return True
    cosign_kind = notes.get(_COSIGN_KIND, "")
    if cosign_kind.startswith(_COSIGN_PREFIX):
        return cosign_kind not in _COSIGN_IMAGES
    platform_place = at(place, "platform")
    platform = mapping(entry.get("platform"), source, platform_place)
    return (
        text_at(platform, "os", source, platform_place) == "unknown"
        and text_at(platform, "architecture", source, platform_place) == "unknown"
    )


def _schema1(fragment: Fragment, manifest: dict[str, Any], source: InputFile) -> None:
    """Map a Docker v2 schema 1 manifest.

    Its registry digest is the SHA-256 of the JWS payload (these bytes with the
    ``signatures`` cut out, as rebuilt from the signature's protected header), not of the
    file, so no digest is claimed. The ``v1Compatibility`` ``id`` is a legacy layer id,
    not an image ID, so no image ID either; and ``name`` is a repository path without its
    registry, so it is no reference.
    """
    history = array(manifest.get("history"), source, "history")
    place = "history[0].v1Compatibility"
    config: dict[str, Any] = {}
    if history:
        entry = mapping(history[0], source, "history[0]")
        raw = text_at(entry, "v1Compatibility", source, "history[0]")
        if raw is not None:
            try:
                parsed = json.loads(raw)
            except json.JSONDecodeError as error:
                raise fail(source, place, f"is not valid JSON: {error.msg}") from error
            if not isinstance(parsed, dict):
                raise fail(source, place, f"expected a JSON object, got {kind(parsed)}")
            config = parsed
    image = image_from_config(config, source=source, place=place)
    blobs = []
    for position, raw_layer in enumerate(array(manifest.get("fsLayers"), source, "fsLayers")):
        here = at("fsLayers", position)
        blobs.append(text_at(mapping(raw_layer, source, here), "blobSum", source, here))
    name = text_at(manifest, "name", source, "")
    tag = text_at(manifest, "tag", source, "")
    fragment.artifact_name = f"{name}:{tag}" if name and tag else name
    fragment.image = nonempty(
        image.model_copy(
            update={
                # fsLayers lists the top layer first; the document lists base first.
                "layers": [Layer(digest=blob) for blob in reversed(blobs)],
                "architecture": image.architecture or text_at(manifest, "architecture", source, ""),
            }
        )
    )
