"""A small, strict client for the OCI distribution API.

Strict where a gate must be: manifests are kept as the exact bytes the registry sent (their
digest is computed here, never taken from the registry's word), every blob is checked against
its digest, every read is bounded, credentials go only to the registry's own host, and every
failure is a :class:`gate.errors.RegistryError` naming the registry — never a secret.

Built on urllib3 directly (not oras-py, which re-serialises manifests and so changes their
digests). A plain ``PoolManager`` is used on purpose: urllib3 does not read ``HTTP(S)_PROXY``,
``NO_PROXY`` or ``.netrc``, so a gate cannot be pointed at another server by its environment.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    InsecureRequestWarning,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from gate.errors import RegistryError, UsageError
from gate.registry.auth import PASSWORD_VARIABLE, USERNAME_VARIABLE, Credential, find_credential
from gate.registry.options import RegistryOptions as RegistryOptions
from gate.registry.reference import is_digest, is_loopback_host

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES: tuple[str, ...] = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})

MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_SMALL_RESPONSE_BYTES = 256 * 1024
"""Error bodies, token answers, upload answers: nothing there is legitimately larger."""
MAX_TAG_PAGES = 100
MAX_REDIRECTS = 3
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_TOKEN = re.compile(r"^[\x21-\x7e]+\Z")
_CHALLENGE_PARAMETER = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')
_NEXT_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')
_READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Manifest:
    """A manifest exactly as the registry served it."""

    raw: bytes
    media_type: str
    """From the Content-Type header, else the document's own ``mediaType``."""
    digest: str
    """``sha256:`` of ``raw``, always computed here."""

    def document(self) -> dict[str, Any]:
        """The manifest parsed as strict JSON (duplicate keys, NaN… refused)."""
        from gate.inputs import ParseProblem, load_strict_json

        try:
            document = load_strict_json(self.raw.decode("utf-8"))
        except (UnicodeDecodeError, ParseProblem) as exc:
            problem = f"the manifest is not valid JSON: {exc}"
            raise RegistryError(problem, where=self.digest) from None
        if not isinstance(document, dict):
            raise RegistryError("the manifest is not a JSON object", where=self.digest)
        return document


@dataclass(frozen=True)
class PutResult:
    digest: str
    subject_acknowledged: bool
    """The registry answered ``OCI-Subject``: it indexes referrers itself (OCI 1.1 API)."""


@dataclass(frozen=True)
class _Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    stream: urllib3.BaseHTTPResponse | None = None
    """With ``stream=True`` and a 200 answer: the unread body (the caller releases it)."""


class _TLSFailure(RegistryError):
    """A TLS handshake failed (a loopback or insecure registry may still speak plain HTTP)."""


class _Unreachable(RegistryError):
    """No connection could be made or kept."""


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def digest_matches(data: bytes, digest: str) -> bool:
    algorithm, _, expected = digest.partition(":")
    if algorithm not in ("sha256", "sha512"):
        return False
    return hashlib.new(algorithm, data).hexdigest() == expected


