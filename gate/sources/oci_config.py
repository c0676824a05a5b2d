"""OCI / Docker image config blobs (what ``crane config`` or ``skopeo inspect --config`` save).

A config's digest is the image ID: the SHA-256 of its exact bytes. It is recorded only as
the image ID, which is why the file must be saved byte-for-byte (re-indenting it changes
the hash and so the claimed ID).
"""

from __future__ import annotations

from typing import Any, ClassVar

from gate.document import Subject
from gate.inputs import InputFile
from gate.sources.base import Fragment, fail
from gate.sources.image_config import image_from_config, nonempty

# Keys of manifests and indexes, which also carry platform fields in places.
_MANIFEST_KEYS = ("mediaType", "layers", "manifests", "schemaVersion")


class ImageConfigSource:
    """An image config blob (``application/vnd.oci.image.config.v1+json`` and Docker's)."""

    format: ClassVar[str] = "image-config"
    expected_shape: ClassVar[str] = (
        '"architecture", "os" and "config" or "rootfs", without manifest keys'
    )

    def matches(self, data: Any) -> bool:
        """A config names its platform and has a ``config`` or ``rootfs``, but no manifest keys."""
        return (
            isinstance(data, dict)
            and "architecture" in data
            and "os" in data
            and ("config" in data or "rootfs" in data)
            and not any(key in data for key in _MANIFEST_KEYS)
        )

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Map the config; platform values are stored as written (buildkit writes 'unknown')."""
        if not isinstance(data, dict):
            raise fail(source, "", "expected an image config object")
        config_digest = f"sha256:{source.sha256}"
        return Fragment(
            format=self.format,
            tool="oci",
            artifact_type="container_image",
            artifact_digests=[config_digest],
            kinds=["metadata"],
            subject=Subject(image_id=config_digest),
            image=nonempty(image_from_config(data, source=source, place="")),
            authority=10,
        )
