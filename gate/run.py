"""The library entry point: settings in, document or verdict out. No click, no printing."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gate import __version__
from gate.document import SEVERITY_ORDER, Context, Document, Evidence, Scan, Subject
from gate.engines import DEFAULT_ENGINE, make_engine
from gate.errors import InputError, SourceError, UsageError
from gate.identity import spellings
from gate.inputs import MAX_INPUT_BYTES, InputFile, describe, parse_json, read_json_input
from gate.locations import Locations, with_inputs
from gate.merge import merge_fragments
from gate.policy import PolicyBundle, stage_configs
from gate.policy import load_policies as load_policy_paths
from gate.promotion import judge
from gate.reference import parse_reference
from gate.registry.reference import is_registry_input
from gate.sources import SOURCES, Fragment, detect
from gate.sources.base import accepts_forced, describe_json
from gate.verdict import (
    Counts,
    EngineInfo,
    InputInfo,
    PolicyInfo,
    Verdict,
    apply_rollout,
    collect_results,
    overridden_settings,
    relaxed_rules,
    rule_summaries,
)
from gate.waivers import Waiver, apply_waivers, load_waivers, waivers_from_document

if TYPE_CHECKING:
    from gate.baseline import GivenBaseline
    from gate.engines.opa import OpaOptions
    from gate.registry.options import RegistryOptions
    from gate.signing import TrustedKey

QUERY = "data.gate"
FALLBACK_STAGE = "prod"


@dataclass
class Settings:
    """What one run of the gate is asked to do; built by the CLI or by library callers."""

    inputs: list[str]
    stage: str | None = None
    image: str | None = None
    at: dt.datetime | None = None
    types: dict[str, str] = field(default_factory=dict)
    """Forced formats: input path → format; the key ``*`` applies to every input."""
    policies: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    waivers: str | None = None
    waivers_document: Any | None = None
    """A parsed waivers document given in memory (a server request), validated as a file
    is; used when :attr:`waivers` names no file."""
    contents: dict[str, bytes] = field(default_factory=dict)
    """Inputs given in memory (a server request): an input named here is read from these
    bytes, never opened as a path, even when a file of that name exists."""
    engine: str = DEFAULT_ENGINE
    explain: bool = False
    """Attach to each result where its rule is and the input values that made it fire."""
    timeout: float | None = None
    """Seconds evaluation may take (``--timeout``); None: ``$GATE_TIMEOUT``, else the
    data's ``gate_config.timeout_seconds``, else 300."""
    trust_keys: list[str] = field(default_factory=list)
    """Public keys (PEM) that verdict and image signatures are checked against."""
    bundle_verify_key: str | None = None
    """Public key (PEM) a ``--policy bundle.tar.gz`` must be signed with (``--verify-key``);
    None: ``$GATE_BUNDLE_VERIFY_KEY``, else bundles are not verified."""
    promotion: bool = False
    """``gate promote``: a missing previous-stage verdict blocks instead of warning."""
    platform: str = "linux/amd64"
    """The platform picked from an image index read from a registry (``--platform``)."""
    attached: bool = False
    """Also read what is attached to a registry image (SBOMs, provenance, VEX, verdicts)."""
    registry: RegistryOptions | None = None
    """TLS and trust for registries (``--registry-ca``, ``--insecure-registry``)."""
    advisory: bool = False
    """Report-only: the verdict records it and a failing one exits 0."""
    baseline: str | None = None
    """An earlier verdict to mark violations new or existing against (``--baseline``)."""
    dockerfile: str | None = None
    """The image's Dockerfile: where code-scanning outputs place results."""
    config_file: str | None = None
    """The .gate.yaml the options came from, recorded in the verdict."""
    opa: OpaOptions | None = None
    """The OPA server ``--engine opa`` asks (``--opa-url`` and friends)."""

    def evaluation_timeout(self, data: dict[str, Any]) -> float:
        """The time limit of the policy evaluation (see :attr:`timeout`)."""
        from gate.engines.isolation import resolve_timeout

        return resolve_timeout(self.timeout, data)

    def evaluation_time(self) -> dt.datetime:
        """The time policies and waivers treat as now (``--at``, else the clock), in UTC."""
        moment = self.at or dt.datetime.now(dt.UTC)
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def format_time(moment: dt.datetime) -> str:
    """RFC 3339 UTC with a ``Z`` and microseconds dropped when zero."""
    moment = moment.astimezone(dt.UTC)
    pattern = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return moment.strftime(pattern)


