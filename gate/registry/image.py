"""A ``registry://`` input: the image read from its registry, and what is attached to it.

The image is resolved once, tag to digest, and everything after is read by digest: the
manifest (for an index, the one of ``--platform``), its config blob, and what refers to
it. What the registry returns is checked against the digests asked for (the client
verifies), so the document describes exactly the bytes a promotion would tag.

The fragment it yields has the highest authority of any input: it *is* the artifact
being gated. The previous stages' verdicts (gate's own artifacts) and cosign signatures
(``sha256-<hex>.sig``) are always read, as ``promotion-order`` and ``signature-required``
need them; ``--attached`` also reads every other referrer and cosign attestation (SBOMs,
provenance, VEX) as inputs like files. An attached artifact gate does not recognise is
left out: it can only have been evidence that would make the verdict laxer if read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gate.document import Subject
from gate.errors import InputError, RegistryError, UsageError
from gate.inputs import InputFile, parse_json
from gate.reference import parse_reference
from gate.registry.client import Manifest, RegistryClient, RegistryOptions
from gate.registry.reference import RegistryRef, parse_registry_ref
from gate.signing import COSIGN_SIGNATURE_ANNOTATION
from gate.sources import detect
from gate.sources.base import Fragment, SignatureClaim, fail
from gate.sources.image_config import descriptor_layers, image_from_config, nonempty

if TYPE_CHECKING:
    from gate.run import Settings

REGISTRY_FORMAT = "registry"
REGISTRY_AUTHORITY = 20
"""Above every file's: the registry's manifest and config are the image itself."""
DEFAULT_PLATFORM = "linux/amd64"
MAX_CONFIG_BYTES = 16 * 1024 * 1024
MAX_ARTIFACT_BYTES = 64 * 1024 * 1024
MAX_ATTACHED_BYTES = 512 * 1024 * 1024
MAX_REFERRERS = 256
MAX_SIGNATURES = 64
MAX_PAYLOAD_BYTES = 1024 * 1024

INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
IMAGE_MANIFEST_TYPES = frozenset(
    {
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    }
)
VERDICT_ARTIFACT_TYPE = "application/vnd.gate.verdict.v1+json"
_JSON_SUFFIXES = ("json", "+json")


@dataclass(frozen=True)
class RegistryImage:
    """An image as read from its registry, pinned by digest."""

    ref: RegistryRef
    """As given, with the digest of what the tag resolved to (the index, for an index)."""
    manifest: Manifest
    """The image manifest gated: the platform's, for an index."""
    index: Manifest | None
    config: bytes

    @property
    def top(self) -> Manifest:
        """What the reference names: the index when there is one, else the manifest."""
        return self.index or self.manifest

    @property
    def digests(self) -> list[str]:
        """Every digest the image goes by in its registry, platform manifest first."""
        return [self.manifest.digest] + ([self.index.digest] if self.index else [])


def client_for(ref: RegistryRef, options: RegistryOptions | None) -> RegistryClient:
    """A client of ``ref``'s registry."""
    return RegistryClient(ref.host, options)


def resolve_image(
    client: RegistryClient, ref: RegistryRef, platform: str | None = None
) -> RegistryImage:
    """Read ``ref``'s manifest (picking ``platform`` from an index) and config by digest."""
    top = client.get_manifest(ref.repository, ref.reference())
    document = top.document()
    media_type = top.media_type or str(document.get("mediaType") or "")
    index: Manifest | None = None
    manifest = top
    if media_type in INDEX_TYPES or "manifests" in document:
        index = top
        child = _platform_entry(document, platform or DEFAULT_PLATFORM, ref)
        manifest = client.get_manifest(ref.repository, child)
        document = manifest.document()
        media_type = manifest.media_type or str(document.get("mediaType") or "")
    if media_type not in IMAGE_MANIFEST_TYPES and "config" not in document:
        raise RegistryError(
            f"{media_type or 'this manifest'} is not an image manifest",
            where=str(ref.with_digest(manifest.digest)),
        )
    config = document.get("config")
    config_digest = config.get("digest") if isinstance(config, dict) else None
    if not isinstance(config_digest, str):
        raise RegistryError("the manifest has no config descriptor", where=str(ref))
    raw_config = client.get_blob(ref.repository, config_digest, MAX_CONFIG_BYTES)
    image = RegistryImage(ref.with_digest(top.digest), manifest, index, raw_config)
    if platform is not None and index is None:
        _check_platform(image, platform)
    return image


