"""In-toto attestations (SLSA provenance, SBOM, VEX … statements) as a document fragment.

Four wrappings of an in-toto Statement (``_type`` ``https://in-toto.io/Statement/v0.1`` or
``/v1``, with ``subject``, ``predicateType`` and ``predicate``) are read:

* the bare statement (``envelope`` ``none``);
* a DSSE envelope (``payloadType`` ``application/vnd.in-toto+json``, base64 ``payload``,
  ``signatures``), as ``cosign download attestation`` and slsa-github-generator write it
  (``envelope`` ``dsse``);
* a Sigstore bundle (``mediaType`` ``application/vnd.dev.sigstore.bundle…`` with a
  ``dsseEnvelope``), as ``cosign attest --bundle`` and the SLSA builders write it
  (``envelope`` ``sigstore-bundle``);
* ``gcloud artifacts docker images describe --show-provenance`` output: one statement per
  ``provenance_summary.provenance[]`` entry, read from its DSSE ``envelope`` (what was
  signed) or, without one, from ``build.intotoStatement`` where Grafeas renames the
  predicate ``slsaProvenance`` / ``slsaProvenanceZeroTwo``.

The payload is decoded as base64 (standard or URL-safe alphabet, padding optional) and
parsed as JSON data, never evaluated; a payload that would decode to more than 32 MiB is
refused. ``signed`` says that the envelope carries at least one non-empty signature: it is
NOT verified, and a policy must not read it as "trusted".

Each statement becomes one :class:`~gate.document.Attestation`:

* ``kind`` from ``predicateType`` (:func:`attestation_kind`): SLSA provenance (any
  ``https://slsa.dev/provenance/`` version) → ``provenance``; SPDX (``https://spdx.dev/
  Document…``) and CycloneDX (``https://cyclonedx.org/bom…``) → ``sbom``; cosign's
  ``https://cosign.sigstore.dev/attestation/vuln/v1`` and in-toto's
  ``https://in-toto.io/attestation/vulns…`` → ``vulnerability-scan``; OpenVEX
  (``https://openvex.dev/ns…``) → ``vex``; anything else → ``other``;
* for an SBOM (SPDX or CycloneDX predicate): ``packages``, how many packages its SBOM
  lists, read by the SPDX or CycloneDX source; the packages join the inventory. An SBOM
  predicate that is not a valid SBOM document is refused like a malformed SBOM file;
* ``subjects`` as given (``{"name", "digest": {algorithm: hex}}``) and ``subject_digests``
  as ``algorithm:hex`` strings, valid digests only, without repeats;
* for provenance only: ``builder_id``, ``build_type``, ``materials`` and the source
  repository and revision, read from SLSA v0.1 (``builder.id``, ``recipe.type``,
  ``materials``, source = the ``recipe.definedInMaterial`` material), v0.2
  (``builder.id``, ``buildType``, ``materials``, source = ``invocation.configSource``) and
  v1 (``runDetails.builder.id``, ``buildDefinition.buildType``, ``resolvedDependencies``,
  source = ``externalParameters.workflow.repository`` of GitHub's workflow build type, else
  ``externalParameters.source`` / ``configSource``). When none of those names a source,
  the first git material is it: a ``git+`` URI, a ``.git`` repository URL, or a ``sha1`` /
  ``gitCommit`` digest. The repository is normalised to a plain URL (``git+`` prefix,
  ``@ref`` and ``#fragment`` suffixes and a trailing ``.git`` removed) so that builders
  that spell one repository differently agree; the revision is the commit digest
  (``sha1`` / ``gitCommit``), never a branch or tag name.

``matches_subject`` is left to the core, which knows the merged subject. The file gives
no subject hints: a statement often names several tags of one digest, or an artifact
that is not the image, and only the core can weigh that against the other inputs.

Base image: BuildKit records every image it pulled as a ``pkg:docker/…`` material. When
the file's provenance lists exactly one such image, apart from BuildKit's own tool images
(the ``docker/dockerfile`` frontends, the SBOM scanner), it is the base image: it becomes
``image.base`` (``source`` ``provenance``, name normalised like ``docker.io/library/
debian:12.5-slim``), with the lowest authority, so that labels and image metadata win.
A multi-stage build lists several images and names no base.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from urllib.parse import unquote

from gate.document import (
    Attestation,
    AttestationKind,
    BaseImage,
    Image,
    InventoryPackage,
    Material,
)
from gate.errors import InputError, SourceError
from gate.inputs import InputFile, parse_json
from gate.reference import parse_reference
from gate.sources.base import Fragment, fail, text
from gate.sources.image_config import digest, string_map, unique
from gate.sources.shape import array, at, integer, kind, mapping, text_at
from gate.sources.verdict import is_verdict_attestation

TOOL = "in-toto"
STATEMENT_PREFIX = "https://in-toto.io/Statement/"
IN_TOTO_PAYLOAD = "application/vnd.in-toto+json"
BUNDLE_PREFIX = "application/vnd.dev.sigstore.bundle"
MAX_PAYLOAD_BYTES = 32 * 1024 * 1024
"""Largest decoded DSSE payload read; real provenance is a few hundred KiB at most."""

Envelope = Literal["none", "dsse", "sigstore-bundle"]

_SPDX_PREDICATE = "https://spdx.dev/Document"
_KIND_PREFIXES: tuple[tuple[str, AttestationKind], ...] = (
    ("https://slsa.dev/provenance/", "provenance"),
    (_SPDX_PREDICATE, "sbom"),
    ("https://cyclonedx.org/bom", "sbom"),
    ("https://cosign.sigstore.dev/attestation/vuln/", "vulnerability-scan"),
    ("https://in-toto.io/attestation/vulns", "vulnerability-scan"),
    ("https://openvex.dev/ns", "vex"),
)
_MAX_ENCODED = (MAX_PAYLOAD_BYTES + 2) // 3 * 4
_URL_SAFE = str.maketrans("-_", "+/")
_COMMIT_KEYS = ("sha1", "gitCommit")
# Grafeas (gcloud) names the predicate after its type instead of ``predicate``.
_GRAFEAS_PREDICATES = ("predicate", "slsaProvenance", "slsaProvenanceZeroTwo")
_DOCKER_PURL = "pkg:docker/"
# Images BuildKit pulls to run the build itself, not to build on.
_BUILD_TOOL_IMAGES = frozenset(
    {
        "docker.io/docker/dockerfile",
        "docker.io/docker/dockerfile-upstream",
        "docker.io/docker/buildkit-syft-scanner",
    }
)


def attestation_kind(predicate_type: str | None) -> AttestationKind:
    """Classify an in-toto predicate type (see the module docstring)."""
    if predicate_type:
        for prefix, found in _KIND_PREFIXES:
            if predicate_type.startswith(prefix):
                return found
    return "other"


@dataclass(frozen=True)
class _Wrapped:
    """One statement as found in the file, with how it was wrapped."""

    statement: Any
    place: str
    envelope: Envelope
    signed: bool


class ProvenanceSource:
    """In-toto statements: bare, in a DSSE envelope, a Sigstore bundle or gcloud output."""

    format: ClassVar[str] = "in-toto"
    expected_shape: ClassVar[str] = (
        'an in-toto "_type", a DSSE "payloadType", a Sigstore bundle "mediaType" or a gcloud '
        '"provenance_summary"'
    )

    def matches(self, data: Any) -> bool:
        """Return True for one of the four shapes the module docstring lists."""
        return _shape(data) is not None

    def parse(self, data: Any, source: InputFile) -> Fragment:
        """Map every statement; raise :class:`~gate.errors.SourceError` when one is misshapen."""
        shape = _shape(data)
        if shape is None:
            raise fail(
                source,
                "",
                "not an in-toto statement, DSSE envelope, Sigstore bundle or gcloud provenance",
            )
        attestations: list[Attestation] = []
        packages: list[InventoryPackage] = []
        for found in _statements(shape, data, source):
            attestation, inventory = _attestation(found, source)
            attestations.append(attestation)
            packages += inventory
        base = _base_image(attestations)
        return Fragment(
            format=self.format,
            tool=TOOL,
            kinds=["attestation"],
            attestations=attestations,
            packages=packages,
            image=Image(base=base) if base else None,
        )


def _shape(data: Any) -> str | None:
    """Name the wrapping of ``data``, or None when it is none of those read here."""
    if not isinstance(data, dict):
        return None
    if is_verdict_attestation(data):
        return None  # gate's own verdicts: the gate-verdict source reads them
    statement_type = data.get("_type")
    if isinstance(statement_type, str) and statement_type.startswith(STATEMENT_PREFIX):
        return "statement"
    if data.get("payloadType") == IN_TOTO_PAYLOAD and "payload" in data:
        return "dsse"
    media_type = data.get("mediaType")
    if isinstance(media_type, str) and media_type.startswith(BUNDLE_PREFIX):
        return "bundle" if isinstance(data.get("dsseEnvelope"), dict) else None
    summary = data.get("provenance_summary")
    if isinstance(summary, dict) and "provenance" in summary:
        return "gcloud"
    return None


def _statements(shape: str, data: dict[str, Any], source: InputFile) -> list[_Wrapped]:
    """Unwrap the statements of a file of the given shape."""
    if shape == "statement":
        return [_Wrapped(data, "", "none", False)]
    if shape == "dsse":
        return [_unwrap(data, "", "dsse", source)]
    if shape == "bundle":
        place = "dsseEnvelope"
        return [_unwrap(mapping(data[place], source, place), place, "sigstore-bundle", source)]
    place = "provenance_summary.provenance"
    found = []
    entries = array(data["provenance_summary"]["provenance"], source, place)
    for index, raw in enumerate(entries):
        here = at(place, index)
        entry = mapping(raw, source, here)
        if entry.get("envelope") is not None:
            envelope = mapping(entry["envelope"], source, at(here, "envelope"))
            found.append(_unwrap(envelope, at(here, "envelope"), "dsse", source))
            continue
        build_place = at(here, "build")
        build = mapping(entry.get("build"), source, build_place)
        statement_place = at(build_place, "intotoStatement")
        statement = mapping(build.get("intotoStatement"), source, statement_place)
        predicate = next((statement[key] for key in _GRAFEAS_PREDICATES if key in statement), None)
        found.append(
            _Wrapped({**statement, "predicate": predicate}, statement_place, "none", False)
        )
    return found


def _unwrap(
    envelope: dict[str, Any], place: str, wrapping: Envelope, source: InputFile
) -> _Wrapped:
    """Decode the statement in a DSSE envelope found at JSON path ``place``."""
    payload_type = text_at(envelope, "payloadType", source, place)
    if payload_type != IN_TOTO_PAYLOAD:
        raise fail(
            source,
            at(place, "payloadType"),
            f"payload type {payload_type!r} is not an in-toto statement ({IN_TOTO_PAYLOAD})",
        )
    here = at(place, "payload")
    payload = envelope.get("payload")
    if not isinstance(payload, str) or not payload.strip():
        raise fail(source, here, f"expected a base64 string, got {kind(payload)}")
    if len(payload) > _MAX_ENCODED:
        raise fail(source, here, f"payload larger than {MAX_PAYLOAD_BYTES // 2**20} MiB")
    encoded = payload.strip().translate(_URL_SAFE)
    try:
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except ValueError as error:  # binascii.Error, and non-ASCII text, are ValueErrors
        raise fail(source, here, f"is not valid base64: {error}") from error
    try:
        statement = parse_json(raw, here)
    except InputError as error:
        raise fail(source, here, f"decoded payload: {error.message}") from error
    return _Wrapped(statement, f"{here}(decoded)", wrapping, _signed(envelope, place, source))


def _signed(envelope: dict[str, Any], place: str, source: InputFile) -> bool:
    """Return True when the envelope carries a non-empty signature (not verified)."""
    signatures_place = at(place, "signatures")
    signatures = []
    for index, raw in enumerate(array(envelope.get("signatures"), source, signatures_place)):
        here = at(signatures_place, index)
        signatures.append(text_at(mapping(raw, source, here), "sig", source, here))
    return any(signature is not None for signature in signatures)


def _attestation(found: _Wrapped, source: InputFile) -> tuple[Attestation, list[InventoryPackage]]:
    """Map one unwrapped statement; an SBOM statement's packages come with it."""
    place = found.place
    statement = mapping(found.statement, source, place)
    statement_type = text_at(statement, "_type", source, place)
    if not statement_type or not statement_type.startswith(STATEMENT_PREFIX):
        raise fail(
            source,
            at(place, "_type"),
            f"expected an in-toto statement type ({STATEMENT_PREFIX}…), got {statement_type!r}",
        )
    predicate_type = text_at(statement, "predicateType", source, place)
    subjects, subject_digests = _subjects(statement, source, place)
    attestation = Attestation(
        kind=attestation_kind(predicate_type),
        predicate_type=predicate_type,
        subjects=subjects,
        subject_digests=subject_digests,
        envelope=found.envelope,
        signed=found.signed,
        input=source.path,
    )
    predicate_place = at(place, "predicate")
    if attestation.kind == "sbom":
        packages = _sbom_packages(
            statement.get("predicate"), predicate_type, source, predicate_place
        )
        return attestation.model_copy(update={"packages": len(packages)}), packages
    if attestation.kind != "provenance":
        return attestation, []
    predicate = mapping(statement.get("predicate"), source, predicate_place)
    return attestation.model_copy(update=_Provenance(source).read(predicate, predicate_place)), []