@dataclass
class Phases:
    """Seconds one :func:`evaluate` call spent: reading and merging the inputs (normalise),
    the engine and the results (evaluate), and the whole call (total)."""

    normalise: float = 0.0
    evaluate: float = 0.0
    total: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """The phases by name, as metrics observe them."""
        return {"normalise": self.normalise, "evaluate": self.evaluate, "total": self.total}


@contextmanager
def _timed(phases: Phases | None, name: str) -> Iterator[None]:
    # Recorded on failure too: a run that ends with no verdict still took its time.
    start = time.perf_counter()
    try:
        yield
    finally:
        if phases is not None:
            setattr(phases, name, time.perf_counter() - start)


@contextmanager
def _input_format(forced: str | None) -> Iterator[None]:
    """Name the forced format on an input error that no recognised format named."""
    try:
        yield
    except InputError as exc:
        if exc.input_format is None:
            exc.input_format = forced
        raise


def read_fragment(given: str, forced: str | None = None) -> tuple[InputFile, Fragment]:
    """Read, detect and normalise one input file."""
    with _input_format(forced):
        # The parsed file is released when this returns: only the fragment stays.
        source_file, data = read_json_input(given)
        return source_file, normalise_data(source_file, data, forced)


def content_fragment(
    name: str, raw: bytes, forced: str | None = None
) -> tuple[InputFile, Fragment]:
    """Detect and normalise an input given in memory as ``raw``, described as a file named
    ``name`` would be (its bytes' SHA-256), bounded as a file is."""
    with _input_format(forced):
        if len(raw) > MAX_INPUT_BYTES:
            raise InputError(
                f"larger than the {MAX_INPUT_BYTES // (1024 * 1024)} MiB limit", where=name
            )
        source_file = describe(name, raw)
        return source_file, parse_fragment(source_file, raw, forced)


def parse_fragment(source_file: InputFile, raw: bytes, forced: str | None = None) -> Fragment:
    """Detect (or take ``forced``) the format of ``raw`` and normalise it."""
    return normalise_data(source_file, parse_json(raw, source_file.path), forced)


def normalise_data(source_file: InputFile, data: Any, forced: str | None = None) -> Fragment:
    """Detect (or take ``forced``) the format of parsed ``data`` and normalise it."""
    if forced is not None:
        source = SOURCES.get(forced)
        if source is None:
            raise UsageError(
                f"unknown input type {forced!r}; choose from {', '.join(sorted(SOURCES))}"
            )
        if not accepts_forced(source, data):
            # Parsing a misfit would yield an empty fragment that still counts as a scan.
            raise InputError(
                f"does not look like {forced}: expected {source.expected_shape}; "
                f"found {describe_json(data)}",
                where=source_file.path,
                hint="drop --type to detect the format from the content",
            )
    else:
        found = detect(data, source_file.path)
        if found is None:
            raise InputError(
                "not a recognised report, SBOM, VEX, attestation or image metadata file",
                where=source_file.path,
                hint=f"supported: {', '.join(SOURCES)}; force one with --type FORMAT",
            )
        source = found
    try:
        fragment = source.parse(data, source_file)
    except (SourceError, InputError) as exc:
        exc.input_format = source.format
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError) as exc:
        # A source bug or a shape nobody anticipated: still never a pass, and still one line.
        failure = SourceError(
            f"cannot normalise this {source.format} file ({type(exc).__name__}: {exc})",
            where=source_file.path,
            hint="run with --debug for the traceback and report it with the file's shape",
        )
        failure.input_format = source.format
        raise failure from exc
    return fragment


@contextmanager
def _collector_paused() -> Iterator[None]:
    # Normalising builds hundreds of thousands of small, acyclic objects, and they stay alive
    # for the whole run; every cyclic-GC pass rescans all of them, which made a
    # 50,000-finding report cost 8 s instead of 4 and the engine's answer slow to read.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_document(settings: Settings, stage: str) -> Document:
    """Read every input and merge them into one :class:`Document` for ``stage``."""
    with _collector_paused():
        return _build_document(settings, stage)


