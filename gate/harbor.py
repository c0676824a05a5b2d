"""Harbor: the webhook Harbor sends when a scan completes, and the one API call gate makes back.

Harbor (goharbor) POSTs a ``SCANNING_COMPLETED`` event (the webhook's "Default" payload
format) to the endpoint of a project's webhook policy, with the policy's *Auth Header* as
the ``Authorization`` header. gate checks that header against the configured secret in
constant time, reads project, repository and digest from the event, and fetches the
artifact's vulnerability report from Harbor's API (``GET /api/v2.0/projects/{project}/
repositories/{repository}/artifacts/{digest}/additions/vulnerabilities``) with a robot
account (HTTP basic authentication).

What the payload says is not trusted beyond naming an artifact: the only host ever contacted
is the configured Harbor URL (``resource_url`` and every other address in the payload are
ignored), project, repository and digest are checked against Harbor's name rules before
they go into the API path (URL-encoded; a repository's ``/`` encoded twice, as Harbor's API
requires), and the report that comes back must be a vulnerability report about that digest
and nothing else. TLS is verified (a private CA with ``ca_file``), plain http is accepted
only for a loopback Harbor, no redirect is followed, proxy variables and ``.netrc`` are not
read (urllib3 ``PoolManager``, as in :mod:`gate.registry.client`), the answer is bounded in
size and time, and the robot password never appears in a message or a repr.

A scan that did not succeed (``SCANNING_FAILED``, ``SCANNING_STOPPED``, or a
``SCANNING_COMPLETED`` whose ``scan_overview`` says anything but ``Success``) raises
:class:`HarborError`: no verdict, never a pass on a missing report.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from gate.errors import RegistryError, UsageError
from gate.registry.reference import is_loopback_host, is_repository, is_tag

if TYPE_CHECKING:
    import urllib3

USERNAME_VARIABLE = "GATE_HARBOR_USERNAME"
PASSWORD_VARIABLE = "GATE_HARBOR_PASSWORD"
WEBHOOK_SECRET_VARIABLE = "GATE_HARBOR_WEBHOOK_SECRET"

SCANNING_COMPLETED = "SCANNING_COMPLETED"
NO_VERDICT_EVENTS = frozenset({"SCANNING_FAILED", "SCANNING_STOPPED"})
"""Scans that ended without a report: answered with a no-verdict error, never a pass."""
SCAN_SUCCEEDED = "Success"

REPORT_MIME_TYPES = (
    "application/vnd.security.vulnerability.report; version=1.1",
    "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0",
)
"""The report types asked for (``X-Accept-Vulnerabilities``), newest first; gate's harbor
source reads both."""
_REPORT_MEDIA_TYPES = tuple(mime.split(";", 1)[0] for mime in REPORT_MIME_TYPES)

MAX_WEBHOOK_BYTES = 1024 * 1024
"""A scan event is a few hundred bytes; the server's request limit applies first."""
MAX_RESOURCES = 100
"""Harbor sends one resource per scan event; a hundred is already absurd."""
MAX_REPORT_BYTES = 64 * 1024 * 1024
MAX_ERROR_BODY_BYTES = 64 * 1024
MIN_SECRET_LENGTH = 16
"""A shorter webhook secret could be guessed by anyone who can reach the endpoint."""
MAX_PROJECT_LENGTH = 255
_PROJECT = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*\Z")
"""Harbor's rule for project names."""
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}\Z")
_HEADER_TEXT = re.compile(r"^[\x20-\x7e]+\Z")
_READ_CHUNK = 64 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
WEBHOOK_WHERE = "harbor webhook"


class HarborError(RegistryError):
    """Harbor's API cannot be read as asked, answers with something that is not the report
    asked for, or Harbor reports that the scan failed: no verdict (exit 3 / HTTP 422).

    Messages name the Harbor host and the artifact, never a credential.
    """


