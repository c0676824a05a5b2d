"""``docker inspect`` / ``podman inspect`` output: the image's own configuration.

The output is always a JSON array. gate gates one image, so the array must describe one:
several objects are accepted only when they all name the same image (``Id`` of an image,
``Image`` of a container). Objects whose ``Id`` is empty are placeholders, not images —
the docker CLI prints such zero-valued objects (its own golden test files hold two) — so
they are skipped when a real object is present; when every object is empty the first is
used and yields no facts.

Container inspects are accepted too: ``Config`` is then the container's configuration
(the image's plus whatever ``docker run`` overrode), and ``Created`` is when the
container was created, which is not the image's build time, so it is not used.

With Docker's containerd image store, an image's ``Id`` (and a container's ``Image``) is
the digest of the image's index or manifest, not of its config; it is then recorded as a
digest of the artifact but not claimed as the image ID.
"""

from __future__ import annotations

from typing import Any, ClassVar

from gate.inputs import InputFile
from gate.sources.base import Fragment, fail
from gate.sources.image_config import (
    digest,
    first_reference,
    image_from_inspect,
    image_id,
    nonempty,
    repo_digest,
    subject,
    unique,
)
from gate.sources.shape import at, kind, mapping, optional_string, string_list, text_at

# Keys only Podman writes (image and container inspect).
_PODMAN_KEYS = frozenset({"NamesHistory", "ManifestType", "ImageDigest", "ImageName", "OCIRuntime"})
_INSPECT_KEYS = ("Config", "RepoTags", "RootFS", "State")


class DockerInspectSource:
    """``docker inspect`` / ``docker image inspect`` / ``podman inspect`` output."""

    format: ClassVar[str] = "docker-inspect"
    expected_shape: ClassVar[str] = (
        'an array whose first object has "Id" and one of "Config", "RepoTags", "RootFS", "State"'
    )

    def matches(self, data: Any) -> bool:
        """Inspect output is an array whose first object has ``Id`` and an inspect key."""
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            return False
        first = data[0]
        return "Id" in first and any(key in first for key in _INSPECT_KEYS)

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Map the one image (or container) the array describes."""
        if not isinstance(data, list) or not data:
            raise fail(source, "", "expected a non-empty docker inspect array")
        index, obj = _one_image(data, source)
        place = at("", index)
        container = "State" in obj
        fragment = Fragment(
            format=self.format,
            tool="podman" if _PODMAN_KEYS & obj.keys() else "docker",
            # DockerVersion/Version name the Docker that BUILT the image, not the tool that
            # wrote this file, so there is no tool version to record.
            tool_version=None,
            artifact_type="container" if container else "container_image",
            kinds=["metadata"],
            authority=10,
        )
        image = image_from_inspect(obj, source=source, place=place)
        if container:
            _describe_container(fragment, obj, source, place)
            platform = _platform(obj, source, place)
            image = image.model_copy(update={"created": None, **platform})
        else:
            _describe_image(fragment, obj, source, place)
        fragment.image = nonempty(image)
        return fragment


def _one_image(objects: list[Any], source: InputFile) -> tuple[int, dict[str, Any]]:
    """Return the index and object to use, refusing arrays that hold several images."""
    real: list[tuple[int, dict[str, Any], str]] = []
    for index, obj in enumerate(objects):
        place = at("", index)
        if not isinstance(obj, dict):
            raise fail(source, place, f"expected an inspect object, got {kind(obj)}")
        if text_at(obj, "Id", source, place):
            name = "Image" if "State" in obj else "Id"
            identity = optional_string(obj.get(name), source, at(place, name)) or ""
            real.append((index, obj, identity))
    if not real:
        return 0, objects[0]
    identities = unique([identity for _, _, identity in real])
    if len(identities) > 1:
        other = next(index for index, _, identity in real if identity != real[0][2])
        raise fail(
            source,
            at("", other),
            f"docker inspect output holds {len(identities)} different images;"
            " give one image per file",
        )
    return real[0][0], real[0][1]


def _describe_image(fragment: Fragment, obj: dict[str, Any], source: InputFile, place: str) -> None:
    """Fill scan facts and subject hints from an image inspect."""
    tags = string_list(obj.get("RepoTags"), source, at(place, "RepoTags"))
    repo_digests = string_list(obj.get("RepoDigests"), source, at(place, "RepoDigests"))
    pinned = [repo_digest(entry) for entry in repo_digests]
    descriptor_place = at(place, "Descriptor")
    descriptor = mapping(obj.get("Descriptor"), source, descriptor_place)
    index_digest = digest(
        optional_string(descriptor.get("digest"), source, at(descriptor_place, "digest"))
    )
    podman_digest = digest(optional_string(obj.get("Digest"), source, at(place, "Digest")))
    own_id = image_id(optional_string(obj.get("Id"), source, at(place, "Id")))
    fragment.artifact_name = tags[0] if tags else None
    fragment.names = [*tags, *repo_digests]
    fragment.artifact_digests = unique([own_id, *pinned, index_digest, podman_digest])
    fragment.subject = subject(
        first_reference([*tags, *repo_digests]),
        digest=next((pin for pin in pinned if pin), None) or index_digest or podman_digest,
        image_id=None if own_id == index_digest else own_id,
    )


def _describe_container(
    fragment: Fragment, obj: dict[str, Any], source: InputFile, place: str
) -> None:
    """Fill scan facts and subject hints from a container inspect."""
    config = mapping(obj.get("Config"), source, at(place, "Config"))
    reference = text_at(config, "Image", source, at(place, "Config")) or text_at(
        obj, "ImageName", source, place
    )
    manifest = mapping(
        obj.get("ImageManifestDescriptor"), source, at(place, "ImageManifestDescriptor")
    )
    manifest_digest = digest(manifest.get("digest")) or digest(obj.get("ImageDigest"))
    own_image = image_id(optional_string(obj.get("Image"), source, at(place, "Image")))
    name = text_at(obj, "Name", source, place)
    fragment.artifact_name = name.lstrip("/") if name else None
    fragment.artifact_digests = unique([own_image, manifest_digest])
    fragment.subject = subject(
        first_reference([reference] if reference else []),
        digest=manifest_digest,
        # The containerd store (which writes ImageManifestDescriptor) puts the image's
        # index/manifest digest in Image, not its config digest.
        image_id=None if manifest else own_image,
    )


def _platform(obj: dict[str, Any], source: InputFile, place: str) -> dict[str, str | None]:
    """Return a container's image platform (OS, architecture, variant)."""
    descriptor_place = at(place, "ImageManifestDescriptor")
    descriptor = mapping(obj.get("ImageManifestDescriptor"), source, descriptor_place)
    platform_place = at(descriptor_place, "platform")
    platform = mapping(descriptor.get("platform"), source, platform_place)

    return {
        # Docker's top-level Platform is the container's OS ("linux").
        "os": text_at(platform, "os", source, platform_place)
        or text_at(obj, "Platform", source, place),
        "architecture": text_at(platform, "architecture", source, platform_place),
        "variant": text_at(platform, "variant", source, platform_place),
    }