class RegistryClient:
    """One registry host; reads and writes manifests, blobs, tags and referrers."""

    def __init__(self, host: str, options: RegistryOptions | None = None) -> None:
        self.host = host.lower()
        self._options = options or RegistryOptions()
        if self._options.ca_file is not None and not os.access(self._options.ca_file, os.R_OK):
            raise UsageError("cannot read the CA file", where=self._options.ca_file)
        self._insecure = self.host in {h.lower() for h in self._options.insecure_hosts}
        timeout = urllib3.Timeout(connect=self._options.timeout, read=self._options.timeout)
        self._verified_pool = urllib3.PoolManager(
            cert_reqs="CERT_REQUIRED",
            ca_certs=self._options.ca_file,
            retries=False,
            timeout=timeout,
        )
        self._unverified_pool = urllib3.PoolManager(
            cert_reqs="CERT_NONE", assert_hostname=False, retries=False, timeout=timeout
        )
        self._base: str | None = None
        self._credentials: dict[str, Credential | None] = {}
        self._authorizations: dict[str, str] = {}
        self._basic_authorization: str | None = None

    def __repr__(self) -> str:
        return f"RegistryClient({self.host!r})"

    # --- manifests ---------------------------------------------------------------------

    def get_manifest(
        self, repository: str, reference: str, accept: Sequence[str] = MANIFEST_TYPES
    ) -> Manifest:
        """The manifest under a tag or digest; its bytes are checked against the digest."""
        manifest = self._fetch_manifest(repository, reference, accept)
        if manifest is None:
            raise RegistryError(
                f"{repository}{_joined(reference)} not found in {self.host}",
                where=self._where(repository, reference),
            )
        return manifest

    def find_manifest(self, repository: str, reference: str) -> str | None:
        """The digest a tag (or digest) resolves to, None when there is nothing under it.

        Read with GET and hashed here rather than trusting a HEAD's ``Docker-Content-Digest``:
        this is how promotion verifies what it wrote, so it must not be the registry's word.
        """
        manifest = self._fetch_manifest(repository, reference, MANIFEST_TYPES)
        return None if manifest is None else manifest.digest

    def _fetch_manifest(
        self, repository: str, reference: str, accept: Sequence[str]
    ) -> Manifest | None:
        where = self._where(repository, reference)
        response = self._request(
            "GET",
            f"/v2/{repository}/manifests/{reference}",
            repository=repository,
            headers={"Accept": ", ".join(accept)},
            limit=MAX_MANIFEST_BYTES,
            where=where,
        )
        if response.status == 404:
            return None
        self._expect(response, (200,), "reading the manifest", where)
        raw = response.body
        digest = sha256_digest(raw)
        if is_digest(reference) and not digest_matches(raw, reference):
            raise RegistryError(
                f"registry returned content that does not match {reference}", where=where
            )
        claimed = response.headers.get("Docker-Content-Digest")
        if claimed and claimed.startswith("sha256:") and claimed != digest:
            raise RegistryError(
                f"registry says the manifest is {_short(claimed)} but its content is {digest}",
                where=where,
            )
        media_type = _media_type(response.headers.get("Content-Type"))
        if media_type not in MANIFEST_TYPES:
            media_type = _document_media_type(raw) or media_type
        return Manifest(raw=raw, media_type=media_type, digest=digest)

    def put_manifest(
        self, repository: str, reference: str, raw: bytes, media_type: str
    ) -> PutResult:
        """Put ``raw`` unchanged under a tag or digest."""
        where = self._where(repository, reference)
        digest = sha256_digest(raw)
        if is_digest(reference) and not digest_matches(raw, reference):
            raise RegistryError(f"the manifest is {digest}, not {reference}", where=where)
        response = self._request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            repository=repository,
            push=True,
            headers={"Content-Type": media_type},
            body=raw,
            where=where,
        )
        self._expect(response, (200, 201), "writing the manifest", where)
        claimed = response.headers.get("Docker-Content-Digest")
        if claimed and claimed.startswith("sha256:") and claimed != digest:
            raise RegistryError(
                f"registry stored the manifest as {_short(claimed)}, but it is {digest}",
                where=where,
            )
        return PutResult(digest=digest, subject_acknowledged="OCI-Subject" in response.headers)

    # --- blobs -------------------------------------------------------------------------

    def get_blob(self, repository: str, digest: str, limit: int) -> bytes:
        """The blob's bytes (at most ``limit``), checked against ``digest``."""
        where = self._where(repository, digest)
        _require_digest(digest, where)
        response = self._get_following_redirects(
            f"/v2/{repository}/blobs/{digest}", repository, limit, where
        )
        if response.status == 404:
            raise RegistryError(f"blob {digest} not found in {self.host}", where=where)
        self._expect(response, (200,), "reading the blob", where)
        if not digest_matches(response.body, digest):
            raise RegistryError(
                f"registry returned content that does not match {digest}", where=where
            )
        return response.body

    @contextmanager
    def stream_blob(self, repository: str, digest: str, limit: int) -> Iterator[Iterator[bytes]]:
        """The blob as chunks, never held whole: for copying large layers between registries.

        The chunks are counted and hashed as they pass; more than ``limit`` bytes, or content
        that does not match ``digest`` at the end, raises RegistryError from the iteration
        (so an upload fed by it is aborted before it completes).
        """
        where = self._where(repository, digest)
        _require_digest(digest, where)
        response = self._get_following_redirects(
            f"/v2/{repository}/blobs/{digest}", repository, limit, where, stream=True
        )
        if response.status == 404:
            raise RegistryError(f"blob {digest} not found in {self.host}", where=where)
        self._expect(response, (200,), "reading the blob", where)
        assert response.stream is not None
        try:
            yield _verified_chunks(response.stream, digest, limit, self.host, where)
        finally:
            response.stream.release_conn()

    def has_blob(self, repository: str, digest: str) -> bool:
        where = self._where(repository, digest)
        _require_digest(digest, where)
        response = self._request(
            "HEAD", f"/v2/{repository}/blobs/{digest}", repository=repository, where=where
        )
        if response.status == 404:
            return False
        self._expect(response, (200, *_REDIRECT_STATUSES), "looking up the blob", where)
        return True

    def push_blob(self, repository: str, data: bytes) -> str:
        """Upload ``data`` (one monolithic upload) unless the repository has it; its digest."""
        return self.push_blob_chunks(repository, sha256_digest(data), data)

    def push_blob_chunks(self, repository: str, digest: str, data: bytes | Iterable[bytes]) -> str:
        """Upload the blob ``digest`` from bytes or chunks (streamed) unless it is present.

        The registry checks the content against ``digest`` before storing it; a chunk source
        that raises (see :meth:`stream_blob`) aborts the upload, so nothing is stored.
        """
        where = self._where(repository, digest)
        _require_digest(digest, where)
        if self.has_blob(repository, digest):
            return digest
        status, location = self._start_upload(repository, {}, where)
        if status != 202 or location is None:
            raise RegistryError("the registry did not start an upload", where=where)
        separator = "&" if urlsplit(location).query else "?"
        response = self._request(
            "PUT",
            f"{location}{separator}{urlencode({'digest': digest})}",
            repository=repository,
            push=True,
            headers={"Content-Type": "application/octet-stream"},
            body=data,
            where=where,
        )
        self._expect(response, (201,), "uploading the blob", where)
        claimed = response.headers.get("Docker-Content-Digest")
        if claimed and claimed != digest:
            raise RegistryError(f"registry stored the blob as {_short(claimed)}", where=where)
        return digest

    def mount_blob(self, repository: str, digest: str, from_repository: str) -> bool:
        """Mount a blob from another repository of this registry; False when refused."""
        where = self._where(repository, digest)
        _require_digest(digest, where)
        status, location = self._start_upload(
            repository, {"mount": digest, "from": from_repository}, where, from_repository
        )
        if status == 201:
            return True
        if location is not None:
            # The registry opened an upload instead of mounting: close it, the caller copies.
            self._request("DELETE", location, repository=repository, push=True, where=where)
        return False

    def _start_upload(
        self,
        repository: str,
        query: dict[str, str],
        where: str,
        from_repository: str | None = None,
    ) -> tuple[int, str | None]:
        """POST an upload; (201, None) when a mount was done, else (202, Location)."""
        suffix = f"?{urlencode(query)}" if query else ""
        response = self._request(
            "POST",
            f"/v2/{repository}/blobs/uploads/{suffix}",
            repository=repository,
            push=True,
            also_pull=from_repository,
            where=where,
        )
        if response.status == 201 and from_repository is not None:
            return 201, None
        self._expect(response, (202,), "starting an upload", where)
        location = response.headers.get("Location")
        if not location:
            raise RegistryError("the registry started an upload without a Location", where=where)
        return 202, self._same_registry_url(location, response.url, where)

    # --- tags and referrers ------------------------------------------------------------

    def tags(self, repository: str) -> list[str]:
        """Every tag of the repository (following ``Link`` pages, at most MAX_TAG_PAGES)."""
        where = self._where(repository, None)
        found: list[str] = []
        url: str | None = f"/v2/{repository}/tags/list"
        for _ in range(MAX_TAG_PAGES):
            if url is None:
                return found
            response = self._request(
                "GET", url, repository=repository, limit=MAX_MANIFEST_BYTES, where=where
            )
            if response.status == 404:
                return found
            self._expect(response, (200,), "listing tags", where)
            page = _json_object(response.body, "the tag list", where)
            tags = page.get("tags") or []
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise RegistryError("the tag list is not a list of strings", where=where)
            found.extend(tags)
            link = _NEXT_LINK.search(response.headers.get("Link", ""))
            url = self._same_registry_url(link.group(1), response.url, where) if link else None
        if url is not None:
            raise RegistryError(f"more than {MAX_TAG_PAGES} pages of tags", where=where)
        return found

    def referrers(
        self, repository: str, digest: str, artifact_type: str | None = None
    ) -> list[dict[str, Any]]:
        """Descriptors of the manifests whose ``subject`` is ``digest`` (OCI 1.1).

        The referrers API when the registry has it; else the ``sha256-<hex>`` tag schema.
        Filtered by ``artifact_type`` here too: a registry may ignore the filter.
        """
        where = self._where(repository, digest)
        _require_digest(digest, where)
        query = f"?{urlencode({'artifactType': artifact_type})}" if artifact_type else ""
        response = self._request(
            "GET",
            f"/v2/{repository}/referrers/{digest}{query}",
            repository=repository,
            headers={"Accept": OCI_INDEX},
            limit=MAX_MANIFEST_BYTES,
            where=where,
        )
        if response.status in (400, 404, 405):
            index = self._fetch_manifest(repository, fallback_tag(digest), (OCI_INDEX,))
            if index is None:
                return []
            body, index_where = index.raw, self._where(repository, fallback_tag(digest))
        else:
            self._expect(response, (200,), "listing referrers", where)
            body, index_where = response.body, where
        descriptors = _index_descriptors(_json_object(body, "the referrers index", index_where))
        if artifact_type is None:
            return descriptors
        return [d for d in descriptors if d.get("artifactType") == artifact_type]

    def attach(self, repository: str, raw: bytes, media_type: str, subject_digest: str) -> str:
        """Push a manifest whose ``subject`` is ``subject_digest``; make it discoverable.

        Without a referrers API (no ``OCI-Subject`` answer) its descriptor is added to the
        ``sha256-<hex>`` index tag, keeping the entries already there. That read-modify-write
        is not atomic: two attaches to one digest at the same moment may lose one entry.
        """
        digest = sha256_digest(raw)
        where = self._where(repository, digest)
        manifest = Manifest(raw=raw, media_type=media_type, digest=digest)
        document = manifest.document()
        subject = document.get("subject")
        if not isinstance(subject, dict) or subject.get("digest") != subject_digest:
            raise RegistryError(f"the manifest's subject is not {subject_digest}", where=where)
        result = self.put_manifest(repository, digest, raw, media_type)
        if result.subject_acknowledged:
            return digest
        tag = fallback_tag(subject_digest)
        existing = self._fetch_manifest(repository, tag, (OCI_INDEX,))
        index: dict[str, Any] = (
            existing.document()
            if existing is not None
            else {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
        )
        entries = _index_descriptors(index)
        if not any(entry.get("digest") == digest for entry in entries):
            entries.append(_descriptor_of(manifest, document))
        index["manifests"] = entries
        self.put_manifest(repository, tag, _canonical_json(index), OCI_INDEX)
        return digest

    # --- HTTP --------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path_or_url: str,
        *,
        repository: str,
        where: str,
        push: bool = False,
        also_pull: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | Iterable[bytes] | None = None,
        limit: int = MAX_SMALL_RESPONSE_BYTES,
        stream: bool = False,
    ) -> _Response:
        """One request to this registry, answering an authentication challenge once."""
        url = urljoin(self._base_url() + "/", path_or_url)
        scopes = [f"repository:{repository}:{'pull,push' if push else 'pull'}"]
        if also_pull and also_pull != repository:
            scopes.append(f"repository:{also_pull}:pull")
        scope_key = " ".join(scopes)
        sent = dict(headers or {})
        authorization = self._authorizations.get(scope_key) or self._basic_authorization
        if authorization:
            sent["Authorization"] = authorization
        response = self._send(method, url, sent, body, limit, where, stream)
        if response.status != 401:
            return response
        credential = self._credential(repository)
        if body is not None and not isinstance(body, bytes):
            # Chunks already sent cannot be sent again; the upload's POST had authenticated.
            raise self._refused(credential, where)
        authorization = self._answer_challenge(response, scopes, credential, where)
        self._authorizations[scope_key] = authorization
        sent["Authorization"] = authorization
        response = self._send(method, url, sent, body, limit, where, stream)
        if response.status == 401:
            raise self._refused(credential, where)
        return response

    def _answer_challenge(
        self,
        response: _Response,
        scopes: list[str],
        credential: Credential | None,
        where: str,
    ) -> str:
        challenge = response.headers.get("WWW-Authenticate", "")
        scheme, _, parameters = challenge.strip().partition(" ")
        if scheme.lower() == "basic":
            if credential is None:
                raise self._refused(None, where)
            self._basic_authorization = _basic(credential)
            return self._basic_authorization
        if scheme.lower() == "bearer":
            values = {
                match.group(1).lower(): match.group(2)
                if match.group(2) is not None
                else match.group(3)
                for match in _CHALLENGE_PARAMETER.finditer(parameters)
            }
            return "Bearer " + self._fetch_token(values, scopes, credential, where)
        raise RegistryError(
            f"{self.host} asks for an unsupported authentication scheme "
            f"{_printable(scheme) or '(none)'}",
            where=where,
        )

    def _fetch_token(
        self,
        challenge: dict[str, str],
        scopes: list[str],
        credential: Credential | None,
        where: str,
    ) -> str:
        realm = challenge.get("realm", "")
        parts = urlsplit(realm)
        clear_text_allowed = is_loopback_host(self.host) and is_loopback_host(parts.netloc)
        if parts.scheme != "https" and not (parts.scheme == "http" and clear_text_allowed):
            raise RegistryError(
                f"{self.host} sends clients for tokens to {_printable(realm)[:200]!r}: "
                "gate only asks an https token service (credentials would travel in clear text)",
                where=where,
            )
        query: list[tuple[str, str]] = [("scope", scope) for scope in scopes]
        if challenge.get("service"):
            query.insert(0, ("service", challenge["service"]))
        separator = "&" if parts.query else "?"
        headers = {"Authorization": _basic(credential)} if credential else {}
        response = self._send(
            "GET",
            f"{realm}{separator}{urlencode(query)}",
            headers,
            None,
            MAX_SMALL_RESPONSE_BYTES,
            where,
        )
        if response.status in (401, 403):
            raise self._refused(credential, where)
        self._expect(response, (200,), "getting a token", where)
        answer = _json_object(response.body, "the token answer", where)
        token = answer.get("token") or answer.get("access_token")
        if not isinstance(token, str) or not _TOKEN.match(token):
            raise RegistryError("the token service answered without a usable token", where=where)
        return token

    def _refused(self, credential: Credential | None, where: str) -> RegistryError:
        if credential is None:
            return RegistryError(
                f"{self.host} requires authentication",
                where=where,
                hint=f"set {USERNAME_VARIABLE}/{PASSWORD_VARIABLE}, "
                f"or run docker login {self.host}",
            )
        return RegistryError(
            f"{self.host} refused the credentials from {credential.origin}", where=where
        )

    def _credential(self, repository: str) -> Credential | None:
        if repository not in self._credentials:
            self._credentials[repository] = find_credential(
                self.host, repository, self._options.env
            )
        return self._credentials[repository]

    def _get_following_redirects(
        self, path: str, repository: str, limit: int, where: str, stream: bool = False
    ) -> _Response:
        """GET a blob, following at most MAX_REDIRECTS redirects (registries send blobs to storage).

        Authorization goes only to the registry's own origin; a redirect elsewhere is
        followed anonymously (the storage URL carries its own signature), and only over
        https unless it stays on loopback.
        """
        response = self._request(
            "GET", path, repository=repository, limit=limit, where=where, stream=stream
        )
        for _ in range(MAX_REDIRECTS):
            if response.status not in _REDIRECT_STATUSES:
                return response
            target = urljoin(response.url, response.headers.get("Location", ""))
            parts = urlsplit(target)
            if parts.scheme != "https" and not (
                parts.scheme == "http" and is_loopback_host(parts.netloc)
            ):
                raise RegistryError(
                    f"the registry redirected to a non-https address ({parts.scheme or 'none'}://"
                    f"{_printable(parts.netloc)})",
                    where=where,
                )
            if _origin(target) == _origin(self._base_url()):
                response = self._request(
                    "GET", target, repository=repository, limit=limit, where=where, stream=stream
                )
            else:
                response = self._send("GET", target, {}, None, limit, where, stream)
        if response.status in _REDIRECT_STATUSES:
            raise RegistryError(f"more than {MAX_REDIRECTS} redirects", where=where)
        return response

    def _same_registry_url(self, location: str, answered_url: str, where: str) -> str:
        """Resolve a Location/Link against the answer; it must stay on this registry."""
        resolved = urljoin(answered_url, location)
        if _origin(resolved) != _origin(self._base_url()):
            raise RegistryError(
                f"the registry pointed to another host ({_printable(urlsplit(resolved).netloc)})",
                where=where,
            )
        return resolved

    def _base_url(self) -> str:
        if self._base is None:
            self._base = self._choose_scheme()
        return self._base

    def _choose_scheme(self) -> str:
        """https; plain http only for loopback (as Docker allows) and --insecure-registry hosts."""
        where = self.host
        https = f"https://{self.host}"
        try:
            self._send("GET", f"{https}/v2/", {}, None, MAX_SMALL_RESPONSE_BYTES, where)
            return https
        except (_TLSFailure, _Unreachable) as failure:
            # A plain-HTTP port answers a TLS hello with garbage (a TLS error) or a reset.
            if not (is_loopback_host(self.host) or self._insecure):
                raise
            http = f"http://{self.host}"
            try:
                answer = self._send("GET", f"{http}/v2/", {}, None, MAX_SMALL_RESPONSE_BYTES, where)
            except RegistryError:
                raise failure from None
            if answer.status not in (200, 401):
                raise failure from None
            return http

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | Iterable[bytes] | None,
        limit: int,
        where: str,
        stream: bool = False,
    ) -> _Response:
        """One HTTP exchange, no redirects, body read up to ``limit`` bytes.

        With ``stream``, a 200 answer's body is left unread in ``_Response.stream``.
        """
        host = urlsplit(url).netloc.lower()
        unverified = host == self.host and self._insecure
        pool = self._unverified_pool if unverified else self._verified_pool
        with warnings.catch_warnings():
            if unverified:
                warnings.simplefilter("ignore", InsecureRequestWarning)
            try:
                answer = pool.request(
                    method,
                    url,
                    headers=dict(headers),
                    body=body,
                    chunked=body is not None and not isinstance(body, bytes),
                    preload_content=False,
                    decode_content=False,
                    redirect=False,
                )
            except SSLError as exc:
                raise _TLSFailure(
                    f"TLS with {host} failed: {_tls_reason(exc)}",
                    where=where,
                    hint=f"give its CA with --registry-ca FILE, or (not for production) "
                    f"--insecure-registry {host}",
                ) from None
            except (NameResolutionError, ConnectTimeoutError, NewConnectionError) as exc:
                raise _Unreachable(
                    f"cannot connect to {host}: {_connect_reason(exc)}", where=where
                ) from None
            except (ReadTimeoutError, ProtocolError) as exc:
                raise _Unreachable(
                    f"the connection to {host} failed: {type(exc).__name__}", where=where
                ) from None
            except urllib3.exceptions.HTTPError as exc:
                raise _Unreachable(
                    f"the request to {host} failed: {type(exc).__name__}", where=where
                ) from None
        headers_received = urllib3.HTTPHeaderDict(answer.headers)  # case-insensitive names
        if stream and answer.status == 200:
            declared = answer.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                answer.close()
                answer.release_conn()
                raise RegistryError(f"{host} sent more than {limit} bytes", where=where)
            return _Response(answer.status, headers_received, b"", url, stream=answer)
        try:
            content = _read_bounded(answer, method, limit, host, where)
        finally:
            answer.release_conn()
        return _Response(answer.status, headers_received, content, url)

    def _expect(self, response: _Response, statuses: Sequence[int], doing: str, where: str) -> None:
        if response.status in statuses:
            return
        says = _registry_says(response.body)
        raise RegistryError(
            f"{doing} failed: {self.host} answered HTTP {response.status}"
            + (f": {says}" if says else ""),
            where=where,
        )

    def _where(self, repository: str, reference: str | None) -> str:
        return f"registry://{self.host}/{repository}{_joined(reference) if reference else ''}"