@dataclass(frozen=True)
class HarborSettings:
    """Where Harbor is and how gate talks to it; the secrets are kept out of ``repr``."""

    url: str
    """Harbor's external URL, ``https://harbor.example`` (http only for a loopback Harbor)."""
    stage: str | None = None
    """The stage webhook-triggered checks are evaluated for (None: the policy's default)."""
    username: str | None = None
    """Robot account name (``robot$project+name``): ``GATE_HARBOR_USERNAME``."""
    password: str | None = field(default=None, repr=False)
    """Robot account secret: ``GATE_HARBOR_PASSWORD``."""
    webhook_secret: str | None = field(default=None, repr=False)
    """The exact text of the webhook policy's *Auth Header* (``GATE_HARBOR_WEBHOOK_SECRET``).
    None: no request is authorised unless the server was explicitly told to run the webhook
    without one (see :func:`webhook_authorised`)."""
    ca_file: str | None = None
    """PEM CA bundle Harbor's certificate is verified against (a private CA)."""
    timeout: float = 30.0
    """Seconds to connect, and seconds the report may take to arrive."""

    def __post_init__(self) -> None:
        _check_url(self.url)
        if (self.username is None) != (self.password is None):
            raise UsageError(
                f"set both {USERNAME_VARIABLE} and {PASSWORD_VARIABLE} (a robot account), "
                "or neither",
                where="harbor",
            )
        if self.username is not None and (
            ":" in self.username or not _HEADER_TEXT.match(self.username)
        ):
            raise UsageError(
                f"{USERNAME_VARIABLE} must be printable ASCII without ':'", where="harbor"
            )
        if self.password is not None and not _HEADER_TEXT.match(self.password):
            raise UsageError(f"{PASSWORD_VARIABLE} must be printable ASCII", where="harbor")
        if self.webhook_secret is not None:
            if len(self.webhook_secret) < MIN_SECRET_LENGTH:
                raise UsageError(
                    f"{WEBHOOK_SECRET_VARIABLE} is shorter than {MIN_SECRET_LENGTH} characters",
                    where="harbor",
                    hint="use a long random value, e.g. `openssl rand -hex 32`, in Harbor's "
                    "Auth Header and here",
                )
            if not _HEADER_TEXT.match(self.webhook_secret):
                raise UsageError(
                    f"{WEBHOOK_SECRET_VARIABLE} must be printable ASCII (it is an HTTP header)",
                    where="harbor",
                )
        if not self.timeout > 0:
            raise UsageError("the Harbor timeout must be a positive number of seconds")

    @classmethod
    def from_env(
        cls,
        url: str,
        stage: str | None,
        ca_file: str | None,
        *,
        env: Mapping[str, str] | None = None,
    ) -> HarborSettings:
        """Settings with the robot account and webhook secret from the environment."""
        variables = os.environ if env is None else env
        return cls(
            url=url,
            stage=stage,
            username=variables.get(USERNAME_VARIABLE) or None,
            password=variables.get(PASSWORD_VARIABLE) or None,
            webhook_secret=variables.get(WEBHOOK_SECRET_VARIABLE) or None,
            ca_file=ca_file,
        )

    @property
    def host(self) -> str:
        """Harbor's host (and port): the registry part of the image references gate records."""
        return urlsplit(self.url).netloc.lower()

    @property
    def api_base(self) -> str:
        """The configured URL without a trailing slash: every request starts with it."""
        return self.url.rstrip("/")


def _check_url(url: str) -> None:
    shown = "harbor URL"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise UsageError("not a URL", where=shown) from None
    if "@" in parts.netloc:
        # Never echo it: the part before '@' may be a password.
        raise UsageError(
            "credentials do not go in the Harbor URL",
            where=shown,
            hint=f"set {USERNAME_VARIABLE} and {PASSWORD_VARIABLE}",
        )
    if not parts.hostname or parts.query or parts.fragment:
        raise UsageError("expected https://HOST[:PORT] (no query or fragment)", where=shown)
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback_host(parts.netloc)):
        raise UsageError(
            "Harbor is read over https only (plain http only on loopback): the robot "
            "account's password and the report would travel in clear text",
            where=shown,
        )


