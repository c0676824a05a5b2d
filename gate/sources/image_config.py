"""Image configuration and identity helpers shared by the image-metadata sources.

Three layouts carry the same image configuration:

* the OCI / Docker image config blob (and each Docker schema-1 ``v1Compatibility``):
  lower-case ``created``, ``architecture``, ``os``, ``variant``, ``config``,
  ``rootfs.diff_ids``;
* ``docker inspect`` / ``podman inspect``: the same facts capitalised (``Created``,
  ``Architecture``, ``Os``, ``Variant``, ``Config``, ``RootFS.Layers``) plus ``Size``;
* scanners' embedded copies of either (the Trivy source may reuse these helpers).

The inner ``config`` object (``User``, ``Env``, ``Labels``, ``ExposedPorts``,
``Entrypoint``, ``Cmd``, ``WorkingDir``, ``Healthcheck``) is spelt the same in all of them,
so one mapping serves every layout; only the top-level key names differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gate.document import BaseImage, Healthcheck, Image, Layer, Subject
from gate.inputs import InputFile
from gate.reference import parse_reference
from gate.sources.base import fail, rfc3339, text
from gate.sources.shape import (
    array,
    at,
    integer,
    kind,
    mapping,
    optional_string,
    string_array,
    string_list,
    text_at,
)

BASE_NAME_LABEL = "org.opencontainers.image.base.name"
BASE_DIGEST_LABEL = "org.opencontainers.image.base.digest"

_DIGEST = re.compile(r"^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([0-9a-f]+)$")
# Lengths for the algorithms OCI registers; other algorithms only need a plausible length.
_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_IMAGE_ID = re.compile(r"^[0-9a-f]{64}$")


def digest(value: Any) -> str | None:
    """Return ``value`` as a content digest (``sha256:<64 hex>``), or None when it is not one.

    Real reports carry redacted or truncated ids (``REDACTED``, a 51-digit "sha256");
    passing those on would make the core compare garbage across files, so they are dropped.
    """
    if not isinstance(value, str):
        return None
    match = _DIGEST.match(value.strip().lower())
    if not match:
        return None
    algorithm, hexits = match.groups()
    expected = _HEX_LENGTH.get(algorithm)
    plausible = len(hexits) == expected if expected else len(hexits) >= 32
    return match.group(0) if plausible else None


def image_id(value: Any) -> str | None:
    """Return an image id as a digest; Podman writes ids as bare 64-digit hex."""
    if isinstance(value, str) and _IMAGE_ID.match(value.strip().lower()):
        return f"sha256:{value.strip().lower()}"
    return digest(value)


def repo_digest(value: Any) -> str | None:
    """Return the digest of a ``name@sha256:…`` repo digest, or None when it has none."""
    if not isinstance(value, str) or "@" not in value:
        return None
    return digest(value.rpartition("@")[2])


def unique(values: list[str | None]) -> list[str]:
    """Return the non-empty values in first-seen order without repeats."""
    return list(dict.fromkeys(filter(None, values)))


def first_reference(candidates: list[str]) -> str | None:
    """Return the first candidate that is an image reference (has a repository).

    Digests and bare image ids are skipped: parsed as references they would pass for a
    Docker Hub repository named ``sha256``.
    """
    return next((c for c in candidates if not image_id(c) and parse_reference(c).repository), None)


def subject(reference: str | None, *, digest: str | None, image_id: str | None) -> Subject:
    """Build subject hints from a reference plus the digests the file states.

    A digest pinned in the reference itself (``name@sha256:…``) is the fallback when the
    file states none separately.
    """
    parsed = parse_reference(reference) if reference else Subject()
    return parsed.model_copy(update={"digest": digest or parsed.digest, "image_id": image_id})


def nonempty(image: Image) -> Image | None:
    """Return None for an image that states nothing, so it cannot outvote real metadata."""
    return None if image == Image() else image


def go_duration(nanoseconds: int) -> str:
    """Render nanoseconds the way Go's ``time.Duration.String`` does (``1m30s``, ``500ms``)."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    rest = abs(nanoseconds)
    if rest < 1_000:
        return f"{sign}{rest}ns"
    if rest < 1_000_000:
        return f"{sign}{_decimal(rest, 1_000)}µs"
    if rest < 1_000_000_000:
        return f"{sign}{_decimal(rest, 1_000_000)}ms"
    hours, rest = divmod(rest, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    out = sign
    if hours:
        out += f"{hours}h"
    if hours or minutes:
        out += f"{minutes}m"
    return f"{out}{_decimal(rest, 1_000_000_000)}s"


def _decimal(value: int, unit: int) -> str:
    """Write ``value / unit`` exactly, without trailing zeros (Go's duration style)."""
    whole, fraction = divmod(value, unit)
    if not fraction:
        return str(whole)
    digits = str(fraction).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def base_image(labels: dict[str, str]) -> BaseImage | None:
    """Return the base image named by OCI base labels or annotations, if any."""
    name = text(labels.get(BASE_NAME_LABEL))
    base_digest = text(labels.get(BASE_DIGEST_LABEL))
    if name is None and base_digest is None:
        return None
    return BaseImage(name=name, digest=base_digest, source="label")


def descriptor_layers(value: Any, source: InputFile, place: str) -> list[Layer]:
    """Map an array of OCI descriptors (``digest``, ``size``, ``mediaType``) to layers."""
    layers = []
    for index, raw in enumerate(array(value, source, place)):
        here = at(place, index)
        layer = mapping(raw, source, here)
        layers.append(
            Layer(
                digest=text_at(layer, "digest", source, here),
                size=integer(layer.get("size"), source, at(here, "size")),
                media_type=text_at(layer, "mediaType", source, here),
            )
        )
    return layers


def string_map(value: Any, source: InputFile, place: str) -> dict[str, str]:
    """Return an object of strings (labels, annotations); null → ``{}``."""
    result = mapping(value, source, place)
    for key, item in result.items():
        if not isinstance(item, str):
            raise fail(source, at(place, key), f"expected a string, got {kind(item)}")
    return result


def environment(value: Any, source: InputFile, place: str) -> dict[str, str]:
    """Turn ``["NAME=value", …]`` into a mapping; a bare ``NAME`` maps to ``""``.

    A later duplicate wins, as it does when the runtime builds the process environment.
    """
    result: dict[str, str] = {}
    for entry in string_array(value, source, place):
        name, _, setting = entry.partition("=")
        if name:
            result[name] = setting
    return result


def command(value: Any, source: InputFile, place: str) -> list[str] | None:
    """Return ENTRYPOINT/CMD as a list; null → None.

    Podman 3 wrote ``Entrypoint`` as one string; it is kept as a one-item list so policies
    see one shape.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    # Arguments are kept exactly: an empty string is a real (if odd) argument.
    return string_array(value, source, place)


def _duration(value: Any, source: InputFile, place: str) -> str | None:
    """Map a healthcheck duration: Go marshals ``time.Duration`` as integer nanoseconds.

    Zero means "inherit the default", which is not a duration the image states.
    """
    if isinstance(value, str):
        return text(value)
    nanoseconds = integer(value, source, place)
    return go_duration(nanoseconds) if nanoseconds else None


def healthcheck(value: Any, source: InputFile, place: str) -> Healthcheck | None:
    """Map a ``Healthcheck`` object; null and ``HEALTHCHECK NONE`` → None.

    ``["NONE"]`` is how an image switches off an inherited healthcheck, so the image has none.
    """
    check = mapping(value, source, place)
    test = string_list(check.get("Test"), source, at(place, "Test"))
    if not check or test == ["NONE"]:
        return None
    return Healthcheck(
        test=test,
        interval=_duration(check.get("Interval"), source, at(place, "Interval")),
        timeout=_duration(check.get("Timeout"), source, at(place, "Timeout")),
        retries=integer(check.get("Retries"), source, at(place, "Retries")),
    )


@dataclass(frozen=True)
class _Layout:
    """Top-level key names of one layout of the image configuration."""

    created: str
    architecture: str
    os: str
    variant: str
    config: str
    rootfs: str
    layers: str


_OCI = _Layout("created", "architecture", "os", "variant", "config", "rootfs", "diff_ids")
_INSPECT = _Layout("Created", "Architecture", "Os", "Variant", "Config", "RootFS", "Layers")


def _image(data: dict[str, Any], keys: _Layout, source: InputFile, place: str) -> Image:
    """Map one layout onto :class:`Image`."""
    config_place = at(place, keys.config)
    config = mapping(data.get(keys.config), source, config_place)
    rootfs_place = at(place, keys.rootfs)
    rootfs = mapping(data.get(keys.rootfs), source, rootfs_place)
    layers = string_list(rootfs.get(keys.layers), source, at(rootfs_place, keys.layers))
    labels = string_map(config.get("Labels"), source, at(config_place, "Labels"))
    ports = mapping(config.get("ExposedPorts"), source, at(config_place, "ExposedPorts"))

    def inner(name: str) -> tuple[Any, InputFile, str]:
        return config.get(name), source, at(config_place, name)

    created = rfc3339(text_at(data, keys.created, source, place))
    os_name = text_at(data, keys.os, source, place)
    architecture = text_at(data, keys.architecture, source, place)
    user = optional_string(*inner("User"))
    if user is None and (created or os_name or architecture or layers):
        # A real config without User runs as root (OCI omits empty fields); say so, so
        # that policies can tell "root" ("") from "no config seen" (null).
        user = ""
    return Image(
        created=created,
        user=user,
        env=environment(*inner("Env")),
        labels=labels,
        exposed_ports=sorted(ports),
        entrypoint=command(*inner("Entrypoint")),
        cmd=command(*inner("Cmd")),
        workdir=text_at(config, "WorkingDir", source, config_place),
        healthcheck=healthcheck(*inner("Healthcheck")),
        os=os_name,
        architecture=architecture,
        variant=text_at(data, keys.variant, source, place),
        layers=[Layer(digest=layer) for layer in layers],
        base=base_image(labels),
    )


def image_from_config(cfg: dict[str, Any], *, source: InputFile, place: str) -> Image:
    """Map an OCI-config-shaped object (lower-case top-level keys) onto :class:`Image`.

    ``place`` is the JSON path of ``cfg`` in the file (``""`` at the top), used in errors.
    ``container_config``, ``history`` and unknown keys are ignored: ``container_config`` is
    the build container's state, not the image's.
    """
    return _image(cfg, _OCI, source, place)


def image_from_inspect(obj: dict[str, Any], *, source: InputFile, place: str) -> Image:
    """Map one ``docker inspect`` / ``podman inspect`` image object onto :class:`Image`.

    Adds ``Size`` (0 means unknown) and Podman's top-level ``Healthcheck``, which Podman
    keeps outside the OCI config it stores.
    """
    image = _image(obj, _INSPECT, source, place)
    size = integer(obj.get("Size"), source, at(place, "Size"))
    update: dict[str, Any] = {"size": size or None}
    if image.healthcheck is None and "Healthcheck" in obj:
        update["healthcheck"] = healthcheck(obj["Healthcheck"], source, at(place, "Healthcheck"))
    return image.model_copy(update=update)


# Stereoscope source schemes (Syft's and Grype's user input syntax). Those before a
# reference are stripped; those before a path mean the input names a file, not an image.
_STEREOSCOPE_REFERENCE_SCHEMES = ("docker:", "podman:", "containerd:", "registry:")
_STEREOSCOPE_PATH_SCHEMES = (
    "docker-archive:",
    "oci-archive:",
    "oci-dir:",
    "singularity:",
    "dir:",
    "file:",
)


def stereoscope_reference(user_input: str | None) -> str | None:
    """Return a Syft/Grype user input as a reference candidate: schemes stripped, paths None."""
    if not user_input or user_input.startswith(_STEREOSCOPE_PATH_SCHEMES):
        return None
    for scheme in _STEREOSCOPE_REFERENCE_SCHEMES:
        user_input = user_input.removeprefix(scheme)
    return user_input