def _build_document(settings: Settings, stage: str) -> Document:
    if not settings.inputs:
        raise UsageError("no input files given", hint="gate check trivy.json image-inspect.json")
    trusted = _trusted_keys(settings)
    seen: dict[str, str] = {}
    fragments: list[Fragment] = []
    files: list[InputFile] = []
    for source_file, fragment in _read_inputs(settings):
        if source_file.sha256 in seen:
            if is_registry_input(source_file.path):
                continue  # attached to the image and also given as a file: the same evidence
            raise UsageError(
                f"same content as {seen[source_file.sha256]}: each report may be given once",
                where=source_file.path,
            )
        seen[source_file.sha256] = source_file.path
        fragments.append(fragment)
        files.append(source_file)
    reference = parse_reference(settings.image) if settings.image else None
    if settings.image and reference is not None and reference.repository is None:
        raise UsageError(f"--image {settings.image!r} is not an image reference")
    sources = [f.path for f in files]
    merged = merge_fragments(fragments, reference, sources)
    evidence = merged.pop("evidence")
    from_registry = any(
        is_registry_input(path) and e.match == "defines"
        for path, e in zip(sources, evidence, strict=True)
    )
    promotion, signatures = judge(
        fragments, sources, merged["subject"], trusted, settings.promotion or from_registry
    )
    return Document(
        **merged,
        signatures=signatures,
        promotion=promotion,
        scans=[_scan(*parts) for parts in zip(files, fragments, evidence, strict=True)],
        context=Context(stage=stage, evaluated_at=format_time(settings.evaluation_time())),
    )


def _read_inputs(settings: Settings) -> Iterator[tuple[InputFile, Fragment]]:
    """Every input in the order given; what is attached to registry images comes last, so
    that a report given as a file and also attached counts once, as the file."""
    attached: list[Iterator[tuple[InputFile, Fragment]]] = []
    for given in settings.inputs:
        forced = settings.types.get(given) or settings.types.get("*")
        if given in settings.contents:
            # Checked first: a name given in memory is never a path or a registry to reach.
            yield content_fragment(given, settings.contents[given], forced)
        elif is_registry_input(given):
            from gate.registry.image import read_registry_input

            image, artifacts = read_registry_input(given, settings, forced)
            yield image
            attached.append(artifacts)
        else:
            yield read_fragment(given, forced)
    for artifacts in attached:
        yield from artifacts


def _trusted_keys(settings: Settings) -> list[TrustedKey]:
    if not settings.trust_keys:
        return []
    from gate.signing import load_trusted_keys

    return load_trusted_keys(settings.trust_keys)


def _scan(source_file: InputFile, fragment: Fragment, evidence: Evidence) -> Scan:
    return Scan(
        tool=fragment.tool,
        tool_version=fragment.tool_version,
        format=fragment.format,
        kinds=sorted(set(fragment.kinds)),
        created=fragment.created,
        artifact_name=fragment.artifact_name,
        artifact_type=fragment.artifact_type,
        artifact_digests=list(dict.fromkeys(fragment.artifact_digests)),
        database=fragment.database,
        input=source_file.path,
        input_sha256=source_file.sha256,
        finding_count=len(fragment.vulnerabilities)
        + len(fragment.secrets)
        + len(fragment.misconfigurations)
        + len(fragment.licenses),
        package_count=len(fragment.packages),
        vex_statement_count=len(fragment.vex),
        attestation_count=len(fragment.attestations),
        evidence=evidence,
    )


def stages_of(data: dict[str, Any]) -> list[str]:
    """The stages the policy data defines, laxest first (``gate_config.stage_order``)."""
    config = data.get("gate_config")
    if not isinstance(config, dict):
        return []
    order = config.get("stage_order")
    if isinstance(order, list) and all(isinstance(s, str) for s in order):
        return list(order)
    return list(stage_configs(data))