@dataclass(frozen=True)
class ScanEvent:
    """One artifact Harbor finished scanning; valid by construction (Harbor's name rules)."""

    project: str
    repository: str
    """The repository inside the project: ``shop/api`` of ``library/shop/api``."""
    digest: str
    tag: str | None = None

    def __post_init__(self) -> None:
        if len(self.project) > MAX_PROJECT_LENGTH or not _PROJECT.match(self.project):
            raise _bad_name("project", self.project)
        full_name = f"{self.project}/{self.repository}"
        if not self.repository or not is_repository(full_name):
            raise _bad_name("repository", self.repository)
        if not _DIGEST.match(self.digest):
            raise _bad_name("digest (expected sha256:<64 hex>)", self.digest)
        if self.tag is not None and not is_tag(self.tag):
            raise _bad_name("tag", self.tag)

    @property
    def input_name(self) -> str:
        """The name the fetched report is evaluated under: ``harbor:<project>/<repo>@<digest>``."""
        return f"harbor:{self.project}/{self.repository}@{self.digest}"

    def reference(self, harbor_host: str) -> str:
        """The image by digest: ``harbor.example/project/repo@sha256:…``."""
        return f"{harbor_host}/{self.project}/{self.repository}@{self.digest}"


def _bad_name(what: str, value: str) -> UsageError:
    return UsageError(f"not a valid Harbor {what}: {_shown(value)}", where=WEBHOOK_WHERE)


def _shown(value: object) -> str:
    from gate.output import printable

    return printable(repr(value))[:100]


def webhook_authorised(
    settings: HarborSettings, authorization: str | None, *, allow_without_secret: bool = False
) -> bool:
    """Whether a webhook request's ``Authorization`` header is the configured secret.

    Compared in constant time (of SHA-256 digests, so that not even the length leaks). With
    no secret configured nothing is authorised, unless the caller passes
    ``allow_without_secret`` — the server's explicit, documented insecure mode.
    """
    if settings.webhook_secret is None:
        return allow_without_secret
    if authorization is None:
        return False
    given = hashlib.sha256(authorization.encode("utf-8", "replace")).digest()
    expected = hashlib.sha256(settings.webhook_secret.encode("utf-8")).digest()
    return hmac.compare_digest(given, expected)


def parse_webhook(body: bytes) -> list[ScanEvent]:
    """The artifacts of a ``SCANNING_COMPLETED`` event (Harbor's Default payload format).

    Raises UsageError for a body that is not such an event (malformed, another event type,
    the CloudEvents format, a name breaking Harbor's rules) and HarborError for a scan that
    failed or was stopped: that is a no verdict, not a request to ignore.
    """
    from gate.inputs import ParseProblem, load_strict_json

    if len(body) > MAX_WEBHOOK_BYTES:
        raise UsageError(f"larger than {MAX_WEBHOOK_BYTES} bytes", where=WEBHOOK_WHERE)
    try:
        payload = load_strict_json(body.decode("utf-8"))
    except (UnicodeDecodeError, ParseProblem) as exc:
        raise UsageError(f"not JSON: {exc}", where=WEBHOOK_WHERE) from None
    if not isinstance(payload, dict):
        raise UsageError("expected a JSON object", where=WEBHOOK_WHERE)
    if "specversion" in payload:
        raise UsageError(
            "a CloudEvents payload: gate reads Harbor's Default payload format",
            where=WEBHOOK_WHERE,
            hint="set the webhook policy's Payload Format to Default",
        )
    event_type = payload.get("type")
    if event_type != SCANNING_COMPLETED and event_type not in NO_VERDICT_EVENTS:
        raise UsageError(
            f"event type {_shown(event_type)}: gate acts on {SCANNING_COMPLETED} only",
            where=WEBHOOK_WHERE,
            hint="subscribe the webhook policy to 'Scanning finished' (and 'Scanning failed')",
        )
    events, failed = _events(payload)
    if event_type in NO_VERDICT_EVENTS or failed:
        names = ", ".join(event.input_name.removeprefix("harbor:") for event in events)
        status = event_type if event_type in NO_VERDICT_EVENTS else f"scan status {failed}"
        raise HarborError(f"Harbor reports {status} for {names}: no verdict", where=WEBHOOK_WHERE)
    return events