def fallback_tag(digest: str) -> str:
    """The tag that lists referrers on registries without the API: ``sha256-<hex>``."""
    return digest.replace(":", "-", 1)


def _joined(reference: str) -> str:
    return f"@{reference}" if ":" in reference else f":{reference}"


def _require_digest(digest: str, where: str) -> None:
    if not is_digest(digest):
        raise RegistryError(f"not a digest: {_printable(digest)[:80]!r}", where=where)


def _read_bounded(
    answer: urllib3.BaseHTTPResponse, method: str, limit: int, host: str, where: str
) -> bytes:
    if method == "HEAD":
        return b""
    declared = answer.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        answer.close()
        raise RegistryError(f"{host} sent more than {limit} bytes", where=where)
    return b"".join(_bounded_chunks(answer, limit, host, where))


def _bounded_chunks(
    answer: urllib3.BaseHTTPResponse, limit: int, host: str, where: str
) -> Iterator[bytes]:
    received = 0
    try:
        while chunk := answer.read(_READ_CHUNK):
            received += len(chunk)
            if received > limit:
                answer.close()
                raise RegistryError(f"{host} sent more than {limit} bytes", where=where)
            yield chunk
    except (ReadTimeoutError, ProtocolError) as exc:
        raise _Unreachable(
            f"the connection to {host} failed while reading: {type(exc).__name__}", where=where
        ) from None