def _platform_entry(index: dict[str, Any], platform: str, ref: RegistryRef) -> str:
    wanted = _platform_parts(platform)
    entries = index.get("manifests")
    available: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        spec = entry.get("platform") if isinstance(entry, dict) else None
        if not isinstance(spec, dict) or not isinstance(entry.get("digest"), str):
            continue
        parts = (spec.get("os"), spec.get("architecture"), spec.get("variant"))
        available.append("/".join(str(p) for p in parts if p))
        if parts[:2] == wanted[:2] and (wanted[2] is None or parts[2] == wanted[2]):
            return str(entry["digest"])
    raise RegistryError(
        f"the image index has no manifest for {platform}",
        where=str(ref),
        hint=f"available: {', '.join(p for p in available if 'unknown' not in p) or 'none'}; "
        "pick one with --platform OS/ARCH[/VARIANT]",
    )


def _platform_parts(platform: str) -> tuple[str, str, str | None]:
    parts = platform.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise UsageError(f"--platform {platform!r}: expected OS/ARCH[/VARIANT], e.g. linux/amd64")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def _check_platform(image: RegistryImage, platform: str) -> None:
    import json

    config = json.loads(image.config)
    os_, arch, variant = _platform_parts(platform)
    found = (config.get("os"), config.get("architecture"))
    if found != (os_, arch) or (variant and config.get("variant") != variant):
        raise RegistryError(
            f"the image is {'/'.join(str(p) for p in found)}, not {platform}",
            where=str(image.ref),
            hint="drop --platform, or name the image index that holds that platform",
        )


def read_registry_input(
    given: str, settings: Settings, forced: str | None = None
) -> tuple[tuple[InputFile, Fragment], Iterator[tuple[InputFile, Fragment]]]:
    """The image ``given`` names as an input, and (read when iterated) the verdicts,
    signatures and, with ``--attached``, everything else attached to it."""
    if forced is not None and forced != REGISTRY_FORMAT:
        raise UsageError(f"--type {forced} does not apply to {given}: it is read from a registry")
    ref = parse_registry_ref(given)
    client = client_for(ref, settings.registry)
    image = resolve_image(client, ref, settings.platform)
    return image_input(image), attached_inputs(client, image, everything=settings.attached)


def image_input(image: RegistryImage) -> tuple[InputFile, Fragment]:
    """The image itself as an input: subject and image configuration."""
    import json

    shown = str(image.ref)
    source = _input_file(shown, image.manifest)
    try:
        config = json.loads(image.config)
    except ValueError as exc:
        raise fail(source, "config", "the config blob is not JSON") from exc
    if not isinstance(config, dict):
        raise fail(source, "config", "the config blob is not a JSON object")
    image_id = "sha256:" + hashlib.sha256(image.config).hexdigest()
    manifest = image.manifest.document()
    described = image_from_config(config, source=source, place="config")
    described = described.model_copy(
        update={"layers": descriptor_layers(manifest.get("layers"), source, "layers")}
    )
    ref = image.ref
    name = ref.with_digest(None).with_tag(ref.tag).image_name() if ref.tag else None
    pinned = ref.with_tag(None).with_digest(image.manifest.digest).image_name()
    named = parse_reference(ref.with_digest(image.manifest.digest).image_name())
    subject = Subject(
        reference=named.reference,
        registry=named.registry,
        repository=named.repository,
        tag=named.tag,
        digest=image.manifest.digest,
        image_id=image_id,
        index_digest=image.index.digest if image.index else None,
    )
    fragment = Fragment(
        format=REGISTRY_FORMAT,
        tool="registry",
        artifact_name=name or pinned,
        artifact_type="container_image",
        artifact_digests=[*image.digests, image_id],
        names=[n for n in (name, pinned) if n],
        kinds=["metadata"],
        subject=subject,
        image=nonempty(described),
        authority=REGISTRY_AUTHORITY,
    )
    return source, fragment