def _events(payload: dict[str, Any]) -> tuple[list[ScanEvent], str | None]:
    """The event's artifacts, and the first scan status other than Success (None if none)."""
    data = _object(payload.get("event_data"), "event_data")
    repository = _object(data.get("repository"), "event_data.repository")
    project = _text(repository.get("namespace"), "event_data.repository.namespace")
    name = _text(repository.get("name"), "event_data.repository.name")
    full_name = repository.get("repo_full_name")
    if full_name is not None and full_name != f"{project}/{name}":
        raise UsageError(
            f"repo_full_name {_shown(full_name)} is not namespace/name "
            f"({_shown(project)}/{_shown(name)})",
            where=WEBHOOK_WHERE,
        )
    resources = data.get("resources")
    if not isinstance(resources, list) or not resources:
        raise UsageError("event_data.resources: expected a non-empty array", where=WEBHOOK_WHERE)
    if len(resources) > MAX_RESOURCES:
        raise UsageError(
            f"event_data.resources: {len(resources)} resources, more than {MAX_RESOURCES}",
            where=WEBHOOK_WHERE,
        )
    events: dict[str, ScanEvent] = {}
    failed: str | None = None
    for index, raw in enumerate(resources):
        place = f"event_data.resources[{index}]"
        resource = _object(raw, place)
        digest = _text(resource.get("digest"), f"{place}.digest")
        tag = resource.get("tag")
        if tag is not None and not isinstance(tag, str):
            raise UsageError(f"{place}.tag: expected a string", where=WEBHOOK_WHERE)
        # resource_url is deliberately never read: it names a host, and gate only talks to
        # the Harbor it was configured with.
        events.setdefault(digest, ScanEvent(project, name, digest, tag or None))
        failed = failed or _unsuccessful_status(resource.get("scan_overview"), place)
    return list(events.values()), failed


def _unsuccessful_status(overview: Any, place: str) -> str | None:
    """The first report summary's ``scan_status`` that is not Success (a failed scan)."""
    if overview is None:
        return None
    summaries = _object(overview, f"{place}.scan_overview")
    for summary in summaries.values():
        status = summary.get("scan_status") if isinstance(summary, dict) else None
        if status is not None and status != SCAN_SUCCEEDED:
            return _shown(status)
    return None