def _verified_chunks(
    answer: urllib3.BaseHTTPResponse, digest: str, limit: int, host: str, where: str
) -> Iterator[bytes]:
    algorithm, _, expected = digest.partition(":")
    hasher = hashlib.new(algorithm)
    for chunk in _bounded_chunks(answer, limit, host, where):
        hasher.update(chunk)
        yield chunk
    if hasher.hexdigest() != expected:
        raise RegistryError(f"registry returned content that does not match {digest}", where=where)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _document_media_type(raw: bytes) -> str | None:
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    media_type = document.get("mediaType") if isinstance(document, dict) else None
    return media_type if isinstance(media_type, str) else None


def _json_object(body: bytes, what: str, where: str) -> dict[str, Any]:
    from gate.inputs import ParseProblem, load_strict_json

    try:
        document = load_strict_json(body.decode("utf-8"))
    except (UnicodeDecodeError, ParseProblem):
        document = None
    if not isinstance(document, dict):
        raise RegistryError(f"{what} is not a JSON object", where=where)
    return document


def _index_descriptors(index: dict[str, Any]) -> list[dict[str, Any]]:
    manifests = index.get("manifests") or []
    if not isinstance(manifests, list):
        raise RegistryError("the index's manifests is not a list", where="referrers")
    for descriptor in manifests:
        if (
            not isinstance(descriptor, dict)
            or not isinstance(descriptor.get("mediaType"), str)
            or not isinstance(descriptor.get("digest"), str)
            or not is_digest(descriptor["digest"])
            or not isinstance(descriptor.get("size"), int)
        ):
            raise RegistryError(
                "an index entry is not a descriptor (mediaType, digest, size)", where="referrers"
            )
    return list(manifests)


