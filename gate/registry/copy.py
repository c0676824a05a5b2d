"""Promotion's write: the same manifest bytes under a new tag, with everything they reference."""

from __future__ import annotations

from typing import Any

from gate.errors import RegistryError
from gate.registry.client import INDEX_TYPES, Manifest, RegistryClient
from gate.registry.reference import is_digest

MAX_BLOB_BYTES = 16 * 1024 * 1024 * 1024
"""Largest blob copied between registries (streamed, never held in memory whole)."""
MAX_INDEX_DEPTH = 2
"""An index of indexes is the deepest anything real nests (e.g. a multi-platform attestation)."""
MAX_INDEX_ENTRIES = 1000


def copy_manifest(
    source: RegistryClient,
    source_repo: str,
    manifest: Manifest,
    target: RegistryClient,
    target_repo: str,
    tag: str,
) -> str:
    """Put ``manifest`` (unchanged bytes) under ``tag`` in ``target_repo``; its digest.

    Every blob and child manifest it references is made present first: nothing to do in
    the same repository, a cross-repository mount on the same registry (a copy when the
    mount is refused), a download and upload across registries. The tag is then read back
    and must resolve to ``manifest.digest``.
    """
    if (source.host, source_repo) != (target.host, target_repo):
        _make_content_present(source, source_repo, manifest, target, target_repo, depth=0)
    target.put_manifest(target_repo, tag, manifest.raw, manifest.media_type)
    found = target.find_manifest(target_repo, tag)
    if found != manifest.digest:
        raise RegistryError(
            f"after writing, the tag resolves to {found or 'nothing'}, not {manifest.digest}",
            where=f"registry://{target.host}/{target_repo}:{tag}",
        )
    return manifest.digest


def _make_content_present(
    source: RegistryClient,
    source_repo: str,
    manifest: Manifest,
    target: RegistryClient,
    target_repo: str,
    depth: int,
) -> None:
    document = manifest.document()
    where = f"registry://{source.host}/{source_repo}@{manifest.digest}"
    if manifest.media_type in INDEX_TYPES or "manifests" in document:
        if depth >= MAX_INDEX_DEPTH:
            raise RegistryError(f"indexes nest deeper than {MAX_INDEX_DEPTH}", where=where)
        children = _descriptors(document, "manifests", where)
        if len(children) > MAX_INDEX_ENTRIES:
            raise RegistryError(f"more than {MAX_INDEX_ENTRIES} manifests", where=where)
        for child in children:
            child_manifest = source.get_manifest(source_repo, child["digest"])
            _make_content_present(
                source, source_repo, child_manifest, target, target_repo, depth + 1
            )
            target.put_manifest(
                target_repo, child_manifest.digest, child_manifest.raw, child_manifest.media_type
            )
        return
    blobs = _descriptors(document, "config", where) + _descriptors(document, "layers", where)
    for blob in blobs:
        _copy_blob(source, source_repo, blob, target, target_repo, where)


def _copy_blob(
    source: RegistryClient,
    source_repo: str,
    blob: dict[str, Any],
    target: RegistryClient,
    target_repo: str,
    where: str,
) -> None:
    digest = blob["digest"]
    if target.has_blob(target_repo, digest):
        return
    if source.host == target.host and target.mount_blob(target_repo, digest, source_repo):
        return
    if blob["size"] > MAX_BLOB_BYTES:
        raise RegistryError(
            f"blob {digest} is {blob['size']} bytes, more than gate copies ({MAX_BLOB_BYTES})",
            where=where,
        )
    with source.stream_blob(source_repo, digest, limit=blob["size"]) as chunks:
        target.push_blob_chunks(target_repo, digest, chunks)


def _descriptors(document: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    """The descriptor(s) under ``key`` (one for ``config``), each with a digest and a size."""
    value = document.get(key)
    if value is None:
        return []
    items = [value] if key == "config" else value
    if not isinstance(items, list) or not all(
        isinstance(item, dict)
        and isinstance(item.get("digest"), str)
        and is_digest(item["digest"])
        and isinstance(item.get("size"), int)
        and not isinstance(item.get("size"), bool)
        and item["size"] >= 0
        for item in items
    ):
        raise RegistryError(f"{key} holds something that is not a descriptor", where=where)
    return list(items)