def attached_inputs(
    client: RegistryClient, image: RegistryImage, *, everything: bool
) -> Iterator[tuple[InputFile, Fragment]]:
    """Verdicts and signatures attached to ``image`` (and, with ``everything``, all else)."""
    budget = _Budget(MAX_ATTACHED_BYTES)
    repository = image.ref.repository
    for digest in image.digests:
        kind = None if everything else VERDICT_ARTIFACT_TYPE
        found = client.referrers(repository, digest, kind)
        for descriptor in found[:MAX_REFERRERS]:
            wanted = everything or descriptor.get("artifactType") == VERDICT_ARTIFACT_TYPE
            if wanted and isinstance(descriptor.get("digest"), str):
                yield from _artifact_inputs(client, image, descriptor["digest"], budget)
        yield from _cosign_signatures(client, image, digest, budget)
        if everything:
            yield from _cosign_attestations(client, image, digest, budget)


class _Budget:
    """Bytes left to read from attached artifacts: a registry cannot make gate swap."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def take(self, size: Any, where: str) -> int:
        if not isinstance(size, int) or size < 0:
            raise RegistryError("an attached layer has no valid size", where=where)
        if size > min(self.left, MAX_ARTIFACT_BYTES):
            raise RegistryError(
                f"attached artifacts exceed the {MAX_ATTACHED_BYTES // (1024 * 1024)} MiB "
                f"budget (or one layer the {MAX_ARTIFACT_BYTES // (1024 * 1024)} MiB limit)",
                where=where,
            )
        self.left -= size
        return size


def _artifact_inputs(
    client: RegistryClient, image: RegistryImage, digest: str, budget: _Budget
) -> Iterator[tuple[InputFile, Fragment]]:
    from gate.run import normalise_data

    repository = image.ref.repository
    artifact = client.get_manifest(repository, digest)
    where = str(image.ref.with_tag(None).with_digest(digest))
    layers = artifact.document().get("layers")
    for number, layer in enumerate(layers if isinstance(layers, list) else [], start=1):
        media_type = layer.get("mediaType") if isinstance(layer, dict) else None
        if not isinstance(media_type, str) or not media_type.endswith(_JSON_SUFFIXES):
            continue
        shown = f"{where}#{number}"
        size = budget.take(layer.get("size"), shown)
        raw = client.get_blob(repository, str(layer.get("digest")), size)
        data = _recognised(raw, shown)
        if data is None:
            continue
        source = InputFile(path=shown, sha256=hashlib.sha256(raw).hexdigest(), size=len(raw))
        yield source, normalise_data(source, data)


def _cosign_signatures(
    client: RegistryClient, image: RegistryImage, digest: str, budget: _Budget
) -> Iterator[tuple[InputFile, Fragment]]:
    repository = image.ref.repository
    tag = digest.replace(":", "-", 1) + ".sig"
    if client.find_manifest(repository, tag) is None:
        return
    signatures = client.get_manifest(repository, tag)
    shown = str(image.ref.with_digest(None).with_tag(tag))
    claims: list[SignatureClaim] = []
    layers = signatures.document().get("layers")
    # Past the first MAX_SIGNATURES, a signature is left unread: one fewer can only be
    # stricter, and a flood of them cannot make gate read without end.
    for layer in (layers if isinstance(layers, list) else [])[:MAX_SIGNATURES]:
        annotations = layer.get("annotations") if isinstance(layer, dict) else None
        signature = annotations.get(COSIGN_SIGNATURE_ANNOTATION) if annotations else None
        if not isinstance(signature, str) or not isinstance(layer.get("digest"), str):
            continue
        size = budget.take(layer.get("size"), shown)
        payload = client.get_blob(repository, layer["digest"], min(size, MAX_PAYLOAD_BYTES))
        claims.append(SignatureClaim(payload=payload, signature=signature, source=shown))
    source = _input_file(shown, signatures)
    yield source, Fragment(format="cosign-signature", tool="cosign", signatures=claims)


def _recognised(raw: bytes, shown: str) -> Any:
    """``raw`` parsed, when it is a JSON document of a format gate reads; else None: anything
    else attached is not evidence here."""
    try:
        data = parse_json(raw, shown)
        return data if detect(data, shown) is not None else None
    except InputError:
        return None


def _input_file(shown: str, manifest: Manifest) -> InputFile:
    return InputFile(path=shown, sha256=manifest.digest.split(":", 1)[1], size=len(manifest.raw))


def _cosign_attestations(
    client: RegistryClient, image: RegistryImage, digest: str, budget: _Budget
) -> Iterator[tuple[InputFile, Fragment]]:
    tag = digest.replace(":", "-", 1) + ".att"
    found = client.find_manifest(image.ref.repository, tag)
    if found is not None:
        yield from _artifact_inputs(client, image, found, budget)