def resolve_stage(requested: str | None, data: dict[str, Any]) -> str:
    """Pick the stage: the one asked for (it must exist in the data), else the strictest.

    Forgetting ``--stage`` in CI must never make the gate laxer, so the default is the
    last stage of ``gate_config.stage_order`` (or ``prod`` when the data names none).
    """
    stages = stages_of(data)
    if requested is None:
        return stages[-1] if stages else FALLBACK_STAGE
    if stages and requested not in stages:
        raise UsageError(
            f"unknown stage {requested!r}; the policy data defines: {', '.join(stages)}"
        )
    return requested


def load_policies(settings: Settings) -> PolicyBundle:
    """Load the policies asked for, or the default pack shipped with gate."""
    return load_policy_paths(
        settings.policies, settings.data, verify_key=settings.bundle_verify_key
    )


def normalize(settings: Settings) -> Document:
    """Build the document ``gate check`` would evaluate (stage from the default pack's data)."""
    data = load_policies(settings).data
    return build_document(settings, resolve_stage(settings.stage, data))


def document_json(document: Document) -> tuple[str, str]:
    """Serialise the document for the engine and hash it.

    Returns ``(input_json, sha256)``. The hash covers everything but
    ``context.evaluated_at``, so that it identifies the evidence and stage, not the
    moment: it is the SHA-256 of the document serialised without its context, a newline
    and the stage.
    """
    # Serialised once, as bytes: pydantic writes fields in model order and the context is
    # the last, so the evidence is the bytes before it, hashed in place; a second
    # serialisation, slices and concatenations each held another copy of a document that
    # is tens of MB at 50,000 findings.
    serialised = document.__pydantic_serializer__.to_json(document)
    context = document.context.__pydantic_serializer__.to_json(document.context)
    tail = b',"context":' + context + b"}"
    if not serialised.endswith(tail):
        raise RuntimeError("the document's context is not its last field: the hash needs it")
    digest = hashlib.sha256(memoryview(serialised)[: len(serialised) - len(tail)])
    digest.update(b"}\n" + document.context.stage.encode())
    return serialised.decode(), f"sha256:{digest.hexdigest()}"


def evaluate(
    settings: Settings, *, bundle: PolicyBundle | None = None, phases: Phases | None = None
) -> Verdict:
    """Run the gate: inputs → document → policies → waivers → :class:`Verdict`.

    ``bundle``: policies already loaded (a server's), instead of loading ``settings.policies``.
    ``phases``: filled with the time each phase took, also when no verdict is given.
    Raises a :class:`gate.errors.GateError` subclass whenever no verdict can be given.
    """
    with _collector_paused(), _timed(phases, "total"):
        return _evaluate(settings, bundle or load_policies(settings), phases)


def given_waivers(settings: Settings) -> list[Waiver]:
    """The waivers of a run: the ``waivers`` file, else the in-memory document, else none."""
    if settings.waivers:
        return load_waivers(settings.waivers)
    if settings.waivers_document is not None:
        return waivers_from_document(settings.waivers_document, "request")
    return []


def _evaluate(settings: Settings, bundle: PolicyBundle, phases: Phases | None) -> Verdict:
    stage = resolve_stage(settings.stage, bundle.data)
    waivers = given_waivers(settings)
    baseline = _load_baseline(settings.baseline)
    with _timed(phases, "normalise"):
        document = build_document(settings, stage)
    with _timed(phases, "evaluate"):
        input_json, judged = Judged.of(document, keep_document=settings.explain)
        # The engine evaluates in a forked child, which starts with all the memory this
        # process holds: the document's models are several times the size of its JSON.
        del document
        if len(input_json) >= _LARGE_DOCUMENT:
            _return_freed_memory()
        return _judge(settings, bundle, stage, input_json, judged, waivers, baseline)


@dataclass(frozen=True)
class Judged:
    """What judging needs of the document once the engine has its JSON."""

    input_digest: str
    subject: Subject
    files: list[dict[str, str]]
    """``[{"path", "format", "sha256"}]`` of the scans, as the verdict records them."""
    severities: dict[str, int]
    locations: Locations
    document: Document | None
    """The document itself, only when results are explained (``--explain`` quotes it)."""

    @classmethod
    def of(cls, document: Document, *, keep_document: bool) -> tuple[str, Judged]:
        """The engine's input (:func:`document_json`) and what the verdict needs of
        ``document``."""
        input_json, input_digest = document_json(document)
        return input_json, cls(
            input_digest=input_digest,
            subject=document.subject,
            files=[
                {"path": s.input, "format": s.format, "sha256": s.input_sha256}
                for s in document.scans
            ],
            severities=_count_severities(document),
            locations=Locations(document),
            document=document if keep_document else None,
        )