def _sbom_packages(
    predicate: Any, predicate_type: str | None, source: InputFile, place: str
) -> list[InventoryPackage]:
    """The packages an SBOM predicate (SPDX or CycloneDX) lists, read by that format's source.

    An SBOM attestation proves what the image holds only through its content: the count
    is kept so that an empty one cannot pass for an SBOM.
    """
    from gate.sources.cyclonedx import CycloneDxSource
    from gate.sources.spdx import SpdxSource

    reader = (
        SpdxSource() if (predicate_type or "").startswith(_SPDX_PREDICATE) else CycloneDxSource()
    )
    try:
        return reader.parse(mapping(predicate, source, place), source).packages
    except SourceError as error:
        inner = (error.where or "").removeprefix(f"{source.path}").removeprefix(": ")
        raise SourceError(
            error.message, where=f"{source.path}: {at(place, inner) if inner else place}"
        ) from error


def _subjects(
    statement: dict[str, Any], source: InputFile, place: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """Return the statement's subjects as given and their digests as ``algorithm:hex``."""
    subjects: list[dict[str, Any]] = []
    digests: list[str | None] = []
    subject_place = at(place, "subject")
    for index, raw in enumerate(array(statement.get("subject"), source, subject_place)):
        here = at(subject_place, index)
        entry = mapping(raw, source, here)
        digest_map = string_map(entry.get("digest"), source, at(here, "digest"))
        subjects.append({"name": text_at(entry, "name", source, here), "digest": digest_map})
        digests.extend(digest(f"{algorithm}:{value}") for algorithm, value in digest_map.items())
    return subjects, unique(digests)


@dataclass(frozen=True)
class _Source:
    """Where the build's source came from."""

    repository: str | None
    revision: str | None


@dataclass(frozen=True)
class _Provenance:
    """Reads the SLSA provenance predicate of one statement (v0.1, v0.2 and v1 shapes)."""

    source: InputFile

    def read(self, predicate: dict[str, Any], place: str) -> dict[str, Any]:
        """Return the provenance fields of :class:`Attestation` found in ``predicate``."""
        if "buildDefinition" in predicate or "runDetails" in predicate:
            return self._v1(predicate, place)
        return self._v0(predicate, place)

    def _v0(self, predicate: dict[str, Any], place: str) -> dict[str, Any]:
        """SLSA v0.1 and v0.2: ``builder``, ``buildType`` / ``recipe``, ``materials``."""
        builder = self._object(predicate, "builder", place)
        recipe_place = at(place, "recipe")
        recipe = self._object(predicate, "recipe", place)
        materials_place = at(place, "materials")
        raw_materials = array(predicate.get("materials"), self.source, materials_place)
        materials = self._materials(raw_materials, materials_place)
        invocation_place = at(place, "invocation")
        invocation = self._object(predicate, "invocation", place)
        found = self._described(invocation, "configSource", invocation_place)
        defined_in = integer(
            recipe.get("definedInMaterial"), self.source, at(recipe_place, "definedInMaterial")
        )
        if found is None and defined_in is not None and 0 <= defined_in < len(materials):
            chosen = materials[defined_in]
            found = _Source(_repository(chosen.uri), _commit(chosen.digest))
        return self._fields(
            builder_id=text_at(builder, "id", self.source, at(place, "builder")),
            build_type=text_at(predicate, "buildType", self.source, place)
            or text_at(recipe, "type", self.source, recipe_place),
            found=found,
            materials=materials,
        )

    def _v1(self, predicate: dict[str, Any], place: str) -> dict[str, Any]:
        """SLSA v1: ``buildDefinition`` and ``runDetails``."""
        definition_place = at(place, "buildDefinition")
        definition = self._object(predicate, "buildDefinition", place)
        run_place = at(place, "runDetails")
        builder = self._object(self._object(predicate, "runDetails", place), "builder", run_place)
        external_place = at(definition_place, "externalParameters")
        external = self._object(definition, "externalParameters", definition_place)
        dependencies_place = at(definition_place, "resolvedDependencies")
        materials = self._materials(
            array(definition.get("resolvedDependencies"), self.source, dependencies_place),
            dependencies_place,
        )
        workflow_place = at(external_place, "workflow")
        workflow = self._object(external, "workflow", external_place)
        repository = _repository(text_at(workflow, "repository", self.source, workflow_place))
        found = None
        if repository:
            same = (m for m in materials if _repository(m.uri) == repository and _commit(m.digest))
            match = next(same, None)
            found = _Source(repository, _commit(match.digest) if match else None)
        found = (
            found
            or self._described(external, "source", external_place)
            or self._described(external, "configSource", external_place)
        )
        return self._fields(
            builder_id=text_at(builder, "id", self.source, at(run_place, "builder")),
            build_type=text_at(definition, "buildType", self.source, definition_place),
            found=found,
            materials=materials,
        )

    def _fields(
        self,
        *,
        builder_id: str | None,
        build_type: str | None,
        found: _Source | None,
        materials: list[Material],
    ) -> dict[str, Any]:
        """Assemble the fields, falling back to the first git material for the source."""
        if found is None:
            git = next((m for m in materials if _is_git(m)), None)
            found = _Source(_repository(git.uri), _commit(git.digest)) if git else None
        return {
            "builder_id": builder_id,
            "build_type": build_type,
            "source_repository": found.repository if found else None,
            "source_revision": found.revision if found else None,
            "materials": materials,
        }

    def _object(self, parent: dict[str, Any], key: str, place: str) -> dict[str, Any]:
        """Return ``parent[key]`` as an object (null or absent → ``{}``)."""
        return mapping(parent.get(key), self.source, at(place, key))

    def _described(self, parent: dict[str, Any], key: str, place: str) -> _Source | None:
        """Read a ``{uri, digest}`` source description at ``parent[key]``; None without a URI.

        BuildKit v1 and the container-based builder write these; some builders write the
        URI as a bare string.
        """
        here = at(place, key)
        value = parent.get(key)
        if isinstance(value, str):
            return _Source(_repository(value), None) if text(value) else None
        described = mapping(value, self.source, here)
        repository = _repository(text_at(described, "uri", self.source, here))
        if repository is None:
            return None
        digests = string_map(described.get("digest"), self.source, at(here, "digest"))
        return _Source(repository, _commit(digests))

    def _materials(self, entries: list[Any], place: str) -> list[Material]:
        """Map ``{uri, digest}`` entries, skipping those that name neither."""
        materials = []
        for index, raw in enumerate(entries):
            here = at(place, index)
            entry = mapping(raw, self.source, here)
            uri = text_at(entry, "uri", self.source, here)
            digests = string_map(entry.get("digest"), self.source, at(here, "digest"))
            if uri or digests:
                materials.append(Material(uri=uri, digest=digests))
        return materials


def _commit(digests: dict[str, str]) -> str | None:
    """Return the git commit among a material's digests."""
    return next((digests[key] for key in _COMMIT_KEYS if text(digests.get(key))), None)


def _is_git(material: Material) -> bool:
    """Tell a source repository material from images, files and other inputs."""
    uri = material.uri or ""
    return (
        uri.startswith("git+")
        or uri.split("#", 1)[0].endswith(".git")
        or (_commit(material.digest) is not None and not uri.startswith("pkg:"))
    )


def _repository(uri: str | None) -> str | None:
    """Normalise a repository URI: no ``git+`` prefix, ``#fragment``, ``@ref`` or ``.git``."""
    if not uri or not uri.strip():
        return None
    value = uri.strip().removeprefix("git+").split("#", 1)[0]
    scheme, separator, rest = value.partition("://")
    if separator:
        host, slash, path = rest.partition("/")
        # ``git+https://host/org/repo@refs/heads/main``: the ref follows the path's '@'.
        value = f"{scheme}://{host}{slash}{path.split('@', 1)[0]}"
    return value.rstrip("/").removesuffix(".git") or None


def _base_image(attestations: list[Attestation]) -> BaseImage | None:
    """Return the one image the provenance says the build pulled, if exactly one."""
    images: dict[str, BaseImage] = {}
    for attestation in attestations:
        if attestation.kind != "provenance":
            continue
        for material in attestation.materials:
            image = _docker_purl(material)
            if image is not None and image.name is not None:
                images.setdefault(f"{image.name}@{image.digest}", image)
    return next(iter(images.values())) if len(images) == 1 else None


def _docker_purl(material: Material) -> BaseImage | None:
    """Read a ``pkg:docker/<name>[@<version>]?digest=…`` material; None for anything else.

    BuildKit puts the registry in the name (``pkg:docker/gcr.io/distroless/static``); the
    package URL specification puts it in ``repository_url``. Both are read.
    """
    uri = material.uri or ""
    if not uri.startswith(_DOCKER_PURL):
        return None
    path, _, query = uri[len(_DOCKER_PURL) :].split("#", 1)[0].partition("?")
    name, _, version = path.partition("@")
    qualifiers = {
        unquote(key): unquote(value)
        for key, _, value in (pair.partition("=") for pair in query.split("&") if pair)
    }
    name, version = unquote(name), unquote(version)
    registry = qualifiers.get("repository_url")
    if registry and not name.startswith(f"{registry}/"):
        name = f"{registry.rstrip('/')}/{name}"
    pinned = digest(version)
    parsed = parse_reference(f"{name}:{version}" if version and not pinned else name)
    if parsed.repository is None:
        return None
    full_name = f"{parsed.registry}/{parsed.repository}"
    if full_name in _BUILD_TOOL_IMAGES:
        return None
    image_digest = (
        digest(qualifiers.get("digest"))
        or pinned
        or digest(f"sha256:{material.digest['sha256']}" if "sha256" in material.digest else None)
    )
    tag = f":{parsed.tag}" if parsed.tag else ""
    return BaseImage(name=f"{full_name}{tag}", digest=image_digest, source="provenance")