def _descriptor_of(manifest: Manifest, document: dict[str, Any]) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "mediaType": manifest.media_type,
        "digest": manifest.digest,
        "size": len(manifest.raw),
    }
    config = document.get("config")
    artifact_type = document.get("artifactType") or (
        config.get("mediaType") if isinstance(config, dict) else None
    )
    if isinstance(artifact_type, str):
        descriptor["artifactType"] = artifact_type
    if isinstance(document.get("annotations"), dict):
        descriptor["annotations"] = document["annotations"]
    return descriptor


def _canonical_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _basic(credential: Credential) -> str:
    pair = f"{credential.username}:{credential.password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _registry_says(body: bytes) -> str:
    """A short, printable excerpt of the registry's ``errors[].message`` (nothing else)."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list):
        return ""
    messages = [
        error["message"]
        for error in errors
        if isinstance(error, dict) and isinstance(error.get("message"), str)
    ]
    text = _printable("; ".join(messages))
    return text if len(text) <= 200 else text[:199] + "…"


def _printable(text: str) -> str:
    from gate.output import printable

    return printable(text)


def _short(text: str) -> str:
    return _printable(text)[:80]


def _tls_reason(exc: SSLError) -> str:
    reason = str(exc.args[0] if exc.args else exc)
    for known in ("CERTIFICATE_VERIFY_FAILED", "WRONG_VERSION_NUMBER", "certificate"):
        if known in reason:
            return "the certificate is not trusted" if "CERT" in known.upper() else "not TLS"
    return _printable(reason)[:160]


def _connect_reason(exc: Exception) -> str:
    if isinstance(exc, NameResolutionError):
        return "the name does not resolve"
    if isinstance(exc, NewConnectionError):
        # "...: Failed to establish a new connection: [Errno 111] Connection refused"
        return _printable(str(exc).rpartition("] ")[2] or "connection failed")[:120]
    return "timed out"