_LARGE_DOCUMENT = 1024 * 1024
"""Characters of document JSON (about 1,000 findings) from which returning the memory of
the released document pays: the full collection it takes costs ~15 ms at any size."""


def _return_freed_memory() -> None:
    # What a released document leaves in the allocator's free lists keeps whole arenas
    # from being returned to the system; a full collection empties those lists (the
    # collector is paused during a run, so nothing else would).
    gc.collect()


def _judge(
    settings: Settings,
    bundle: PolicyBundle,
    stage: str,
    input_json: str,
    judged: Judged,
    waivers: list[Waiver],
    baseline: GivenBaseline | None,
) -> Verdict:
    engine = make_engine(settings.engine, opa=settings.opa, policy_digest=bundle.digest)
    tree = engine.evaluate(
        bundle.modules,
        bundle.data,
        input_json,
        QUERY,
        timeout=settings.evaluation_timeout(bundle.data),
        required_rules=("deny", "warn"),
    )
    rules = bundle.rules()
    now = settings.evaluation_time()
    results = apply_rollout(collect_results(tree, rules), rules, now)
    if judged.document is not None:
        from gate.explain import explain

        results = explain(results, judged.document, bundle)
    results = with_inputs(results, judged.locations)
    outcome = apply_waivers(results, waivers, spellings(judged.subject.names), now, rules)
    stages = stage_configs(bundle.data)
    violations = [r for r in outcome.kept if r.level == "deny"]
    warnings = [r for r in outcome.kept if r.level == "warn"] + outcome.expiry_warnings()
    compared = None
    if baseline is not None:
        compared = baseline.compare(violations, warnings, judged.subject, stages.get(stage), now)
        violations, warnings = compared.outcome.violations, compared.outcome.warnings
    return Verdict(
        decision="fail" if violations else "pass",
        stage=stage,
        subject=judged.subject,
        violations=violations,
        warnings=warnings,
        waived=outcome.waived,
        waiver_problems=outcome.problems,
        relaxed=relaxed_rules(rules, stages, bundle.stage_layers, stage),
        settings_overridden=overridden_settings(stages, bundle.stage_layers, stage),
        counts=Counts(
            violations=len(violations),
            warnings=len(warnings),
            waived=len(outcome.waived),
            waiver_problems=len(outcome.problems),
            new=compared.outcome.new if compared else None,
            existing=compared.outcome.existing if compared else None,
            vulnerabilities=judged.severities,
        ),
        policy=PolicyInfo(
            digest=bundle.digest,
            files=[{"path": path, "sha256": digest} for path, digest in bundle.files],
        ),
        input=InputInfo(sha256=judged.input_digest, files=judged.files),
        engine=EngineInfo(name=engine.name, version=engine.version()),
        gate_version=__version__,
        evaluated_at=format_time(now),
        rules=rule_summaries(rules, _stage_actions(stages, stage)),
        baseline=compared.info if compared else None,
        advisory=settings.advisory,
        dockerfile=settings.dockerfile,
        config_file=settings.config_file,
    )


def _load_baseline(path: str | None) -> GivenBaseline | None:
    if path is None:
        return None
    from gate.baseline import GivenBaseline

    return GivenBaseline.read(path)


def _stage_actions(stages: dict[str, Any], stage: str) -> dict[str, Any]:
    config = stages.get(stage)
    actions = config.get("actions") if isinstance(config, dict) else None
    return actions if isinstance(actions, dict) else {}


def _count_severities(document: Document) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(reversed(SEVERITY_ORDER), 0)
    for vuln in document.vulnerabilities:
        counts[vuln.severity] += 1
    return counts


__all__ = [
    "Phases",
    "Settings",
    "Subject",
    "build_document",
    "evaluate",
    "normalize",
    "resolve_stage",
]