def _object(value: Any, place: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UsageError(f"{place}: expected an object", where=WEBHOOK_WHERE)
    return value


def _text(value: Any, place: str) -> str:
    if not isinstance(value, str) or not value:
        raise UsageError(f"{place}: expected a non-empty string", where=WEBHOOK_WHERE)
    return value


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


class HarborClient:
    """Reads vulnerability reports from the one configured Harbor; safe to share across threads."""

    def __init__(self, settings: HarborSettings, *, max_report_bytes: int = MAX_REPORT_BYTES):
        import urllib3

        if settings.ca_file is not None and not os.access(settings.ca_file, os.R_OK):
            raise UsageError("cannot read the CA file", where=settings.ca_file)
        self._settings = settings
        self._max_report_bytes = max_report_bytes
        # A plain PoolManager: urllib3 reads no HTTP(S)_PROXY, NO_PROXY or .netrc, so the
        # environment cannot send the robot account's password to another server.
        self._pool = urllib3.PoolManager(
            cert_reqs="CERT_REQUIRED",
            ca_certs=settings.ca_file,
            retries=False,
            timeout=urllib3.Timeout(connect=settings.timeout, read=settings.timeout),
        )

    def __repr__(self) -> str:
        return f"HarborClient({self._settings.url!r})"

    def report_url(self, event: ScanEvent) -> str:
        """The API address of ``event``'s vulnerabilities, on the configured Harbor only."""
        project = quote(event.project, safe="")
        # Harbor's API takes the repository URL-encoded twice: 'a/b' -> 'a%252Fb'.
        repository = quote(quote(event.repository, safe=""), safe="")
        digest = quote(event.digest, safe=":")
        return (
            f"{self._settings.api_base}/api/v2.0/projects/{project}/repositories/{repository}"
            f"/artifacts/{digest}/additions/vulnerabilities"
        )

    def vulnerability_report(self, event: ScanEvent) -> bytes:
        """The raw JSON Harbor's API returns for ``event``, checked to be a vulnerability
        report about ``event.digest``; HarborError otherwise."""
        where = f"harbor://{self._settings.host}/{event.project}/{event.repository}@{event.digest}"
        answer = self._get(self.report_url(event), where)
        if answer.status != 200:
            raise self._refusal(answer, where)
        encoding = answer.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding != "identity":
            raise HarborError(f"Harbor answered with a {_shown(encoding)} body", where=where)
        _check_report(answer.body, event, where)
        return answer.body

    def close(self) -> None:
        self._pool.clear()

    def _get(self, url: str, where: str) -> _Answer:
        import urllib3
        from urllib3.exceptions import (
            ConnectTimeoutError,
            NameResolutionError,
            NewConnectionError,
            ProtocolError,
            ReadTimeoutError,
            SSLError,
        )

        headers = {
            "Accept": "application/json",
            "Accept-Encoding": "identity",
            "X-Accept-Vulnerabilities": ", ".join(REPORT_MIME_TYPES),
            # A project named '42' must not be read as the project with id 42.
            "X-Is-Resource-Name": "true",
        }
        if self._settings.username is not None and self._settings.password is not None:
            pair = f"{self._settings.username}:{self._settings.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        host = self._settings.host
        deadline = time.monotonic() + self._settings.timeout
        try:
            response = self._pool.request(
                "GET",
                url,
                headers=headers,
                preload_content=False,
                decode_content=False,
                redirect=False,
            )
            try:
                limit = self._max_report_bytes if response.status == 200 else MAX_ERROR_BODY_BYTES
                body = _read_bounded(response, limit, deadline, host, where)
            except BaseException:
                response.close()  # never reuse a connection whose answer was not read through
                raise
            finally:
                response.release_conn()
        except SSLError:
            raise HarborError(
                f"TLS with {host} failed: its certificate is not trusted (or it is not TLS)",
                where=where,
                hint="give Harbor's CA certificate (PEM) as the Harbor CA file",
            ) from None
        except (NameResolutionError, NewConnectionError, ConnectTimeoutError) as exc:
            raise HarborError(
                f"cannot connect to {host} ({type(exc).__name__})", where=where
            ) from None
        except ReadTimeoutError:
            raise HarborError(
                f"{host} did not answer within {self._settings.timeout:g} s", where=where
            ) from None
        except (ProtocolError, urllib3.exceptions.HTTPError) as exc:
            raise HarborError(
                f"the request to {host} failed ({type(exc).__name__})", where=where
            ) from None
        return _Answer(response.status, urllib3.HTTPHeaderDict(response.headers), body)

    def _refusal(self, answer: _Answer, where: str) -> HarborError:
        host = self._settings.host
        if answer.status in _REDIRECT_STATUSES:
            target = urlsplit(answer.headers.get("Location", ""))
            return HarborError(
                f"{host} redirected to {_shown(target.netloc or target.path)[:80]}: gate reads "
                "the configured Harbor URL only and follows no redirect",
                where=where,
                hint="configure Harbor's external URL exactly as Harbor serves its API",
            )
        if answer.status == 401:
            if self._settings.username is None:
                return HarborError(
                    f"{host} requires authentication",
                    where=where,
                    hint=f"set {USERNAME_VARIABLE} and {PASSWORD_VARIABLE} to a robot account",
                )
            return HarborError(
                f"{host} refused the robot account {_shown(self._settings.username)}",
                where=where,
            )
        if answer.status == 403:
            return HarborError(
                f"{host} does not let {_shown(self._settings.username)} read this artifact",
                where=where,
                hint="give the robot account the 'read artifact' and 'read scan' permissions",
            )
        if answer.status == 404:
            return HarborError(f"{host} has no such artifact", where=where)
        return HarborError(f"{host} answered HTTP {answer.status}", where=where)


def _read_bounded(
    response: urllib3.BaseHTTPResponse, limit: int, deadline: float, host: str, where: str
) -> bytes:
    """At most ``limit`` bytes, all of them before ``deadline`` (a trickling server is cut)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HarborError(f"{host} sent more than {limit} bytes", where=where)
    chunks: list[bytes] = []
    received = 0
    while chunk := response.read1(_READ_CHUNK):
        received += len(chunk)
        if received > limit:
            raise HarborError(f"{host} sent more than {limit} bytes", where=where)
        if time.monotonic() > deadline:
            raise HarborError(f"{host} took too long to send the report", where=where)
        chunks.append(chunk)
    return b"".join(chunks)


def _check_report(body: bytes, event: ScanEvent, where: str) -> None:
    """Refuse an answer that is not one vulnerability report gate reads, about ``event.digest``."""
    from gate.inputs import ParseProblem, load_strict_json
    from gate.sources import detect
    from gate.sources.harbor import HarborSource

    try:
        document = load_strict_json(body.decode("utf-8"))
    except (UnicodeDecodeError, ParseProblem):
        raise HarborError("Harbor's answer is not JSON", where=where) from None
    if document == {}:
        raise HarborError(
            "Harbor has no vulnerability report for this artifact",
            where=where,
            hint="the scan may have been removed, or made by a scanner whose report type is "
            "neither of " + ", ".join(_REPORT_MEDIA_TYPES),
        )
    keys = list(document) if isinstance(document, dict) else []
    if len(keys) != 1 or keys[0].split(";", 1)[0].strip() not in _REPORT_MEDIA_TYPES:
        raise HarborError("Harbor's answer is not one vulnerability report", where=where)
    report = document[keys[0]]
    # Stricter than the source's detection, which takes any object under the MIME key: an
    # empty one would read as a clean scan.
    complete = (
        isinstance(report, dict)
        and isinstance(report.get("scanner"), dict)
        and isinstance(report.get("generated_at"), str)
        and isinstance(report.get("vulnerabilities"), list)
    )
    if not complete or not isinstance(detect(document, where), HarborSource):
        raise HarborError(
            "Harbor's answer is not a vulnerability report gate reads (a scanner, "
            "generated_at and a vulnerabilities array)",
            where=where,
        )
    others = sorted(_named_digests(report, where) - {event.digest})
    if others:
        raise HarborError(
            f"Harbor answered with a report about {_shown(others[0])}, not {event.digest}",
            where=where,
            hint="an image index's report names its platform images: gate judges one "
            "image manifest per event",
        )


def _named_digests(report: dict[str, Any], where: str) -> set[str]:
    """Every digest the report says it is about (the artifact, each finding's artifacts)."""
    named: set[str] = set()
    artifact = report.get("artifact")
    if isinstance(artifact, dict) and artifact.get("digest") is not None:
        named.add(_digest_text(artifact["digest"], where))
    vulnerabilities = report.get("vulnerabilities")
    for finding in vulnerabilities if isinstance(vulnerabilities, list) else []:
        if not isinstance(finding, dict):
            continue  # the source refuses it with its place when the report is parsed
        if finding.get("artifact_digest"):  # Harbor before 2.8 names one
            named.add(_digest_text(finding["artifact_digest"], where))
        listed = finding.get("artifact_digests")
        if listed is not None and not isinstance(listed, list):
            raise HarborError("a finding's artifact_digests is not a list", where=where)
        named.update(_digest_text(digest, where) for digest in listed or [])
    return named


def _digest_text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise HarborError(
            f"the report names a digest that is not a string: {_shown(value)}", where=where
        )
    return value
